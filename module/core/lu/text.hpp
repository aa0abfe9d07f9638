// SPDX-License-Identifier: GPL-2.0
// A bounded, always NUL-terminated text builder over a caller's buffer, for
// the few one-line reports the core formats itself (sysfs values).
#pragma once

#include "lu/types.hpp"

namespace lu {

// Invariants: len_ < cap_ when cap_ > 0, and buf_[len_] == '\0'.
class TextBuffer {
public:
    TextBuffer(char* buf, usize cap) : buf_(buf), cap_(cap) {
        if (cap_ > 0)
            buf_[0] = '\0';
    }

    TextBuffer& append(const char* text) {
        while (*text != '\0' && len_ + 1 < cap_)
            buf_[len_++] = *text++;
        if (cap_ > 0)
            buf_[len_] = '\0';
        return *this;
    }

    TextBuffer& append(u64 value) {
        char digits[21];
        usize n = 0;
        do {
            digits[n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        char text[21];
        for (usize i = 0; i < n; i++)
            text[i] = digits[n - 1 - i];
        text[n] = '\0';
        return append(text);
    }

    usize length() const { return len_; }

private:
    char* buf_;
    usize cap_;
    usize len_ = 0;
};

}  // namespace lu
