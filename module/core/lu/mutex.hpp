// SPDX-License-Identifier: GPL-2.0
// A kernel mutex owned by one object, and the RAII guard that holds it.
// The glue gives each LockClass its own lockdep class.
#pragma once

#include "lu/errno.hpp"
#include "lu/result.hpp"
#include "lu_glue.h"

namespace lu {

// Invariants: mutex_ is null only in a moved-from object.
class Mutex {
public:
    static Result<Mutex> create(lu_lock_class cls) {
        lu_mutex* mutex = lu_mutex_create(cls);
        if (mutex == nullptr)
            return err(errc::kNoMem);
        return Mutex(mutex);
    }
    Mutex() = default;
    Mutex(Mutex&& other) : mutex_(other.mutex_) { other.mutex_ = nullptr; }
    Mutex& operator=(Mutex&& other) {
        if (this != &other) {
            lu_mutex_destroy(mutex_);
            mutex_ = other.mutex_;
            other.mutex_ = nullptr;
        }
        return *this;
    }
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;
    ~Mutex() { lu_mutex_destroy(mutex_); }

    void lock() { lu_mutex_lock(mutex_); }
    void unlock() { lu_mutex_unlock(mutex_); }

private:
    explicit Mutex(lu_mutex* mutex) : mutex_(mutex) {}
    lu_mutex* mutex_ = nullptr;
};

class Guard {
public:
    explicit Guard(Mutex& mutex) : mutex_(mutex) { mutex_.lock(); }
    ~Guard() { mutex_.unlock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

private:
    Mutex& mutex_;
};

}  // namespace lu
