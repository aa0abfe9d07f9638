// SPDX-License-Identifier: GPL-2.0
#include "session.hpp"

#include "lu/errno.hpp"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

Result<Own<Session>> Session::create_outgoing(const SessionName& name, RecordSlot dir_slot) {
    Mutex lock = LU_TRY(Mutex::create(LU_LOCK_SESSION));
    Own<Session> session(new Session(name, false, move(lock), dir_slot));
    if (!session)
        return err(errc::kNoMem);
    ByteSpan record(dir_slot.payload, SessionRecord::kSize);
    for (usize i = 0; i < name.length(); i++)
        record[SessionRecord::kNameOffset + i] = static_cast<u8>(name.c_str()[i]);
    return session;
}

Result<Own<Session>> Session::create_incoming(const SessionName& name) {
    Mutex lock = LU_TRY(Mutex::create(LU_LOCK_SESSION));
    Own<Session> session(new Session(name, true, move(lock), RecordSlot{}));
    if (!session)
        return err(errc::kNoMem);
    return session;
}

Session::Session(const SessionName& name, bool incoming, Mutex lock, RecordSlot dir_slot)
    : name_(name),
      incoming_(incoming),
      lock_(move(lock)),
      file_chain_(ChainKind::Files, FileRecord::kSize),
      dir_slot_(dir_slot) {}

Session::~Session() { LU_ASSERT(files_.is_empty()); }

usize Session::file_count() {
    Guard guard(lock_);
    return files_.size();
}

usize Session::metadata_bytes() {
    Guard guard(lock_);
    return file_chain_.bytes();
}

PreservedFile* Session::find(u64 token) {
    for (PreservedFile& file : files_)
        if (file.token == token)
            return &file;
    return nullptr;
}

Status Session::preserve(int fd, u64 token, HandlerRegistry& registry, FileIndex& index) {
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
    file->handler = registry.pin_handler_for(file->file);
    if (file->handler == nullptr) {
        status = err(errc::kNoEnt);
        goto put_file;
    }
    file->id = lu_handler_file_id(file->handler, file->file);
    status = index.claim(file->id);
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
    {
        lu_handler_call call = file->call();
        int rc = lu_handler_preserve(&call);
        if (rc < 0) {
            status = Error::from_errno(-rc);
            goto release_slot;
        }
        file->data = call.data;
        file->priv = call.priv;
    }

    // Commit: nothing below can fail.
    file->write_record();
    wire::store<u64>(ByteSpan(dir_slot_.payload, SessionRecord::kSize),
                     SessionRecord::kFilesHeadOffset, file_chain_.head_phys());
    files_.push_back(*file.release());
    return ok();

release_slot:
    file_chain_.release(file->slot);
drop_token:
    tokens_.erase(token);
release_id:
    index.release(file->id);
unpin:
    lu_handler_unpin(file->handler);
put_file:
    lu_file_put(file->file);
    return status;
}

void Session::drop(PreservedFile* file, FileIndex* index) {
    files_.remove(*file);
    tokens_.erase(file->token);
    if (file->file != nullptr) {
        if (index != nullptr)
            index->release(file->id);
        lu_file_put(file->file);
    }
    if (file->slot)
        file_chain_.release(file->slot);
    lu_handler_unpin(file->handler);
    delete file;
}

void Session::unpreserve_all(FileIndex& index) {
    Guard guard(lock_);
    while (PreservedFile* file = files_.last()) {
        lu_handler_call call = file->call();
        lu_handler_unpreserve(&call);
        drop(file, &index);
    }
}

Session::FreezeResult Session::freeze() {
    Guard guard(lock_);
    frozen_ = true;
    for (PreservedFile& file : files_) {
        lu_handler_call call = file.call();
        int rc = lu_handler_freeze(&call);
        if (rc < 0) {
            FreezeResult result{Error::from_errno(-rc), file.token};
            frozen_ = false;
            files_.for_each_reverse([](PreservedFile& undo) {
                if (!undo.frozen)
                    return;
                lu_handler_call undo_call = undo.call();
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
    files_.for_each_reverse([](PreservedFile& file) {
        if (!file.frozen)
            return;
        lu_handler_call call = file.call();
        lu_handler_unfreeze(&call);
        file.frozen = false;
    });
    frozen_ = false;
}

void Session::seal_records() {
    Guard guard(lock_);
    file_chain_.seal();
}

Status Session::add_incoming(u64 token, u64 data, lu_handler* handler) {
    Guard guard(lock_);
    LU_TRY(tokens_.insert(token));
    Own<PreservedFile> file(new PreservedFile);
    if (!file) {
        tokens_.erase(token);
        return err(errc::kNoMem);
    }
    if (!lu_handler_pin(handler)) {
        tokens_.erase(token);
        return err(errc::kNoEnt);
    }
    file->token = token;
    file->data = data;
    file->handler = handler;
    files_.push_back(*file.release());
    return ok();
}

Result<lu_file*> Session::retrieve(u64 token, FileIndex& index) {
    Guard guard(lock_);
    PreservedFile* file = find(token);
    if (file == nullptr)
        return err(errc::kNoEnt);
    if (file->retrieve_status < 0)
        return Error::from_errno(-file->retrieve_status);
    if (file->retrieve_status > 0) {
        lu_file_ref(file->file);
        return file->file;
    }

    lu_handler_call call = file->call();
    int rc = lu_handler_retrieve(&call);
    if (rc < 0) {
        file->retrieve_status = rc;
        return Error::from_errno(-rc);
    }
    file->file = call.file;
    file->priv = call.priv;
    file->id = lu_handler_file_id(file->handler, file->file);
    // A file the handler just created cannot be held elsewhere.
    LU_ASSERT(index.claim(file->id).is_ok());
    file->retrieve_status = 1;
    lu_file_ref(file->file);
    return file->file;
}

Status Session::finish(FileIndex& index) {
    Guard guard(lock_);
    for (PreservedFile& file : files_) {
        lu_handler_call call = file.call();
        if (!lu_handler_can_finish(&call))
            return err(errc::kBusy);
    }
    while (PreservedFile* file = files_.last()) {
        lu_handler_call call = file->call();
        lu_handler_finish(&call);
        drop(file, &index);
    }
    return ok();
}

void Session::abandon() {
    Guard guard(lock_);
    while (PreservedFile* file = files_.last())
        drop(file, nullptr);
}

}  // namespace lu
