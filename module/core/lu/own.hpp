// SPDX-License-Identifier: GPL-2.0
// Own<T>: the single owner of a heap object (move-only). release() hands the
// raw pointer over, like the kernel's no_free_ptr().
#pragma once

#include "lu/types.hpp"

namespace lu {

template <typename T>
class Own {
public:
    Own() = default;
    explicit Own(T* ptr) : ptr_(ptr) {}
    Own(Own&& other) : ptr_(other.release()) {}
    Own& operator=(Own&& other) {
        if (this != &other) {
            reset();
            ptr_ = other.release();
        }
        return *this;
    }
    Own(const Own&) = delete;
    Own& operator=(const Own&) = delete;
    ~Own() { reset(); }

    T* get() const { return ptr_; }
    T* operator->() const { return ptr_; }
    T& operator*() const { return *ptr_; }
    explicit operator bool() const { return ptr_ != nullptr; }

    [[nodiscard]] T* release() {
        T* ptr = ptr_;
        ptr_ = nullptr;
        return ptr;
    }
    void reset() {
        delete ptr_;
        ptr_ = nullptr;
    }

private:
    T* ptr_ = nullptr;
};

}  // namespace lu
