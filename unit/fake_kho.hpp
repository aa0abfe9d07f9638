// SPDX-License-Identifier: GPL-2.0
// A fake of the glue's KHO calls that really "reboots": reboot() keeps only
// memory that is preserved, hands over the published subtree, and forgets
// everything else, as a kexec does. Physical addresses are the buffers'
// addresses, which is what the module sees through the linear map too.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

class FakeKho {
public:
    static FakeKho& instance();

    // A kexec: the outgoing tree becomes the incoming one. Objects of the
    // previous "boot" may be destroyed afterwards: their frees are ignored,
    // as nothing of the old kernel runs after a real kexec.
    void reboot();
    // A cold boot: nothing is handed over.
    void cold_boot();
    void reset();

    // The incoming root record, to corrupt it before the module loads.
    uint8_t* incoming_record();

    // Fault injection.
    bool fail_alloc = false;
    int fail_publish = 0;

    // Observations.
    int restores = 0;
    int freed_restored = 0;
    // Restores of memory that is not a preservation the previous kernel
    // made, or one already restored: KHO warns about those, so the core
    // must never ask (its validation should have refused the address).
    int bad_restores = 0;
    // Reads (peek()) of a block the core restored and gave back: a use
    // after free, which KASAN reports.
    int freed_reads = 0;
    // Blocks the previous kernel handed over that nobody restored yet.
    size_t unrestored() const { return incoming_preserved_.size(); }
    size_t preserved_blocks() const { return preserved_.size(); }
    bool published() const { return outgoing_ != nullptr; }

    // The glue calls.
    int find_incoming(uint64_t* phys, uint64_t* size);
    const void* peek(uint64_t phys, uint64_t size);
    void* restore(uint64_t phys);
    void* alloc_preserved(size_t size);
    void free_preserved(void* mem);
    void free_restored(void* mem);
    int publish(void* blob, size_t size);
    void unpublish(void* blob);

private:
    // Page-aligned, as KHO's folios are.
    struct Block {
        explicit Block(size_t size);
        ~Block();
        Block(const Block&) = delete;
        Block& operator=(const Block&) = delete;
        uint8_t* bytes;
        size_t size;
        bool restored = false;
        int boot = 0;  // the boot that allocated it
    };
    std::map<uint64_t, Block*> blocks_;      // every block alive in this "boot"
    // Restored blocks given back: as a freed page, they still read as they
    // were (peek() finds them) but are no preservation any more.
    std::map<uint64_t, Block*> freed_;
    std::set<uint64_t> preserved_;           // outgoing preservations
    std::set<uint64_t> incoming_preserved_;  // handed over, not yet restored
    void* outgoing_ = nullptr;
    size_t outgoing_size_ = 0;
    uint64_t incoming_phys_ = 0;
    size_t incoming_size_ = 0;
    bool kho_boot_ = false;
    int boot_ = 0;
};

// The kernel log as the core wrote it.
std::vector<std::string>& fake_log();
int fake_bug_count();
