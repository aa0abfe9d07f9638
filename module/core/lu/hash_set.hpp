// SPDX-License-Identifier: GPL-2.0
// A set of u64 keys (open addressing, linear probing, backward-shift
// deletion), for token and file-identity uniqueness checks that stay O(1)
// with thousands of files. Insertion can fail with ENOMEM and never
// leaves the set changed when it does.
#pragma once

#include "lu/errno.hpp"
#include "lu/result.hpp"

namespace lu {

// Invariants: slots_ has capacity_ entries (a power of two, or 0), at most
// 3/4 full; a slot holds key + 1, 0 marks an empty slot; the key ~0 (whose
// +1 would be 0) is tracked by has_max_ instead.
class U64HashSet {
public:
    U64HashSet() = default;
    U64HashSet(const U64HashSet&) = delete;
    U64HashSet& operator=(const U64HashSet&) = delete;
    ~U64HashSet() { operator delete(slots_); }

    usize size() const { return size_; }

    bool contains(u64 key) const {
        if (key == kMax)
            return has_max_;
        return capacity_ != 0 && slots_[find(key)] != 0;
    }

    // EEXIST when present, ENOMEM when the table cannot grow.
    Status insert(u64 key) {
        if (contains(key))
            return err(errc::kExist);
        if (key == kMax) {
            has_max_ = true;
            size_++;
            return ok();
        }
        if ((size_ + 1) * 4 > capacity_ * 3)
            LU_TRY(rehash(capacity_ ? capacity_ * 2 : 16));
        slots_[find(key)] = key + 1;
        size_++;
        return ok();
    }

    void erase(u64 key) {
        if (key == kMax) {
            if (has_max_)
                size_--;
            has_max_ = false;
            return;
        }
        if (capacity_ == 0)
            return;
        usize hole = find(key);
        if (slots_[hole] == 0)
            return;
        slots_[hole] = 0;
        size_--;
        // Pull later members of the probe run back over the hole.
        for (usize i = next(hole); slots_[i] != 0; i = next(i)) {
            usize home = bucket(slots_[i] - 1);
            bool between = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
            if (between) {
                slots_[hole] = slots_[i];
                slots_[i] = 0;
                hole = i;
            }
        }
    }

private:
    static constexpr u64 kMax = ~u64{0};

    usize bucket(u64 key) const {
        key ^= key >> 33;
        key *= 0xff51afd7ed558ccdull;
        key ^= key >> 33;
        return static_cast<usize>(key) & (capacity_ - 1);
    }
    usize next(usize i) const { return (i + 1) & (capacity_ - 1); }

    // The slot holding `key`, or the empty slot where it would go.
    usize find(u64 key) const {
        usize i = bucket(key);
        while (slots_[i] != 0 && slots_[i] != key + 1)
            i = next(i);
        return i;
    }

    Status rehash(usize capacity) {
        u64* slots = static_cast<u64*>(operator new(capacity * sizeof(u64)));
        if (slots == nullptr)
            return err(errc::kNoMem);
        for (usize i = 0; i < capacity; i++)
            slots[i] = 0;
        u64* old = slots_;
        usize old_capacity = capacity_;
        slots_ = slots;
        capacity_ = capacity;
        for (usize i = 0; i < old_capacity; i++)
            if (old[i] != 0)
                slots_[find(old[i] - 1)] = old[i];
        operator delete(old);
        return ok();
    }

    u64* slots_ = nullptr;
    usize capacity_ = 0;
    usize size_ = 0;
    bool has_max_ = false;
};

}  // namespace lu
