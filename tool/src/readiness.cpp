#include "readiness.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent_lock.hpp"
#include "agent_table.hpp"
#include "cli.hpp"
#include "transport.hpp"

namespace lu::luoctl {
namespace {

std::optional<AgentState> read_state_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    Result<AgentState> state = decode_state(text.str());
    if (!state.ok()) {
        return std::nullopt;
    }
    return std::move(state).value();
}

Result<ModStatus> status_from_reply(const protocol::Message& reply) {
    ModStatus status;
    status.ready = LU_TRY(reply.require_u64("ready")) != 0;
    status.generation = LU_TRY(reply.require_u64("generation"));
    status.outgoing_sessions = LU_TRY(reply.require_u64("outgoing_sessions"));
    status.outgoing_files = LU_TRY(reply.require_u64("outgoing_files"));
    status.incoming_sessions = LU_TRY(reply.require_u64("incoming_sessions"));
    status.incoming_files = LU_TRY(reply.require_u64("incoming_files"));
    status.metadata_bytes = LU_TRY(reply.require_u64("metadata_bytes"));
    status.first_error = -static_cast<int>(LU_TRY(reply.require_u64("first_error")));
    status.failed_token = LU_TRY(reply.require_u64("failed_token"));
    status.failed_session = std::string(reply.get("failed_session").value_or(""));
    return status;
}

}  // namespace

std::uint64_t Readiness::outgoing_sessions() const {
    if (!module) {
        return 0;
    }
    return module->outgoing_sessions - std::min(registry_sessions, module->outgoing_sessions);
}

std::uint64_t Readiness::outgoing_files() const {
    if (!module) {
        return 0;
    }
    return module->outgoing_files - std::min(registry_files, module->outgoing_files);
}

bool status_unsupported(const Readiness& readiness) {
    return !readiness.module && readiness.module_error &&
           readiness.module_error->errnum() == EINVAL;
}

std::string errno_text(int negative_errno) {
    const int errnum = -negative_errno;
    const char* name = strerrorname_np(errnum);
    return "errno " + std::to_string(errnum) + " (" + (name != nullptr ? name : "?") + ": " +
           std::strerror(errnum) + ")";
}

Readiness read_readiness(const CommandContext& context) {
    Readiness readiness;
    const std::string socket = agent_socket(context);
    const Result<protocol::Received> reply =
        protocol::call(agent_address(context), protocol::Message(protocol::kStatus));
    if (reply.ok()) {
        const protocol::Message& message = reply.value().message;
        readiness.agent_pid =
            static_cast<pid_t>(protocol::parse_u64(message.get("agent_pid").value_or("0")).value_or(0));
        const std::optional<std::uint64_t> module_errno =
            protocol::parse_u64(message.get("module_errno").value_or(""));
        if (module_errno && *module_errno >= 1 && *module_errno <= Error::kMaxErrno) {
            readiness.module_error = Error(static_cast<int>(*module_errno),
                                           std::string(message.get("module_error").value_or("")));
        } else if (Result<ModStatus> status = status_from_reply(message); status.ok()) {
            readiness.module = std::move(status).value();
        } else {
            readiness.module_error = status.error();
        }
        readiness.held_sessions = protocol::parse_u64(message.get("held_sessions").value_or(""));
        const auto count = [&](std::string_view key) {
            return protocol::parse_u64(message.get(key).value_or("0")).value_or(0);
        };
        readiness.held_files = count("held_files");
        readiness.held_incoming_sessions = count("held_incoming_sessions");
        readiness.held_incoming_files = count("held_incoming_files");
        // Absent from an agent that predates them: then nothing is subtracted.
        readiness.registry_sessions =
            protocol::parse_u64(message.get("registry_sessions").value_or("0")).value_or(0);
        readiness.registry_files =
            protocol::parse_u64(message.get("registry_files").value_or("0")).value_or(0);
        if (const std::optional<std::string_view> error = message.get("registry_error")) {
            readiness.registry_error = std::string(*error);
        }
        for (const std::string_view name : message.get_all("lost")) {
            readiness.lost.emplace_back(name);
        }
        return readiness;
    }
    const int call_errno = reply.error().errnum();
    if (call_errno != ENOENT && call_errno != ECONNREFUSED) {
        // An agent is there but failed (e.g. MOD_STATUS refused): its word is the answer.
        readiness.agent_error = reply.error();
        readiness.module_error = reply.error();
        return readiness;
    }

    if (const std::optional<AgentState> state = read_state_file(socket + ".state")) {
        // Stopped under systemd, an agent leaves its sessions in its fd store: nothing is lost.
        if (!agent_lock_held(agent_lock_path(socket)) && !state->in_fd_store) {
            readiness.dead_agent_pid = state->pid;
            for (const AgentSession& session : state->sessions) {
                if (session.outgoing()) {
                    readiness.lost.push_back(session.info.name);
                }
            }
        }
    }
    const std::string device = context.environment.sysfs_root == "/"
                                   ? std::string(kLiveUpdateDevice)
                                   : context.environment.sysfs_root + std::string(kLiveUpdateDevice);
    Result<Fd> fd = open_device(device);
    if (!fd.ok()) {
        if (fd.error().errnum() == EBUSY) {
            readiness.module_error =
                Error(EBUSY, device + " is held by a process other than the luoctl agent");
        } else {
            readiness.module_error = fd.error();
        }
        return readiness;
    }
    Result<ModStatus> status = mod_status(fd.value().get());
    if (status.ok()) {
        readiness.module = std::move(status).value();
    } else {
        readiness.module_error = status.error();
    }
    return readiness;
}

}  // namespace lu::luoctl
