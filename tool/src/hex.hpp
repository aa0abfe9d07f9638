// Addresses and marks as luoctl prints them: "0x" and lowercase hex digits, no padding.
#pragma once

#include <cstdint>
#include <string>

namespace lu::luoctl {

constexpr std::string hex(std::uint64_t value) {
    constexpr char kDigits[] = "0123456789abcdef";
    std::string digits;
    do {
        digits.insert(digits.begin(), kDigits[value & 0xf]);
        value >>= 4;
    } while (value != 0);
    return "0x" + digits;
}

static_assert(hex(0) == "0x0");
static_assert(hex(0x571000) == "0x571000");
static_assert(hex(0xffffffffffffffffull) == "0xffffffffffffffff");

}  // namespace lu::luoctl
