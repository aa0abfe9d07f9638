// SPDX-License-Identifier: GPL-2.0
// The core's one error type. An Error is a negative errno; Result<T> holds
// either a T or an Error, Status is Result<void>. Conversion to the kernel's
// `long` return happens in exactly one place per glue entry point.
#pragma once

#include "lu/types.hpp"

namespace lu {

void assert_failed(const char* expr, const char* file, int line);

#define LU_ASSERT(expr) ((expr) ? (void)0 : ::lu::assert_failed(#expr, __FILE__, __LINE__))

// Invariants: code_ is in [-MAX_ERRNO, -1].
class [[nodiscard]] Error {
public:
    static constexpr Error from_errno(int positive_errno) { return Error(-positive_errno); }
    constexpr int to_errno() const { return code_; }
    constexpr bool operator==(const Error& other) const = default;

private:
    constexpr explicit Error(int code) : code_(code) {
        if (code >= 0 || code < -4095)
            assert_failed("errno out of range", __FILE__, __LINE__);
    }
    int code_;
};

constexpr Error err(int positive_errno) {
    return Error::from_errno(positive_errno);
}

// Holds a T or an Error. T must be default-constructible and movable; that
// keeps Result usable in constant expressions, where the handover codec is
// checked by static_assert.
template <typename T>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) : value_(move(value)), error_(0) {}
    constexpr Result(Error error) : error_(error.to_errno()) {}
    constexpr Result(Result&& other) = default;
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;

    constexpr bool is_ok() const { return error_ == 0; }
    constexpr Error error() const {
        LU_ASSERT(!is_ok());
        return Error::from_errno(-error_);
    }
    constexpr T& value() {
        LU_ASSERT(is_ok());
        return value_;
    }
    constexpr const T& value() const {
        LU_ASSERT(is_ok());
        return value_;
    }
    constexpr T release_value() {
        LU_ASSERT(is_ok());
        return move(value_);
    }

private:
    T value_{};
    int error_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    constexpr Result() : error_(0) {}
    constexpr Result(Error error) : error_(error.to_errno()) {}

    constexpr bool is_ok() const { return error_ == 0; }
    constexpr Error error() const { return Error::from_errno(-error_); }
    constexpr void release_value() const {}

private:
    int error_;
};

using Status = Result<void>;

constexpr Status ok() {
    return Status();
}

// Propagates the error of a Result/Status expression, else yields its value
// (a GNU statement expression, as SerenityOS's TRY).
#define LU_TRY(expr)                   \
    ({                                 \
        auto _lu_result = (expr);      \
        if (!_lu_result.is_ok())       \
            return _lu_result.error(); \
        _lu_result.release_value();    \
    })

}  // namespace lu
