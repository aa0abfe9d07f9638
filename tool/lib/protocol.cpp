#include "protocol.hpp"

#include <cassert>
#include <cerrno>
#include <charconv>

namespace lu::protocol {
namespace {

Error malformed(std::string what) {
    return Error(EBADMSG, "malformed agent message: " + std::move(what));
}

std::vector<std::string_view> split_spaces(std::string_view text) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = text.find(' ', start);
        const std::size_t stop = end == std::string_view::npos ? text.size() : end;
        parts.push_back(text.substr(start, stop - start));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return parts;
}

}  // namespace

Message::Message(std::string_view verb) : verb_(verb) {
    assert(is_word(verb));
}

Message& Message::add(std::string_view key, std::string_view value) {
    assert(is_word(key) && is_value(value));
    fields_.emplace_back(std::string(key), std::string(value));
    return *this;
}

Message& Message::add(std::string_view key, std::uint64_t value) {
    return add(key, std::to_string(value));
}

std::optional<std::string_view> Message::get(std::string_view key) const {
    for (const auto& [k, v] : fields_) {
        if (k == key) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> Message::get_all(std::string_view key) const {
    std::vector<std::string_view> values;
    for (const auto& [k, v] : fields_) {
        if (k == key) {
            values.push_back(v);
        }
    }
    return values;
}

Result<std::string_view> Message::require(std::string_view key) const {
    if (const std::optional<std::string_view> value = get(key)) {
        return *value;
    }
    return malformed("'" + verb_ + "' lacks the field '" + std::string(key) + "'");
}

Result<std::uint64_t> Message::require_u64(std::string_view key) const {
    const std::string_view text = LU_TRY(require(key));
    if (const std::optional<std::uint64_t> number = parse_u64(text)) {
        return *number;
    }
    return malformed("field '" + std::string(key) + "' is not a decimal number: '" +
                     std::string(text) + "'");
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    if (text.empty() || text.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return number;
}

std::string encode_document(const Message& message) {
    std::string text{kMagic};
    text += std::to_string(kVersion);
    text += ' ';
    text += message.verb();
    text += '\n';
    for (const auto& [key, value] : message.fields()) {
        text += key;
        text += '=';
        text += value;
        text += '\n';
    }
    return text;
}

Result<std::string> encode(const Message& message) {
    std::string datagram = encode_document(message);
    if (datagram.size() > kMaxMessageBytes) {
        return Error(E2BIG, "agent message '" + message.verb() + "' of " +
                                std::to_string(datagram.size()) + " bytes exceeds the limit of " +
                                std::to_string(kMaxMessageBytes));
    }
    return datagram;
}

std::vector<Message> split_reply(const Message& reply) {
    // What a part's header and its "more=1" line cost.
    const std::size_t overhead = encode_document(Message(reply.verb())).size() + kMore.size() + 3;
    std::vector<Message> parts(1, Message(reply.verb()));
    std::size_t used = overhead;
    for (const auto& [key, value] : reply.fields()) {
        const std::size_t line = key.size() + value.size() + 2;
        if (used + line > kMaxMessageBytes && !parts.back().fields().empty()) {
            parts.back().add(kMore, 1);
            parts.emplace_back(reply.verb());
            used = overhead;
        }
        parts.back().add(key, value);
        used += line;
    }
    return parts;
}

bool has_more(const Message& part) {
    return part.get(kMore) == "1";
}

void join_part(Message& reply, const Message& part) {
    for (const auto& [key, value] : part.fields()) {
        if (key != kMore) {
            reply.add(key, value);
        }
    }
}

Result<Message> decode(std::string_view datagram) {
    if (datagram.size() > kMaxMessageBytes) {
        return malformed("longer than " + std::to_string(kMaxMessageBytes) + " bytes");
    }
    return decode_document(datagram);
}

Result<Message> decode_document(std::string_view datagram) {
    if (datagram.empty() || datagram.back() != '\n') {
        return malformed("does not end with a newline");
    }
    if (datagram.find('\0') != std::string_view::npos) {
        return malformed("contains a NUL byte");
    }
    const std::size_t header_end = datagram.find('\n');
    const std::string_view header = datagram.substr(0, header_end);
    if (!header.starts_with(kMagic)) {
        return malformed("does not start with '" + std::string(kMagic) + "'");
    }
    const std::size_t space = header.find(' ');
    if (space == std::string_view::npos) {
        return malformed("header '" + std::string(header) + "' has no verb");
    }
    const std::optional<std::uint64_t> version =
        parse_u64(header.substr(kMagic.size(), space - kMagic.size()));
    if (!version) {
        return malformed("header '" + std::string(header) + "' has no version number");
    }
    const std::string_view verb = header.substr(space + 1);
    if (!is_word(verb)) {
        return malformed("bad verb '" + std::string(verb) + "'");
    }
    if (*version != kVersion) {
        return Error(EPROTONOSUPPORT, "agent protocol version " + std::to_string(*version) +
                                          " is not supported (this luoctl speaks version " +
                                          std::to_string(kVersion) + ")");
    }

    Message message(verb);
    std::string_view rest = datagram.substr(header_end + 1);
    while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        const std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end + 1);
        const std::size_t equals = line.find('=');
        if (equals == std::string_view::npos) {
            return malformed("field line '" + std::string(line) + "' has no '='");
        }
        const std::string_view key = line.substr(0, equals);
        if (!is_word(key)) {
            return malformed("bad key '" + std::string(key) + "'");
        }
        message.add(key, line.substr(equals + 1));
    }
    return message;
}

Message ok_reply() {
    return Message(kOk);
}

Message error_reply(const Error& error) {
    Message reply(kError);
    reply.add("errno", static_cast<std::uint64_t>(error.errnum()));
    std::string text = error.message();
    for (char& c : text) {
        if (c == '\n' || c == '\0') {
            c = ' ';
        }
    }
    reply.add("message", text);
    return reply;
}

Status reply_status(const Message& reply) {
    if (reply.verb() == kOk) {
        return {};
    }
    if (reply.verb() != kError) {
        return malformed("unexpected reply verb '" + reply.verb() + "'");
    }
    const std::uint64_t errnum = LU_TRY(reply.require_u64("errno"));
    const std::string_view text = LU_TRY(reply.require("message"));
    if (errnum < 1 || errnum > static_cast<std::uint64_t>(Error::kMaxErrno)) {
        return malformed("errno " + std::to_string(errnum) + " out of range");
    }
    return Error(static_cast<int>(errnum), std::string(text));
}

std::string encode_session(const SessionInfo& info) {
    return info.name + ' ' + std::to_string(info.uid) + ' ' + info.direction + ' ' + info.state +
           ' ' + std::to_string(info.files);
}

Result<SessionInfo> decode_session(std::string_view value) {
    const std::vector<std::string_view> parts = split_spaces(value);
    if (parts.size() != 5) {
        return malformed("session entry '" + std::string(value) + "' has " +
                         std::to_string(parts.size()) + " fields, expected 5");
    }
    const std::optional<std::uint64_t> uid = parse_u64(parts[1]);
    const std::optional<std::uint64_t> files = parse_u64(parts[4]);
    if (parts[0].empty() || !uid || *uid > UINT32_MAX || !files || parts[2].empty() ||
        parts[3].empty()) {
        return malformed("session entry '" + std::string(value) + "'");
    }
    return SessionInfo{.name = std::string(parts[0]),
                       .uid = static_cast<std::uint32_t>(*uid),
                       .direction = std::string(parts[2]),
                       .state = std::string(parts[3]),
                       .files = *files};
}

std::string encode_file(const FileInfo& info) {
    return info.session + ' ' + std::to_string(info.token) + ' ' + std::to_string(info.size) +
           ' ' + info.state + ' ' + info.handler;
}

Result<FileInfo> decode_file(std::string_view value) {
    const std::vector<std::string_view> parts = split_spaces(value);
    if (parts.size() != 4 && parts.size() != 5) {
        return malformed("file entry '" + std::string(value) + "' has " +
                         std::to_string(parts.size()) + " fields, expected 5");
    }
    const std::optional<std::uint64_t> token = parse_u64(parts[1]);
    const std::optional<std::uint64_t> size = parse_u64(parts[2]);
    if (parts[0].empty() || !token || !size || parts[3].empty() ||
        (parts.size() == 5 && parts[4].empty())) {
        return malformed("file entry '" + std::string(value) + "'");
    }
    return FileInfo{.session = std::string(parts[0]),
                    .token = *token,
                    .size = *size,
                    .state = std::string(parts[3]),
                    .handler = std::string(parts.size() == 5 ? parts[4] : kUnknownHandler)};
}

}  // namespace lu::protocol
