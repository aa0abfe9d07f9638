#include "kho_debugfs.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace lu::luoctl {
namespace {

// The lines of a scratch_phys or scratch_len file: "0x..." each.
std::vector<std::uint64_t> hex_lines(std::string_view text) {
    std::vector<std::uint64_t> numbers;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string line(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (!line.empty()) {
            numbers.push_back(std::strtoull(line.c_str(), nullptr, 0));
        }
    }
    return numbers;
}

Status read_root(const SysfsRoot& root, const std::string& path, KhoTree& tree) {
    const std::optional<std::string> blob = LU_TRY(root.read_file(path + "/fdt"));
    if (!blob) {
        tree.root_state = RootState::kMissing;
        return {};
    }
    tree.root_bytes = blob->size();
    tree.root_total_size = fdt_declared_size(*blob);
    Result<KhoRootTree> decoded = decode_kho_root(*blob);
    if (decoded.ok()) {
        tree.root_state = RootState::kDecoded;
        tree.root = std::move(decoded).value();
        return {};
    }
    tree.root_state =
        decoded.error().errnum() == EMSGSIZE ? RootState::kTruncated : RootState::kInvalid;
    tree.root_problem = decoded.error().message();
    return {};
}

}  // namespace

Status prepare_kho_debugfs(const SysfsRoot& root) {
    const Result<bool> mounted = root.has_entries(kDebugfsMount);
    if (!mounted.ok()) {
        if (mounted.error().errnum() == EACCES) {
            return Error(EACCES, "cannot read " + root.resolve(kDebugfsMount) +
                                     ": luoctl inspect needs root");
        }
        return mounted.error();
    }
    if (!mounted.value()) {
        const std::string mount_point = root.resolve(kDebugfsMount);
        if (!root.is_real_root()) {
            return Error(ENODEV, "debugfs is not mounted on " + mount_point);
        }
        if (::mount("debugfs", mount_point.c_str(), "debugfs", 0, nullptr) != 0) {
            const int mount_errno = errno;
            return Error(mount_errno, "debugfs is not mounted on " + mount_point +
                                          " and mounting it failed (" + std::strerror(mount_errno) +
                                          "); as root: mount -t debugfs none " + mount_point);
        }
    }
    if (!LU_TRY(root.stat(kKhoDebugfs)).has_value()) {
        return Error(ENODEV, "no " + root.resolve(kKhoDebugfs) +
                                 ": kexec handover is disabled (boot with kho=on) or the kernel "
                                 "lacks CONFIG_KEXEC_HANDOVER_DEBUGFS");
    }
    return {};
}

Result<std::optional<KhoTree>> read_kho_tree(const SysfsRoot& root, std::string_view direction) {
    const std::string path = std::string(kKhoDebugfs) + "/" + std::string(direction);
    if (!LU_TRY(root.stat(path)).has_value()) {
        return std::nullopt;
    }
    KhoTree tree;
    tree.path = path;
    LU_TRY(read_root(root, path, tree));
    if (tree.root) {
        for (const KhoRootEntry& entry : tree.root->subtrees) {
            tree.subtrees.push_back(
                KhoSubtree{.name = entry.name, .phys = entry.phys, .size = entry.size, .blob = {}});
        }
    }
    const std::vector<std::string> names =
        LU_TRY(root.list(path + "/sub_fdts")).value_or(std::vector<std::string>{});
    for (const std::string& name : names) {
        KhoSubtree* subtree = nullptr;
        for (KhoSubtree& known : tree.subtrees) {
            if (known.name == name) {
                subtree = &known;
            }
        }
        if (subtree == nullptr) {
            tree.subtrees.push_back(KhoSubtree{.name = name, .phys = {}, .size = {}, .blob = {}});
            subtree = &tree.subtrees.back();
        }
        subtree->blob = LU_TRY(root.read_file(path + "/sub_fdts/" + name));
    }
    const std::optional<std::string> phys = LU_TRY(root.read_file(path + "/scratch_phys"));
    const std::optional<std::string> len = LU_TRY(root.read_file(path + "/scratch_len"));
    if (phys && len) {
        const std::vector<std::uint64_t> addresses = hex_lines(*phys);
        const std::vector<std::uint64_t> sizes = hex_lines(*len);
        for (std::size_t i = 0; i < addresses.size() && i < sizes.size(); ++i) {
            tree.scratch.push_back(ScratchArea{.phys = addresses[i], .size = sizes[i]});
        }
    }
    return tree;
}

}  // namespace lu::luoctl
