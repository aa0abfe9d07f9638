// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "handover_header.hpp"

namespace {

using lu::HandoverHeader;
using lu::HandoverHeaderCodec;
using lu::HandoverState;

std::vector<uint8_t> encoded(const HandoverHeader& header) {
    std::vector<uint8_t> bytes(HandoverHeaderCodec::kSize);
    HandoverHeaderCodec::encode(header, lu::ByteSpan(bytes.data(), bytes.size()));
    return bytes;
}

int decode_errno(const std::vector<uint8_t>& bytes) {
    auto decoded = HandoverHeaderCodec::decode(lu::ConstByteSpan(bytes.data(), bytes.size()));
    return decoded.is_ok() ? 0 : -decoded.error().to_errno();
}

HandoverHeader sealed(uint64_t generation) {
    HandoverHeader header;
    header.generation = generation;
    header.state = HandoverState::Sealed;
    return header;
}

TEST(HandoverHeader, RoundTripKeepsEveryField) {
    HandoverHeader header;
    header.generation = 0x123456789abcull;
    header.state = HandoverState::Failed;
    header.failure = EIO;
    header.payload_phys = 0x7f000000;
    header.payload_len = 4096;
    auto bytes = encoded(header);
    auto decoded = HandoverHeaderCodec::decode(lu::ConstByteSpan(bytes.data(), bytes.size()));
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(decoded.value().generation, header.generation);
    EXPECT_EQ(decoded.value().state, HandoverState::Failed);
    EXPECT_EQ(decoded.value().failure, static_cast<uint32_t>(EIO));
    EXPECT_EQ(decoded.value().payload_phys, header.payload_phys);
    EXPECT_EQ(decoded.value().payload_len, header.payload_len);
    EXPECT_FALSE(decoded.value().adopted);
}

TEST(HandoverHeader, LayoutIsLittleEndianWithMagicFirst) {
    auto bytes = encoded(sealed(2));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 7), "LUMODHO");
    EXPECT_EQ(bytes[8], 2);    // version (2: the FLB chain)
    EXPECT_EQ(bytes[12], 80);  // size
    EXPECT_EQ(bytes[16], 2);   // generation
    EXPECT_EQ(bytes[24], 2);   // state Sealed
}

TEST(HandoverHeader, EveryFlippedBitInTheCheckedRangeIsRefused) {
    const auto good = encoded(sealed(5));
    for (size_t bit = 0; bit < HandoverHeaderCodec::kSize * 8; bit++) {
        if (bit >= 52 * 8 && bit < 64 * 8)
            continue;  // the marks of the next kernel, outside the checksum
        auto bytes = good;
        bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        EXPECT_NE(decode_errno(bytes), 0) << "bit " << bit;
    }
}

TEST(HandoverHeader, ForeignMagicIsBadMessage) {
    auto bytes = encoded(sealed(1));
    bytes[0] = 'X';
    EXPECT_EQ(decode_errno(bytes), EBADMSG);
}

TEST(HandoverHeader, OtherVersionIsRefusedAsUnsupported) {
    auto bytes = encoded(sealed(1));
    bytes[8] = 1;
    EXPECT_EQ(decode_errno(bytes), EPROTONOSUPPORT) << "version 1 had no FLB chain";
    bytes[8] = 3;
    EXPECT_EQ(decode_errno(bytes), EPROTONOSUPPORT);
}

TEST(HandoverHeader, ShortRecordIsRefused) {
    auto bytes = encoded(sealed(1));
    bytes.resize(HandoverHeaderCodec::kSize - 1);
    EXPECT_EQ(decode_errno(bytes), EBADMSG);
    bytes.resize(4);
    EXPECT_EQ(decode_errno(bytes), EBADMSG);
    bytes.clear();
    EXPECT_EQ(decode_errno(bytes), EBADMSG);
}

TEST(HandoverHeader, CorruptedChecksumIsBadMessage) {
    auto bytes = encoded(sealed(1));
    bytes[48] ^= 1;
    EXPECT_EQ(decode_errno(bytes), EBADMSG);
}

TEST(HandoverHeader, ZeroGenerationIsInvalid) {
    EXPECT_EQ(decode_errno(encoded(sealed(0))), EINVAL);
}

TEST(HandoverHeader, PayloadAddressAndLengthGoTogether) {
    HandoverHeader header = sealed(1);
    header.payload_phys = 0x1000;
    EXPECT_EQ(decode_errno(encoded(header)), EINVAL);
}

TEST(HandoverHeader, AdoptedMarkIsOutsideTheChecksum) {
    auto bytes = encoded(sealed(3));
    HandoverHeaderCodec::mark_adopted(lu::ByteSpan(bytes.data(), bytes.size()));
    auto decoded = HandoverHeaderCodec::decode(lu::ConstByteSpan(bytes.data(), bytes.size()));
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_TRUE(decoded.value().adopted);
    bytes[52] ^= 1;
    EXPECT_EQ(decode_errno(bytes), EINVAL);
}

TEST(HandoverHeader, NonZeroReservedFieldIsInvalid) {
    auto bytes = encoded(sealed(1));
    bytes[60] = 1;
    EXPECT_EQ(decode_errno(bytes), EINVAL);
}

}  // namespace

namespace {

TEST(HandoverHeader, TheFlbChainPointerRoundTripsUnderTheChecksum) {
    HandoverHeader header = sealed(4);
    header.flb_phys = 0x7000;
    auto bytes = encoded(header);
    auto decoded = HandoverHeaderCodec::decode(lu::ConstByteSpan(bytes.data(), bytes.size()));
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(decoded.value().flb_phys, 0x7000u);
    bytes[65] ^= 1;
    EXPECT_EQ(decode_errno(bytes), EBADMSG);
}

}  // namespace
