// JSON output: string escaping and a streaming writer for luoctl's --json mode.
#pragma once

#include <concepts>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace lu::luoctl {

// The two-character escape RFC 8259 (section 7) gives c, or nothing if it has none.
constexpr std::string_view short_escape(char c) {
    switch (c) {
        case '"':
            return "\\\"";
        case '\\':
            return "\\\\";
        case '\b':
            return "\\b";
        case '\f':
            return "\\f";
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        default:
            return {};
    }
}

// The length of the well-formed UTF-8 sequence that starts text, or 0 if it is not one (a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate, past U+10FFFF).
constexpr std::size_t utf8_sequence_length(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const auto continuation = [&](std::size_t i) {
        return i < text.size() && (byte(i) & 0xc0) == 0x80;
    };
    if (text.empty()) {
        return 0;
    }
    const unsigned char lead = byte(0);
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xc2 && lead <= 0xdf) {
        return continuation(1) ? 2 : 0;
    }
    if (lead >= 0xe0 && lead <= 0xef) {
        if (!continuation(1) || !continuation(2)) {
            return 0;
        }
        const bool overlong = lead == 0xe0 && byte(1) < 0xa0;
        const bool surrogate = lead == 0xed && byte(1) >= 0xa0;
        return overlong || surrogate ? 0 : 3;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        if (!continuation(1) || !continuation(2) || !continuation(3)) {
            return 0;
        }
        const bool overlong = lead == 0xf0 && byte(1) < 0x90;
        const bool too_large = lead == 0xf4 && byte(1) >= 0x90;
        return overlong || too_large ? 0 : 4;
    }
    return 0;
}

// Returns text escaped for use between the quotes of a JSON string: quote, backslash and every
// control character below 0x20 are escaped; well-formed UTF-8 passes through, and every byte that
// is not part of it (a session name is any bytes) becomes U+FFFD, so the document is always
// valid UTF-8, as JSON must be.
constexpr std::string json_escape(std::string_view text) {
    constexpr std::string_view kHexDigits = "0123456789abcdef";
    std::string escaped;
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        const auto byte = static_cast<unsigned char>(c);
        if (const std::string_view escape = short_escape(c); !escape.empty()) {
            escaped += escape;
        } else if (byte < 0x20) {
            escaped += "\\u00";
            escaped += kHexDigits[byte >> 4];
            escaped += kHexDigits[byte & 0xf];
        } else if (const std::size_t length = utf8_sequence_length(text.substr(i)); length > 0) {
            escaped += text.substr(i, length);
            i += length;
            continue;
        } else {
            escaped += "\\ufffd";
        }
        ++i;
    }
    return escaped;
}

static_assert(json_escape("plain") == "plain");
static_assert(json_escape("say \"hi\"\\") == "say \\\"hi\\\"\\\\");
static_assert(json_escape("a\tb\n") == "a\\tb\\n");
static_assert(json_escape("\x01\x1f\x7f") == "\\u0001\\u001f\x7f");
static_assert(json_escape("\xc3\xa9\xff") == "\xc3\xa9\\ufffd");

// Writes one compact JSON document as a sequence of calls that mirror its structure:
//   w.begin_object().key("generation").number(2).end_object();
// Commas and quoting are the writer's business, structure is the caller's.
//
// Invariants: the calls form a well-formed document: a key only directly inside an object and
// followed by exactly one value, every begin matched by its end. Misuse is a bug in luoctl and is
// caught by assert.
class JsonWriter {
public:
    explicit JsonWriter(std::ostream& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);

    JsonWriter& string(std::string_view text);
    JsonWriter& boolean(bool value);
    JsonWriter& null();

    // Integers only: luoctl reports counters and errno values, never fractions.
    template <std::integral T>
    requires(!std::same_as<T, bool>) JsonWriter& number(T value) {
        return scalar(std::to_string(value));
    }

    // Number of objects and arrays opened and not yet closed.
    std::size_t depth() const { return scopes_.size(); }

    // Closes every open object and array, ends the line and flushes: for a command that will not
    // return to close its output (kexec reboots). Nothing may be written after it.
    void finish();
    bool finished() const { return finished_; }

private:
    struct Scope {
        bool is_object;
        bool has_members;
    };

    // Writes the separator a new value needs and checks that a value is allowed here.
    void before_value();
    JsonWriter& scalar(std::string_view literal);
    JsonWriter& open(char bracket, bool is_object);
    JsonWriter& close(char bracket, bool is_object);

    std::ostream& out_;
    std::vector<Scope> scopes_;
    bool key_pending_ = false;  // a key was written and awaits its value
    bool finished_ = false;
};

}  // namespace lu::luoctl
