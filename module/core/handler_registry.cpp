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

Status HandlerRegistry::add(lu_handler* handler) {
    const char* compatible = lu_handler_compatible(handler);
    usize len = 0;
    while (len < kCompatibleCapacity && compatible[len] != '\0')
        len++;
    if (len == 0 || len == kCompatibleCapacity)
        return err(errc::kInval);

    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (handlers_[i] == handler ||
            same_compatible(lu_handler_compatible(handlers_[i]), compatible))
            return err(errc::kExist);
    }
    return handlers_.try_append(handler);
}

Status HandlerRegistry::remove(lu_handler* handler) {
    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (handlers_[i] == handler) {
            handlers_[i] = handlers_.back();
            handlers_.pop_back();
            return ok();
        }
    }
    return err(errc::kNoEnt);
}

lu_handler* HandlerRegistry::pin_handler_for(lu_file* file) {
    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (lu_handler_can_preserve(handlers_[i], file))
            return lu_handler_pin(handlers_[i]) ? handlers_[i] : nullptr;
    }
    return nullptr;
}

lu_handler* HandlerRegistry::find(const char* compatible) {
    Guard guard(lock_);
    for (usize i = 0; i < handlers_.size(); i++) {
        if (same_compatible(lu_handler_compatible(handlers_[i]), compatible))
            return handlers_[i];
    }
    return nullptr;
}

}  // namespace lu
