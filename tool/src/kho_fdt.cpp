#include "kho_fdt.hpp"

#include <libfdt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lu::luoctl {
namespace {

// libfdt reads 32- and 64-bit fields in place: give it an 8-byte aligned copy.
class AlignedBlob {
public:
    explicit AlignedBlob(std::string_view bytes) : words_((bytes.size() + 7) / 8) {
        std::memcpy(words_.data(), bytes.data(), bytes.size());
        size_ = bytes.size();
    }
    const void* data() const { return words_.data(); }
    std::size_t size() const { return size_; }

private:
    std::vector<std::uint64_t> words_;
    std::size_t size_ = 0;
};

Error fdt_error(int code, std::string_view what) {
    return Error(EBADMSG, std::string(what) + ": " + fdt_strerror(code));
}

Result<FdtNode> read_node(const void* fdt, int offset, int depth) {
    if (depth > kMaxFdtDepth) {
        return Error(EBADMSG, "the tree nests deeper than " + std::to_string(kMaxFdtDepth));
    }
    FdtNode node;
    int length = 0;
    const char* name = fdt_get_name(fdt, offset, &length);
    if (name == nullptr) {
        return fdt_error(length, "cannot read a node's name");
    }
    node.name.assign(name, static_cast<std::size_t>(length));
    int property;
    fdt_for_each_property_offset(property, fdt, offset) {
        const char* property_name = nullptr;
        int value_length = 0;
        const void* value = fdt_getprop_by_offset(fdt, property, &property_name, &value_length);
        if (value == nullptr || property_name == nullptr) {
            return fdt_error(value_length, "cannot read a property of '" + node.name + "'");
        }
        node.properties.push_back(
            FdtProperty{.name = property_name,
                        .value = std::string(static_cast<const char*>(value),
                                             static_cast<std::size_t>(value_length))});
    }
    int child;
    fdt_for_each_subnode(child, fdt, offset) {
        node.children.push_back(LU_TRY(read_node(fdt, child, depth + 1)));
    }
    return node;
}

bool printable_strings(std::string_view value) {
    if (value.empty() || value.back() != '\0' || value.front() == '\0') {
        return false;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c == '\0') {
            if (i > 0 && value[i - 1] == '\0') {
                return false;  // an empty string in the list: rather binary
            }
        } else if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

}  // namespace

const FdtProperty* FdtNode::property(std::string_view wanted) const {
    for (const FdtProperty& p : properties) {
        if (p.name == wanted) {
            return &p;
        }
    }
    return nullptr;
}

bool is_fdt(std::string_view blob) {
    return blob.size() >= 4 && static_cast<unsigned char>(blob[0]) == 0xd0 &&
           static_cast<unsigned char>(blob[1]) == 0x0d &&
           static_cast<unsigned char>(blob[2]) == 0xfe &&
           static_cast<unsigned char>(blob[3]) == 0xed;
}

std::optional<std::uint32_t> fdt_declared_size(std::string_view blob) {
    if (!is_fdt(blob) || blob.size() < sizeof(fdt_header)) {
        return std::nullopt;
    }
    const AlignedBlob copy(blob.substr(0, sizeof(fdt_header)));
    return fdt_totalsize(copy.data());
}

Result<FdtNode> decode_fdt(std::string_view blob) {
    if (!is_fdt(blob)) {
        return Error(EBADMSG, "not a flattened device tree (no FDT magic)");
    }
    const std::optional<std::uint32_t> declared = fdt_declared_size(blob);
    if (!declared) {
        return Error(EMSGSIZE, "truncated: " + std::to_string(blob.size()) +
                                   " bytes, shorter than an FDT header");
    }
    if (*declared > blob.size()) {
        return Error(EMSGSIZE, "truncated: " + std::to_string(blob.size()) + " of its " +
                                   std::to_string(*declared) + " bytes");
    }
    const AlignedBlob copy(blob);
    if (const int checked = fdt_check_full(copy.data(), copy.size()); checked != 0) {
        return fdt_error(checked, "not a valid flattened device tree");
    }
    return read_node(copy.data(), 0, 0);
}

std::optional<std::uint64_t> native_u64(std::string_view value) {
    if (value.size() != sizeof(std::uint64_t)) {
        return std::nullopt;
    }
    std::uint64_t number;
    std::memcpy(&number, value.data(), sizeof(number));
    return number;
}

Result<KhoRootTree> decode_kho_root(std::string_view blob) {
    const FdtNode root = LU_TRY(decode_fdt(blob));
    KhoRootTree tree;
    if (const FdtProperty* compatible = root.property("compatible")) {
        tree.compatible = std::string(compatible->value.c_str());
    }
    if (const FdtProperty* map = root.property("preserved-memory-map")) {
        tree.memory_map = native_u64(map->value);
    }
    for (const FdtNode& child : root.children) {
        KhoRootEntry entry{.name = child.name, .phys = std::nullopt, .size = std::nullopt};
        if (const FdtProperty* data = child.property("preserved-data")) {
            entry.phys = native_u64(data->value);
        }
        if (const FdtProperty* size = child.property("blob-size")) {
            entry.size = native_u64(size->value);
        }
        tree.subtrees.push_back(std::move(entry));
    }
    return tree;
}

std::string fdt_value_text(std::string_view value) {
    if (value.empty()) {
        return "";
    }
    std::string text;
    if (printable_strings(value)) {
        std::size_t start = 0;
        while (start < value.size()) {
            const std::size_t end = value.find('\0', start);
            text += (text.empty() ? "\"" : ", \"") + std::string(value.substr(start, end - start)) +
                    "\"";
            start = end + 1;
        }
        return text;
    }
    char item[16];
    if (value.size() % 4 == 0) {
        text = "<";
        for (std::size_t i = 0; i < value.size(); i += 4) {
            std::uint32_t cell;
            std::memcpy(&cell, value.data() + i, sizeof(cell));
            std::snprintf(item, sizeof(item), "%s0x%x", i == 0 ? "" : " ", fdt32_to_cpu(cell));
            text += item;
        }
        return text + ">";
    }
    text = "[";
    for (std::size_t i = 0; i < value.size(); ++i) {
        std::snprintf(item, sizeof(item), "%s%02x", i == 0 ? "" : " ",
                      static_cast<unsigned char>(value[i]));
        text += item;
    }
    return text + "]";
}

}  // namespace lu::luoctl
