// SPDX-License-Identifier: GPL-2.0
// Which files are preserved or retrieved anywhere, by handler-given
// identity: a file can be in at most one session (EBUSY otherwise).
#pragma once

#include "lu/hash_set.hpp"
#include "lu/mutex.hpp"

namespace lu {

// Invariants: ids_ holds the identity of every file held by a live
// PreservedFile; lock_ is innermost.
class FileIndex {
public:
    static Result<FileIndex> create() {
        return FileIndex(LU_TRY(Mutex::create(LU_LOCK_FILE_INDEX)));
    }
    FileIndex() = default;
    FileIndex(FileIndex&& other) : lock_(move(other.lock_)) {}

    // EBUSY when the file is already held, ENOMEM.
    Status claim(u64 id) {
        Guard guard(lock_);
        Status status = ids_.insert(id);
        if (!status.is_ok() && status.error() == err(errc::kExist))
            return err(errc::kBusy);
        return status;
    }

    void release(u64 id) {
        Guard guard(lock_);
        ids_.erase(id);
    }

private:
    explicit FileIndex(Mutex lock) : lock_(move(lock)) {}

    Mutex lock_;
    U64HashSet ids_;
};

}  // namespace lu
