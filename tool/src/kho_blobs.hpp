// The kernel's own KHO subtrees that are plain C structs rather than FDTs, decoded for luoctl
// inspect from their debugfs copies. Both are packed and in the CPU's byte order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "result.hpp"

namespace lu::luoctl {

// "kexec-metadata" (include/linux/kho/abi/kexec_metadata.h, version 1):
//   u32 version; char previous_release[65]; u32 kexec_count;
inline constexpr std::string_view kKexecMetadataSubtree = "kexec-metadata";

struct KexecMetadata {
    std::uint32_t version = 0;
    std::string previous_release;              // the release that wrote it (version 1)
    std::optional<std::uint32_t> kexec_count;  // kexec boots since the cold boot (version 1)
};

// EBADMSG if blob is shorter than its version; another version decodes to the version alone.
Result<KexecMetadata> decode_kexec_metadata(std::string_view blob);

// "LUO", the in-kernel LUO's root (include/linux/kho/abi/luo.h, "luo-v5"):
//   char compatible[8]; u64 liveupdate_num; u64 sessions_pa; u64 flbs_pa;
inline constexpr std::string_view kLuoSubtree = "LUO";

struct LuoRoot {
    std::string compatible;
    std::uint64_t liveupdate_num = 0;
    std::uint64_t sessions_pa = 0;
    std::uint64_t flbs_pa = 0;
};

// EBADMSG unless blob holds a NUL-terminated compatible string and the three u64 after it.
Result<LuoRoot> decode_luo_root(std::string_view blob);

}  // namespace lu::luoctl
