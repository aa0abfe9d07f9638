// SPDX-License-Identifier: GPL-2.0
// The root record of our KHO subtree: the first thing the next kernel reads.
//
// Layout (version 2, 80 bytes, little endian):
//   0  u64 magic        "LUMODHO\0"
//   8  u32 version      kVersion; a different version is refused, not guessed
//  12  u32 size         kSize; lets a later version grow the record
//  16  u64 generation   1 on a cold boot, +1 at each live update
//  24  u32 state        HandoverState
//  28  u32 failure      errno (positive) when state is Failed, else 0
//  32  u64 payload_phys physical address of the session payload (0: none)
//  40  u64 payload_len
//  48  u32 crc          CRC-32C of bytes [0, 48) and [64, 80)
//  52  u32 adopted      set by the kernel that took the record; outside the
//                       checksum because the next kernel writes it
//  56  u32 consumed     set by that kernel once it read the payload (ok or
//                       failed), so a module reload never reads it twice
//  60  u32 reserved     zero
//  64  u64 flb_phys     physical address of the FLB chain (0: none)
//  72  u64 reserved2    zero
//
// Version 2 added the FLB chain (version 1 ended at 64).
// The previous kernel keeps the record current while it runs (state Open)
// and seals it at the reboot notifier. A record that is not Sealed tells the
// next kernel that the live update did not complete.
#pragma once

#include "crc32c.hpp"
#include "lu/errno.hpp"
#include "lu/result.hpp"
#include "lu/span.hpp"
#include "wire.hpp"

namespace lu {

enum class HandoverState : u32 {
    Open = 1,    // written while the kernel runs; not yet a handover
    Sealed = 2,  // complete: the next kernel may trust it
    Failed = 3,  // the reboot notifier could not complete it
};

enum class PayloadState { Unread, ReadOk, ReadFailed };

struct HandoverHeader {
    u64 generation = 0;
    HandoverState state = HandoverState::Open;
    u32 failure = 0;
    u64 payload_phys = 0;
    u64 payload_len = 0;
    u64 flb_phys = 0;
    bool adopted = false;
    PayloadState payload_state = PayloadState::Unread;
};

class HandoverHeaderCodec {
public:
    static constexpr usize kSize = 80;
    static constexpr u64 kMagic = 0x004f48444f4d554cull;  // "LUMODHO\0"
    static constexpr u32 kVersion = 2;

    static constexpr void encode(const HandoverHeader& header, ByteSpan out) {
        LU_ASSERT(out.size() >= kSize);
        zero_bytes(out.data(), kSize);
        wire::store<u64>(out, kMagicOffset, kMagic);
        wire::store<u32>(out, kVersionOffset, kVersion);
        wire::store<u32>(out, kSizeOffset, kSize);
        wire::store<u64>(out, kGenerationOffset, header.generation);
        wire::store<u32>(out, kStateOffset, static_cast<u32>(header.state));
        wire::store<u32>(out, kFailureOffset, header.failure);
        wire::store<u64>(out, kPayloadPhysOffset, header.payload_phys);
        wire::store<u64>(out, kPayloadLenOffset, header.payload_len);
        wire::store<u64>(out, kFlbPhysOffset, header.flb_phys);
        wire::store<u32>(out, kCrcOffset, checksum(ConstByteSpan(out.data(), out.size())));
        wire::store<u32>(out, kAdoptedOffset, header.adopted ? kAdoptedMark : 0);
    }

    // Refuses anything that is not a version-2 record with a valid checksum:
    // EBADMSG for a foreign or corrupted record, EPROTONOSUPPORT for another
    // version, EINVAL for impossible field values.
    static constexpr Result<HandoverHeader> decode(ConstByteSpan in) {
        if (in.size() < kVersionOffset + 8 || wire::load<u64>(in, kMagicOffset) != kMagic)
            return err(errc::kBadMsg);
        if (wire::load<u32>(in, kVersionOffset) != kVersion)
            return err(errc::kProtoNoSupport);
        if (in.size() < kSize || wire::load<u32>(in, kSizeOffset) != kSize)
            return err(errc::kBadMsg);
        if (wire::load<u32>(in, kCrcOffset) != checksum(in))
            return err(errc::kBadMsg);

        HandoverHeader header;
        header.generation = wire::load<u64>(in, kGenerationOffset);
        u32 state = wire::load<u32>(in, kStateOffset);
        if (state < static_cast<u32>(HandoverState::Open) ||
            state > static_cast<u32>(HandoverState::Failed))
            return err(errc::kInval);
        header.state = static_cast<HandoverState>(state);
        header.failure = wire::load<u32>(in, kFailureOffset);
        header.payload_phys = wire::load<u64>(in, kPayloadPhysOffset);
        header.payload_len = wire::load<u64>(in, kPayloadLenOffset);
        if (header.generation == 0 || (header.payload_phys == 0) != (header.payload_len == 0))
            return err(errc::kInval);
        header.flb_phys = wire::load<u64>(in, kFlbPhysOffset);
        if (wire::load<u32>(in, kReservedOffset) != 0 || wire::load<u64>(in, kReserved2Offset) != 0)
            return err(errc::kInval);
        switch (wire::load<u32>(in, kConsumedOffset)) {
        case 0:
            header.payload_state = PayloadState::Unread;
            break;
        case kConsumedOkMark:
            header.payload_state = PayloadState::ReadOk;
            break;
        case kConsumedFailedMark:
            header.payload_state = PayloadState::ReadFailed;
            break;
        default:
            return err(errc::kInval);
        }
        u32 adopted = wire::load<u32>(in, kAdoptedOffset);
        if (adopted != 0 && adopted != kAdoptedMark)
            return err(errc::kInval);
        header.adopted = adopted == kAdoptedMark;
        return header;
    }

    // The next kernel records that it took the record's memory, so a reload
    // of the module in the same boot does not restore it twice.
    static constexpr void mark_adopted(ByteSpan record) {
        wire::store<u32>(record, kAdoptedOffset, kAdoptedMark);
    }

    static constexpr void mark_consumed(ByteSpan record, bool ok) {
        wire::store<u32>(record, kConsumedOffset, ok ? kConsumedOkMark : kConsumedFailedMark);
    }

private:
    static constexpr u32 checksum(ConstByteSpan bytes) {
        return crc32c(bytes.data() + kFlbPhysOffset, kSize - kFlbPhysOffset,
                      crc32c(bytes.data(), kCrcOffset));
    }

    static constexpr usize kMagicOffset = 0;
    static constexpr usize kVersionOffset = 8;
    static constexpr usize kSizeOffset = 12;
    static constexpr usize kGenerationOffset = 16;
    static constexpr usize kStateOffset = 24;
    static constexpr usize kFailureOffset = 28;
    static constexpr usize kPayloadPhysOffset = 32;
    static constexpr usize kPayloadLenOffset = 40;
    static constexpr usize kCrcOffset = 48;
    static constexpr usize kAdoptedOffset = 52;
    static constexpr usize kConsumedOffset = 56;
    static constexpr usize kReservedOffset = 60;
    static constexpr usize kFlbPhysOffset = 64;
    static constexpr usize kReserved2Offset = 72;
    static constexpr u32 kAdoptedMark = 0x41444f50;        // "PODA"
    static constexpr u32 kConsumedOkMark = 0x4b4f4450;     // "PDOK"
    static constexpr u32 kConsumedFailedMark = 0x4c464450;  // "PDFL"
};

// Compile-time checks of the codec: a round trip, and a flipped bit refused.
namespace handover_header_checks {

constexpr HandoverHeader sample() {
    HandoverHeader header;
    header.generation = 7;
    header.state = HandoverState::Sealed;
    header.payload_phys = 0x1000;
    header.payload_len = 64;
    return header;
}

static_assert([] {
    u8 bytes[HandoverHeaderCodec::kSize] = {};
    HandoverHeaderCodec::encode(sample(), ByteSpan(bytes, sizeof(bytes)));
    auto decoded = HandoverHeaderCodec::decode(ConstByteSpan(bytes, sizeof(bytes)));
    return decoded.is_ok() && decoded.value().generation == 7 &&
           decoded.value().state == HandoverState::Sealed && !decoded.value().adopted;
}());

static_assert([] {
    u8 bytes[HandoverHeaderCodec::kSize] = {};
    HandoverHeaderCodec::encode(sample(), ByteSpan(bytes, sizeof(bytes)));
    bytes[17] ^= 0x10;
    auto decoded = HandoverHeaderCodec::decode(ConstByteSpan(bytes, sizeof(bytes)));
    return !decoded.is_ok() && decoded.error() == err(errc::kBadMsg);
}());

}  // namespace handover_header_checks

}  // namespace lu
