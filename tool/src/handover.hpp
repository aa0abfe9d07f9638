// The module's handover attribute (/sys/class/misc/liveupdate/handover): what became of the state
// the previous kernel handed over.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace lu::luoctl {

enum class HandoverOutcome {
    kNone,      // cold boot: no previous kernel handed anything over
    kAccepted,  // the previous kernel's handover was valid and taken over
    kRejected,  // the previous kernel's handover was invalid and refused
    kFailed,    // taking over a valid handover went wrong
};

// Invariants: reason is non-empty exactly when outcome is kRejected or kFailed.
struct Handover {
    HandoverOutcome outcome;
    std::string reason;
};

// Parses the attribute's one line: "none", "accepted", "rejected REASON..." or "failed REASON...".
// Anything else means luoctl and the module disagree on the format: EPROTO.
Result<Handover> parse_handover(std::string_view line);

// The attribute's word for outcome: "none", "accepted", "rejected" or "failed".
std::string_view outcome_name(HandoverOutcome outcome);

}  // namespace lu::luoctl
