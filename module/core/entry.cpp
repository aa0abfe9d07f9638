// SPDX-License-Identifier: GPL-2.0
// The glue -> core entry points declared in glue/lu_glue.h. Errors become a
// negative errno here and nowhere else.
#include "lu/text.hpp"
#include "lu_glue.h"
#include "orchestrator.hpp"

#include "lu/enforce.h"

// Boundary: struct lu_core is the glue's opaque name for the Orchestrator,
// struct lu_session for a Session; the glue hands back only pointers the
// core gave it, valid until the matching destroy/release call.
struct lu_core {
    lu::Own<lu::Orchestrator> orchestrator;
};

namespace {

lu::Orchestrator& orchestrator_of(const lu_core* core) { return *core->orchestrator; }
lu::Session* session_of(lu_session* session) { return reinterpret_cast<lu::Session*>(session); }
const lu::Session* session_of(const lu_session* session) {
    return reinterpret_cast<const lu::Session*>(session);
}
lu_session* handle_of(lu::Session* session) { return reinterpret_cast<lu_session*>(session); }

int to_errno(const lu::Status& status) { return status.is_ok() ? 0 : status.error().to_errno(); }

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

extern "C" void lu_core_destroy(lu_core* core) { delete core; }

extern "C" uint64_t lu_core_generation(const lu_core* core) {
    return orchestrator_of(core).generation();
}

extern "C" size_t lu_core_handover_status(const lu_core* core, char* buf, size_t len) {
    lu::TextBuffer text(buf, len);
    orchestrator_of(core).describe_incoming(text);
    return text.length();
}

extern "C" void lu_core_seal(lu_core* core) { orchestrator_of(core).seal(); }

extern "C" int lu_core_open(lu_core* core) { return to_errno(orchestrator_of(core).open()); }

extern "C" int lu_core_create_session(lu_core* core, const uint8_t* name, lu_session** out) {
    auto session = orchestrator_of(core).create_session(name);
    if (!session.is_ok())
        return session.error().to_errno();
    *out = handle_of(session.value());
    return 0;
}

extern "C" int lu_core_retrieve_session(lu_core* core, const uint8_t* name, lu_session** out) {
    auto session = orchestrator_of(core).retrieve_session(name);
    if (!session.is_ok())
        return session.error().to_errno();
    *out = handle_of(session.value());
    return 0;
}

extern "C" void lu_core_unretrieve_session(lu_core* core, lu_session* session) {
    orchestrator_of(core).unretrieve_session(session_of(session));
}

extern "C" void lu_core_release_session(lu_core* core, lu_session* session) {
    orchestrator_of(core).release_session(session_of(session));
}

extern "C" const char* lu_core_session_name(const lu_session* session) {
    return session_of(session)->name().c_str();
}

extern "C" bool lu_core_session_incoming(const lu_session* session) {
    return session_of(session)->is_incoming();
}

extern "C" int lu_core_preserve_fd(lu_core* core, lu_session* session, int fd, uint64_t token) {
    return to_errno(orchestrator_of(core).preserve(session_of(session), fd, token));
}

extern "C" int lu_core_retrieve_fd(lu_core* core, lu_session* session, uint64_t token,
                                   lu_file** out) {
    auto file = orchestrator_of(core).retrieve_file(session_of(session), token);
    if (!file.is_ok())
        return file.error().to_errno();
    *out = file.value();
    return 0;
}

extern "C" int lu_core_finish(lu_core* core, lu_session* session) {
    return to_errno(orchestrator_of(core).finish(session_of(session)));
}

extern "C" void lu_core_status(lu_core* core, lu_status* out) {
    lu::HandoverStatus status = orchestrator_of(core).status();
    out->generation = status.generation;
    out->outgoing_sessions = status.outgoing_sessions;
    out->outgoing_files = status.outgoing_files;
    out->incoming_sessions = status.incoming_sessions;
    out->incoming_files = status.incoming_files;
    out->metadata_bytes = status.metadata_bytes;
    out->first_error = to_errno(status.first_error);
    out->failed_token = status.failed_token;
    for (lu::usize i = 0; i < sizeof(out->failed_session); i++)
        out->failed_session[i] = status.failed_session.c_str()[i];
}

extern "C" int lu_core_register_handler(lu_core* core, lu_handler* handler) {
    return to_errno(orchestrator_of(core).handlers().add(handler));
}

extern "C" int lu_core_unregister_handler(lu_core* core, lu_handler* handler) {
    return to_errno(orchestrator_of(core).unregister_handler(handler));
}

extern "C" int lu_core_register_flb(lu_core* core, lu_handler* handler, lu_flb* flb) {
    return to_errno(orchestrator_of(core).register_flb(handler, flb));
}

extern "C" int lu_core_unregister_flb(lu_core* core, lu_handler* handler, lu_flb* flb) {
    return to_errno(orchestrator_of(core).flbs().unlink(handler, flb));
}

extern "C" int lu_core_flb_get_incoming(lu_core* core, lu_flb* flb, void** obj) {
    auto got = orchestrator_of(core).flbs().get_incoming(flb);
    if (!got.is_ok())
        return got.error().to_errno();
    *obj = got.value();
    return 0;
}

extern "C" void lu_core_flb_put_incoming(lu_core* core, lu_flb* flb) {
    orchestrator_of(core).flbs().put_incoming(flb);
}

extern "C" int lu_core_flb_get_outgoing(lu_core* core, lu_flb* flb, void** obj) {
    auto got = orchestrator_of(core).flbs().get_outgoing(flb);
    if (!got.is_ok())
        return got.error().to_errno();
    *obj = got.value();
    return 0;
}

extern "C" void lu_core_flb_put_outgoing(lu_core* core, lu_flb* flb) {
    orchestrator_of(core).flbs().put_outgoing(flb);
}

extern "C" int lu_core_session_token_outgoing(lu_session* session, lu_file* file,
                                              uint64_t* token) {
    auto found = session_of(session)->token_of(file);
    if (!found.is_ok())
        return found.error().to_errno();
    *token = found.value();
    return 0;
}

extern "C" int lu_core_session_file_incoming(lu_session* session, uint64_t token,
                                             lu_file** file) {
    auto found = session_of(session)->file_of(token);
    if (!found.is_ok())
        return found.error().to_errno();
    *file = found.value();
    return 0;
}

// Boundary: `pending` is the PreservedFile the core put into the call block
// of the preserve op that is running; the glue passes it back unchanged.
extern "C" int lu_core_declare_dependency(void* pending, lu_file* dep) {
    if (pending == nullptr)
        return -lu::errc::kInval;
    return to_errno(static_cast<lu::PreservedFile*>(pending)->declare_dependency(dep));
}
