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
// compatible strings, each with the number of files (outgoing preserved or
// incoming held) that pin it; a handler with files is not removed. lock_ is
// innermost (taken under session locks).
class HandlerRegistry {
public:
    static constexpr usize kCompatibleCapacity = 48;

    static Result<HandlerRegistry> create();
    HandlerRegistry() = default;
    HandlerRegistry(HandlerRegistry&&) = default;

    // EINVAL for an empty or unterminated compatible, EEXIST for a taken one.
    Status add(lu_handler* handler);
    // ENOENT when not registered, EBUSY while it has files.
    Status remove(lu_handler* handler);
    bool contains(lu_handler* handler);

    // The first handler that accepts `file`, pinned for one more file;
    // nullptr if none.
    lu_handler* pin_handler_for(lu_file* file);
    // Pins a registered handler for one more (incoming) file; false when it
    // is not registered or its module is going away.
    bool pin(lu_handler* handler);
    // Drops one file's pin taken by pin_handler_for() or pin().
    void unpin(lu_handler* handler);
    // The handler registered under `compatible`, or nullptr.
    lu_handler* find(const char* compatible);

private:
    struct Entry {
        lu_handler* handler;
        usize files;
    };

    explicit HandlerRegistry(Mutex lock) : lock_(move(lock)) {}
    Entry* entry_of(lu_handler* handler);

    Mutex lock_;
    Vector<Entry> handlers_;
};

bool same_compatible(const char* a, const char* b);

}  // namespace lu
