// SPDX-License-Identifier: GPL-2.0
// One file of a session: the handler that preserves it, its token, and the
// handler's opaque handle that crosses the kexec.
#pragma once

#include "lu/intrusive_list.hpp"
#include "lu/vector.hpp"
#include "lu_glue.h"
#include "record_chain.hpp"

namespace lu {

// The file's record in its session's file chain.
//   0 u64 token   8 u64 data   16 char compatible[48]
struct FileRecord {
    static constexpr usize kSize = 64;
    static constexpr usize kTokenOffset = 0;
    static constexpr usize kDataOffset = 8;
    static constexpr usize kCompatibleOffset = 16;
};

// One edge of the dependency graph, in the session's dependency chain.
//   0 u64 token (the dependent file)   8 u64 dep_token (its dependency)
struct DependencyRecord {
    static constexpr usize kSize = 16;
    static constexpr usize kTokenOffset = 0;
    static constexpr usize kDepTokenOffset = 8;
};

// A file the owning file depends on. Outgoing: `file` is referenced (from
// the declaration on), `token` is resolved at freeze and `slot` is the
// edge's record. Incoming: only `token`.
struct Dependency {
    lu_file* file = nullptr;
    u64 token = 0;
    RecordSlot slot;
};

// Invariants: handler is pinned for the object's lifetime. Outgoing: file
// is referenced, id is claimed in the FileIndex and slot is this file's
// record. Incoming: file is referenced and id claimed once retrieved
// (retrieve_status 1); retrieve_status < 0 records a failed retrieve.
struct PreservedFile {
    u64 token = 0;
    lu_handler* handler = nullptr;
    lu_file* file = nullptr;
    u64 data = 0;
    void* priv = nullptr;
    u64 id = 0;
    int retrieve_status = 0;
    bool frozen = false;
    bool retrieving = false;
    RecordSlot slot;
    Vector<Dependency> deps;
    ListNode node;

    lu_handler_call call(lu_session* session) {
        return lu_handler_call{handler, file, data, priv, retrieve_status, session, nullptr};
    }

    // From inside this file's preserve call: it depends on `dep`.
    Status declare_dependency(lu_file* dep);

    // Writes token, handle and compatible into the file's record.
    void write_record() const;
};

using FileList = IntrusiveList<PreservedFile, &PreservedFile::node>;

}  // namespace lu
