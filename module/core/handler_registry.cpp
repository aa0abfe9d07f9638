// SPDX-License-Identifier: GPL-2.0
#include "handler_registry.hpp"

#include "lu/errno.hpp"

#include "lu/enforce.h"

namespace lu {

bool same_compatible(const char* a, const char* b) {
    for (usize i = 0; i < HandlerRegistry::kCompatibleCapacity; i++) {
        if (a[i] != b[i])
            return false;
        if (a[i] == '\0')
            return true;
    }
    return true;
}

Result<HandlerRegistry> HandlerRegistry::create() {
    return HandlerRegistry(LU_TRY(Mutex::create(LU_LOCK_REGISTRY)));
}

HandlerRegistry::Entry* HandlerRegistry::entry_of(lu_handler* handler) {
    for (usize i = 0; i < handlers_.size(); i++)
        if (handlers_[i].handler == handler)
            return &handlers_[i];
    return nullptr;
}

Status HandlerRegistry::add(lu_handler* handler) {
    const char* compatible = lu_handler_compatible(handler);
    usize len = 0;
    while (len < kCompatibleCapacity && compatible[len] != '\0')
        len++;
    if (len == 0 || len == kCompatibleCapacity)
        return err(errc::kInval);

    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (handlers_[i].handler == handler ||
            same_compatible(lu_handler_compatible(handlers_[i].handler), compatible))
            return err(errc::kExist);
    }
    return handlers_.try_append(Entry{handler, 0});
}

Status HandlerRegistry::remove(lu_handler* handler) {
    Guard guard(lock_);
    Entry* entry = entry_of(handler);
    if (entry == nullptr)
        return err(errc::kNoEnt);
    if (entry->files != 0)
        return err(errc::kBusy);
    *entry = handlers_.back();
    handlers_.pop_back();
    return ok();
}

bool HandlerRegistry::contains(lu_handler* handler) {
    Guard guard(lock_);
    return entry_of(handler) != nullptr;
}

lu_handler* HandlerRegistry::pin_handler_for(lu_file* file) {
    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (!lu_handler_can_preserve(handlers_[i].handler, file))
            continue;
        if (!lu_handler_pin(handlers_[i].handler))
            return nullptr;
        handlers_[i].files++;
        return handlers_[i].handler;
    }
    return nullptr;
}

bool HandlerRegistry::pin(lu_handler* handler) {
    Guard guard(lock_);
    Entry* entry = entry_of(handler);
    if (entry == nullptr || !lu_handler_pin(handler))
        return false;
    entry->files++;
    return true;
}

void HandlerRegistry::unpin(lu_handler* handler) {
    Guard guard(lock_);
    Entry* entry = entry_of(handler);
    // remove() refuses a handler with files, so a pinned one is here.
    LU_ASSERT(entry != nullptr && entry->files > 0);
    // After that report, a count that wrapped would keep the handler busy
    // for ever.
    if (entry != nullptr && entry->files > 0)
        entry->files--;
    lu_handler_unpin(handler);
}

lu_handler* HandlerRegistry::find(const char* compatible) {
    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (same_compatible(lu_handler_compatible(handlers_[i].handler), compatible))
            return handlers_[i].handler;
    }
    return nullptr;
}

}  // namespace lu
