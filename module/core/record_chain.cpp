// SPDX-License-Identifier: GPL-2.0
#include "record_chain.hpp"

#include "crc32c.hpp"
#include "lu/errno.hpp"
#include "lu_glue.h"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

namespace {

constexpr u32 kBlockMagic = 0x4b42554c;  // "LUBK"
constexpr u32 kNoSlot = 0xffffffff;
constexpr u32 kFree = RecordChain::kEntryFree;
constexpr u32 kUsed = RecordChain::kEntryUsed;

// The read in progress (RecordChain::ReadScope): how deeply scopes nest,
// and the blocks taken so far, linked through their next_phys word.
// Constant-initialized, and only touched under the orchestrator's lock.
constinit unsigned read_depth = 0;
constinit u8* taken_blocks = nullptr;

u32 block_crc(const u8* block) {
    u32 crc = crc32c(block, 16);
    return crc32c(block + 20, RecordChain::kBlockSize - 20, crc);
}

}  // namespace

RecordChain::RecordChain(ChainKind kind, usize payload_size, EmptyChain when_empty)
    : kind_(kind), payload_size_(payload_size), when_empty_(when_empty), free_head_(kNoSlot) {
    LU_ASSERT(entry_size() <= kBlockSize - kHeaderSize);
}

u8* RecordChain::entry(u32 index) const {
    const usize block = index / capacity();
    const usize slot = index % capacity();
    return static_cast<u8*>(blocks_[block].data()) + kHeaderSize + slot * entry_size();
}

u64 RecordChain::head_phys() const { return blocks_.is_empty() ? 0 : blocks_[0].phys(); }

Status RecordChain::grow() {
    LU_TRY(blocks_.reserve_more(1));
    PreservedBlock block = LU_TRY(PreservedBlock::create(kBlockSize));
    ByteSpan bytes = block.bytes();
    wire::store<u32>(bytes, 0, kBlockMagic);
    wire::store<u16>(bytes, 4, static_cast<u16>(entry_size()));
    wire::store<u16>(bytes, 6, static_cast<u16>(capacity()));
    wire::store<u32>(bytes, 20, static_cast<u32>(kind_));
    if (!blocks_.is_empty())
        wire::store<u64>(blocks_.back().bytes(), 8, block.phys());

    // Thread the new block's slots onto the free list, lowest first.
    const u32 first = static_cast<u32>(blocks_.size() * capacity());
    LU_ASSERT(blocks_.try_append(move(block)).is_ok());  // reserved above
    for (u32 i = static_cast<u32>(capacity()); i-- > 0;) {
        u8* e = entry(first + i);
        wire::store<u32>(ByteSpan(e, entry_size()), 4, free_head_);
        free_head_ = first + i;
    }
    return ok();
}

Result<RecordSlot> RecordChain::allocate() {
    if (free_head_ == kNoSlot)
        LU_TRY(grow());
    const u32 index = free_head_;
    ByteSpan e(entry(index), entry_size());
    free_head_ = wire::load<u32>(ConstByteSpan(e.data(), e.size()), 4);
    zero_bytes(e.data(), e.size());
    wire::store<u32>(e, 0, kUsed);
    used_++;
    return RecordSlot{e.data() + kEntryHeaderSize, index};
}

void RecordChain::release(RecordSlot slot) {
    ByteSpan e(entry(slot.index), entry_size());
    LU_ASSERT(e.data() + kEntryHeaderSize == slot.payload);
    zero_bytes(e.data(), e.size());
    wire::store<u32>(e, 0, kFree);
    wire::store<u32>(e, 4, free_head_);
    free_head_ = slot.index;
    used_--;
    if (used_ == 0 && when_empty_ == EmptyChain::FreeBlocks) {
        blocks_.clear();
        free_head_ = kNoSlot;
    }
}

void RecordChain::seal() {
    for (usize i = 0; i < blocks_.size(); i++) {
        u8* block = static_cast<u8*>(blocks_[i].data());
        wire::store<u32>(ByteSpan(block, kBlockSize), 16, block_crc(block));
    }
}

Result<u8*> RecordChain::take_block(u64 phys, ChainKind kind, usize payload_size) {
    // Boundary: the previous kernel's memory, checked in place before it is
    // restored or anything in it is followed.
    const u8* peeked = static_cast<const u8*>(lu_kho_peek(phys, kBlockSize));
    if (peeked == nullptr || (phys & (kBlockSize - 1)) != 0)
        return err(errc::kFault);
    ConstByteSpan bytes(peeked, kBlockSize);
    const usize size = kEntryHeaderSize + payload_size;
    if (wire::load<u32>(bytes, 0) != kBlockMagic || wire::load<u16>(bytes, 4) != size ||
        wire::load<u16>(bytes, 6) != (kBlockSize - kHeaderSize) / size ||
        wire::load<u32>(bytes, 20) != static_cast<u32>(kind) ||
        wire::load<u32>(bytes, 16) != block_crc(peeked))
        return err(errc::kBadMsg);
    void* block = lu_kho_restore(phys);
    if (block == nullptr)
        return err(errc::kStale);
    return static_cast<u8*>(block);
}

RecordChain::ReadScope::ReadScope() { read_depth++; }

RecordChain::ReadScope::~ReadScope() {
    LU_ASSERT(read_depth > 0);
    if (--read_depth != 0)
        return;
    while (taken_blocks != nullptr) {
        u8* block = taken_blocks;
        taken_blocks = reinterpret_cast<u8*>(wire::load<u64>(ConstByteSpan(block, kBlockSize), 8));
        lu_kho_free_restored(block);
    }
}

// Without its magic the block can never pass take_block() again, should a
// damaged link lead back to it (KHO would warn about restoring it twice);
// it stays ours, and readable, until the read ends.
void RecordChain::drop_block(u8* block) {
    ByteSpan bytes(block, kBlockSize);
    wire::store<u32>(bytes, 0, 0);
    wire::store<u64>(bytes, 8, reinterpret_cast<u64>(taken_blocks));
    taken_blocks = block;
}

}  // namespace lu
