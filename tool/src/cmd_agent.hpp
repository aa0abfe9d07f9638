// luoctl agent: the process that owns /dev/liveupdate and the sessions until the reboot.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kAgentCommand;

}  // namespace lu::luoctl
