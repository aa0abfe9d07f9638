// lu::Error, lu::Result<T> and lu::Status: how every fallible luoctl function reports failure.
//
// The same shape as the module core's error type (an errno plus a result that must be looked at),
// so that reading one side teaches the other. luoctl throws no exceptions of its own: failure
// travels in return values, and LU_TRY propagates it.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace lu {

// A failed operation: an errno value and a sentence for the person running luoctl.
//
// Invariants: 1 <= errnum() <= kMaxErrno. message() is complete on its own (it names the file or
// argument at fault) and ends without a newline.
//
// The core holds the kernel's negative errno; userspace sees errno(3) positive, after the C
// library has converted the ioctl's return value, so the tool keeps the positive value.
class Error {
public:
    static constexpr int kMaxErrno = 4095;

    Error(int errnum, std::string message) : errnum_(errnum), message_(std::move(message)) {
        assert(errnum_ >= 1 && errnum_ <= kMaxErrno);
    }

    // For a failed system call: the message becomes "<what>: <strerror(errnum)>". Save errno
    // right after the call: building `what` allocates, and allocation may change errno.
    static Error from_errno(int errnum, std::string_view what);

    int errnum() const { return errnum_; }
    const std::string& message() const { return message_; }

private:
    int errnum_;
    std::string message_;
};

template <typename T>
class Result;

// What a Result<T> takes as its value: anything a T can be built from, so that
// `return std::nullopt;` works for an optional T, except an Error or a Result.
template <typename U, typename T>
concept ResultValueFor =
    std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Error> &&
    !std::is_same_v<std::remove_cvref_t<U>, Result<T>>;

// Either a T or the Error that prevented it.
//
// Invariants: holds exactly one of the two; value() may be called only when ok(), error() only
// when !ok() (asserted: there is no exception to fall back on).
template <typename T>
class [[nodiscard]] Result {
public:
    template <ResultValueFor<T> U = T>
    Result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }

    const T& value() const& {
        assert(ok());
        return *std::get_if<0>(&state_);
    }
    // Moves the value out; returning by value keeps LU_TRY's result alive past its temporary.
    T value() && {
        assert(ok());
        return std::move(*std::get_if<0>(&state_));
    }

    const Error& error() const& {
        assert(!ok());
        return *std::get_if<1>(&state_);
    }
    Error error() && {
        assert(!ok());
        return std::move(*std::get_if<1>(&state_));
    }

private:
    std::variant<T, Error> state_;
};

// The result of an operation that produces nothing but may fail. `return {};` is success.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const { return !error_.has_value(); }

    // Nothing to return; present so that LU_TRY works on a Status like on any Result.
    void value() const { assert(ok()); }

    const Error& error() const& {
        assert(!ok());
        return *error_;
    }
    Error error() && {
        assert(!ok());
        return std::move(*error_);
    }

private:
    std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace lu

// Evaluates a Result: on failure returns its Error from the enclosing function, otherwise yields
// the value. A GNU statement expression, like SerenityOS's TRY and the core's LU_TRY.
#define LU_TRY(expr)                                  \
    ({                                                \
        auto lu_try_result_ = (expr);                 \
        if (!lu_try_result_.ok()) {                   \
            return std::move(lu_try_result_).error(); \
        }                                             \
        std::move(lu_try_result_).value();            \
    })
