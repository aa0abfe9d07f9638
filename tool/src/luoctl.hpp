// The luoctl program without its process setup: parse the command line, run the command, report
// errors, choose the exit status. main() passes the real streams and environment; the unit tests
// pass string streams and a fake sysfs root.
#pragma once

#include <optional>
#include <ostream>
#include <span>
#include <string_view>

#include "command.hpp"

namespace lu::luoctl {

enum ExitStatus : int {
    kExitSuccess = 0,
    kExitFailure = 1,  // the command ran and failed
    kExitUsage = 2,    // the command line was wrong; nothing ran
};

// Runs luoctl with args, the arguments after argv[0]. Errors go to err as "luoctl: MESSAGE"; in
// JSON mode out also receives exactly one JSON object, which carries "error" and "errno" members
// when something failed.
int run(std::span<const std::string_view> args, const Environment& environment, std::ostream& out,
        std::ostream& err);

// $LUOCTL_TIMEOUT: whole seconds, 0 to 86400.
std::optional<unsigned> parse_timeout(std::string_view text);

}  // namespace lu::luoctl
