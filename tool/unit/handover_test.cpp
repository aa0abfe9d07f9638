#include "handover.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace lu::luoctl {
namespace {

Handover parsed(std::string_view line) {
    Result<Handover> handover = parse_handover(line);
    if (!handover.ok()) {
        ADD_FAILURE() << handover.error().message();
        return {};
    }
    return std::move(handover).value();
}

TEST(ParseHandover, ReadsOutcomesWithoutReason) {
    EXPECT_EQ(parsed("none").outcome, HandoverOutcome::kNone);
    EXPECT_EQ(parsed("accepted").outcome, HandoverOutcome::kAccepted);
    EXPECT_EQ(parsed("accepted").reason, "");
}

TEST(ParseHandover, KeepsTheWholeReason) {
    const Handover rejected = parsed("rejected format version 3, expected 1");
    EXPECT_EQ(rejected.outcome, HandoverOutcome::kRejected);
    EXPECT_EQ(rejected.reason, "format version 3, expected 1");

    const Handover failed = parsed("failed out of memory");
    EXPECT_EQ(failed.outcome, HandoverOutcome::kFailed);
    EXPECT_EQ(failed.reason, "out of memory");
}

TEST(ParseHandover, RejectsWhatTheModuleNeverWrites) {
    for (const std::string_view line :
         {"", "rejected", "failed", "rejected ", "none ", "none at all", "accepted yes", "Accepted",
          "unknown", " none"}) {
        const Result<Handover> handover = parse_handover(line);
        ASSERT_FALSE(handover.ok()) << "'" << line << "'";
        EXPECT_EQ(handover.error().errnum(), EPROTO);
        EXPECT_EQ(handover.error().message(),
                  "unrecognised handover state '" + std::string(line) + "'");
    }
}

TEST(OutcomeName, MatchesTheAttributeWords) {
    EXPECT_EQ(outcome_name(HandoverOutcome::kNone), "none");
    EXPECT_EQ(outcome_name(HandoverOutcome::kAccepted), "accepted");
    EXPECT_EQ(outcome_name(HandoverOutcome::kRejected), "rejected");
    EXPECT_EQ(outcome_name(HandoverOutcome::kFailed), "failed");
}

}  // namespace
}  // namespace lu::luoctl
