// SPDX-License-Identifier: GPL-2.0
// What the previous kernel handed over, judged once at module load.
#pragma once

#include "handover_header.hpp"
#include "lu/text.hpp"

namespace lu {

enum class IncomingKind {
    None,      // cold boot, or the previous kernel did not run this module
    Accepted,  // a sealed, valid handover
    Rejected,  // the record is corrupted, foreign or of another version
    Failed,    // a valid record that the previous kernel did not seal
};

// Invariants: generation is the previous kernel's generation when kind is
// Accepted or Failed, else 0; reason is a positive errno when kind is
// Rejected, and the previous kernel's failure errno (0: unsealed) when kind
// is Failed.
struct IncomingHandover {
    IncomingKind kind = IncomingKind::None;
    u64 generation = 0;
    u32 reason = 0;
    HandoverHeader header;
    // The restored root record (Accepted or Failed), kept for the boot.
    u8* record = nullptr;

    // Finds, validates and takes ownership of our subtree in the KHO tree the
    // previous kernel passed. Never fails: a bad handover is described, not
    // an error, because the module must still come up to report it.
    static IncomingHandover adopt();

    // One line for sysfs: "none", "accepted", "rejected <why>", "failed <why>".
    void describe(TextBuffer& out) const;
};

}  // namespace lu
