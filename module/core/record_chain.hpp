// SPDX-License-Identifier: GPL-2.0
// A chain of KHO-preserved blocks holding fixed-size records, edited in
// place as the state changes, so the handover is always current and the
// reboot only has to seal it.
//
// Block layout (kBlockSize bytes, little endian):
//   0  u32 magic "LUBK"      16 u32 crc   CRC-32C of [0,16) and [20,end),
//   4  u16 entry_size                     written by seal()
//   6  u16 capacity          20 u32 kind  which chain this block belongs to
//   8  u64 next_phys (0: last block)
//  24  entries: u32 state (0 free, 1 used), u32 next free slot, payload
//
// Slots are stable: a released slot becomes a tombstone on a free list and
// is reused, so a slot's address never moves and its owner may keep a
// pointer to it. When the last used slot is released the chain frees its
// blocks (head_phys() becomes 0), unless it was made with
// EmptyChain::KeepBlocks because something records its head only once.
#pragma once

#include "lu/errno.hpp"
#include "lu/result.hpp"
#include "lu/span.hpp"
#include "lu/vector.hpp"
#include "preserved_block.hpp"
#include "wire.hpp"

namespace lu {

enum class ChainKind : u32 {
    Sessions = 1,
    Files = 2,
    Flbs = 3,
    Dependencies = 4,
};

enum class EmptyChain { FreeBlocks, KeepBlocks };

// Where one record lives: its payload bytes and its slot number.
struct RecordSlot {
    u8* payload = nullptr;
    u32 index = 0;

    explicit operator bool() const { return payload != nullptr; }
};

// Invariants: every block is kBlockSize bytes of preserved memory with a
// valid header, linked in order through next_phys; free_head_ starts a
// list of free slots threaded through their entries; used_ counts the rest.
class RecordChain {
public:
    static constexpr usize kBlockSize = 4096;
    static constexpr usize kHeaderSize = 24;
    static constexpr usize kEntryHeaderSize = 8;
    static constexpr u32 kEntryFree = 0;
    static constexpr u32 kEntryUsed = 1;

    RecordChain(ChainKind kind, usize payload_size,
                EmptyChain when_empty = EmptyChain::FreeBlocks);
    RecordChain(RecordChain&&) = default;

    // A zeroed slot; grows the chain by one block when none is free.
    Result<RecordSlot> allocate();
    void release(RecordSlot slot);

    u64 head_phys() const;
    usize used() const { return used_; }
    usize bytes() const { return blocks_.size() * kBlockSize; }

    // Writes every block's checksum; the chain must not change afterwards.
    void seal();

    // Reads a chain the previous kernel sealed: validates each block before
    // restoring it, hands every used payload to `visit`, then scrubs the
    // block. Stops at the first invalid block or entry (EFAULT: not this
    // kernel's memory or misaligned; EBADMSG: not an intact block of this
    // chain, or an entry neither free nor used; ESTALE: not preserved) or
    // failed visit. A block is taken once: the scrub makes a chain that
    // loops, or two chains that share a block, fail with EBADMSG at the
    // second visit, before KHO is asked to restore it again. The scrubbed
    // blocks are freed when the read ends (see ReadScope), so that such a
    // second visit reads our own memory, not memory given back.
    template <typename Visit>
    static Status consume(u64 head_phys, ChainKind kind, usize payload_size, Visit visit);

    // One read of the previous kernel's chains: the blocks consume() takes
    // while one exists are freed when the outermost one ends. consume()
    // makes its own, so a session's chains, read from within the sessions
    // chain's visit, share the sessions chain's read; a caller that reads
    // several chains one after the other holds one around all of them.
    // Reads happen one at a time (the orchestrator's lock).
    class ReadScope {
    public:
        ReadScope();
        ~ReadScope();
        ReadScope(const ReadScope&) = delete;
        ReadScope& operator=(const ReadScope&) = delete;
    };

private:
    usize entry_size() const { return kEntryHeaderSize + payload_size_; }
    usize capacity() const { return (kBlockSize - kHeaderSize) / entry_size(); }
    u8* entry(u32 index) const;
    Status grow();

    // Restores the block at `phys` after checking it; nullptr if invalid.
    static Result<u8*> take_block(u64 phys, ChainKind kind, usize payload_size);
    static void drop_block(u8* block);

    ChainKind kind_;
    usize payload_size_;
    EmptyChain when_empty_;
    Vector<PreservedBlock> blocks_;
    u32 free_head_;
    usize used_ = 0;
};

template <typename Visit>
Status RecordChain::consume(u64 head_phys, ChainKind kind, usize payload_size, Visit visit) {
    const usize size = kEntryHeaderSize + payload_size;
    const usize cap = (kBlockSize - kHeaderSize) / size;
    ReadScope read;
    Status status = ok();
    for (u64 phys = head_phys; phys != 0;) {
        auto taken = take_block(phys, kind, payload_size);
        if (!taken.is_ok())
            return taken.error();
        u8* block = taken.value();
        ConstByteSpan bytes(block, kBlockSize);
        for (usize i = 0; i < cap && status.is_ok(); i++) {
            const u8* e = block + kHeaderSize + i * size;
            const u32 state = wire::load<u32>(ConstByteSpan(e, size), 0);
            if (state == kEntryUsed)
                status = visit(ConstByteSpan(e + kEntryHeaderSize, payload_size));
            else if (state != kEntryFree)
                status = err(errc::kBadMsg);
        }
        phys = wire::load<u64>(bytes, 8);
        drop_block(block);
        if (!status.is_ok())
            return status;
    }
    return ok();
}

}  // namespace lu
