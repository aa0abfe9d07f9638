// The agent's clients: luoctl preserve, sessions, finish, abort (retrieve: cmd_retrieve.hpp).
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kPreserveCommand;
extern const Command kSessionsCommand;
extern const Command kFinishCommand;
extern const Command kAbortCommand;

}  // namespace lu::luoctl
