// The agent protocol (lib/protocol.hpp): round trips, and every way a datagram can be malformed.
#include "protocol.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace lu::protocol {
namespace {

int decode_errno(std::string_view datagram) {
    const Result<Message> message = decode(datagram);
    return message.ok() ? 0 : message.error().errnum();
}

TEST(Protocol, EncodesTheDocumentedFormat) {
    Message message(kPreserve);
    message.add("session", "vm-1").add("token", std::uint64_t{7});
    const Result<std::string> datagram = encode(message);
    ASSERT_TRUE(datagram.ok());
    EXPECT_EQ(datagram.value(), "luoctl/1 preserve\nsession=vm-1\ntoken=7\n");
}

TEST(Protocol, RoundTripsRepeatedKeysAndOddValues) {
    Message message(kList);
    message.add("session", "a 0 outgoing preserved 1").add("session", "b=c d");
    message.add("empty", "");
    const Result<Message> back = decode(encode(message).value());
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(back.value(), message);
    EXPECT_EQ(back.value().get_all("session").size(), 2u);
    EXPECT_EQ(back.value().get("session"), "a 0 outgoing preserved 1");
    EXPECT_EQ(back.value().get("empty"), "");
    EXPECT_FALSE(back.value().get("missing").has_value());
}

TEST(Protocol, RejectsMalformedDatagrams) {
    EXPECT_EQ(decode_errno(""), EBADMSG);
    EXPECT_EQ(decode_errno("luoctl/1 ok"), EBADMSG);               // no final newline
    EXPECT_EQ(decode_errno("luoctl/1\n"), EBADMSG);                // no verb
    EXPECT_EQ(decode_errno("luoctl/x ok\n"), EBADMSG);             // no version number
    EXPECT_EQ(decode_errno("luoctl/ ok\n"), EBADMSG);
    EXPECT_EQ(decode_errno("lu/1 ok\n"), EBADMSG);                 // wrong magic
    EXPECT_EQ(decode_errno("luoctl/1 Ok\n"), EBADMSG);             // verb charset
    EXPECT_EQ(decode_errno("luoctl/1 ok\nnoequals\n"), EBADMSG);   // field without '='
    EXPECT_EQ(decode_errno("luoctl/1 ok\n=value\n"), EBADMSG);     // empty key
    EXPECT_EQ(decode_errno("luoctl/1 ok\nKey=v\n"), EBADMSG);      // key charset
    EXPECT_EQ(decode_errno("luoctl/1 ok\n\n"), EBADMSG);           // empty line
    EXPECT_EQ(decode_errno(std::string_view("luoctl/1 ok\nk=a\0b\n", 17)), EBADMSG);
    EXPECT_EQ(decode_errno(std::string(kMaxMessageBytes + 1, 'a')), EBADMSG);
}

TEST(Protocol, TellsAnotherVersionApart) {
    const Result<Message> message = decode("luoctl/2 ok\n");
    ASSERT_FALSE(message.ok());
    EXPECT_EQ(message.error().errnum(), EPROTONOSUPPORT);
    EXPECT_EQ(message.error().message(),
              "agent protocol version 2 is not supported (this luoctl speaks version 1)");
}

TEST(Protocol, RefusesToEncodeTooLongAMessage) {
    Message message(kList);
    message.add("x", std::string(kMaxMessageBytes, 'a'));
    const Result<std::string> datagram = encode(message);
    ASSERT_FALSE(datagram.ok());
    EXPECT_EQ(datagram.error().errnum(), E2BIG);
}

TEST(Protocol, RequiresFieldsAndNumbers) {
    const Message message = decode("luoctl/1 retrieve\ntoken=12x\nsize=18446744073709551615\n").value();
    EXPECT_EQ(message.require("session").error().errnum(), EBADMSG);
    EXPECT_EQ(message.require("session").error().message(),
              "malformed agent message: 'retrieve' lacks the field 'session'");
    EXPECT_EQ(message.require_u64("token").error().errnum(), EBADMSG);
    EXPECT_EQ(message.require_u64("size").value(), UINT64_MAX);
}

TEST(Protocol, ParsesOnlyPlainDecimals) {
    EXPECT_EQ(parse_u64("0"), 0u);
    EXPECT_EQ(parse_u64("42"), 42u);
    EXPECT_FALSE(parse_u64("").has_value());
    EXPECT_FALSE(parse_u64("-1").has_value());
    EXPECT_FALSE(parse_u64("+1").has_value());
    EXPECT_FALSE(parse_u64(" 1").has_value());
    EXPECT_FALSE(parse_u64("0x10").has_value());
    EXPECT_FALSE(parse_u64("18446744073709551616").has_value());
}

TEST(Protocol, CarriesErrorsInReplies) {
    const Message reply = error_reply(Error(ENOENT, "no session 'x'\nsecond line"));
    const Message back = decode(encode(reply).value()).value();
    const Status status = reply_status(back);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().errnum(), ENOENT);
    EXPECT_EQ(status.error().message(), "no session 'x' second line");
    EXPECT_TRUE(reply_status(ok_reply()).ok());
}

TEST(Protocol, RejectsMalformedReplies) {
    EXPECT_EQ(reply_status(Message("what")).error().errnum(), EBADMSG);
    EXPECT_EQ(reply_status(decode("luoctl/1 error\nmessage=x\n").value()).error().errnum(),
              EBADMSG);
    EXPECT_EQ(reply_status(decode("luoctl/1 error\nerrno=0\nmessage=x\n").value())
                  .error()
                  .errnum(),
              EBADMSG);
    EXPECT_EQ(reply_status(decode("luoctl/1 error\nerrno=5000\nmessage=x\n").value())
                  .error()
                  .errnum(),
              EBADMSG);
}

TEST(Protocol, RoundTripsSessionAndFileEntries) {
    const SessionInfo session{.name = "vm-1", .uid = 1000, .direction = "incoming",
                              .state = "retrieved", .files = 3};
    EXPECT_EQ(encode_session(session), "vm-1 1000 incoming retrieved 3");
    EXPECT_EQ(decode_session(encode_session(session)).value(), session);
    const FileInfo file{
        .session = "vm-1", .token = 9, .size = 4096, .state = "preserved", .handler = "memfd"};
    EXPECT_EQ(encode_file(file), "vm-1 9 4096 preserved memfd");
    EXPECT_EQ(decode_file(encode_file(file)).value(), file);
}

TEST(Protocol, ReadsFileEntriesWrittenBeforeTheHandlerField) {
    const Result<FileInfo> file = decode_file("vm-1 9 4096 preserved");
    ASSERT_TRUE(file.ok()) << file.error().message();
    EXPECT_EQ(file.value().handler, "unknown");
    EXPECT_EQ(file.value().size, 4096u);
}

TEST(Protocol, RejectsMalformedEntries) {
    EXPECT_EQ(decode_session("vm-1 0 outgoing preserved").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_session("vm-1 x outgoing preserved 1").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_session("vm-1 4294967296 outgoing preserved 1").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_session(" 0 outgoing preserved 1").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_session("vm-1 0  preserved 1").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_file("vm-1 1 2").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_file("vm-1 1 2 x y z").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_file("vm-1 1 2 x ").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_file("vm-1 -1 2 x").error().errnum(), EBADMSG);
}

TEST(Protocol, SplitsALongReplyIntoPartsThatJoinBack) {
    Message reply(kOk);
    for (int i = 0; i < 5000; ++i) {
        reply.add("session", "vm-" + std::to_string(i) + " 0 outgoing preserved 1");
    }
    const std::vector<Message> parts = split_reply(reply);
    ASSERT_GT(parts.size(), 1u);
    Message joined(kOk);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Result<std::string> datagram = encode(parts[i]);
        ASSERT_TRUE(datagram.ok()) << datagram.error().message();
        EXPECT_EQ(has_more(parts[i]), i + 1 < parts.size());
        join_part(joined, decode(datagram.value()).value());
    }
    EXPECT_EQ(joined, reply);
    // What fits stays one part, without "more".
    const std::vector<Message> one = split_reply(Message(kOk).add("x", "y"));
    ASSERT_EQ(one.size(), 1u);
    EXPECT_FALSE(has_more(one[0]));
}

TEST(Protocol, DocumentsHaveNoDatagramLimit) {
    Message message("registry");
    message.add("x", std::string(kMaxMessageBytes, 'a'));
    const std::string text = encode_document(message);
    EXPECT_EQ(decode_document(text).value(), message);
    EXPECT_EQ(decode(text).error().errnum(), EBADMSG);
}

}  // namespace
}  // namespace lu::protocol
