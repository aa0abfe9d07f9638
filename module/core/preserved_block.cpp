// SPDX-License-Identifier: GPL-2.0
#include "preserved_block.hpp"

#include "lu/errno.hpp"
#include "lu_glue.h"

#include "lu/enforce.h"

namespace lu {

Result<PreservedBlock> PreservedBlock::create(usize size) {
    void* mem = lu_kho_alloc_preserved(size);
    if (mem == nullptr)
        return err(errc::kNoMem);
    return PreservedBlock(mem, size);
}

PreservedBlock::PreservedBlock(PreservedBlock&& other) : mem_(other.mem_), size_(other.size_) {
    other.mem_ = nullptr;
    other.size_ = 0;
}

PreservedBlock& PreservedBlock::operator=(PreservedBlock&& other) {
    if (this != &other) {
        lu_kho_free_preserved(mem_);
        mem_ = other.mem_;
        size_ = other.size_;
        other.mem_ = nullptr;
        other.size_ = 0;
    }
    return *this;
}

PreservedBlock::~PreservedBlock() {
    lu_kho_free_preserved(mem_);
}

u64 PreservedBlock::phys() const {
    return lu_kho_phys(mem_);
}

}  // namespace lu
