// Getting to the reboot: luoctl check, load and kexec.
#pragma once

#include <string>
#include <string_view>

#include "command.hpp"

namespace lu::luoctl {

extern const Command kCheckCommand;
extern const Command kLoadCommand;
extern const Command kKexecCommand;

// The running kernel's command line as --reuse-cmdline passes it on: without the boot loader's
// BOOT_IMAGE= word (it names the old image), as kexec(8) does. Words are split on spaces outside
// double quotes, and the others are kept as they are.
std::string reusable_cmdline(std::string_view cmdline);

}  // namespace lu::luoctl
