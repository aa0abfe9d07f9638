// SPDX-License-Identifier: GPL-2.0
// The one object that owns all live-update state of this kernel: what came
// in from the previous kernel and the handover being built for the next one.
// Created in module_init, destroyed in module_exit; nothing else is global.
#pragma once

#include "incoming_handover.hpp"
#include "lu/own.hpp"
#include "lu/result.hpp"
#include "preserved_block.hpp"

namespace lu {

// Invariants: root_ holds a valid Open or Sealed record for generation_ and
// is published in the outgoing KHO tree for the object's whole lifetime.
class Orchestrator {
public:
    static Result<Own<Orchestrator>> create();
    ~Orchestrator();
    Orchestrator(const Orchestrator&) = delete;
    Orchestrator& operator=(const Orchestrator&) = delete;

    u64 generation() const { return generation_; }
    const IncomingHandover& incoming() const { return incoming_; }

    // Final rewrite of the root record on the way to kexec.
    void seal();

private:
    Orchestrator(const IncomingHandover& incoming, PreservedBlock root);
    void write_root(HandoverState state, u32 failure);

    IncomingHandover incoming_;
    u64 generation_;
    PreservedBlock root_;
};

}  // namespace lu
