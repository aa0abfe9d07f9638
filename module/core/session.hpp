// SPDX-License-Identifier: GPL-2.0
// A named set of preserved files: outgoing (created in this kernel, handed
// to the next) or incoming (handed over by the previous kernel).
#pragma once

#include "file_index.hpp"
#include "flb_registry.hpp"
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
//   0 char name[64]   64 u64 files_head_phys   72 u64 deps_head_phys
//  80 u32 failure     84 u32 reserved (0)      88 u64 failed_token
// (the dependency chain, DependencyRecord edges; 0: none). failure is the
// positive errno of a file that refused to freeze at the reboot; such a
// session hands over no files (both heads 0), only its name and the reason.
// The chain's entry size tells this layout from the 80-byte record of
// earlier builds, whose handover the next kernel refuses (EBADMSG).
struct SessionRecord {
    static constexpr usize kSize = 96;
    static constexpr usize kNameOffset = 0;
    static constexpr usize kFilesHeadOffset = 64;
    static constexpr usize kDepsHeadOffset = 72;
    static constexpr usize kFailureOffset = 80;
    static constexpr usize kReservedOffset = 84;
    static constexpr usize kFailedTokenOffset = 88;
};

// What a session works with, owned by the orchestrator (outlives sessions).
struct SessionContext {
    HandlerRegistry* handlers = nullptr;
    FlbRegistry* flbs = nullptr;
    FileIndex* index = nullptr;
};

// Locking: lock_ guards everything below it; it nests inside the
// orchestrator's lock and outside the registry's and the file index's.
//
// Invariants: an outgoing session owns dir_slot_ (its record),
// file_chain_, holding one record per file, and deps_chain_, holding one
// record per declared dependency; tokens_ holds exactly the tokens of
// files_. An incoming session has none of them. frozen_ is set while a
// (trial or final) freeze holds the files' state. Every file of the session
// holds one use of each FLB linked to its handler (outgoing: from preserve
// to unpreserve; incoming: until finish).
class Session {
public:
    static Result<Own<Session>> create_outgoing(const SessionName& name, RecordSlot dir_slot,
                                                const SessionContext& context);
    static Result<Own<Session>> create_incoming(const SessionName& name,
                                                const SessionContext& context);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const SessionName& name() const { return name_; }
    bool is_incoming() const { return incoming_; }
    // Hands the session's record back to its chain's owner; the session
    // writes nothing into it from then on.
    RecordSlot leave_handover() {
        RecordSlot slot = dir_slot_;
        dir_slot_ = RecordSlot{};
        return slot;
    }
    usize file_count();
    usize metadata_bytes();

    // Outgoing.
    Status preserve(int fd, u64 token);
    void unpreserve_all();
    // Checks that every declared dependency is preserved in this session
    // (ENOLINK, naming the dependent file), then freezes every file in
    // preservation order; on failure, unfreezes what it froze and names the
    // file that refused.
    struct FreezeResult {
        Status status;
        u64 failed_token = 0;
    };
    FreezeResult freeze();
    void unfreeze();
    // MOD_STATUS's dry run of freeze(): the files are frozen and thawed
    // again under the session lock, so no other caller sees the session
    // frozen (a concurrent preserve waits instead of failing with EBUSY).
    FreezeResult trial_freeze();
    // At the reboot, after freeze() failed: unpreserves every file and
    // writes the failure into the session's record, which the next kernel
    // reports instead of restoring the session.
    void fail_handover(const FreezeResult& result);
    void seal_records();

    // Incoming.
    Status add_incoming(u64 token, u64 data, lu_handler* handler);
    // One edge of the previous kernel's dependency graph (EBADMSG when
    // either token is unknown).
    Status add_incoming_dependency(u64 token, u64 dep_token);
    Result<lu_file*> retrieve(u64 token);
    // EBUSY when a retrieved file's dependency was never retrieved, or a
    // file's can_finish refuses; then nothing changes.
    Status finish();
    bool retrieved() const { return retrieved_; }
    void mark_retrieved(bool retrieved = true) { retrieved_ = retrieved; }
    // Drops every incoming file without asking its handler (only for a
    // handover that failed to load), unpinning the handlers.
    void abandon();

    // For handlers, only from inside a file op of this session (the lock
    // is held by the caller of the op): see lu_glue.h.
    Result<u64> token_of(lu_file* file);
    Result<lu_file*> file_of(u64 token);

    lu_session* handle() { return reinterpret_cast<lu_session*>(this); }

    ListNode node;
    // The next session in its SessionIndex bucket (session_index.hpp).
    Session* index_next = nullptr;

private:
    Session(const SessionName& name, bool incoming, Mutex lock, RecordSlot dir_slot,
            const SessionContext& context);
    PreservedFile* find(u64 token);
    PreservedFile* find(lu_file* file);
    Result<lu_file*> retrieve_locked(PreservedFile& file);
    Status reserve_dependencies(PreservedFile& file);
    void release_dependencies(PreservedFile& file);
    void drop(PreservedFile* file, bool release_id);
    void unpreserve_all_locked();
    FreezeResult freeze_locked();
    void unfreeze_locked();
    void write_heads();

    SessionName name_;
    const bool incoming_;
    SessionContext context_;
    bool retrieved_ = false;
    bool frozen_ = false;
    Mutex lock_;
    FileList files_;
    U64HashSet tokens_;
    RecordChain file_chain_;
    RecordChain deps_chain_;
    RecordSlot dir_slot_;
};

using SessionList = IntrusiveList<Session, &Session::node>;

}  // namespace lu
