#include "luoctl_runner.hpp"

#include <sstream>

#include "luoctl.hpp"

namespace lu::luoctl::test {

Outcome run_luoctl(const std::vector<std::string_view>& args, std::string_view sysfs_root) {
    // The agent socket and run directory live under the root too: no test talks to a real agent.
    const Environment environment{.sysfs_root = std::string(sysfs_root),
                                  .agent_socket = std::string(sysfs_root) + "/run/luoctl.sock",
                                  .run_dir = std::string(sysfs_root) + "/run"};
    std::ostringstream out;
    std::ostringstream err;
    const int exit_status = run(args, environment, out, err);
    return {.exit_status = exit_status, .out = out.str(), .err = err.str()};
}

}  // namespace lu::luoctl::test
