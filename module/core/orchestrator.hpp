// SPDX-License-Identifier: GPL-2.0
// The one object that owns all live-update state of this kernel: what came
// in from the previous kernel, the sessions being built for the next one,
// and the handover records that carry them. Created in module_init,
// destroyed in module_exit; nothing else is global.
//
// Locking, outermost first:
//   Orchestrator::lock_   the session lists, the sessions chain, frozen_,
//                         the incoming phase and the root record
//   Session::lock_        one session's files and file chain; held around
//                         every file op, so a handler's lookups of other
//                         files (Session::token_of/file_of) do not lock
//   FlbRegistry::lock_    FLB links and state; held around every FLB op
//   HandlerRegistry, FileIndex locks   innermost, held briefly
// A session's own lock is never held while taking the orchestrator's.
//
// The handover is kept current as the state changes: every session and
// file has its record in KHO-preserved memory from the ioctl that created
// it, so the reboot only freezes the files and seals the records (it
// allocates nothing and cannot run out of memory).
#pragma once

#include "file_index.hpp"
#include "flb_registry.hpp"
#include "handler_registry.hpp"
#include "incoming_handover.hpp"
#include "lu/mutex.hpp"
#include "lu/own.hpp"
#include "lu/result.hpp"
#include "lu/text.hpp"
#include "lu/vector.hpp"
#include "preserved_block.hpp"
#include "record_chain.hpp"
#include "session.hpp"
#include "session_index.hpp"

namespace lu {

// A session of the previous kernel that was not handed over.
struct FailedSession {
    SessionName name;
    u32 error = 0;  // positive errno of the file that refused to freeze
    u64 token = 0;
};

struct HandoverStatus {
    u64 generation = 0;
    u64 outgoing_sessions = 0;
    u64 outgoing_files = 0;
    u64 incoming_sessions = 0;
    u64 incoming_files = 0;
    u64 metadata_bytes = 0;
    Status first_error;
    u64 failed_token = 0;
    SessionName failed_session;
};

// Invariants: root_ holds a valid record for generation_ and is published
// in the outgoing KHO tree for the object's lifetime, pointing at
// sessions_chain_ (the records of exactly the sessions in outgoing_).
// outgoing_index_ and incoming_index_ hold exactly the sessions of
// outgoing_ and incoming_sessions_.
// Once frozen_, the outgoing state never changes again.
//
// A session whose files refused to freeze at the reboot is handed over
// without files: the next kernel keeps its name and reason in
// failed_sessions_, answers its RETRIEVE_SESSION with EIO and lists it in
// the handover report, while every other session is restored.
class Orchestrator {
public:
    static Result<Own<Orchestrator>> create();
    ~Orchestrator();
    Orchestrator(const Orchestrator&) = delete;
    Orchestrator& operator=(const Orchestrator&) = delete;

    u64 generation() const { return generation_; }
    const IncomingHandover& incoming() const { return incoming_; }
    // The incoming handover's state, then the sessions the previous kernel
    // could not hand over (known once the sessions are read, at the first
    // open).
    void describe_incoming(TextBuffer& out);
    HandlerRegistry& handlers() { return registry_; }
    FlbRegistry& flbs() { return flbs_; }

    // EBUSY while the handler has files; its FLB links go with it.
    Status unregister_handler(lu_handler* handler);
    // EINVAL when the handler is not registered.
    Status register_flb(lu_handler* handler, lu_flb* flb);

    // /dev/liveupdate was opened: read the incoming sessions the first time
    // (handlers of other modules may have registered by now). EIO for the
    // rest of the boot when that failed, as upstream.
    Status open();

    Result<Session*> create_session(const u8* raw_name);
    Result<Session*> retrieve_session(const u8* raw_name);
    void unretrieve_session(Session* session);
    // The session's fd was closed.
    void release_session(Session* session);

    Status preserve(Session* session, int fd, u64 token);
    Result<lu_file*> retrieve_file(Session* session, u64 token);
    Status finish(Session* session);

    // Trial freeze of everything outgoing, then undone; for MOD_STATUS.
    HandoverStatus status();

    // At the reboot: freeze every file and seal the records. Never fails:
    // a freeze failure is written as a Failed handover for the next kernel.
    void seal();

private:
    Orchestrator(const IncomingHandover& incoming, PreservedBlock root, Mutex lock,
                 HandlerRegistry registry, FileIndex index, FlbRegistry flbs);
    SessionContext context() { return SessionContext{&registry_, &flbs_, &index_}; }
    static Result<Own<Orchestrator>> construct(PreservedBlock root);
    void write_root(HandoverState state, u32 failure);
    Status read_incoming();
    Status read_incoming_session(ConstByteSpan record);
    void destroy_incoming(Session* session);
    // Keeps the module loaded while it owns incoming files (see create()).
    void hold_module(bool hold);
    const FailedSession* find_failed(const u8* raw_name) const;

    IncomingHandover incoming_;
    u64 generation_;
    PreservedBlock root_;
    Mutex lock_;
    HandlerRegistry registry_;
    FileIndex index_;
    FlbRegistry flbs_;
    RecordChain sessions_chain_;
    SessionList outgoing_;
    SessionList incoming_sessions_;
    // The same sessions by name.
    SessionIndex outgoing_index_;
    SessionIndex incoming_index_;
    Vector<FailedSession> failed_sessions_;
    bool frozen_ = false;
    bool module_held_ = false;
    enum class IncomingPhase { Unread, Read, Failed } phase_ = IncomingPhase::Unread;
    Status read_status_;
};

}  // namespace lu
