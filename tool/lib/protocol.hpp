// The luoctl agent protocol, version 1: the messages `luoctl agent` and its clients exchange over
// a Unix socket. Part of libluoctl; the README's "luoctl agent protocol" section is the
// specification, this file its one implementation.
//
// A message is one SOCK_SEQPACKET datagram of at most kMaxMessageBytes bytes of text (a longer
// reply is cut into parts: see split_reply):
//
//   luoctl/1 VERB\n
//   KEY=VALUE\n        zero or more, in order; a key may repeat (a list)
//
// VERB and KEY match [a-z][a-z0-9_]* and are at most 32 bytes; a VALUE is any bytes but '\n'
// and NUL. File descriptors travel beside the text as SCM_RIGHTS; each verb says how many.
// Decoding is strict: anything else is EBADMSG, another version EPROTONOSUPPORT, so both sides
// can tell a bug or an old peer from a refused request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "result.hpp"

namespace lu::protocol {

inline constexpr int kVersion = 1;
inline constexpr std::string_view kMagic = "luoctl/";
inline constexpr std::size_t kMaxMessageBytes = 65536;
inline constexpr std::size_t kMaxWordBytes = 32;
inline constexpr std::size_t kMaxFds = 4;
inline constexpr std::string_view kDefaultSocket = "/run/luoctl.sock";

// Request verbs.
inline constexpr std::string_view kPreserve = "preserve";  // session, token + 1 fd
inline constexpr std::string_view kSession = "session";    // session -> 1 fd (the session's)
inline constexpr std::string_view kRetrieve = "retrieve";  // session, token -> 1 fd
inline constexpr std::string_view kFinish = "finish";      // session
inline constexpr std::string_view kAbort = "abort";        // session
inline constexpr std::string_view kList = "list";          // -> session=..., file=...
inline constexpr std::string_view kStatus = "status";      // -> agent and module status
// Reply verbs.
inline constexpr std::string_view kOk = "ok";
inline constexpr std::string_view kError = "error";  // errno=N, message=TEXT

// [a-z][a-z0-9_]*, 1 to kMaxWordBytes bytes: a verb or a key.
constexpr bool is_word(std::string_view word) {
    if (word.empty() || word.size() > kMaxWordBytes || word[0] < 'a' || word[0] > 'z') {
        return false;
    }
    for (const char c : word) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

constexpr bool is_value(std::string_view value) {
    return value.find('\n') == std::string_view::npos &&
           value.find('\0') == std::string_view::npos;
}

static_assert(is_word("preserve") && is_word("first_error") && !is_word("") &&
              !is_word("Token") && !is_word("9lives") && !is_word("a-b"));
static_assert(is_value("x y=z") && !is_value("a\nb"));

// One message: a verb and its fields.
//
// Invariants: verb and every key satisfy is_word, every value is_value (add() asserts; decode()
// only builds such messages).
class Message {
public:
    Message() = default;
    explicit Message(std::string_view verb);

    const std::string& verb() const { return verb_; }
    const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

    Message& add(std::string_view key, std::string_view value);
    Message& add(std::string_view key, std::uint64_t value);

    // The first value of key, if any.
    std::optional<std::string_view> get(std::string_view key) const;
    // Every value of key, in order.
    std::vector<std::string_view> get_all(std::string_view key) const;
    // The first value of key as a required field: EBADMSG if missing.
    Result<std::string_view> require(std::string_view key) const;
    // ... as a decimal unsigned number: EBADMSG if missing or not one.
    Result<std::uint64_t> require_u64(std::string_view key) const;

    bool operator==(const Message&) const = default;

private:
    std::string verb_;
    std::vector<std::pair<std::string, std::string>> fields_;
};

// The datagram for message. E2BIG if it would exceed kMaxMessageBytes.
Result<std::string> encode(const Message& message);

// The message in a datagram. EPROTONOSUPPORT for a well-formed header of another version,
// EBADMSG for anything malformed; the error says what and where.
Result<Message> decode(std::string_view datagram);

// The same text for a message kept in a file or in memory rather than sent (the agent's registry
// and state file): no size limit but memory's.
std::string encode_document(const Message& message);
Result<Message> decode_document(std::string_view text);

// A reply longer than one datagram (a list of many sessions) travels as several datagrams of the
// same verb on one connection, every one but the last with the field more=1; the receiver joins
// their fields in order. Descriptors ride on the first part only.
inline constexpr std::string_view kMore = "more";
// reply cut into parts that each encode within kMaxMessageBytes (one part if it fits already).
std::vector<Message> split_reply(const Message& reply);
bool has_more(const Message& part);
// Appends part's fields but "more" to reply.
void join_part(Message& reply, const Message& part);

// A reply: "ok", or "error" with errno and message.
Message ok_reply();
Message error_reply(const Error& error);
// The Error an "error" reply stands for (EBADMSG for a malformed one); success for "ok".
Status reply_status(const Message& reply);

// Decimal u64, strict (no sign, no spaces, no leading '+', at most 20 digits).
std::optional<std::uint64_t> parse_u64(std::string_view text);

// One session as the agent lists it: a value "NAME UID DIRECTION STATE FILES" of a session=
// field. Names the agent accepts contain no spaces (see is_agent_session_name).
struct SessionInfo {
    std::string name;
    std::uint32_t uid = 0;
    std::string direction;  // "outgoing" | "incoming"
    std::string state;      // outgoing: "preserved", "delegated"; incoming: "incoming",
                            // "retrieved"; either: "lost"
    std::uint64_t files = 0;

    bool operator==(const SessionInfo&) const = default;
};

// The handler of a file whose handler is not known (a registry written before HANDLER existed).
inline constexpr std::string_view kUnknownHandler = "unknown";

// One preserved file: a value "SESSION TOKEN SIZE STATE HANDLER" of a file= field. HANDLER was
// added within version 1: a value without it decodes with handler kUnknownHandler, so that a
// registry an older agent preserved still reads.
struct FileInfo {
    std::string session;
    std::uint64_t token = 0;
    std::uint64_t size = 0;
    std::string state;  // "preserved", "incoming", "retrieved"
    // The kind of file, which names the kernel handler that preserves it ("memfd"); a word
    // without spaces. See handler_of_link in the agent for how it is known.
    std::string handler = std::string(kUnknownHandler);

    bool operator==(const FileInfo&) const = default;
};

std::string encode_session(const SessionInfo& info);
Result<SessionInfo> decode_session(std::string_view value);
std::string encode_file(const FileInfo& info);
Result<FileInfo> decode_file(std::string_view value);

// The session names the agent accepts: 1 to 63 bytes of [A-Za-z0-9._:@+-], not starting with
// "luoctl." (the agent's own sessions). Narrower than the kernel's rule so that names can be
// listed, logged and stored in the agent's registry without quoting.
constexpr bool is_agent_session_name(std::string_view name) {
    if (name.empty() || name.size() > 63 || name.starts_with("luoctl.")) {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
                        c == '@' || c == '+' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static_assert(is_agent_session_name("vm-42.ram") && !is_agent_session_name("a b") &&
              !is_agent_session_name("luoctl.agent") && !is_agent_session_name("") &&
              !is_agent_session_name(std::string_view(
                  "0123456789012345678901234567890123456789012345678901234567890123")));

}  // namespace lu::protocol
