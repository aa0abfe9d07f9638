// SPDX-License-Identifier: GPL-2.0
// A growable array whose growth can fail: try_append() returns ENOMEM
// instead of throwing, so callers grow before their point of no return.
#pragma once

#include "lu/errno.hpp"
#include "lu/result.hpp"

namespace lu {

// Invariants: items_[0, size_) are constructed; capacity_ >= size_.
template <typename T>
class Vector {
public:
    Vector() = default;
    Vector(const Vector&) = delete;
    Vector& operator=(const Vector&) = delete;
    Vector(Vector&& other) : items_(other.items_), size_(other.size_), capacity_(other.capacity_) {
        other.items_ = nullptr;
        other.size_ = other.capacity_ = 0;
    }
    ~Vector() {
        clear();
        operator delete(items_);
    }

    usize size() const { return size_; }
    bool is_empty() const { return size_ == 0; }
    T& operator[](usize i) {
        LU_ASSERT(i < size_);
        return items_[i];
    }
    const T& operator[](usize i) const {
        LU_ASSERT(i < size_);
        return items_[i];
    }
    T& back() { return (*this)[size_ - 1]; }

    // Makes room for `count` more items without constructing them.
    Status reserve_more(usize count) {
        if (size_ + count <= capacity_)
            return ok();
        usize capacity = capacity_ ? capacity_ * 2 : 8;
        while (capacity < size_ + count)
            capacity *= 2;
        T* items = static_cast<T*>(operator new(capacity * sizeof(T)));
        if (items == nullptr)
            return err(errc::kNoMem);
        for (usize i = 0; i < size_; i++) {
            new (&items[i]) T(move(items_[i]));
            items_[i].~T();
        }
        operator delete(items_);
        items_ = items;
        capacity_ = capacity;
        return ok();
    }

    Status try_append(T item) {
        LU_TRY(reserve_more(1));
        new (&items_[size_++]) T(move(item));
        return ok();
    }

    void pop_back() {
        LU_ASSERT(size_ > 0);
        items_[--size_].~T();
    }

    void clear() {
        while (size_ > 0)
            pop_back();
    }

private:
    T* items_ = nullptr;
    usize size_ = 0;
    usize capacity_ = 0;
};

}  // namespace lu
