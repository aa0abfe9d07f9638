#include "json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

namespace lu::luoctl {
namespace {

TEST(JsonEscape, LeavesPlainTextAlone) {
    EXPECT_EQ(json_escape("status 0.1.0"), "status 0.1.0");
}

TEST(JsonEscape, EscapesQuoteAndBackslash) {
    EXPECT_EQ(json_escape(R"(a "b" \c)"), R"(a \"b\" \\c)");
}

TEST(JsonEscape, UsesShortFormsForCommonControlCharacters) {
    EXPECT_EQ(json_escape("\b\f\n\r\t"), R"(\b\f\n\r\t)");
}

TEST(JsonEscape, UsesUnicodeEscapesForOtherControlCharacters) {
    EXPECT_EQ(json_escape(std::string_view("\0", 1)), R"(\u0000)");
    EXPECT_EQ(json_escape("\x01\x1b\x1f"), R"(\u0001\u001b\u001f)");
}

TEST(JsonEscape, PassesThroughDeleteSlashAndUtf8) {
    EXPECT_EQ(json_escape("\x7f/\xc3\xa9"), "\x7f/\xc3\xa9");
    EXPECT_EQ(json_escape("\xe2\x82\xac \xf0\x9f\x90\xa7"), "\xe2\x82\xac \xf0\x9f\x90\xa7");
}

// A session name is any bytes; the JSON document must still be UTF-8.
TEST(JsonEscape, ReplacesBytesThatAreNotUtf8) {
    EXPECT_EQ(json_escape("vm\xff"), R"(vm\ufffd)");
    EXPECT_EQ(json_escape("\x80"), R"(\ufffd)");                      // a stray continuation byte
    EXPECT_EQ(json_escape("\xc3"), R"(\ufffd)");                      // truncated
    EXPECT_EQ(json_escape("\xc0\xaf"), R"(\ufffd\ufffd)");            // overlong '/'
    EXPECT_EQ(json_escape("\xed\xa0\x80"), R"(\ufffd\ufffd\ufffd)");  // a surrogate
    EXPECT_EQ(json_escape("\xf4\x90\x80\x80"), R"(\ufffd\ufffd\ufffd\ufffd)");  // > U+10FFFF
    EXPECT_EQ(json_escape("\xe2\x82"), R"(\ufffd\ufffd)");
}

std::string write(void (*body)(JsonWriter&)) {
    std::ostringstream out;
    JsonWriter json(out);
    body(json);
    EXPECT_EQ(json.depth(), 0u);
    return out.str();
}

TEST(JsonWriter, WritesEmptyObjectAndArray) {
    EXPECT_EQ(write([](JsonWriter& j) { j.begin_object().end_object(); }), "{}");
    EXPECT_EQ(write([](JsonWriter& j) { j.begin_array().end_array(); }), "[]");
}

TEST(JsonWriter, SeparatesMembersAndElementsWithCommas) {
    EXPECT_EQ(write([](JsonWriter& j) {
                  j.begin_object();
                  j.key("a").number(1);
                  j.key("b").begin_array().number(2).string("x").null().end_array();
                  j.key("c").begin_object().key("d").boolean(true).end_object();
                  j.key("e").boolean(false);
                  j.end_object();
              }),
              R"({"a":1,"b":[2,"x",null],"c":{"d":true},"e":false})");
}

TEST(JsonWriter, EscapesKeysAndStrings) {
    EXPECT_EQ(write([](JsonWriter& j) {
                  j.begin_object().key("k\"ey").string("line\nbreak\ttab").end_object();
              }),
              R"({"k\"ey":"line\nbreak\ttab"})");
}

TEST(JsonWriter, WritesIntegersOfEveryWidthAndSign) {
    EXPECT_EQ(write([](JsonWriter& j) {
                  j.begin_array();
                  j.number(-22);
                  j.number(std::numeric_limits<std::uint64_t>::max());
                  j.number(std::numeric_limits<std::int64_t>::min());
                  j.end_array();
              }),
              "[-22,18446744073709551615,-9223372036854775808]");
}

TEST(JsonWriter, TracksDepth) {
    std::ostringstream out;
    JsonWriter json(out);
    json.begin_object();
    json.key("a").begin_array();
    EXPECT_EQ(json.depth(), 2u);
    json.end_array();
    EXPECT_EQ(json.depth(), 1u);
    json.end_object();
    EXPECT_EQ(json.depth(), 0u);
}

// luoctl -j kexec reboots instead of returning: it closes its object first (it was left open).
TEST(JsonWriter, FinishClosesEveryOpenScope) {
    std::ostringstream out;
    JsonWriter json(out);
    json.begin_object().key("checks").begin_array().begin_object().key("ok").boolean(true);
    json.finish();
    EXPECT_TRUE(json.finished());
    EXPECT_EQ(json.depth(), 0u);
    EXPECT_EQ(out.str(), "{\"checks\":[{\"ok\":true}]}\n");
}

}  // namespace
}  // namespace lu::luoctl
