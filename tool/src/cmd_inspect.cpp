#include "cmd_inspect.hpp"

#include <optional>
#include <string>

#include "hex.hpp"
#include "kho_debugfs.hpp"
#include "kho_report.hpp"
#include "module_record.hpp"

namespace lu::luoctl {
namespace {

// "32 MiB", "4 KiB", or bytes.
std::string size_text(std::uint64_t bytes) {
    if (bytes != 0 && bytes % (1024 * 1024) == 0) {
        return std::to_string(bytes / (1024 * 1024)) + " MiB";
    }
    if (bytes != 0 && bytes % 1024 == 0) {
        return std::to_string(bytes / 1024) + " KiB";
    }
    return std::to_string(bytes) + " bytes";
}

bool has_subtree(const KhoTree& tree, std::string_view name) {
    for (const KhoSubtree& subtree : tree.subtrees) {
        if (subtree.name == name) {
            return true;
        }
    }
    return false;
}

// What the root tree line says, and why the subtrees may lack their addresses.
std::string root_text(const KhoTree& tree, bool outgoing) {
    switch (tree.root_state) {
        case RootState::kDecoded: {
            const KhoRootTree& root = *tree.root;
            std::string text = root.compatible.empty() ? "no compatible" : root.compatible;
            if (root.memory_map) {
                text += ", preserved-memory-map at " + hex(*root.memory_map);
            }
            return text + ", " + std::to_string(root.subtrees.size()) + " subtree(s)";
        }
        case RootState::kTruncated:
            return "debugfs shows " + std::to_string(tree.root_bytes) + " of its " +
                   (tree.root_total_size ? std::to_string(*tree.root_total_size) : "?") +
                   " bytes (the kernel sized that file when KHO started, before the later "
                   "subtrees); subtrees from sub_fdts/, without their addresses";
        case RootState::kMissing:
            return outgoing ? "not in debugfs (this kernel shows it only after a cold boot); "
                              "subtrees from sub_fdts/, without their addresses"
                            : "not in debugfs; subtrees from sub_fdts/, without their addresses";
        case RootState::kInvalid:
            return "unreadable: " + tree.root_problem;
    }
    __builtin_unreachable();  // the switch covers every state, and -Wswitch keeps it so
}

std::string_view root_state_name(RootState state) {
    switch (state) {
        case RootState::kDecoded:
            return "decoded";
        case RootState::kTruncated:
            return "truncated";
        case RootState::kMissing:
            return "missing";
        case RootState::kInvalid:
            return "invalid";
    }
    __builtin_unreachable();  // the switch covers every state, and -Wswitch keeps it so
}

void write_tree_text(std::string_view label, const std::optional<KhoTree>& tree, bool outgoing,
                     std::ostream& out) {
    if (!tree) {
        out << label << ": none"
            << (outgoing ? "\n" : " (this boot did not come from a kexec with KHO)\n");
        return;
    }
    out << label << ": " << tree->path << '\n';
    out << "  root tree: " << root_text(*tree, outgoing) << '\n';
    if (!tree->scratch.empty()) {
        out << "  scratch:";
        for (std::size_t i = 0; i < tree->scratch.size(); ++i) {
            out << (i == 0 ? " " : ", ") << hex(tree->scratch[i].phys) << " ("
                << size_text(tree->scratch[i].size) << ")";
        }
        out << '\n';
    }
    for (const KhoSubtree& subtree : tree->subtrees) {
        write_subtree_text(subtree, out);
    }
    if (!has_subtree(*tree, kModuleSubtree)) {
        out << "  " << kModuleSubtree << ": absent"
            << (outgoing ? " (the liveupdate module is not loaded)"
                         : " (the previous kernel did not run the liveupdate module)")
            << '\n';
    }
}

void write_tree_json(std::string_view key, const std::optional<KhoTree>& tree, JsonWriter& json) {
    json.key(key);
    if (!tree) {
        json.null();
        return;
    }
    json.begin_object();
    json.key("path").string(tree->path);
    json.key("root").begin_object();
    json.key("state").string(root_state_name(tree->root_state));
    json.key("bytes").number(tree->root_bytes);
    json.key("total_size");
    if (tree->root_total_size) {
        json.number(*tree->root_total_size);
    } else {
        json.null();
    }
    json.key("problem");
    if (tree->root_problem.empty()) {
        json.null();
    } else {
        json.string(tree->root_problem);
    }
    json.key("compatible");
    if (tree->root) {
        json.string(tree->root->compatible);
    } else {
        json.null();
    }
    json.key("preserved_memory_map");
    if (tree->root && tree->root->memory_map) {
        json.number(*tree->root->memory_map);
    } else {
        json.null();
    }
    json.end_object();
    json.key("scratch").begin_array();
    for (const ScratchArea& area : tree->scratch) {
        json.begin_object();
        json.key("phys").number(area.phys);
        json.key("size").number(area.size);
        json.end_object();
    }
    json.end_array();
    json.key("subtrees").begin_array();
    for (const KhoSubtree& subtree : tree->subtrees) {
        write_subtree_json(subtree, json);
    }
    json.end_array();
    json.end_object();
}

Status run_inspect(const CommandContext& context) {
    const SysfsRoot root(context.environment.sysfs_root);
    LU_TRY(prepare_kho_debugfs(root));
    const std::optional<KhoTree> outgoing = LU_TRY(read_kho_tree(root, "out"));
    const std::optional<KhoTree> incoming = LU_TRY(read_kho_tree(root, "in"));
    if (context.json != nullptr) {
        write_tree_json("outgoing", outgoing, *context.json);
        write_tree_json("incoming", incoming, *context.json);
    } else {
        write_tree_text("outgoing", outgoing, true, context.out);
        write_tree_text("incoming", incoming, false, context.out);
    }
    return {};
}

}  // namespace

constinit const Command kInspectCommand = {
    .name = "inspect",
    .synopsis = "",
    .summary = "Decode the KHO trees in debugfs, outgoing and incoming, and our subtree",
    .description =
        "Read the kexec handover (KHO) trees the kernel shows in /sys/kernel/debug/kho: the\n"
        "one this kernel will hand over (out) and the one the previous kernel handed over (in,\n"
        "after a kexec with KHO). For each: the root tree (decoded with libfdt), the scratch\n"
        "areas, and every subtree: the liveupdate module's root record (generation, state,\n"
        "checksum, payload and FLB chain addresses, whether the next kernel took it), the\n"
        "kernel's kexec-metadata and LUO roots, any device tree, the first bytes of anything\n"
        "else. Only what debugfs shows is read, never physical memory. Mounts debugfs on\n"
        "/sys/kernel/debug if it is not mounted. Needs root. Exit status 1 if KHO is disabled\n"
        "or debugfs cannot be read.\n",
    .max_args = 0,
    .handler = run_inspect,
};

}  // namespace lu::luoctl
