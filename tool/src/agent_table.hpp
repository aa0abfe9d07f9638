// What the luoctl agent knows: its sessions, who owns them, their files. Pure bookkeeping, no
// system calls besides closing the session descriptors it owns, so the unit tests drive it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fd.hpp"
#include "protocol.hpp"
#include "result.hpp"

namespace lu::luoctl {

// The agent's own outgoing session, holding its registry (see encode_registry); never listed.
inline constexpr std::string_view kRegistrySession = "luoctl.agent";
// The registry's memfds: chunk i under token kRegistryToken + i, each kRegistryChunkBytes long
// (a preserved memfd's size is fixed; the registry grows by chunks), the text zero-padded.
inline constexpr std::uint64_t kRegistryToken = 1;
inline constexpr std::size_t kRegistryChunkBytes = 64 * 1024;
// What the next agent reads at most: 64 MiB, about a million sessions.
inline constexpr std::size_t kMaxRegistryChunks = 1024;

// One session the agent holds.
//
// Invariants: info.files == files.size() unless state is "delegated" (the client preserves
// through the session fd itself, the agent does not see its files) or "lost"; fd is valid except
// for a lost session (the kernel already unpreserved it).
struct AgentSession {
    protocol::SessionInfo info;
    std::vector<protocol::FileInfo> files;
    Fd fd;

    bool outgoing() const { return info.direction == "outgoing"; }
    protocol::FileInfo* file(std::uint64_t token);
};

// Sessions by name.
//
// Invariants: every key equals its session's info.name and satisfies is_agent_session_name.
// A client (uid) sees a session only if it owns it: lookups by another uid answer ENOENT, as if
// the session did not exist.
class AgentTable {
public:
    // The session name owned by uid; ENOENT if absent or owned by someone else.
    Result<AgentSession*> find(std::string_view name, uid_t uid);
    bool contains(std::string_view name) const { return sessions_.contains(std::string(name)); }
    AgentSession& insert(AgentSession session);
    void erase(std::string_view name);

    // What uid may see, in name order.
    std::vector<const AgentSession*> visible_to(uid_t uid) const;
    std::vector<const AgentSession*> all() const;
    // Outgoing sessions still preserved (not lost).
    std::size_t live_outgoing() const;

private:
    std::map<std::string, AgentSession, std::less<>> sessions_;
};

// The registry: what the agent preserves about its sessions in its own session (kRegistrySession,
// a memfd under kRegistryToken), so that the next kernel's agent knows which incoming sessions
// are whose and which files they hold. A protocol message "registry" with session= and file=
// fields (the list format) as a document (no datagram limit), written whole at every change.
std::string encode_registry(const AgentTable& table);
Result<std::vector<AgentSession>> decode_registry(std::string_view text);
// text cut into chunks of at most kRegistryChunkBytes, each ending at a line's end; joined in
// order, they are text again.
std::vector<std::string> registry_chunks(std::string_view text);

// The state file (the agent's socket path + ".state"): the running agent's pid, the boot it runs
// in (/proc/sys/kernel/random/boot_id: a kexec starts a new one) and its sessions with their
// files, rewritten at every change. If the agent dies, the file stays and names what the kernel
// unpreserved; `luoctl check` and the next agent read it. An agent stopped under systemd leaves
// its session fds in its fd store and says so (in_fd_store): then nothing was lost, and the next
// agent of the same boot takes them back. A protocol message "state".
struct AgentState {
    pid_t pid = 0;
    std::string boot_id;
    bool in_fd_store = false;
    std::vector<AgentSession> sessions;
};
std::string encode_state(const AgentState& header, const AgentTable& table);
Result<AgentState> decode_state(std::string_view text);

}  // namespace lu::luoctl
