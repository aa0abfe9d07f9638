#include "cmd_version.hpp"

// The build passes the contents of the repository's VERSION file; only this file needs it, so a
// version bump rebuilds nothing else.
#ifndef LU_VERSION
#error "LU_VERSION must be defined by the build, from the VERSION file"
#endif

namespace lu::luoctl {
namespace {

Status run_version(const CommandContext& context) {
    if (context.json != nullptr) {
        context.json->key("version").string(LU_VERSION);
    } else {
        context.out << "luoctl " LU_VERSION "\n";
    }
    return {};
}

}  // namespace

constinit const Command kVersionCommand = {
    .name = "version",
    .synopsis = "",
    .summary = "Print the version of luoctl",
    .description = "Print 'luoctl VERSION'; 'luoctl --version' does the same.\n",
    .max_args = 0,
    .handler = run_version,
};

}  // namespace lu::luoctl
