// Whether an agent is alive, asked of the kernel rather than of a pid: the agent holds an flock on
// SOCKET.lock for as long as it runs, and the kernel drops it when the agent exits, however it
// exits. A pid in the state file can be reused by any process (kill(pid, 0) then says "alive").
#pragma once

#include <string>

#include "fd.hpp"
#include "result.hpp"

namespace lu::luoctl {

// The agent's lock file beside its socket.
std::string agent_lock_path(const std::string& socket_path);

// Takes the lock for this process's lifetime (keep the Fd): EADDRINUSE if another agent holds it.
Result<Fd> take_agent_lock(const std::string& lock_path);

// Whether some process holds the lock now (false if the file does not exist).
bool agent_lock_held(const std::string& lock_path);

}  // namespace lu::luoctl
