// SPDX-License-Identifier: GPL-2.0
// A named set of preserved files: outgoing (created in this kernel, handed
// to the next) or incoming (handed over by the previous kernel).
#pragma once

#include "file_index.hpp"
#include "handler_registry.hpp"
#include "lu/hash_set.hpp"
#include "lu/intrusive_list.hpp"
#include "lu/mutex.hpp"
#include "lu/own.hpp"
#include "preserved_file.hpp"
#include "record_chain.hpp"
#include "session_name.hpp"

namespace lu {

// The session's record in the sessions chain.
//   0 char name[64]   64 u64 files_head_phys   72 u64 reserved
struct SessionRecord {
    static constexpr usize kSize = 80;
    static constexpr usize kNameOffset = 0;
    static constexpr usize kFilesHeadOffset = 64;
};

// Locking: lock_ guards everything below it; it nests inside the
// orchestrator's lock and outside the registry's and the file index's.
//
// Invariants: an outgoing session owns dir_slot_ (its record) and
// file_chain_, holding one record per file; tokens_ holds exactly the
// tokens of files_. An incoming session has neither. frozen_ is set while
// a (trial or final) freeze holds the files' state.
class Session {
public:
    static Result<Own<Session>> create_outgoing(const SessionName& name, RecordSlot dir_slot);
    static Result<Own<Session>> create_incoming(const SessionName& name);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const SessionName& name() const { return name_; }
    bool is_incoming() const { return incoming_; }
    RecordSlot dir_slot() const { return dir_slot_; }
    usize file_count();
    usize metadata_bytes();

    // Outgoing.
    Status preserve(int fd, u64 token, HandlerRegistry& registry, FileIndex& index);
    void unpreserve_all(FileIndex& index);
    // Freezes every file in preservation order; on failure, unfreezes what
    // it froze and names the file that refused.
    struct FreezeResult {
        Status status;
        u64 failed_token = 0;
    };
    FreezeResult freeze();
    void unfreeze();
    void seal_records();

    // Incoming.
    Status add_incoming(u64 token, u64 data, lu_handler* handler);
    Result<lu_file*> retrieve(u64 token, FileIndex& index);
    Status finish(FileIndex& index);
    bool retrieved() const { return retrieved_; }
    void mark_retrieved(bool retrieved = true) { retrieved_ = retrieved; }
    // Drops every incoming file without asking its handler (only for a
    // handover that failed to load), unpinning the handlers.
    void abandon();

    ListNode node;

private:
    Session(const SessionName& name, bool incoming, Mutex lock, RecordSlot dir_slot);
    PreservedFile* find(u64 token);
    void drop(PreservedFile* file, FileIndex* index);

    SessionName name_;
    const bool incoming_;
    bool retrieved_ = false;
    bool frozen_ = false;
    Mutex lock_;
    FileList files_;
    U64HashSet tokens_;
    RecordChain file_chain_;
    RecordSlot dir_slot_;
};

using SessionList = IntrusiveList<Session, &Session::node>;

}  // namespace lu
