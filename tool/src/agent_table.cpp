#include "agent_table.hpp"

#include <algorithm>
#include <cerrno>

namespace lu::luoctl {

using protocol::FileInfo;
using protocol::Message;
using protocol::SessionInfo;

protocol::FileInfo* AgentSession::file(std::uint64_t token) {
    for (FileInfo& f : files) {
        if (f.token == token) {
            return &f;
        }
    }
    return nullptr;
}

Result<AgentSession*> AgentTable::find(std::string_view name, uid_t uid) {
    const auto it = sessions_.find(name);
    if (it == sessions_.end() || it->second.info.uid != uid) {
        return Error(ENOENT, "no session '" + std::string(name) + "'");
    }
    return &it->second;
}

AgentSession& AgentTable::insert(AgentSession session) {
    const std::string name = session.info.name;
    sessions_.insert_or_assign(name, std::move(session));
    return sessions_.find(name)->second;
}

void AgentTable::erase(std::string_view name) {
    const auto it = sessions_.find(name);
    if (it != sessions_.end()) {
        sessions_.erase(it);
    }
}

std::vector<const AgentSession*> AgentTable::visible_to(uid_t uid) const {
    std::vector<const AgentSession*> visible;
    for (const auto& [name, session] : sessions_) {
        if (session.info.uid == uid) {
            visible.push_back(&session);
        }
    }
    return visible;
}

std::vector<const AgentSession*> AgentTable::all() const {
    std::vector<const AgentSession*> every;
    for (const auto& [name, session] : sessions_) {
        every.push_back(&session);
    }
    return every;
}

std::size_t AgentTable::live_outgoing() const {
    std::size_t count = 0;
    for (const auto& [name, session] : sessions_) {
        count += session.outgoing() && session.info.state != "lost";
    }
    return count;
}

Result<std::string> encode_registry(const AgentTable& table) {
    Message message("registry");
    for (const AgentSession* session : table.all()) {
        if (!session->outgoing() || session->info.state == "lost") {
            continue;
        }
        message.add("session", protocol::encode_session(session->info));
        for (const FileInfo& file : session->files) {
            message.add("file", protocol::encode_file(file));
        }
    }
    return protocol::encode(message);
}

Result<std::vector<AgentSession>> decode_registry(std::string_view text) {
    const Message message = LU_TRY(protocol::decode(text));
    if (message.verb() != "registry") {
        return Error(EBADMSG, "the agent registry is a '" + message.verb() + "' message");
    }
    std::vector<AgentSession> sessions;
    for (const std::string_view value : message.get_all("session")) {
        SessionInfo info = LU_TRY(protocol::decode_session(value));
        if (!protocol::is_agent_session_name(info.name)) {
            return Error(EBADMSG, "the agent registry names an invalid session '" + info.name + "'");
        }
        sessions.push_back(AgentSession{.info = std::move(info), .files = {}, .fd = Fd()});
    }
    for (const std::string_view value : message.get_all("file")) {
        FileInfo file = LU_TRY(protocol::decode_file(value));
        bool placed = false;
        for (AgentSession& session : sessions) {
            if (session.info.name == file.session) {
                session.files.push_back(std::move(file));
                placed = true;
                break;
            }
        }
        if (!placed) {
            return Error(EBADMSG, "the agent registry lists a file of an unknown session");
        }
    }
    return sessions;
}

Result<std::string> encode_state(const AgentState& header, const AgentTable& table) {
    Message message("state");
    message.add("pid", static_cast<std::uint64_t>(header.pid));
    message.add("boot_id", header.boot_id);
    message.add("in_fd_store", header.in_fd_store ? 1 : 0);
    for (const AgentSession* session : table.all()) {
        message.add("session", protocol::encode_session(session->info));
        for (const FileInfo& file : session->files) {
            message.add("file", protocol::encode_file(file));
        }
    }
    return protocol::encode(message);
}

Result<AgentState> decode_state(std::string_view text) {
    const Message message = LU_TRY(protocol::decode(text));
    if (message.verb() != "state") {
        return Error(EBADMSG, "the agent state file holds a '" + message.verb() + "' message");
    }
    AgentState state;
    state.pid = static_cast<pid_t>(LU_TRY(message.require_u64("pid")));
    state.boot_id = std::string(message.get("boot_id").value_or(""));
    state.in_fd_store = message.get("in_fd_store").value_or("0") == "1";
    for (const std::string_view value : message.get_all("session")) {
        SessionInfo info = LU_TRY(protocol::decode_session(value));
        state.sessions.push_back(AgentSession{.info = std::move(info), .files = {}, .fd = Fd()});
    }
    for (const std::string_view value : message.get_all("file")) {
        FileInfo file = LU_TRY(protocol::decode_file(value));
        auto owner =
            std::find_if(state.sessions.begin(), state.sessions.end(),
                         [&](const AgentSession& s) { return s.info.name == file.session; });
        if (owner == state.sessions.end()) {
            return Error(EBADMSG, "the agent state file lists a file of an unknown session");
        }
        owner->files.push_back(std::move(file));
    }
    return state;
}

}  // namespace lu::luoctl
