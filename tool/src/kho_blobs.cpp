#include "kho_blobs.hpp"

#include <cerrno>
#include <cstring>

namespace lu::luoctl {
namespace {

constexpr std::size_t kReleaseBytes = 65;  // __NEW_UTS_LEN + 1

template <typename T>
T native(std::string_view bytes, std::size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(value));
    return value;
}

}  // namespace

Result<KexecMetadata> decode_kexec_metadata(std::string_view blob) {
    if (blob.size() < sizeof(std::uint32_t)) {
        return Error(EBADMSG,
                     "kexec-metadata of " + std::to_string(blob.size()) + " bytes has no version");
    }
    KexecMetadata metadata;
    metadata.version = native<std::uint32_t>(blob, 0);
    if (metadata.version != 1 || blob.size() < 4 + kReleaseBytes + 4) {
        return metadata;
    }
    const std::string_view release = blob.substr(4, kReleaseBytes);
    metadata.previous_release = std::string(release.substr(0, release.find('\0')));
    metadata.kexec_count = native<std::uint32_t>(blob, 4 + kReleaseBytes);
    return metadata;
}

Result<LuoRoot> decode_luo_root(std::string_view blob) {
    constexpr std::size_t kNumbers = 3 * sizeof(std::uint64_t);
    if (blob.size() <= kNumbers) {
        return Error(EBADMSG, "an LUO root of " + std::to_string(blob.size()) + " bytes");
    }
    const std::size_t compatible_bytes = blob.size() - kNumbers;
    const std::string_view compatible = blob.substr(0, compatible_bytes);
    if (compatible.find('\0') == std::string_view::npos) {
        return Error(EBADMSG, "an LUO root without a NUL-terminated compatible string");
    }
    return LuoRoot{.compatible = std::string(compatible.substr(0, compatible.find('\0'))),
                   .liveupdate_num = native<std::uint64_t>(blob, compatible_bytes),
                   .sessions_pa = native<std::uint64_t>(blob, compatible_bytes + 8),
                   .flbs_pa = native<std::uint64_t>(blob, compatible_bytes + 16)};
}

}  // namespace lu::luoctl
