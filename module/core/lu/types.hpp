// SPDX-License-Identifier: GPL-2.0
// Fundamental types and the few std-like utilities the freestanding core
// needs. The module is built with -nostdinc, so nothing here may come from a
// hosted header; the unit tests compile the same definitions.
#pragma once

// Placement new: the hosted unit tests get it from <new>; the freestanding
// module build (-nostdinc) has no such header and declares it here.
#if __has_include(<new>)
#include <new>
#else
inline void* operator new(__SIZE_TYPE__, void* where) noexcept {
    return where;
}
#endif

namespace lu {

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using i32 = __INT32_TYPE__;
using i64 = __INT64_TYPE__;
using usize = __SIZE_TYPE__;
using uptr = __UINTPTR_TYPE__;

template <typename T>
struct RemoveReference {
    using Type = T;
};
template <typename T>
struct RemoveReference<T&> {
    using Type = T;
};
template <typename T>
struct RemoveReference<T&&> {
    using Type = T;
};

template <typename T>
constexpr typename RemoveReference<T>::Type&& move(T&& value) noexcept {
    return static_cast<typename RemoveReference<T>::Type&&>(value);
}

template <typename T>
constexpr T&& forward(typename RemoveReference<T>::Type& value) noexcept {
    return static_cast<T&&>(value);
}

template <typename T>
constexpr T min(T a, T b) {
    return b < a ? b : a;
}

// Byte copy and compare without libc; the compiler lowers these builtins to
// the kernel's memcpy/memcmp in the module and to libc's in the unit tests.
inline void copy_bytes(void* dst, const void* src, usize len) {
    __builtin_memcpy(dst, src, len);
}
constexpr void zero_bytes(u8* dst, usize len) {
    for (usize i = 0; i < len; i++)
        dst[i] = 0;
}

}  // namespace lu
