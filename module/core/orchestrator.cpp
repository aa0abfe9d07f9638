// SPDX-License-Identifier: GPL-2.0
#include "orchestrator.hpp"

#include "lu/errno.hpp"
#include "lu_glue.h"

#include "lu/enforce.h"

namespace lu {

Result<Own<Orchestrator>> Orchestrator::create() {
    IncomingHandover incoming = IncomingHandover::adopt();
    PreservedBlock root = LU_TRY(PreservedBlock::create(HandoverHeaderCodec::kSize));

    Own<Orchestrator> self(new Orchestrator(incoming, move(root)));
    if (!self)
        return err(errc::kNoMem);
    self->write_root(HandoverState::Open, 0);

    int rc = lu_kho_publish(self->root_.data(), self->root_.size());
    if (rc < 0) {
        lu_log(LU_LOG_ERR, "cannot publish the handover subtree (errno %d)", -rc);
        return Error::from_errno(-rc);
    }
    return self;
}

Orchestrator::Orchestrator(const IncomingHandover& incoming, PreservedBlock root)
    : incoming_(incoming),
      generation_(incoming.kind == IncomingKind::Accepted || incoming.kind == IncomingKind::Failed
                      ? incoming.generation + 1
                      : 1),
      root_(move(root)) {}

Orchestrator::~Orchestrator() {
    lu_kho_unpublish(root_.data());
}

void Orchestrator::seal() {
    write_root(HandoverState::Sealed, 0);
}

void Orchestrator::write_root(HandoverState state, u32 failure) {
    HandoverHeader header;
    header.generation = generation_;
    header.state = state;
    header.failure = failure;
    HandoverHeaderCodec::encode(header, root_.bytes());
}

}  // namespace lu
