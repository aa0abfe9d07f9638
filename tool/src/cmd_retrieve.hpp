// luoctl retrieve: a file (or session) that came through the live update, given to a command
// or handed to a Unix socket.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kRetrieveCommand;

}  // namespace lu::luoctl
