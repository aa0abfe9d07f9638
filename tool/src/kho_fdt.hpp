// Flattened device trees as KHO uses them, read with Debian's libfdt: the root tree each kernel
// hands the next one (/sys/kernel/debug/kho/{out,in}/fdt) and subtrees that are FDTs themselves.
//
// The root tree (include/linux/kho/abi/kexec_handover.h):
//   / { compatible = "kho-v4"; preserved-memory-map = <u64>;
//       NAME { preserved-data = <u64 phys>; blob-size = <u64>; }; ... };
// KHO stores those u64 values in the CPU's byte order, not in FDT's big-endian cells; luoctl
// runs on the machine that wrote them, so it reads them in its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace lu::luoctl {

struct FdtProperty {
    std::string name;
    std::string value;  // the raw bytes
};

// Invariants: children nest at most kMaxFdtDepth deep.
struct FdtNode {
    std::string name;  // "" for the root
    std::vector<FdtProperty> properties;
    std::vector<FdtNode> children;

    const FdtProperty* property(std::string_view name) const;
};

inline constexpr int kMaxFdtDepth = 32;

// Whether blob starts with the FDT magic.
bool is_fdt(std::string_view blob);

// The whole tree. EMSGSIZE if blob is shorter than the size its header states (a truncated
// copy), EBADMSG for anything libfdt's full check refuses or nesting deeper than kMaxFdtDepth.
Result<FdtNode> decode_fdt(std::string_view blob);

// The size blob's header states, if it has the FDT magic and a whole header.
std::optional<std::uint32_t> fdt_declared_size(std::string_view blob);

// One subtree the root tree names.
struct KhoRootEntry {
    std::string name;
    std::optional<std::uint64_t> phys;  // preserved-data, if present and 8 bytes
    std::optional<std::uint64_t> size;  // blob-size, likewise
};

struct KhoRootTree {
    std::string compatible;                   // "kho-v4"; empty if absent
    std::optional<std::uint64_t> memory_map;  // preserved-memory-map
    std::vector<KhoRootEntry> subtrees;       // in tree order
};

// The KHO root tree in blob (errors as decode_fdt).
Result<KhoRootTree> decode_kho_root(std::string_view blob);

// A property value as dtc prints one: "text" (or "a", "b" for a string list) when it is
// printable NUL-terminated text, <0x1 0x2> for 32-bit cells, [01 02] for other bytes.
std::string fdt_value_text(std::string_view value);

// A u64 in the CPU's byte order, as KHO writes its properties (none unless exactly 8 bytes).
std::optional<std::uint64_t> native_u64(std::string_view value);

}  // namespace lu::luoctl
