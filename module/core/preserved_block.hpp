// SPDX-License-Identifier: GPL-2.0
// Memory that KHO carries into the next kernel, owned by one object.
#pragma once

#include "lu/result.hpp"
#include "lu/span.hpp"

namespace lu {

// Invariants: mem_ is null (empty or moved-from) or came from
// lu_kho_alloc_preserved() with size_ bytes, and is released exactly once.
class PreservedBlock {
public:
    static Result<PreservedBlock> create(usize size);

    PreservedBlock() = default;
    PreservedBlock(PreservedBlock&& other);
    PreservedBlock& operator=(PreservedBlock&& other);
    PreservedBlock(const PreservedBlock&) = delete;
    PreservedBlock& operator=(const PreservedBlock&) = delete;
    ~PreservedBlock();

    ByteSpan bytes() const { return ByteSpan(static_cast<u8*>(mem_), size_); }
    void* data() const { return mem_; }
    usize size() const { return size_; }
    u64 phys() const;

private:
    PreservedBlock(void* mem, usize size) : mem_(mem), size_(size) {}

    void* mem_ = nullptr;
    usize size_ = 0;
};

}  // namespace lu
