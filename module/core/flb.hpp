// SPDX-License-Identifier: GPL-2.0
// One File-Lifecycle-Bound object (a registered struct liveupdate_flb):
// global state shared by the files of the handlers it is linked to.
//
// Outgoing: preserved with the first dependent file (acquire()), and
// unpreserved once no file and no liveupdate_flb_get_outgoing() reference
// is left; while preserved, its record in the FLB chain holds the handle
// and the number of files. Only files are counted in the record: a
// handler's get/put_outgoing pair (which may straddle the reboot notifier)
// never touches it, so the sealed chain cannot change after its CRC. Incoming: the previous kernel's count and
// handle; retrieved on the first get_incoming (or at the last put, as
// upstream), finished when the count drops to 0.
#pragma once

#include "lu/result.hpp"
#include "lu_glue.h"
#include "record_chain.hpp"

namespace lu {

// The FLB's record in the FLB chain (format version 1).
//   0 u32 version   4 u32 reserved   8 u64 data   16 u64 count
//   24 char compatible[48]
struct FlbRecord {
    static constexpr usize kSize = 72;
    static constexpr u32 kVersion = 1;
    static constexpr usize kVersionOffset = 0;
    static constexpr usize kDataOffset = 8;
    static constexpr usize kCountOffset = 16;
    static constexpr usize kCompatibleOffset = 24;
    static constexpr usize kCompatibleCapacity = 48;
};

// Invariants: handle_ is registered (linked to users_ > 0 handlers, or kept
// while busy()). Outgoing: preserved() exactly when out_files_ or
// out_refs_ is non-zero, and then the FLB's module is pinned; slot_ is its
// record exactly when out_files_ is non-zero (the record's count).
// Incoming: in_state_ Loaded means in_count_ uses remain and the module is
// pinned; retrieve_status_ 1 means the object is live and the module
// pinned once more.
class Flb {
public:
    explicit Flb(lu_flb* handle) : handle_(handle) {}
    ~Flb() = default;
    Flb(const Flb&) = delete;
    Flb& operator=(const Flb&) = delete;

    lu_flb* handle() const { return handle_; }
    const char* compatible() const { return lu_flb_compatible(handle_); }
    bool busy() const;

    // Outgoing. acquire(): one more use, preserving it on the first.
    Status acquire(RecordChain& chain);
    void release(RecordChain& chain);
    Result<void*> get_outgoing();
    void put_outgoing();

    // Incoming. load(): the previous kernel's record, once.
    enum class InState { Absent, Loaded, Finished };
    InState in_state() const { return in_state_; }
    void load(u64 data, u64 count);
    Result<void*> get_incoming();
    void put_incoming();

    usize users = 0;

private:
    bool preserved() const { return out_files_ + out_refs_ > 0; }
    void write_record();
    void unpreserve_if_unused();
    Status retrieve();

    lu_flb* handle_;
    usize out_files_ = 0;
    usize out_refs_ = 0;
    u64 out_data_ = 0;
    void* out_obj_ = nullptr;
    RecordSlot slot_;

    InState in_state_ = InState::Absent;
    u64 in_count_ = 0;
    u64 in_data_ = 0;
    void* in_obj_ = nullptr;
    int retrieve_status_ = 0;
};

}  // namespace lu
