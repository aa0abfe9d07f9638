// luoctl help [COMMAND]: how to use luoctl or one of its commands.
#pragma once

#include <ostream>

#include "command.hpp"

namespace lu::luoctl {

extern const Command kHelpCommand;

// Writes luoctl's usage: synopsis, the command list, options and exit statuses.
void print_usage(std::ostream& out);

}  // namespace lu::luoctl
