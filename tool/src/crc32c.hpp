// CRC-32C (Castagnoli), the checksum of the module's handover records, for luoctl inspect to
// verify what it decodes. The same definition as module/core/crc32c.hpp (which the tool cannot
// include: the core has its own lu::Result), checked against the same published values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lu::luoctl {

constexpr std::uint32_t crc32c(std::string_view bytes, std::uint32_t seed = 0) {
    constexpr std::uint32_t kPolynomial = 0x82f63b78;  // reflected 0x1edc6f41
    std::uint32_t crc = ~seed;
    for (const char c : bytes) {
        crc ^= static_cast<unsigned char>(c);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ kPolynomial : crc >> 1;
        }
    }
    return ~crc;
}

// RFC 3720 B.4: 32 bytes of zeros; and the classic check value of "123456789".
static_assert(crc32c(std::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                      "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
                                      32)) == 0x8a9136aa);
static_assert(crc32c("123456789") == 0xe3069283);

}  // namespace lu::luoctl
