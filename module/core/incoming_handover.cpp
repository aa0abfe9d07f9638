// SPDX-License-Identifier: GPL-2.0
#include "incoming_handover.hpp"

#include "lu/errno.hpp"
#include "lu_glue.h"

#include "lu/enforce.h"

namespace lu {

namespace {

IncomingHandover rejected(u32 reason) {
    IncomingHandover incoming;
    incoming.kind = IncomingKind::Rejected;
    incoming.reason = reason;
    return incoming;
}

const char* rejection_text(u32 reason) {
    switch (reason) {
        case errc::kProtoNoSupport:
            return "unsupported handover version";
        case errc::kBadMsg:
            return "corrupted or foreign handover record";
        case errc::kFault:
            return "handover record is not in this kernel's memory";
        case errc::kStale:
            return "handover record was not preserved";
        default:
            return "invalid handover record";
    }
}

}  // namespace

IncomingHandover IncomingHandover::adopt() {
    u64 phys = 0;
    u64 size = 0;
    int rc = lu_kho_find_incoming(&phys, &size);
    if (rc == -errc::kNoEnt)
        return IncomingHandover{};
    if (rc < 0)
        return rejected(static_cast<u32>(-rc));
    if (size < HandoverHeaderCodec::kSize || size > (1u << 20))
        return rejected(errc::kBadMsg);

    // Boundary: the record is the previous kernel's memory, read in place
    // and validated before anything in it is trusted or restored.
    const void* peeked = lu_kho_peek(phys, size);
    if (peeked == nullptr)
        return rejected(errc::kFault);
    auto decoded = HandoverHeaderCodec::decode(ConstByteSpan(static_cast<const u8*>(peeked), size));
    if (!decoded.is_ok())
        return rejected(static_cast<u32>(-decoded.error().to_errno()));

    IncomingHandover incoming;
    incoming.header = decoded.release_value();
    incoming.generation = incoming.header.generation;
    // Both marks are outside the checksum. The consumed mark is only ever
    // written after the adopted one (by this kernel); a record read for the
    // first time that claims to be consumed would silently hand over
    // nothing, and leave every block it names reserved.
    if (!incoming.header.adopted && incoming.header.payload_state != PayloadState::Unread)
        return rejected(errc::kInval);

    // A reload of the module in the same boot finds the record it already
    // restored: reading it again is safe, restoring it again is not.
    if (!incoming.header.adopted) {
        void* record = lu_kho_restore(phys);
        if (record == nullptr)
            return rejected(errc::kStale);
        HandoverHeaderCodec::mark_adopted(ByteSpan(static_cast<u8*>(record), size));
    }
    // Restored now, so writable; it stays ours for the rest of the boot.
    incoming.record = static_cast<u8*>(const_cast<void*>(peeked));

    if (incoming.header.state == HandoverState::Sealed) {
        incoming.kind = IncomingKind::Accepted;
    } else {
        incoming.kind = IncomingKind::Failed;
        incoming.reason = incoming.header.failure;
    }
    return incoming;
}

void IncomingHandover::describe(TextBuffer& out) const {
    switch (kind) {
        case IncomingKind::None:
            out.append("none");
            break;
        case IncomingKind::Accepted:
            out.append("accepted");
            break;
        case IncomingKind::Rejected:
            out.append("rejected ")
                .append(rejection_text(reason))
                .append(" (errno ")
                .append(u64{reason})
                .append(")");
            break;
        case IncomingKind::Failed:
            if (reason == 0)
                out.append("failed previous kernel did not seal its handover");
            else
                out.append("failed previous kernel could not seal its handover (errno ")
                    .append(u64{reason})
                    .append(")");
            break;
    }
}

}  // namespace lu
