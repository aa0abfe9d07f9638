// SPDX-License-Identifier: GPL-2.0
// CRC-32C (Castagnoli), the checksum of the handover records. Our own table
// so the same code runs in the module and the unit tests and can be checked
// at compile time.
#pragma once

#include "lu/types.hpp"

namespace lu {

namespace crc32c_detail {

inline constexpr u32 kPolynomial = 0x82f63b78;  // reflected 0x1edc6f41

struct Table {
    u32 entries[256];
};

constexpr Table make_table() {
    Table table{};
    for (u32 i = 0; i < 256; i++) {
        u32 crc = i;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1) ? (crc >> 1) ^ kPolynomial : crc >> 1;
        table.entries[i] = crc;
    }
    return table;
}

inline constexpr Table kTable = make_table();

}  // namespace crc32c_detail

constexpr u32 crc32c(const u8* data, usize len, u32 seed = 0) {
    u32 crc = ~seed;
    for (usize i = 0; i < len; i++)
        crc = crc32c_detail::kTable.entries[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

// RFC 3720 B.4: 32 bytes of zeros.
static_assert([] {
    u8 zeros[32] = {};
    return crc32c(zeros, sizeof(zeros)) == 0x8a9136aa;
}());
// The classic check value for "123456789".
static_assert([] {
    const u8 digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    return crc32c(digits, sizeof(digits)) == 0xe3069283;
}());

}  // namespace lu
