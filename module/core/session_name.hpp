// SPDX-License-Identifier: GPL-2.0
// Session names as the uAPI defines them: 1 to 63 bytes, NUL-terminated
// within LIVEUPDATE_SESSION_NAME_LENGTH (64) bytes.
#pragma once

#include "lu/errno.hpp"
#include "lu/result.hpp"

namespace lu {

// Invariants: bytes_ is NUL-terminated and holds at least one byte before it.
class SessionName {
public:
    static constexpr usize kCapacity = 64;

    // `raw` is the caller's 64-byte field, terminated or not.
    static constexpr Result<SessionName> parse(const u8* raw) {
        usize len = 0;
        while (len < kCapacity && raw[len] != 0)
            len++;
        if (len == 0 || len == kCapacity)
            return err(errc::kInval);
        SessionName name;
        for (usize i = 0; i < len; i++)
            name.bytes_[i] = static_cast<char>(raw[i]);
        name.len_ = len;
        return name;
    }

    // A lookup key: compares the first 64 bytes, like upstream's strncmp,
    // so an unterminated lookup simply matches nothing.
    constexpr bool matches(const u8* raw) const {
        for (usize i = 0; i < kCapacity; i++) {
            if (static_cast<u8>(bytes_[i]) != raw[i])
                return false;
            if (raw[i] == 0)
                return true;
        }
        return true;
    }

    constexpr const char* c_str() const { return bytes_; }
    constexpr usize length() const { return len_; }

    constexpr SessionName() = default;

private:
    char bytes_[kCapacity] = {};
    usize len_ = 0;
};

static_assert([] {
    const u8 empty[SessionName::kCapacity] = {};
    return !SessionName::parse(empty).is_ok();
}());
static_assert([] {
    u8 full[SessionName::kCapacity];
    for (auto& b : full)
        b = 'a';
    return SessionName::parse(full).error() == err(errc::kInval);
}());
static_assert([] {
    u8 raw[SessionName::kCapacity] = {'v', 'm', '1'};
    auto name = SessionName::parse(raw);
    return name.is_ok() && name.value().length() == 3 && name.value().matches(raw);
}());

}  // namespace lu
