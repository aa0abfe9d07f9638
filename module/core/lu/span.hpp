// SPDX-License-Identifier: GPL-2.0
// A bounds-carrying view of bytes, for handover memory that the core reads
// or writes but does not own.
#pragma once

#include "lu/types.hpp"

namespace lu {

template <typename T>
class Span {
public:
    constexpr Span() = default;
    constexpr Span(T* data, usize size) : data_(data), size_(size) {}

    constexpr T* data() const { return data_; }
    constexpr usize size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr T& operator[](usize i) const { return data_[i]; }

private:
    T* data_ = nullptr;
    usize size_ = 0;
};

using ByteSpan = Span<u8>;
using ConstByteSpan = Span<const u8>;

}  // namespace lu
