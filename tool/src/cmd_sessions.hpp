// The agent's clients: luoctl preserve, sessions, retrieve, finish, abort.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kPreserveCommand;
extern const Command kSessionsCommand;
extern const Command kRetrieveCommand;
extern const Command kFinishCommand;
extern const Command kAbortCommand;

}  // namespace lu::luoctl
