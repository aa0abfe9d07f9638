// The liveupdate module's KHO subtree, "liveupdate-module": its 80-byte root record, decoded for
// luoctl inspect from the bytes debugfs shows (nothing is read from physical memory).
//
// The layout is module/core/handover_header.hpp's (version 2, little endian):
//   0 magic "LUMODHO\0"  8 version  12 size  16 generation  24 state  28 failure
//   32 payload_phys  40 payload_len  48 crc  52 adopted  56 consumed  60 reserved
//   64 flb_phys  72 reserved2;  crc = CRC-32C of [0, 48) and [64, 80).
// The module refuses a record that is not exactly right; the inspector reports instead: it
// decodes what it can and lists every way the record departs from the format in problems.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace lu::luoctl {

inline constexpr std::string_view kModuleSubtree = "liveupdate-module";

struct ModuleRecord {
    static constexpr std::uint64_t kMagic = 0x004f48444f4d554cull;  // "LUMODHO\0"
    static constexpr std::uint32_t kVersion = 2;
    static constexpr std::uint32_t kSize = 80;

    std::uint32_t version = 0;
    std::uint32_t size = 0;  // as the record states it
    std::uint64_t generation = 0;
    std::uint32_t state = 0;    // 1 open, 2 sealed, 3 failed
    std::uint32_t failure = 0;  // errno, when failed
    std::uint64_t payload_phys = 0;
    std::uint64_t payload_len = 0;
    std::uint64_t flb_phys = 0;
    std::uint32_t crc = 0;
    bool crc_ok = false;
    std::uint32_t adopted = 0;   // the mark the next kernel writes when it takes the record
    std::uint32_t consumed = 0;  // ... and when it has read the payload
    // Empty for a record the module would accept.
    std::vector<std::string> problems;
};

// "open", "sealed", "failed", or "unknown (N)".
std::string record_state_name(std::uint32_t state);
// "no", "yes", or "invalid mark 0x...".
std::string record_adopted_text(std::uint32_t adopted);
// "not read", "read", "read, failed", or "invalid mark 0x...".
std::string record_consumed_text(std::uint32_t consumed);

// Decodes blob. Fails (EBADMSG) only for something that is not our record at all: shorter than
// its 16-byte identification, or another magic. Another version keeps what it has in common
// (magic, version, size) and says so in problems.
Result<ModuleRecord> decode_module_record(std::string_view blob);

}  // namespace lu::luoctl
