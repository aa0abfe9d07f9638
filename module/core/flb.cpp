// SPDX-License-Identifier: GPL-2.0
#include "flb.hpp"

#include "lu/errno.hpp"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

bool Flb::busy() const {
    // Incoming, it is busy until the last of the previous kernel's files
    // that use it has finished: unlinked sooner, nobody would finish it.
    return preserved() || (in_state_ == InState::Loaded && (retrieve_status_ > 0 || in_count_ > 0));
}

void Flb::write_record() {
    ByteSpan record(slot_.payload, FlbRecord::kSize);
    wire::store<u32>(record, FlbRecord::kVersionOffset, FlbRecord::kVersion);
    wire::store<u64>(record, FlbRecord::kDataOffset, out_data_);
    wire::store<u64>(record, FlbRecord::kCountOffset, out_files_);
    const char* name = compatible();
    for (usize i = 0; i < FlbRecord::kCompatibleCapacity; i++) {
        record[FlbRecord::kCompatibleOffset + i] = static_cast<u8>(name[i]);
        if (name[i] == '\0')
            break;
    }
}

Status Flb::acquire(RecordChain& chain) {
    if (preserved()) {
        if (!slot_)
            slot_ = LU_TRY(chain.allocate());  // only references kept it
        out_files_++;
        write_record();
        return ok();
    }
    // First use: everything that can fail before the FLB's preserve op.
    RecordSlot slot = LU_TRY(chain.allocate());
    if (!lu_flb_pin(handle_)) {
        chain.release(slot);
        return err(errc::kNoDev);
    }
    lu_flb_call call{handle_, 0, nullptr};
    int rc = lu_flb_preserve(&call);
    if (rc < 0) {
        lu_flb_unpin(handle_);
        chain.release(slot);
        return Error::from_errno(-rc);
    }
    slot_ = slot;
    out_data_ = call.data;
    out_obj_ = call.obj;
    out_files_ = 1;
    write_record();
    return ok();
}

void Flb::release(RecordChain& chain) {
    LU_ASSERT(out_files_ > 0);
    if (out_files_ == 0)
        return;
    out_files_--;
    if (out_files_ == 0) {
        // No file hands it over any more: its record leaves the chain now,
        // even if a get_outgoing() reference keeps the object alive, so
        // that the chain is never sealed with a count of zero and a later
        // put_outgoing() never writes to a sealed chain.
        chain.release(slot_);
        slot_ = RecordSlot{};
    } else {
        write_record();
    }
    unpreserve_if_unused();
}

void Flb::unpreserve_if_unused() {
    if (preserved())
        return;
    lu_flb_call call{handle_, out_data_, out_obj_};
    lu_flb_unpreserve(&call);
    lu_flb_unpin(handle_);
    out_data_ = 0;
    out_obj_ = nullptr;
}

Result<void*> Flb::get_outgoing() {
    if (!preserved())
        return err(errc::kNoEnt);
    out_refs_++;
    return out_obj_;
}

void Flb::put_outgoing() {
    if (out_refs_ == 0)
        return;
    out_refs_--;
    unpreserve_if_unused();
}

void Flb::load(u64 data, u64 count) {
    if (in_state_ != InState::Absent)
        return;
    // Files of the previous kernel need it until they finish, and the
    // FLB's unregister cannot refuse an unload: its module stays pinned
    // until then, retrieved or not.
    if (!lu_flb_pin(handle_))
        return;
    in_state_ = InState::Loaded;
    in_data_ = data;
    in_count_ = count;
}

Status Flb::retrieve() {
    if (retrieve_status_ < 0)
        return Error::from_errno(-retrieve_status_);
    if (retrieve_status_ > 0)
        return ok();
    if (!lu_flb_pin(handle_))
        return err(errc::kNoDev);
    lu_flb_call call{handle_, in_data_, nullptr};
    int rc = lu_flb_retrieve(&call);
    if (rc < 0) {
        lu_flb_unpin(handle_);
        retrieve_status_ = rc;
        return Error::from_errno(-rc);
    }
    in_obj_ = call.obj;
    retrieve_status_ = 1;
    return ok();
}

Result<void*> Flb::get_incoming() {
    if (in_state_ != InState::Loaded)
        return err(errc::kNoData);
    LU_TRY(retrieve());
    in_count_++;
    return in_obj_;
}

void Flb::put_incoming() {
    if (in_state_ != InState::Loaded || in_count_ == 0)
        return;
    if (--in_count_ > 0)
        return;
    // The last user is done: finish, retrieving first if nobody asked for
    // the object (its handler still has to release what the handle holds).
    if (!retrieve().is_ok()) {
        lu_log(LU_LOG_WARN, "FLB %s: retrieve failed; cannot finish it", compatible());
        in_state_ = InState::Finished;
        lu_flb_unpin(handle_);  // load()'s
        return;
    }
    lu_flb_call call{handle_, in_data_, in_obj_};
    lu_flb_finish(&call);
    lu_flb_unpin(handle_);  // retrieve()'s
    lu_flb_unpin(handle_);  // load()'s
    in_obj_ = nullptr;
    in_data_ = 0;
    in_state_ = InState::Finished;
}

}  // namespace lu
