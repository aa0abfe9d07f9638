// SPDX-License-Identifier: GPL-2.0
// Sessions by name, so that CREATE_SESSION's uniqueness check, the
// incoming handover's duplicate check and RETRIEVE_SESSION stay O(1) with
// thousands of sessions (a list walk makes 5000 sessions cost 12.5 million
// name comparisons).
#pragma once

#include "lu/errno.hpp"
#include "lu/result.hpp"
#include "session.hpp"

namespace lu {

// Invariants: buckets_ has capacity_ chains (a power of two, or 0) linked
// through Session::index_next; every indexed session is in the chain of
// bucket(hash(its name)); size_ counts them and never exceeds capacity_.
// The index does not own the sessions.
class SessionIndex {
public:
    SessionIndex() = default;
    SessionIndex(const SessionIndex&) = delete;
    SessionIndex& operator=(const SessionIndex&) = delete;
    ~SessionIndex() { operator delete(buckets_); }

    // Room for one more session: the part of an insertion that can fail
    // (ENOMEM), done before the caller commits to anything.
    Status reserve_one() {
        if (size_ < capacity_)
            return ok();
        return rehash(capacity_ ? capacity_ * 2 : 64);
    }

    // After reserve_one(); the name must not be indexed yet.
    void insert(Session& session) {
        LU_ASSERT(size_ < capacity_ && session.index_next == nullptr);
        Session*& head = buckets_[bucket(session.name().c_str())];
        session.index_next = head;
        head = &session;
        size_++;
    }

    void remove(Session& session) {
        if (capacity_ == 0)
            return;
        for (Session** link = &buckets_[bucket(session.name().c_str())]; *link;
             link = &(*link)->index_next) {
            if (*link == &session) {
                *link = session.index_next;
                session.index_next = nullptr;
                size_--;
                return;
            }
        }
    }

    // `raw` is a caller's 64-byte name field, terminated or not (an
    // unterminated one matches nothing, as SessionName::matches()).
    Session* find(const u8* raw) const {
        if (capacity_ == 0)
            return nullptr;
        for (Session* s = buckets_[bucket(reinterpret_cast<const char*>(raw))]; s;
             s = s->index_next)
            if (s->name().matches(raw))
                return s;
        return nullptr;
    }

    usize size() const { return size_; }

    // FNV-1a over the name's bytes up to its NUL (at most 64).
    static constexpr u64 hash(const char* name) {
        u64 h = 0xcbf29ce484222325ull;
        for (usize i = 0; i < SessionName::kCapacity && name[i]; i++)
            h = (h ^ static_cast<u8>(name[i])) * 0x100000001b3ull;
        return h;
    }

private:
    usize bucket(const char* name) const {
        return static_cast<usize>(hash(name) >> 7) & (capacity_ - 1);
    }

    Status rehash(usize capacity) {
        Session** buckets = static_cast<Session**>(operator new(capacity * sizeof(Session*)));
        if (buckets == nullptr)
            return err(errc::kNoMem);
        for (usize i = 0; i < capacity; i++)
            buckets[i] = nullptr;
        Session** old = buckets_;
        usize old_capacity = capacity_;
        buckets_ = buckets;
        capacity_ = capacity;
        for (usize i = 0; i < old_capacity; i++) {
            while (Session* s = old[i]) {
                old[i] = s->index_next;
                Session*& head = buckets_[bucket(s->name().c_str())];
                s->index_next = head;
                head = s;
            }
        }
        operator delete(old);
        return ok();
    }

    Session** buckets_ = nullptr;
    usize capacity_ = 0;
    usize size_ = 0;
};

static_assert([] {
    // The hash sees a name only up to its NUL, like SessionName::matches().
    const char a[SessionName::kCapacity] = {'v', 'm', '1', 0, 'x'};
    const char b[SessionName::kCapacity] = {'v', 'm', '1'};
    return SessionIndex::hash(a) == SessionIndex::hash(b) &&
           SessionIndex::hash(a) != SessionIndex::hash("vm2");
}());

}  // namespace lu
