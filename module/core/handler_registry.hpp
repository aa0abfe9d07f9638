// SPDX-License-Identifier: GPL-2.0
// The file handlers registered with the module, found by file (at
// PRESERVE_FD) or by compatible string (when the next kernel reads a
// handover).
#pragma once

#include "lu/mutex.hpp"
#include "lu/result.hpp"
#include "lu/vector.hpp"
#include "lu_glue.h"

namespace lu {

// Invariants: handlers_ holds distinct handlers with distinct, valid
// compatible strings; lock_ is innermost (taken under session locks).
class HandlerRegistry {
public:
    static constexpr usize kCompatibleCapacity = 48;

    static Result<HandlerRegistry> create();
    HandlerRegistry() = default;
    HandlerRegistry(HandlerRegistry&&) = default;

    // EINVAL for an empty or unterminated compatible, EEXIST for a taken one.
    Status add(lu_handler* handler);
    // ENOENT when not registered.
    Status remove(lu_handler* handler);

    // The first handler that accepts `file`, pinned; nullptr if none.
    lu_handler* pin_handler_for(lu_file* file);
    // The handler registered under `compatible`, or nullptr.
    lu_handler* find(const char* compatible);

private:
    explicit HandlerRegistry(Mutex lock) : lock_(move(lock)) {}

    Mutex lock_;
    Vector<lu_handler*> handlers_;
};

bool same_compatible(const char* a, const char* b);

}  // namespace lu
