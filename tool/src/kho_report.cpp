#include "kho_report.hpp"

#include <cstdio>
#include <string>

#include "hex.hpp"
#include "kho_blobs.hpp"
#include "module_record.hpp"
#include "readiness.hpp"

namespace lu::luoctl {
namespace {

// How much of a blob of unknown format is shown.
constexpr std::size_t kHeadBytes = 32;

std::string hex_bytes(std::string_view bytes) {
    std::string text;
    char item[4];
    for (const char c : bytes) {
        std::snprintf(item, sizeof(item), "%02x", static_cast<unsigned char>(c));
        text += (text.empty() ? "" : " ") + std::string(item);
    }
    return text;
}

void optional_number(JsonWriter& json, std::string_view key, std::optional<std::uint64_t> value) {
    json.key(key);
    if (value) {
        json.number(*value);
    } else {
        json.null();
    }
}

// ---- liveupdate-module ----------------------------------------------------------------------

std::string payload_text(const ModuleRecord& record) {
    if (record.payload_phys == 0) {
        return "none";
    }
    return hex(record.payload_phys) + " (" + std::to_string(record.payload_len) + " bytes)";
}

std::string_view payload_json(std::uint32_t consumed) {
    const std::string text = record_consumed_text(consumed);
    if (text == "not read") {
        return "unread";
    }
    if (text == "read") {
        return "read";
    }
    return text == "read, failed" ? "read_failed" : "invalid";
}

void module_record_text(const ModuleRecord& record, std::ostream& out) {
    out << "    magic LUMODHO, version " << record.version << ", " << record.size << " bytes";
    if (record.version != ModuleRecord::kVersion) {
        out << '\n';
    } else {
        out << ", checksum " << (record.crc_ok ? "ok" : "BAD") << '\n';
        out << "    generation " << record.generation << ", state "
            << record_state_name(record.state);
        if (record.state == 3) {
            out << " (" << errno_text(-static_cast<int>(record.failure)) << ")";
        }
        out << '\n';
        out << "    session payload: " << payload_text(record) << '\n';
        out << "    FLB chain: " << (record.flb_phys == 0 ? "none" : hex(record.flb_phys)) << '\n';
        out << "    taken by the next kernel: " << record_adopted_text(record.adopted)
            << "; payload " << record_consumed_text(record.consumed) << '\n';
    }
    for (const std::string& problem : record.problems) {
        out << "    problem: " << problem << '\n';
    }
}

void module_record_json(const ModuleRecord& record, JsonWriter& json) {
    json.begin_object();
    json.key("version").number(record.version);
    json.key("size").number(record.size);
    if (record.version == ModuleRecord::kVersion) {
        json.key("generation").number(record.generation);
        json.key("state").string(record_state_name(record.state));
        json.key("failure").number(record.failure);
        json.key("payload_phys").number(record.payload_phys);
        json.key("payload_len").number(record.payload_len);
        json.key("flb_phys").number(record.flb_phys);
        json.key("crc").number(record.crc);
        json.key("crc_ok").boolean(record.crc_ok);
        json.key("adopted").boolean(record_adopted_text(record.adopted) == "yes");
        json.key("payload").string(payload_json(record.consumed));
    }
    json.key("valid").boolean(record.problems.empty());
    json.key("problems").begin_array();
    for (const std::string& problem : record.problems) {
        json.string(problem);
    }
    json.end_array();
    json.end_object();
}

// ---- the kernel's blobs ---------------------------------------------------------------------

void kexec_metadata_text(const KexecMetadata& metadata, std::ostream& out) {
    out << "    version " << metadata.version;
    if (metadata.kexec_count) {
        out << ", written by " << metadata.previous_release << ", kexec count "
            << *metadata.kexec_count;
    }
    out << '\n';
}

void kexec_metadata_json(const KexecMetadata& metadata, JsonWriter& json) {
    json.begin_object();
    json.key("version").number(metadata.version);
    if (metadata.kexec_count) {
        json.key("previous_release").string(metadata.previous_release);
        json.key("kexec_count").number(*metadata.kexec_count);
    }
    json.end_object();
}

void luo_text(const LuoRoot& luo, std::ostream& out) {
    out << "    " << luo.compatible << ", live update " << luo.liveupdate_num << ", sessions at "
        << hex(luo.sessions_pa) << ", FLBs at " << hex(luo.flbs_pa) << '\n';
}

void luo_json(const LuoRoot& luo, JsonWriter& json) {
    json.begin_object();
    json.key("compatible").string(luo.compatible);
    json.key("liveupdate_num").number(luo.liveupdate_num);
    json.key("sessions_pa").number(luo.sessions_pa);
    json.key("flbs_pa").number(luo.flbs_pa);
    json.end_object();
}

// ---- any FDT --------------------------------------------------------------------------------

void fdt_text(const FdtNode& node, int depth, std::ostream& out) {
    const std::string indent(4 + 2 * depth, ' ');
    out << indent << (node.name.empty() ? "/" : node.name) << " {\n";
    for (const FdtProperty& property : node.properties) {
        out << indent << "  " << property.name;
        if (!property.value.empty()) {
            out << " = " << fdt_value_text(property.value);
        }
        out << ";\n";
    }
    for (const FdtNode& child : node.children) {
        fdt_text(child, depth + 1, out);
    }
    out << indent << "};\n";
}

void fdt_json(const FdtNode& node, JsonWriter& json) {
    json.begin_object();
    json.key("name").string(node.name);
    json.key("properties").begin_object();
    for (const FdtProperty& property : node.properties) {
        json.key(property.name).string(fdt_value_text(property.value));
    }
    json.end_object();
    json.key("children").begin_array();
    for (const FdtNode& child : node.children) {
        fdt_json(child, json);
    }
    json.end_array();
    json.end_object();
}

// Decodes the blob as format says and hands the result to one of the writers; an error goes to
// on_error. One place that knows which decoder goes with which format.
template <typename Writers>
void decode_blob(BlobFormat format, std::string_view blob, Writers&& writers) {
    switch (format) {
        case BlobFormat::kModuleRecord: {
            const Result<ModuleRecord> record = decode_module_record(blob);
            return record.ok() ? writers(record.value()) : writers.on_error(record.error());
        }
        case BlobFormat::kKexecMetadata: {
            const Result<KexecMetadata> metadata = decode_kexec_metadata(blob);
            return metadata.ok() ? writers(metadata.value()) : writers.on_error(metadata.error());
        }
        case BlobFormat::kLuoRoot: {
            const Result<LuoRoot> luo = decode_luo_root(blob);
            return luo.ok() ? writers(luo.value()) : writers.on_error(luo.error());
        }
        case BlobFormat::kFdt: {
            const Result<FdtNode> tree = decode_fdt(blob);
            return tree.ok() ? writers(tree.value()) : writers.on_error(tree.error());
        }
        case BlobFormat::kUnknown:
            return writers(blob.substr(0, kHeadBytes));
        case BlobFormat::kAbsent:
            return;
    }
}

struct TextWriters {
    std::ostream& out;
    std::size_t blob_size;

    void operator()(const ModuleRecord& record) { module_record_text(record, out); }
    void operator()(const KexecMetadata& metadata) { kexec_metadata_text(metadata, out); }
    void operator()(const LuoRoot& luo) { luo_text(luo, out); }
    void operator()(const FdtNode& tree) { fdt_text(tree, 0, out); }
    void operator()(std::string_view head) {
        out << "    " << (head.size() < blob_size ? "first bytes: " : "bytes: ") << hex_bytes(head)
            << '\n';
    }
    void on_error(const Error& error) { out << "    cannot decode: " << error.message() << '\n'; }
};

// Every subtree object gets "decoded" (an object, or null) and "error" (a string, or null).
struct JsonWriters {
    JsonWriter& json;

    void operator()(const ModuleRecord& record) {
        module_record_json(record, json.key("decoded"));
        json.key("error").null();
    }
    void operator()(const KexecMetadata& metadata) {
        kexec_metadata_json(metadata, json.key("decoded"));
        json.key("error").null();
    }
    void operator()(const LuoRoot& luo) {
        luo_json(luo, json.key("decoded"));
        json.key("error").null();
    }
    void operator()(const FdtNode& tree) {
        fdt_json(tree, json.key("decoded"));
        json.key("error").null();
    }
    void operator()(std::string_view head) {
        json.key("decoded").begin_object();
        json.key("head").string(hex_bytes(head));
        json.end_object();
        json.key("error").null();
    }
    void on_error(const Error& error) {
        json.key("decoded").null();
        json.key("error").string(error.message());
    }
};

}  // namespace

BlobFormat blob_format(const KhoSubtree& subtree) {
    if (!subtree.blob) {
        return BlobFormat::kAbsent;
    }
    if (subtree.name == kModuleSubtree) {
        return BlobFormat::kModuleRecord;
    }
    if (subtree.name == kKexecMetadataSubtree) {
        return BlobFormat::kKexecMetadata;
    }
    if (subtree.name == kLuoSubtree) {
        return BlobFormat::kLuoRoot;
    }
    return is_fdt(*subtree.blob) ? BlobFormat::kFdt : BlobFormat::kUnknown;
}

std::string_view blob_format_name(BlobFormat format) {
    switch (format) {
        case BlobFormat::kAbsent:
            return "absent";
        case BlobFormat::kModuleRecord:
            return kModuleSubtree;
        case BlobFormat::kKexecMetadata:
            return kKexecMetadataSubtree;
        case BlobFormat::kLuoRoot:
            return "luo";
        case BlobFormat::kFdt:
            return "fdt";
        case BlobFormat::kUnknown:
            return "unknown";
    }
    __builtin_unreachable();  // the switch covers every format, and -Wswitch keeps it so
}

void write_subtree_text(const KhoSubtree& subtree, std::ostream& out) {
    const BlobFormat format = blob_format(subtree);
    out << "  " << subtree.name << ": ";
    if (subtree.size) {
        out << *subtree.size << " bytes";
    } else if (subtree.blob) {
        out << subtree.blob->size() << " bytes";
    } else {
        out << "size unknown";
    }
    if (subtree.phys) {
        out << " at " << hex(*subtree.phys);
    }
    if (subtree.size && subtree.blob && subtree.blob->size() != *subtree.size) {
        out << " (debugfs shows " << subtree.blob->size() << ")";
    }
    if (format == BlobFormat::kModuleRecord) {
        out << ", the liveupdate module's root record";
    } else if (format == BlobFormat::kFdt) {
        out << ", a device tree";
    } else if (format == BlobFormat::kAbsent) {
        out << ", not in sub_fdts/";
    }
    out << '\n';
    if (subtree.blob) {
        decode_blob(format, *subtree.blob,
                    TextWriters{.out = out, .blob_size = subtree.blob->size()});
    }
}

void write_subtree_json(const KhoSubtree& subtree, JsonWriter& json) {
    const BlobFormat format = blob_format(subtree);
    json.begin_object();
    json.key("name").string(subtree.name);
    optional_number(json, "phys", subtree.phys);
    optional_number(json, "size", subtree.size);
    optional_number(
        json, "blob_bytes",
        subtree.blob ? std::optional<std::uint64_t>(subtree.blob->size()) : std::nullopt);
    json.key("format").string(blob_format_name(format));
    if (subtree.blob) {
        decode_blob(format, *subtree.blob, JsonWriters{.json = json});
    } else {
        json.key("decoded").null();
        json.key("error").null();
    }
    json.end_object();
}

}  // namespace lu::luoctl
