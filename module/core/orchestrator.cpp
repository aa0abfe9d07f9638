// SPDX-License-Identifier: GPL-2.0
#include "orchestrator.hpp"

#include "lu/errno.hpp"
#include "lu_glue.h"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

Result<Own<Orchestrator>> Orchestrator::create() {
    PreservedBlock root = LU_TRY(PreservedBlock::create(HandoverHeaderCodec::kSize));
    Own<Orchestrator> self = LU_TRY(construct(move(root)));
    self->write_root(HandoverState::Open, 0);
    // Sessions handed over and not read yet: from the load on, the module
    // (and the memfd handler's restore-ahead) own their files, so an
    // unload before the first open must not drop them (rmmod: EBUSY).
    // Only files use FLBs, so no sessions means nothing to hold.
    const HandoverHeader& header = self->incoming_.header;
    if (self->incoming_.kind == IncomingKind::Accepted &&
        header.payload_state == PayloadState::Unread && header.payload_phys != 0)
        self->hold_module(true);

    int rc = lu_kho_publish(self->root_.data(), self->root_.size());
    if (rc < 0) {
        lu_log(LU_LOG_ERR, "cannot publish the handover subtree (errno %d)", -rc);
        return Error::from_errno(-rc);
    }
    return self;
}

// Apart from create() because KASAN's redzones around every temporary
// Result would otherwise push one frame past the kernel's frame-size limit.
[[gnu::noinline]] Result<Own<Orchestrator>> Orchestrator::construct(PreservedBlock root) {
    Mutex lock = LU_TRY(Mutex::create(LU_LOCK_ORCHESTRATOR));
    HandlerRegistry registry = LU_TRY(HandlerRegistry::create());
    FileIndex index = LU_TRY(FileIndex::create());
    FlbRegistry flbs = LU_TRY(FlbRegistry::create());
    IncomingHandover incoming = IncomingHandover::adopt();

    Own<Orchestrator> self(new Orchestrator(incoming, move(root), move(lock), move(registry),
                                            move(index), move(flbs)));
    if (!self)
        return err(errc::kNoMem);
    return self;
}

Orchestrator::Orchestrator(const IncomingHandover& incoming, PreservedBlock root, Mutex lock,
                           HandlerRegistry registry, FileIndex index, FlbRegistry flbs)
    : incoming_(incoming),
      generation_(incoming.kind == IncomingKind::Accepted || incoming.kind == IncomingKind::Failed
                      ? incoming.generation + 1
                      : 1),
      root_(move(root)),
      lock_(move(lock)),
      registry_(move(registry)),
      index_(move(index)),
      flbs_(move(flbs)),
      sessions_chain_(ChainKind::Sessions, SessionRecord::kSize) {}

Orchestrator::~Orchestrator() {
    // Every outgoing session holds a file whose module reference keeps us
    // loaded, so only incoming sessions can remain: the module stays pinned
    // while there are any, except when their handover failed to load.
    LU_ASSERT(outgoing_.is_empty());
    while (Session* session = incoming_sessions_.first()) {
        incoming_sessions_.remove(*session);
        incoming_index_.remove(*session);
        session->abandon();
        delete session;
    }
    hold_module(false);  // only a failed module load gets here holding it
    lu_kho_unpublish(root_.data());
}

void Orchestrator::hold_module(bool hold) {
    if (hold == module_held_)
        return;
    module_held_ = hold;
    if (hold)
        lu_module_pin();
    else
        lu_module_unpin();
}

void Orchestrator::write_root(HandoverState state, u32 failure) {
    HandoverHeader header;
    header.generation = generation_;
    header.state = state;
    header.failure = failure;
    header.payload_phys = sessions_chain_.head_phys();
    header.payload_len = header.payload_phys ? sessions_chain_.bytes() : 0;
    header.flb_phys = flbs_.head_phys();
    HandoverHeaderCodec::encode(header, root_.bytes());
}

Status Orchestrator::open() {
    Guard guard(lock_);
    if (phase_ == IncomingPhase::Unread) {
        read_status_ = read_incoming();
        phase_ = read_status_.is_ok() ? IncomingPhase::Read : IncomingPhase::Failed;
        hold_module(!incoming_sessions_.is_empty());
    }
    return phase_ == IncomingPhase::Failed ? err(errc::kIo) : ok();
}

Status Orchestrator::read_incoming() {
    switch (incoming_.kind) {
    case IncomingKind::None:
        return ok();
    case IncomingKind::Rejected:
    case IncomingKind::Failed:
        lu_log(LU_LOG_ERR, "the previous kernel's handover is unusable; no session can be retrieved");
        return err(errc::kIo);
    case IncomingKind::Accepted:
        break;
    }
    const HandoverHeader& header = incoming_.header;
    if (header.payload_state == PayloadState::ReadFailed)
        return err(errc::kIo);
    if (header.payload_state == PayloadState::ReadOk ||
        (header.payload_phys == 0 && header.flb_phys == 0))
        return ok();

    // The sessions first (a corrupted block is refused before anything is
    // restored), then the FLBs, which only files of these sessions use.
    // Marked before anything is restored: whatever happens next, a reload
    // of the module must not restore these blocks a second time.
    ByteSpan record(incoming_.record, HandoverHeaderCodec::kSize);
    HandoverHeaderCodec::mark_consumed(record, false);
    // One read for both chains: a damaged FLB link into the sessions chain
    // must find its blocks scrubbed, not already given back.
    RecordChain::ReadScope read;
    Status status = RecordChain::consume(
        header.payload_phys, ChainKind::Sessions, SessionRecord::kSize,
        [this](ConstByteSpan session) { return read_incoming_session(session); });
    if (status.is_ok())
        status = RecordChain::consume(
            header.flb_phys, ChainKind::Flbs, FlbRecord::kSize,
            [this](ConstByteSpan flb) { return flbs_.add_incoming(flb); });
    if (!status.is_ok()) {
        lu_log(LU_LOG_ERR, "cannot read the incoming sessions (errno %d); none can be retrieved",
               -status.error().to_errno());
        while (Session* session = incoming_sessions_.first())
            destroy_incoming(session);
        return err(errc::kIo);
    }
    HandoverHeaderCodec::mark_consumed(record, true);
    lu_log(LU_LOG_INFO, "%lu incoming sessions", static_cast<unsigned long>(incoming_sessions_.size()));
    return ok();
}

Status Orchestrator::read_incoming_session(ConstByteSpan record) {
    const u8* raw_name = record.data() + SessionRecord::kNameOffset;
    auto name = SessionName::parse(raw_name);
    if (!name.is_ok())
        return name.error();
    if (incoming_index_.find(raw_name) || find_failed(raw_name))
        return err(errc::kExist);
    if (wire::load<u32>(record, SessionRecord::kReservedOffset) != 0)
        return err(errc::kBadMsg);

    const u32 failure = wire::load<u32>(record, SessionRecord::kFailureOffset);
    if (failure != 0) {
        if (failure > static_cast<u32>(errc::kMaxErrno) ||
            wire::load<u64>(record, SessionRecord::kFilesHeadOffset) != 0 ||
            wire::load<u64>(record, SessionRecord::kDepsHeadOffset) != 0)
            return err(errc::kBadMsg);
        FailedSession failed;
        failed.name = name.value();
        failed.error = failure;
        failed.token = wire::load<u64>(record, SessionRecord::kFailedTokenOffset);
        lu_log(LU_LOG_ERR,
               "session %s was not handed over: token %llu refused to freeze (errno %u)",
               failed.name.c_str(), static_cast<unsigned long long>(failed.token), failure);
        return failed_sessions_.try_append(failed);
    }

    LU_TRY(incoming_index_.reserve_one());
    Own<Session> session = LU_TRY(Session::create_incoming(name.value(), context()));
    Session* raw = session.release();
    incoming_sessions_.push_back(*raw);
    incoming_index_.insert(*raw);

    const u64 files_head = wire::load<u64>(record, SessionRecord::kFilesHeadOffset);
    const u64 deps_head = wire::load<u64>(record, SessionRecord::kDepsHeadOffset);
    LU_TRY(RecordChain::consume(
        files_head, ChainKind::Files, FileRecord::kSize, [this, raw](ConstByteSpan file) -> Status {
            char compatible[HandlerRegistry::kCompatibleCapacity];
            for (usize i = 0; i < sizeof(compatible); i++)
                compatible[i] = static_cast<char>(file[FileRecord::kCompatibleOffset + i]);
            if (compatible[sizeof(compatible) - 1] != '\0')
                return err(errc::kBadMsg);
            lu_handler* handler = registry_.find(compatible);
            if (handler == nullptr) {
                lu_log(LU_LOG_ERR, "session %s: no handler for '%s'", raw->name().c_str(),
                       compatible);
                return err(errc::kNoEnt);
            }
            return raw->add_incoming(wire::load<u64>(file, FileRecord::kTokenOffset),
                                     wire::load<u64>(file, FileRecord::kDataOffset), handler);
        }));
    return RecordChain::consume(
        deps_head, ChainKind::Dependencies, DependencyRecord::kSize,
        [raw](ConstByteSpan edge) {
            return raw->add_incoming_dependency(
                wire::load<u64>(edge, DependencyRecord::kTokenOffset),
                wire::load<u64>(edge, DependencyRecord::kDepTokenOffset));
        });
}

void Orchestrator::destroy_incoming(Session* session) {
    incoming_sessions_.remove(*session);
    incoming_index_.remove(*session);
    session->abandon();
    delete session;
}

Result<Session*> Orchestrator::create_session(const u8* raw_name) {
    SessionName name = LU_TRY(SessionName::parse(raw_name));
    Guard guard(lock_);
    if (frozen_)
        return err(errc::kBusy);
    if (outgoing_index_.find(raw_name))
        return err(errc::kExist);
    LU_TRY(outgoing_index_.reserve_one());

    RecordSlot slot = LU_TRY(sessions_chain_.allocate());
    auto session = Session::create_outgoing(name, slot, context());
    if (!session.is_ok()) {
        sessions_chain_.release(slot);
        write_root(HandoverState::Open, 0);
        return session.error();
    }
    Session* raw = session.value().release();
    outgoing_.push_back(*raw);
    outgoing_index_.insert(*raw);
    write_root(HandoverState::Open, 0);
    return raw;
}

const FailedSession* Orchestrator::find_failed(const u8* raw_name) const {
    for (usize i = 0; i < failed_sessions_.size(); i++)
        if (failed_sessions_[i].name.matches(raw_name))
            return &failed_sessions_[i];
    return nullptr;
}

void Orchestrator::describe_incoming(TextBuffer& out) {
    incoming_.describe(out);
    Guard guard(lock_);
    for (usize i = 0; i < failed_sessions_.size(); i++) {
        const FailedSession& failed = failed_sessions_[i];
        out.append(i == 0 ? "; not handed over: " : ", ")
            .append(failed.name.c_str())
            .append(" (token ")
            .append(failed.token)
            .append(" errno ")
            .append(u64{failed.error})
            .append(")");
    }
}

Result<Session*> Orchestrator::retrieve_session(const u8* raw_name) {
    Guard guard(lock_);
    Session* session = incoming_index_.find(raw_name);
    if (session == nullptr)
        return err(find_failed(raw_name) ? errc::kIo : errc::kNoEnt);
    if (session->retrieved())
        return err(errc::kInval);
    session->mark_retrieved();
    return session;
}

void Orchestrator::unretrieve_session(Session* session) {
    Guard guard(lock_);
    session->mark_retrieved(false);
}

void Orchestrator::release_session(Session* session) {
    if (session->is_incoming()) {
        // As upstream: closing a retrieved session finishes it; if its files
        // refuse, it stays (unreachable) until the next live update.
        Status status = session->finish();
        Guard guard(lock_);
        if (!status.is_ok()) {
            lu_log(LU_LOG_WARN, "session %s: cannot finish on close (errno %d)",
                   session->name().c_str(), -status.error().to_errno());
            return;
        }
        destroy_incoming(session);
        if (incoming_sessions_.is_empty())
            hold_module(false);
        return;
    }

    Guard guard(lock_);
    // Sealed for the kexec already: the session must go as it is.
    if (frozen_)
        return;
    outgoing_.remove(*session);
    outgoing_index_.remove(*session);
    sessions_chain_.release(session->leave_handover());
    write_root(HandoverState::Open, 0);
    // Still under the lock: unpreserving changes the FLB chain, which a
    // concurrent seal() must not have sealed yet.
    session->unpreserve_all();
    delete session;
}

Status Orchestrator::preserve(Session* session, int fd, u64 token) {
    return session->preserve(fd, token);
}

Result<lu_file*> Orchestrator::retrieve_file(Session* session, u64 token) {
    return session->retrieve(token);
}

Status Orchestrator::finish(Session* session) { return session->finish(); }

Status Orchestrator::unregister_handler(lu_handler* handler) {
    LU_TRY(registry_.remove(handler));
    flbs_.unlink_all(handler);
    return ok();
}

Status Orchestrator::register_flb(lu_handler* handler, lu_flb* flb) {
    // The handler's module registers and unregisters both from its own
    // init/exit, never concurrently with each other.
    if (!registry_.contains(handler))
        return err(errc::kInval);
    return flbs_.link(handler, flb);
}

HandoverStatus Orchestrator::status() {
    HandoverStatus status;
    Guard guard(lock_);
    status.generation = generation_;
    status.outgoing_sessions = outgoing_.size();
    status.incoming_sessions = incoming_sessions_.size();
    status.metadata_bytes =
        HandoverHeaderCodec::kSize + sessions_chain_.bytes() + flbs_.bytes();
    for (Session& session : outgoing_) {
        status.outgoing_files += session.file_count();
        status.metadata_bytes += session.metadata_bytes();
    }
    for (Session& session : incoming_sessions_)
        status.incoming_files += session.file_count();
    if (frozen_) {
        status.first_error = err(errc::kBusy);
        return status;
    }

    for (Session& session : outgoing_) {
        Session::FreezeResult trial = session.trial_freeze();
        if (!trial.status.is_ok()) {
            status.first_error = trial.status;
            status.failed_token = trial.failed_token;
            status.failed_session = session.name();
            break;
        }
    }
    return status;
}

void Orchestrator::seal() {
    Guard guard(lock_);
    if (frozen_)
        return;
    frozen_ = true;
    // A file that refuses to freeze costs its own session only: the
    // others are handed over, that one is reported to the next kernel.
    for (Session& session : outgoing_) {
        Session::FreezeResult result = session.freeze();
        if (result.status.is_ok())
            continue;
        lu_log(LU_LOG_ERR,
               "session %s: token %llu refused to freeze (errno %d); the session is not "
               "handed over, the next kernel reports it",
               session.name().c_str(), static_cast<unsigned long long>(result.failed_token),
               result.status.error().to_errno() * -1);
        session.fail_handover(result);
    }
    for (Session& session : outgoing_)
        session.seal_records();
    sessions_chain_.seal();
    flbs_.seal();
    write_root(HandoverState::Sealed, 0);
}

}  // namespace lu
