// Is the handover ready for a kexec? What the agent (or, without one, the device) says, and what
// a dead agent left behind. Shared by luoctl status, check and kexec.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "liveupdate.hpp"
#include "result.hpp"

namespace lu::luoctl {

// Invariants: module is set when the module answered MOD_STATUS (through the agent or
// directly), otherwise module_error says why not. agent_pid is set when an agent answered.
// lost lists outgoing sessions a dead agent held (the kernel unpreserved them).
//
// The module's counts include the agent's own bookkeeping session (kRegistrySession, one memfd)
// whenever the agent holds outgoing sessions; registry_sessions and registry_files say how much
// of them is the agent's (0 without an agent), and outgoing_sessions()/outgoing_files() are the
// counts without it, the ones a person asked for.
struct Readiness {
    std::optional<ModStatus> module;
    std::optional<Error> module_error;
    std::optional<pid_t> agent_pid;
    // An agent was reached but its status failed (an error reply, or no reply in time).
    std::optional<Error> agent_error;
    std::optional<pid_t> dead_agent_pid;  // from a state file whose agent is gone
    std::vector<std::string> lost;
    std::uint64_t registry_sessions = 0;
    std::uint64_t registry_files = 0;
    // Why the agent's registry misses its last change (then the next kernel's agent would not
    // know whose the sessions are).
    std::optional<std::string> registry_error;
    // What the agent holds by its own count (outgoing, not lost): all there is to know where the
    // kernel cannot be asked (the in-kernel LUO has no MOD_STATUS).
    std::optional<std::uint64_t> held_sessions;
    std::uint64_t held_files = 0;
    std::uint64_t held_incoming_sessions = 0;
    std::uint64_t held_incoming_files = 0;

    // The module's outgoing counts less the registry's (0 without a module status).
    std::uint64_t outgoing_sessions() const;
    std::uint64_t outgoing_files() const;
};

// Asks the agent at socket; without one, opens the device under root itself (state_path is the
// agent's state file, read for a dead agent's sessions).
Readiness read_readiness(const CommandContext& context);

// On the in-kernel LUO: true when module_error says that it has no MOD_STATUS (it answers an
// ioctl number it does not know with EINVAL).
bool status_unsupported(const Readiness& readiness);

// "errno 16 (EBUSY)"-style text for a module's negative errno.
std::string errno_text(int negative_errno);

}  // namespace lu::luoctl
