// SPDX-License-Identifier: GPL-2.0
// The glue -> core entry points declared in glue/lu_glue.h. Errors become a
// negative errno here and nowhere else.
#include "lu/text.hpp"
#include "lu_glue.h"
#include "orchestrator.hpp"

#include "lu/enforce.h"

// Boundary: struct lu_core is the glue's opaque name for the Orchestrator.
struct lu_core {
    lu::Own<lu::Orchestrator> orchestrator;
};

namespace {

lu::Orchestrator& orchestrator_of(const lu_core* core) {
    return *core->orchestrator;
}

}  // namespace

extern "C" int lu_core_create(lu_core** out) {
    auto created = lu::Orchestrator::create();
    if (!created.is_ok())
        return created.error().to_errno();
    lu_core* core = new lu_core{created.release_value()};
    if (core == nullptr)
        return -lu::errc::kNoMem;
    *out = core;

    const lu::IncomingHandover& incoming = core->orchestrator->incoming();
    char status[128];
    lu::TextBuffer text(status, sizeof(status));
    incoming.describe(text);
    lu_log(incoming.kind == lu::IncomingKind::Rejected || incoming.kind == lu::IncomingKind::Failed
               ? LU_LOG_ERR
               : LU_LOG_INFO,
           "generation %llu, incoming handover: %s",
           static_cast<unsigned long long>(core->orchestrator->generation()), status);
    return 0;
}

extern "C" void lu_core_destroy(lu_core* core) {
    delete core;
}

extern "C" uint64_t lu_core_generation(const lu_core* core) {
    return orchestrator_of(core).generation();
}

extern "C" size_t lu_core_handover_status(const lu_core* core, char* buf, size_t len) {
    lu::TextBuffer text(buf, len);
    orchestrator_of(core).incoming().describe(text);
    return text.length();
}

extern "C" void lu_core_seal(lu_core* core) {
    orchestrator_of(core).seal();
}
