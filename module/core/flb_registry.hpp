// SPDX-License-Identifier: GPL-2.0
// The registered FLBs, the handlers they are linked to, and the FLB chain
// that hands their outgoing state over; plus what the previous kernel
// handed over, until each FLB is registered and asks for it.
#pragma once

#include "flb.hpp"
#include "lu/mutex.hpp"
#include "lu/own.hpp"
#include "lu/result.hpp"
#include "lu/vector.hpp"
#include "record_chain.hpp"

namespace lu {

// Locking: lock_ guards everything here and is held around every FLB op.
// It nests inside session locks (files preserve, unpreserve and finish
// under their session's lock) and the orchestrator's, outside the
// handler registry's.
//
// Invariants: flbs_ holds one Flb per registered lu_flb, with distinct
// compatibles; links_ holds distinct (handler, flb) pairs and each Flb's
// users counts its links; an Flb without links is kept only while busy.
// flbs_ owns its Flbs. chain_ has its first block from create() on, so head_phys() is constant.
class FlbRegistry {
public:
    static Result<FlbRegistry> create();
    FlbRegistry() : chain_(ChainKind::Flbs, FlbRecord::kSize) {}
    FlbRegistry(FlbRegistry&&) = default;
    ~FlbRegistry();

    // EINVAL bad compatible, EEXIST linked already or compatible taken.
    Status link(lu_handler* handler, lu_flb* flb);
    // ENOENT not linked, EBUSY while the FLB is preserved or retrieved.
    Status unlink(lu_handler* handler, lu_flb* flb);
    // The handler was unregistered (it has no files): drop its links.
    void unlink_all(lu_handler* handler);

    // A file of `handler` is being preserved / was unpreserved / finished.
    // file_preserved() is all or nothing.
    Status file_preserved(lu_handler* handler);
    void file_unpreserved(lu_handler* handler);
    void file_finished(lu_handler* handler);

    Result<void*> get_outgoing(lu_flb* flb);
    void put_outgoing(lu_flb* flb);
    Result<void*> get_incoming(lu_flb* flb);
    void put_incoming(lu_flb* flb);

    // The previous kernel's FLB chain (validated record by record).
    Status add_incoming(ConstByteSpan record);

    u64 head_phys() const { return chain_.head_phys(); }
    usize bytes() const { return chain_.bytes(); }
    void seal();

private:
    struct Link {
        lu_handler* handler;
        Flb* flb;
    };
    struct Incoming {
        char compatible[FlbRecord::kCompatibleCapacity];
        u64 data;
        u64 count;
    };

    explicit FlbRegistry(Mutex lock);
    Flb* find(lu_flb* flb);
    Flb* find(const char* compatible);
    void load_incoming(Flb& flb);
    void remove_link(usize index);
    void forget(Flb* flb);

    Mutex lock_;
    Vector<Flb*> flbs_;  // owned
    Vector<Link> links_;
    Vector<Incoming> incoming_;
    RecordChain chain_;
};

}  // namespace lu
