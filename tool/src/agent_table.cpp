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

namespace {

// The session= and file= fields of a list, a registry or a state file; every file follows its
// session's entry. what names the text in errors.
Result<std::vector<AgentSession>> decode_sessions(const Message& message, std::string_view what) {
    std::vector<AgentSession> sessions;
    std::map<std::string, std::size_t, std::less<>> index;
    for (const std::string_view value : message.get_all("session")) {
        SessionInfo info = LU_TRY(protocol::decode_session(value));
        if (!index.emplace(info.name, sessions.size()).second) {
            return Error(EBADMSG, std::string(what) + " lists session '" + info.name + "' twice");
        }
        sessions.push_back(AgentSession{.info = std::move(info), .files = {}, .fd = Fd()});
    }
    for (const std::string_view value : message.get_all("file")) {
        FileInfo file = LU_TRY(protocol::decode_file(value));
        const auto owner = index.find(file.session);
        if (owner == index.end()) {
            return Error(EBADMSG, std::string(what) + " lists a file of an unknown session");
        }
        sessions[owner->second].files.push_back(std::move(file));
    }
    return sessions;
}

}  // namespace

std::string encode_registry(const AgentTable& table) {
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
    return protocol::encode_document(message);
}

std::vector<std::string> registry_chunks(std::string_view text) {
    std::vector<std::string> chunks;
    while (!text.empty()) {
        std::size_t take = std::min(text.size(), kRegistryChunkBytes);
        if (take < text.size()) {
            // Cut after the last whole line that fits; a line longer than a chunk is cut anywhere
            // (encode_registry writes none: names and numbers are short).
            const std::size_t newline = text.rfind('\n', take - 1);
            if (newline != std::string_view::npos) {
                take = newline + 1;
            }
        }
        chunks.emplace_back(text.substr(0, take));
        text.remove_prefix(take);
    }
    return chunks;
}

Result<std::vector<AgentSession>> decode_registry(std::string_view text) {
    const Message message = LU_TRY(protocol::decode_document(text));
    if (message.verb() != "registry") {
        return Error(EBADMSG, "the agent registry is a '" + message.verb() + "' message");
    }
    std::vector<AgentSession> sessions = LU_TRY(decode_sessions(message, "the agent registry"));
    for (const AgentSession& session : sessions) {
        if (!protocol::is_agent_session_name(session.info.name)) {
            return Error(EBADMSG,
                         "the agent registry names an invalid session '" + session.info.name + "'");
        }
    }
    return sessions;
}

std::string encode_state(const AgentState& header, const AgentTable& table) {
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
    return protocol::encode_document(message);
}

Result<AgentState> decode_state(std::string_view text) {
    const Message message = LU_TRY(protocol::decode_document(text));
    if (message.verb() != "state") {
        return Error(EBADMSG, "the agent state file holds a '" + message.verb() + "' message");
    }
    AgentState state;
    state.pid = static_cast<pid_t>(LU_TRY(message.require_u64("pid")));
    state.boot_id = std::string(message.get("boot_id").value_or(""));
    state.in_fd_store = message.get("in_fd_store").value_or("0") == "1";
    state.sessions = LU_TRY(decode_sessions(message, "the agent state file"));
    return state;
}

}  // namespace lu::luoctl
