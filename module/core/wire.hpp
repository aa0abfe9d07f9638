// SPDX-License-Identifier: GPL-2.0
// Little-endian field access for handover records. Records are decoded from
// bytes, never cast to structs, so a short or misaligned record cannot be
// read past its end and the codec stays usable in constant expressions.
#pragma once

#include "lu/span.hpp"
#include "lu/types.hpp"

namespace lu::wire {

template <typename T>
constexpr T load(ConstByteSpan bytes, usize offset) {
    T value = 0;
    for (usize i = 0; i < sizeof(T); i++)
        value |= static_cast<T>(bytes[offset + i]) << (8 * i);
    return value;
}

template <typename T>
constexpr void store(ByteSpan bytes, usize offset, T value) {
    for (usize i = 0; i < sizeof(T); i++)
        bytes[offset + i] = static_cast<u8>(value >> (8 * i));
}

}  // namespace lu::wire
