// SPDX-License-Identifier: GPL-2.0
#include "flb_registry.hpp"

#include "handler_registry.hpp"
#include "lu/errno.hpp"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

Result<FlbRegistry> FlbRegistry::create() {
    FlbRegistry registry(LU_TRY(Mutex::create(LU_LOCK_FLB_REGISTRY)));
    // The first block now, so the root record's pointer never changes.
    RecordSlot slot = LU_TRY(registry.chain_.allocate());
    registry.chain_.release(slot);
    return registry;
}

FlbRegistry::FlbRegistry(Mutex lock)
    : lock_(move(lock)), chain_(ChainKind::Flbs, FlbRecord::kSize, EmptyChain::KeepBlocks) {}

FlbRegistry::~FlbRegistry() {
    for (usize i = 0; i < flbs_.size(); i++)
        delete flbs_[i];
}

void FlbRegistry::forget(Flb* flb) {
    for (usize i = 0; i < flbs_.size(); i++) {
        if (flbs_[i] == flb) {
            flbs_[i] = flbs_.back();
            flbs_.pop_back();
            delete flb;
            return;
        }
    }
}

Flb* FlbRegistry::find(lu_flb* handle) {
    for (usize i = 0; i < flbs_.size(); i++)
        if (flbs_[i]->handle() == handle)
            return flbs_[i];
    return nullptr;
}

Flb* FlbRegistry::find(const char* compatible) {
    for (usize i = 0; i < flbs_.size(); i++)
        if (same_compatible(flbs_[i]->compatible(), compatible))
            return flbs_[i];
    return nullptr;
}

Status FlbRegistry::link(lu_handler* handler, lu_flb* handle) {
    const char* compatible = lu_flb_compatible(handle);
    usize len = 0;
    while (len < FlbRecord::kCompatibleCapacity && compatible[len] != '\0')
        len++;
    if (len == 0 || len == FlbRecord::kCompatibleCapacity)
        return err(errc::kInval);

    Guard guard(lock_);
    for (usize i = 0; i < links_.size(); i++)
        if (links_[i].handler == handler && links_[i].flb->handle() == handle)
            return err(errc::kExist);
    Flb* flb = find(handle);
    if (flb == nullptr && find(compatible) != nullptr)
        return err(errc::kExist);
    LU_TRY(links_.reserve_more(1));
    if (flb == nullptr) {
        LU_TRY(flbs_.reserve_more(1));
        flb = new Flb(handle);
        if (flb == nullptr)
            return err(errc::kNoMem);
        LU_ASSERT(flbs_.try_append(flb).is_ok());  // reserved above
    }
    LU_ASSERT(links_.try_append(Link{handler, flb}).is_ok());  // reserved above
    flb->users++;
    load_incoming(*flb);  // pins its module while handed-over files need it
    return ok();
}

void FlbRegistry::remove_link(usize index) {
    Flb* flb = links_[index].flb;
    for (usize i = index; i + 1 < links_.size(); i++)
        links_[i] = links_[i + 1];
    links_.pop_back();
    if (--flb->users == 0 && !flb->busy())
        forget(flb);
}

Status FlbRegistry::unlink(lu_handler* handler, lu_flb* handle) {
    Guard guard(lock_);
    for (usize i = 0; i < links_.size(); i++) {
        if (links_[i].handler != handler || links_[i].flb->handle() != handle)
            continue;
        load_incoming(*links_[i].flb);
        if (links_[i].flb->busy())
            return err(errc::kBusy);
        remove_link(i);
        return ok();
    }
    return err(errc::kNoEnt);
}

void FlbRegistry::unlink_all(lu_handler* handler) {
    Guard guard(lock_);
    for (usize i = links_.size(); i-- > 0;)
        if (links_[i].handler == handler)
            remove_link(i);
}

Status FlbRegistry::file_preserved(lu_handler* handler) {
    Guard guard(lock_);
    for (usize i = 0; i < links_.size(); i++) {
        if (links_[i].handler != handler)
            continue;
        Status status = links_[i].flb->acquire(chain_);
        if (status.is_ok())
            continue;
        while (i-- > 0)
            if (links_[i].handler == handler)
                links_[i].flb->release(chain_);
        return status;
    }
    return ok();
}

void FlbRegistry::file_unpreserved(lu_handler* handler) {
    Guard guard(lock_);
    for (usize i = links_.size(); i-- > 0;)
        if (links_[i].handler == handler)
            links_[i].flb->release(chain_);
}

void FlbRegistry::load_incoming(Flb& flb) {
    if (flb.in_state() != Flb::InState::Absent)
        return;
    for (usize i = 0; i < incoming_.size(); i++) {
        if (same_compatible(incoming_[i].compatible, flb.compatible())) {
            flb.load(incoming_[i].data, incoming_[i].count);
            return;
        }
    }
}

void FlbRegistry::file_finished(lu_handler* handler) {
    Guard guard(lock_);
    for (usize i = links_.size(); i-- > 0;) {
        if (links_[i].handler != handler)
            continue;
        load_incoming(*links_[i].flb);
        links_[i].flb->put_incoming();
    }
}

Result<void*> FlbRegistry::get_outgoing(lu_flb* handle) {
    Guard guard(lock_);
    Flb* flb = find(handle);
    if (flb == nullptr)
        return err(errc::kNoEnt);
    return flb->get_outgoing();
}

void FlbRegistry::put_outgoing(lu_flb* handle) {
    Guard guard(lock_);
    Flb* flb = find(handle);
    if (flb != nullptr)
        flb->put_outgoing();
}

Result<void*> FlbRegistry::get_incoming(lu_flb* handle) {
    Guard guard(lock_);
    Flb* flb = find(handle);
    if (flb == nullptr)
        return err(errc::kNoEnt);
    load_incoming(*flb);
    return flb->get_incoming();
}

void FlbRegistry::put_incoming(lu_flb* handle) {
    Guard guard(lock_);
    Flb* flb = find(handle);
    if (flb != nullptr)
        flb->put_incoming();
}

Status FlbRegistry::add_incoming(ConstByteSpan record) {
    if (wire::load<u32>(record, FlbRecord::kVersionOffset) != FlbRecord::kVersion)
        return err(errc::kProtoNoSupport);
    // The reserved word after the version (flb.hpp's layout) is zero.
    if (wire::load<u32>(record, FlbRecord::kVersionOffset + 4) != 0)
        return err(errc::kBadMsg);
    Incoming in;
    for (usize i = 0; i < FlbRecord::kCompatibleCapacity; i++)
        in.compatible[i] = static_cast<char>(record[FlbRecord::kCompatibleOffset + i]);
    if (in.compatible[0] == '\0' || in.compatible[FlbRecord::kCompatibleCapacity - 1] != '\0')
        return err(errc::kBadMsg);
    in.data = wire::load<u64>(record, FlbRecord::kDataOffset);
    in.count = wire::load<u64>(record, FlbRecord::kCountOffset);
    if (in.count == 0)
        return err(errc::kBadMsg);
    Guard guard(lock_);
    for (usize i = 0; i < incoming_.size(); i++)
        if (same_compatible(incoming_[i].compatible, in.compatible))
            return err(errc::kExist);
    LU_TRY(incoming_.try_append(in));
    if (Flb* flb = find(in.compatible))
        load_incoming(*flb);  // registered before the sessions were read
    return ok();
}

void FlbRegistry::seal() {
    Guard guard(lock_);
    chain_.seal();
}

}  // namespace lu
