// Getting to the reboot: luoctl check, load and kexec.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kCheckCommand;
extern const Command kLoadCommand;
extern const Command kKexecCommand;

}  // namespace lu::luoctl
