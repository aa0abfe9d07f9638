// Running luoctl inside a test: the arguments go to run(), the output comes back as strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lu::luoctl::test {

struct Outcome {
    int exit_status;
    std::string out;
    std::string err;
};

// sysfs_root defaults to a directory that does not exist, so that no test reads the host's /sys.
Outcome run_luoctl(const std::vector<std::string_view>& args,
                   std::string_view sysfs_root = "/nonexistent/luoctl-unit-root");

}  // namespace lu::luoctl::test
