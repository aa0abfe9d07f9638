#include "module_record.hpp"

#include <cerrno>

#include "crc32c.hpp"
#include "hex.hpp"

namespace lu::luoctl {
namespace {

constexpr std::uint32_t kAdoptedMark = 0x41444f50;         // "PODA"
constexpr std::uint32_t kConsumedOkMark = 0x4b4f4450;      // "PDOK"
constexpr std::uint32_t kConsumedFailedMark = 0x4c464450;  // "PDFL"
constexpr std::size_t kCrcOffset = 48;
constexpr std::size_t kFlbPhysOffset = 64;

template <typename T>
T load(std::string_view bytes, std::size_t offset) {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        value |= static_cast<T>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
    }
    return value;
}

}  // namespace

std::string record_state_name(std::uint32_t state) {
    switch (state) {
        case 1:
            return "open";
        case 2:
            return "sealed";
        case 3:
            return "failed";
        default:
            return "unknown (" + std::to_string(state) + ")";
    }
}

std::string record_adopted_text(std::uint32_t adopted) {
    if (adopted == 0) {
        return "no";
    }
    return adopted == kAdoptedMark ? "yes" : "invalid mark " + hex(adopted);
}

std::string record_consumed_text(std::uint32_t consumed) {
    switch (consumed) {
        case 0:
            return "not read";
        case kConsumedOkMark:
            return "read";
        case kConsumedFailedMark:
            return "read, failed";
        default:
            return "invalid mark " + hex(consumed);
    }
}

Result<ModuleRecord> decode_module_record(std::string_view blob) {
    if (blob.size() < 16 || load<std::uint64_t>(blob, 0) != ModuleRecord::kMagic) {
        return Error(EBADMSG, "not a liveupdate-module record (" + std::to_string(blob.size()) +
                                  " bytes without its magic \"LUMODHO\")");
    }
    ModuleRecord record;
    record.version = load<std::uint32_t>(blob, 8);
    record.size = load<std::uint32_t>(blob, 12);
    if (record.version != ModuleRecord::kVersion) {
        record.problems.push_back("version " + std::to_string(record.version) +
                                  ", this luoctl reads version " +
                                  std::to_string(ModuleRecord::kVersion));
        return record;
    }
    if (blob.size() < ModuleRecord::kSize) {
        record.problems.push_back("only " + std::to_string(blob.size()) + " of " +
                                  std::to_string(ModuleRecord::kSize) + " bytes");
        return record;
    }
    if (record.size != ModuleRecord::kSize) {
        record.problems.push_back("states a size of " + std::to_string(record.size) + " bytes");
    }
    record.generation = load<std::uint64_t>(blob, 16);
    record.state = load<std::uint32_t>(blob, 24);
    record.failure = load<std::uint32_t>(blob, 28);
    record.payload_phys = load<std::uint64_t>(blob, 32);
    record.payload_len = load<std::uint64_t>(blob, 40);
    record.crc = load<std::uint32_t>(blob, kCrcOffset);
    record.adopted = load<std::uint32_t>(blob, 52);
    record.consumed = load<std::uint32_t>(blob, 56);
    record.flb_phys = load<std::uint64_t>(blob, kFlbPhysOffset);
    const std::uint32_t computed =
        crc32c(blob.substr(kFlbPhysOffset, ModuleRecord::kSize - kFlbPhysOffset),
               crc32c(blob.substr(0, kCrcOffset)));
    record.crc_ok = computed == record.crc;
    if (!record.crc_ok) {
        record.problems.push_back("checksum " + hex(record.crc) + ", computed " + hex(computed));
    }
    if (record.generation == 0) {
        record.problems.push_back("generation 0");
    }
    if (record.state < 1 || record.state > 3) {
        record.problems.push_back("state " + std::to_string(record.state));
    }
    if ((record.payload_phys == 0) != (record.payload_len == 0)) {
        record.problems.push_back("payload address and length disagree");
    }
    if (load<std::uint32_t>(blob, 60) != 0 || load<std::uint64_t>(blob, 72) != 0) {
        record.problems.push_back("reserved bytes are not zero");
    }
    if (record_adopted_text(record.adopted).starts_with("invalid")) {
        record.problems.push_back("adopted: " + record_adopted_text(record.adopted));
    }
    if (record_consumed_text(record.consumed).starts_with("invalid")) {
        record.problems.push_back("consumed: " + record_consumed_text(record.consumed));
    }
    return record;
}

}  // namespace lu::luoctl
