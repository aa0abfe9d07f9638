// luoctl: the command-line tool of the liveupdate module. Everything but reading the process's
// arguments and environment is in run(), where the unit tests can reach it.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include "luoctl.hpp"

int main(int argc, char* argv[]) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    lu::luoctl::Environment environment;
    if (const char* root = std::getenv("LUOCTL_SYSFS_ROOT"); root != nullptr && *root != '\0') {
        environment.sysfs_root = root;
    }
    if (const char* socket = std::getenv("LUOCTL_SOCKET"); socket != nullptr && *socket != '\0') {
        environment.agent_socket = socket;
    }
    if (const char* timeout = std::getenv("LUOCTL_TIMEOUT"); timeout != nullptr) {
        const std::optional<unsigned> seconds = lu::luoctl::parse_timeout(timeout);
        if (!seconds) {
            std::cerr << "luoctl: LUOCTL_TIMEOUT must be 0 to 86400 seconds, not '" << timeout
                      << "'\n";
            return 2;
        }
        environment.agent_timeout_seconds = *seconds;
    }
    return lu::luoctl::run(args, environment, std::cout, std::cerr);
}
