// SPDX-License-Identifier: GPL-2.0
#include "session.hpp"

#include "lu/errno.hpp"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

Result<Own<Session>> Session::create_outgoing(const SessionName& name, RecordSlot dir_slot,
                                              const SessionContext& context) {
    Mutex lock = LU_TRY(Mutex::create(LU_LOCK_SESSION));
    Own<Session> session(new Session(name, false, move(lock), dir_slot, context));
    if (!session)
        return err(errc::kNoMem);
    ByteSpan record(dir_slot.payload, SessionRecord::kSize);
    for (usize i = 0; i < name.length(); i++)
        record[SessionRecord::kNameOffset + i] = static_cast<u8>(name.c_str()[i]);
    return session;
}

Result<Own<Session>> Session::create_incoming(const SessionName& name,
                                              const SessionContext& context) {
    Mutex lock = LU_TRY(Mutex::create(LU_LOCK_SESSION));
    Own<Session> session(new Session(name, true, move(lock), RecordSlot{}, context));
    if (!session)
        return err(errc::kNoMem);
    return session;
}

Session::Session(const SessionName& name, bool incoming, Mutex lock, RecordSlot dir_slot,
                 const SessionContext& context)
    : name_(name),
      incoming_(incoming),
      context_(context),
      lock_(move(lock)),
      file_chain_(ChainKind::Files, FileRecord::kSize),
      deps_chain_(ChainKind::Dependencies, DependencyRecord::kSize),
      dir_slot_(dir_slot) {}

Session::~Session() { LU_ASSERT(files_.is_empty()); }

usize Session::file_count() {
    Guard guard(lock_);
    return files_.size();
}

usize Session::metadata_bytes() {
    Guard guard(lock_);
    return file_chain_.bytes() + deps_chain_.bytes();
}

PreservedFile* Session::find(u64 token) {
    for (PreservedFile& file : files_)
        if (file.token == token)
            return &file;
    return nullptr;
}

PreservedFile* Session::find(lu_file* handle) {
    for (PreservedFile& file : files_)
        if (file.file == handle)
            return &file;
    return nullptr;
}

void Session::write_heads() {
    // The session's own record is gone once it left the handover.
    if (!dir_slot_)
        return;
    ByteSpan record(dir_slot_.payload, SessionRecord::kSize);
    wire::store<u64>(record, SessionRecord::kFilesHeadOffset, file_chain_.head_phys());
    wire::store<u64>(record, SessionRecord::kDepsHeadOffset, deps_chain_.head_phys());
}

Status Session::reserve_dependencies(PreservedFile& file) {
    for (usize i = 0; i < file.deps.size(); i++) {
        auto slot = deps_chain_.allocate();
        if (!slot.is_ok()) {
            release_dependencies(file);
            return slot.error();
        }
        file.deps[i].slot = slot.value();
    }
    return ok();
}

// Drops the file's outgoing dependencies: their records and references. The
// caller rewrites the chain heads (write_heads()) once it is done releasing.
void Session::release_dependencies(PreservedFile& file) {
    for (usize i = 0; i < file.deps.size(); i++) {
        Dependency& dep = file.deps[i];
        if (dep.slot)
            deps_chain_.release(dep.slot);
        if (dep.file != nullptr)
            lu_file_put(dep.file);
    }
    file.deps.clear();
}

Status Session::preserve(int fd, u64 token) {
    Guard guard(lock_);
    if (frozen_)
        return err(errc::kBusy);
    if (tokens_.contains(token))
        return err(errc::kExist);

    // Everything that can fail comes before the file joins the session;
    // each step is undone in reverse if a later one fails.
    Own<PreservedFile> file(new PreservedFile);
    if (!file)
        return err(errc::kNoMem);
    file->token = token;
    file->file = lu_file_get(fd);
    if (file->file == nullptr)
        return err(errc::kBadF);

    Status status = ok();
    file->handler = context_.handlers->pin_handler_for(file->file);
    if (file->handler == nullptr) {
        status = err(errc::kNoEnt);
        goto put_file;
    }
    file->id = lu_handler_file_id(file->handler, file->file);
    status = context_.index->claim(file->id);
    if (!status.is_ok())
        goto unpin;
    status = tokens_.insert(token);
    if (!status.is_ok())
        goto release_id;
    {
        auto slot = file_chain_.allocate();
        if (!slot.is_ok()) {
            status = slot.error();
            goto drop_token;
        }
        file->slot = slot.value();
    }
    // The FLBs first, so that the handler's preserve finds them preserved.
    status = context_.flbs->file_preserved(file->handler);
    if (!status.is_ok())
        goto release_slot;
    {
        lu_handler_call call = file->call(handle());
        call.pending = file.get();
        int rc = lu_handler_preserve(&call);
        if (rc < 0) {
            status = Error::from_errno(-rc);
            goto release_flbs;
        }
        file->data = call.data;
        file->priv = call.priv;
    }
    status = reserve_dependencies(*file);
    if (!status.is_ok())
        goto unpreserve;

    // Commit: nothing below can fail.
    file->write_record();
    write_heads();
    files_.push_back(*file.release());
    return ok();

unpreserve:
    {
        lu_handler_call call = file->call(handle());
        lu_handler_unpreserve(&call);
    }
release_flbs:
    release_dependencies(*file);
    context_.flbs->file_unpreserved(file->handler);
release_slot:
    file_chain_.release(file->slot);
    write_heads();
drop_token:
    tokens_.erase(token);
release_id:
    context_.index->release(file->id);
unpin:
    context_.handlers->unpin(file->handler);
put_file:
    lu_file_put(file->file);
    return status;
}

void Session::drop(PreservedFile* file, bool release_id) {
    files_.remove(*file);
    tokens_.erase(file->token);
    release_dependencies(*file);
    if (file->file != nullptr) {
        if (release_id)
            context_.index->release(file->id);
        lu_file_put(file->file);
    }
    if (file->slot)
        file_chain_.release(file->slot);
    write_heads();  // either chain may have given its blocks back
    context_.handlers->unpin(file->handler);
    delete file;
}

void Session::unpreserve_all() {
    Guard guard(lock_);
    unpreserve_all_locked();
}

void Session::unpreserve_all_locked() {
    while (PreservedFile* file = files_.last()) {
        lu_handler_call call = file->call(handle());
        lu_handler_unpreserve(&call);
        lu_handler* handler = file->handler;
        drop(file, true);
        context_.flbs->file_unpreserved(handler);
    }
}

Session::FreezeResult Session::freeze() {
    Guard guard(lock_);
    return freeze_locked();
}

Session::FreezeResult Session::trial_freeze() {
    Guard guard(lock_);
    FreezeResult result = freeze_locked();
    if (result.status.is_ok())
        unfreeze_locked();
    return result;
}

void Session::fail_handover(const FreezeResult& result) {
    Guard guard(lock_);
    LU_ASSERT(!result.status.is_ok());
    unpreserve_all_locked();
    frozen_ = true;  // nothing joins a session that is not handed over
    if (!dir_slot_)
        return;
    ByteSpan record(dir_slot_.payload, SessionRecord::kSize);
    wire::store<u32>(record, SessionRecord::kFailureOffset,
                     static_cast<u32>(-result.status.error().to_errno()));
    wire::store<u64>(record, SessionRecord::kFailedTokenOffset, result.failed_token);
}

Session::FreezeResult Session::freeze_locked() {
    // The dependency graph first: a file whose dependency is not in this
    // session cannot be restored whole, so the live update fails.
    for (PreservedFile& file : files_) {
        for (usize i = 0; i < file.deps.size(); i++) {
            Dependency& dep = file.deps[i];
            PreservedFile* target = find(dep.file);
            if (target == nullptr) {
                lu_log(LU_LOG_ERR, "session %s: token %llu depends on a file not preserved in it",
                       name_.c_str(), static_cast<unsigned long long>(file.token));
                return FreezeResult{err(errc::kNoLink), file.token};
            }
            dep.token = target->token;
            ByteSpan record(dep.slot.payload, DependencyRecord::kSize);
            wire::store<u64>(record, DependencyRecord::kTokenOffset, file.token);
            wire::store<u64>(record, DependencyRecord::kDepTokenOffset, dep.token);
        }
    }

    frozen_ = true;
    for (PreservedFile& file : files_) {
        lu_handler_call call = file.call(handle());
        int rc = lu_handler_freeze(&call);
        if (rc < 0) {
            FreezeResult result{Error::from_errno(-rc), file.token};
            frozen_ = false;
            files_.for_each_reverse([this](PreservedFile& undo) {
                if (!undo.frozen)
                    return;
                lu_handler_call undo_call = undo.call(handle());
                lu_handler_unfreeze(&undo_call);
                undo.frozen = false;
            });
            return result;
        }
        file.data = call.data;
        file.frozen = true;
        file.write_record();
    }
    return FreezeResult{};
}

void Session::unfreeze() {
    Guard guard(lock_);
    unfreeze_locked();
}

void Session::unfreeze_locked() {
    files_.for_each_reverse([this](PreservedFile& file) {
        if (!file.frozen)
            return;
        lu_handler_call call = file.call(handle());
        lu_handler_unfreeze(&call);
        file.frozen = false;
    });
    frozen_ = false;
}

void Session::seal_records() {
    Guard guard(lock_);
    file_chain_.seal();
    deps_chain_.seal();
}

Status Session::add_incoming(u64 token, u64 data, lu_handler* handler) {
    Guard guard(lock_);
    LU_TRY(tokens_.insert(token));
    Own<PreservedFile> file(new PreservedFile);
    if (!file) {
        tokens_.erase(token);
        return err(errc::kNoMem);
    }
    if (!context_.handlers->pin(handler)) {
        tokens_.erase(token);
        return err(errc::kNoEnt);
    }
    file->token = token;
    file->data = data;
    file->handler = handler;
    files_.push_back(*file.release());
    return ok();
}

Status Session::add_incoming_dependency(u64 token, u64 dep_token) {
    Guard guard(lock_);
    PreservedFile* file = find(token);
    if (file == nullptr || find(dep_token) == nullptr)
        return err(errc::kBadMsg);
    Dependency edge;
    edge.token = dep_token;
    return file->deps.try_append(edge);
}

Result<lu_file*> Session::retrieve_locked(PreservedFile& file) {
    if (file.retrieve_status < 0)
        return Error::from_errno(-file.retrieve_status);
    if (file.retrieve_status > 0)
        return file.file;
    if (file.retrieving)
        return err(errc::kDeadlk);

    lu_handler_call call = file.call(handle());
    file.retrieving = true;
    int rc = lu_handler_retrieve(&call);
    file.retrieving = false;
    if (rc < 0) {
        file.retrieve_status = rc;
        return Error::from_errno(-rc);
    }
    file.file = call.file;
    file.priv = call.priv;
    file.id = lu_handler_file_id(file.handler, file.file);
    // A file the handler just created cannot be held elsewhere.
    LU_ASSERT(context_.index->claim(file.id).is_ok());
    file.retrieve_status = 1;
    return file.file;
}

Result<lu_file*> Session::retrieve(u64 token) {
    Guard guard(lock_);
    PreservedFile* file = find(token);
    if (file == nullptr)
        return err(errc::kNoEnt);
    lu_file* handle = LU_TRY(retrieve_locked(*file));
    lu_file_ref(handle);
    return handle;
}

Result<u64> Session::token_of(lu_file* handle) {
    if (incoming_)
        return err(errc::kNoEnt);
    PreservedFile* file = find(handle);
    if (file == nullptr)
        return err(errc::kNoEnt);
    return file->token;
}

Result<lu_file*> Session::file_of(u64 token) {
    if (!incoming_)
        return err(errc::kNoEnt);
    PreservedFile* file = find(token);
    if (file == nullptr)
        return err(errc::kNoEnt);
    return retrieve_locked(*file);
}

Status Session::finish() {
    Guard guard(lock_);
    // Retrieval order is free, but a retrieved file is whole only with its
    // dependencies: refuse until they are retrieved too (a failed retrieve
    // is final and does not block).
    for (PreservedFile& file : files_) {
        if (file.retrieve_status <= 0)
            continue;
        for (usize i = 0; i < file.deps.size(); i++) {
            PreservedFile* dep = find(file.deps[i].token);
            if (dep != nullptr && dep->retrieve_status == 0)
                return err(errc::kBusy);
        }
    }
    for (PreservedFile& file : files_) {
        lu_handler_call call = file.call(handle());
        if (!lu_handler_can_finish(&call))
            return err(errc::kBusy);
    }
    while (PreservedFile* file = files_.last()) {
        lu_handler_call call = file->call(handle());
        lu_handler_finish(&call);
        lu_handler* handler = file->handler;
        file->deps.clear();
        drop(file, true);
        context_.flbs->file_finished(handler);
    }
    return ok();
}

void Session::abandon() {
    Guard guard(lock_);
    while (PreservedFile* file = files_.last()) {
        file->deps.clear();
        drop(file, false);
    }
}

}  // namespace lu
