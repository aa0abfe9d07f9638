#include "suggest.hpp"

#include <gtest/gtest.h>

#include <array>

namespace lu::luoctl {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
    EXPECT_EQ(edit_distance("status", "status"), 0u);
    EXPECT_EQ(edit_distance("statu", "status"), 1u);
    EXPECT_EQ(edit_distance("statuss", "status"), 1u);
    EXPECT_EQ(edit_distance("stxtus", "status"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(EditDistance, CountsASwapOfNeighboursAsTwo) {
    EXPECT_EQ(edit_distance("stauts", "status"), 2u);
}

TEST(EditDistance, IsSymmetric) {
    EXPECT_EQ(edit_distance("kitten", "sitting"), edit_distance("sitting", "kitten"));
}

constexpr std::array<std::string_view, 3> kCommands = {"status", "version", "help"};

TEST(ClosestMatch, FindsTheNearestCandidate) {
    EXPECT_EQ(closest_match("stauts", kCommands), "status");
    EXPECT_EQ(closest_match("verison", kCommands), "version");
    EXPECT_EQ(closest_match("hlep", kCommands), "help");
}

TEST(ClosestMatch, SuggestsNothingBeyondTheBound) {
    EXPECT_EQ(closest_match("preserve", kCommands), std::nullopt);
    EXPECT_EQ(closest_match("xyzzy", kCommands), std::nullopt);
}

TEST(ClosestMatch, AcceptsExactlyTheBound) {
    // Three substitutions from "version" (bound 3); two from "help" (bound 2), three is too many.
    EXPECT_EQ(closest_match("vxrxixn", kCommands), "version");
    EXPECT_EQ(closest_match("hxxp", kCommands), "help");
    EXPECT_EQ(closest_match("hxxx", kCommands), std::nullopt);
    EXPECT_EQ(closest_match("xxxx", kCommands), std::nullopt);
}

TEST(ClosestMatch, ScalesTheBoundWithTheCandidate) {
    // Three edits turn "foo" into "load": too far for a four-letter word.
    constexpr std::array<std::string_view, 2> candidates = {"load", "abort"};
    EXPECT_EQ(closest_match("foo", candidates), std::nullopt);
    EXPECT_EQ(closest_match("laod", candidates), "load");
}

TEST(ClosestMatch, PrefersTheEarlierCandidateOnATie) {
    constexpr std::array<std::string_view, 2> candidates = {"load", "lead"};
    EXPECT_EQ(closest_match("lxad", candidates), "load");
}

TEST(ClosestMatch, HandlesNoCandidates) {
    EXPECT_EQ(closest_match("status", std::span<const std::string_view>()), std::nullopt);
}

}  // namespace
}  // namespace lu::luoctl
