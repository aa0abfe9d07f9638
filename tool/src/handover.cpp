#include "handover.hpp"

#include <array>
#include <cerrno>

namespace lu::luoctl {
namespace {

constexpr std::array kOutcomes = {
    HandoverOutcome::kNone,
    HandoverOutcome::kAccepted,
    HandoverOutcome::kRejected,
    HandoverOutcome::kFailed,
};

constexpr bool has_reason(HandoverOutcome outcome) {
    return outcome == HandoverOutcome::kRejected || outcome == HandoverOutcome::kFailed;
}

Error malformed(std::string_view line) {
    return Error(EPROTO, "unrecognised handover state '" + std::string(line) + "'");
}

}  // namespace

std::string_view outcome_name(HandoverOutcome outcome) {
    switch (outcome) {
        case HandoverOutcome::kNone:
            return "none";
        case HandoverOutcome::kAccepted:
            return "accepted";
        case HandoverOutcome::kRejected:
            return "rejected";
        case HandoverOutcome::kFailed:
            return "failed";
    }
    __builtin_unreachable();  // the switch covers every outcome, and -Wswitch keeps it so
}

Result<Handover> parse_handover(std::string_view line) {
    const std::size_t space = line.find(' ');
    const std::string_view word = line.substr(0, space);
    const std::string_view reason =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    for (const HandoverOutcome outcome : kOutcomes) {
        if (word != outcome_name(outcome)) {
            continue;
        }
        // "rejected" and "failed" carry a reason; "none" and "accepted" carry nothing, not even
        // a trailing space.
        if (has_reason(outcome) ? reason.empty() : space != std::string_view::npos) {
            return malformed(line);
        }
        return Handover{.outcome = outcome, .reason = std::string(reason)};
    }
    return malformed(line);
}

}  // namespace lu::luoctl
