// How luoctl inspect describes one KHO subtree, in text and in JSON: which format its blob has
// (by name: ours, the kernel's kexec-metadata and LUO; by content: an FDT), and what it holds.
#pragma once

#include <ostream>
#include <string_view>

#include "json.hpp"
#include "kho_debugfs.hpp"

namespace lu::luoctl {

enum class BlobFormat {
    kAbsent,        // debugfs shows no blob
    kModuleRecord,  // liveupdate-module: our root record
    kKexecMetadata,
    kLuoRoot,
    kFdt,
    kUnknown,
};

BlobFormat blob_format(const KhoSubtree& subtree);
// "liveupdate-module", "kexec-metadata", "luo", "fdt", "unknown", "absent".
std::string_view blob_format_name(BlobFormat format);

// "  NAME: N bytes at 0x...", then the decoded content, indented by four spaces.
void write_subtree_text(const KhoSubtree& subtree, std::ostream& out);

// One JSON object: name, phys, size, blob_bytes, format, decoded (by format), error.
void write_subtree_json(const KhoSubtree& subtree, JsonWriter& json);

}  // namespace lu::luoctl
