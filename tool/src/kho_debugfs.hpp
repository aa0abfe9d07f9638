// The KHO trees as the kernel shows them in debugfs (kernel/liveupdate/kexec_handover_debugfs.c):
//
//   /sys/kernel/debug/kho/out/fdt            the tree this kernel will hand over
//   /sys/kernel/debug/kho/out/sub_fdts/NAME  each subtree's blob, live
//   /sys/kernel/debug/kho/out/scratch_{phys,len}
//   /sys/kernel/debug/kho/in/fdt             the tree the previous kernel handed over
//   /sys/kernel/debug/kho/in/sub_fdts/NAME   (only after a kexec with KHO)
//
// Two quirks of 7.3 that luoctl reports rather than hides: out/fdt keeps the size the tree had
// when KHO started, so once a subtree is added (the module adds one) it shows a truncated tree;
// and after a KHO boot the kernel does not create out/fdt at all. The subtrees still show in
// sub_fdts/, without the addresses only the root tree holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kho_fdt.hpp"
#include "result.hpp"
#include "sysfs.hpp"

namespace lu::luoctl {

inline constexpr std::string_view kDebugfsMount = "/sys/kernel/debug";
inline constexpr std::string_view kKhoDebugfs = "/sys/kernel/debug/kho";

enum class RootState {
    kDecoded,    // fdt read and decoded
    kTruncated,  // fdt shows fewer bytes than its header states
    kMissing,    // no fdt file
    kInvalid,    // fdt is not a valid tree
};

// A subtree: what the root tree says of it, and its blob as sub_fdts/ shows it.
struct KhoSubtree {
    std::string name;
    std::optional<std::uint64_t> phys;  // from the root tree
    std::optional<std::uint64_t> size;  // from the root tree
    std::optional<std::string> blob;    // from sub_fdts/NAME
};

struct ScratchArea {
    std::uint64_t phys = 0;
    std::uint64_t size = 0;
};

// One direction's tree.
//
// Invariants: root is set exactly when root_state is kDecoded; root_problem is empty for kDecoded
// and kMissing. subtrees lists the root tree's entries in its order, then any that only
// sub_fdts/ shows, by name.
struct KhoTree {
    std::string path;  // /sys/kernel/debug/kho/out or .../in, as on the running system
    RootState root_state = RootState::kMissing;
    std::optional<KhoRootTree> root;
    std::string root_problem;
    std::size_t root_bytes = 0;                    // what debugfs showed
    std::optional<std::uint32_t> root_total_size;  // what the tree's header states
    std::vector<KhoSubtree> subtrees;
    std::vector<ScratchArea> scratch;  // out only
};

// Makes sure debugfs shows KHO. When /sys/kernel/debug is empty (debugfs not mounted) and root
// is the real "/", mounts debugfs there (and leaves it mounted, as bpftool does with its file
// systems); under a test's root it does not. Errors: ENODEV naming what is missing and the
// command that fixes it, or the mount's errno (EPERM: not root).
Status prepare_kho_debugfs(const SysfsRoot& root);

// The tree of direction "out" or "in"; nothing if the kernel shows none (no "in" after a cold
// boot). Fails only when a file exists and cannot be read (EACCES: not root).
Result<std::optional<KhoTree>> read_kho_tree(const SysfsRoot& root, std::string_view direction);

}  // namespace lu::luoctl
