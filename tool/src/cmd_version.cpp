#include "cmd_version.hpp"

#include <string>

#include "protocol.hpp"
#include "version.hpp"

namespace lu::luoctl {
namespace {

Status run_version(const CommandContext& context) {
    if (context.json != nullptr) {
        context.json->key("version").string(luoctl_version());
        context.json->key("protocol").number(protocol::kVersion);
        context.json->key("uapi").string(kUapiVersion);
        context.json->key("uapi_extensions").string(kUapiExtensions);
    } else {
        context.out << "luoctl " << luoctl_version() << '\n'
                    << "agent protocol " << protocol::kVersion << '\n'
                    << "uapi " << kUapiVersion << " (the in-kernel LUO's ioctls; module extension: "
                    << kUapiExtensions << ")\n";
    }
    return {};
}

}  // namespace

constinit const Command kVersionCommand = {
    .name = "version",
    .synopsis = "",
    .summary = "Print the version of luoctl",
    .description =
        "Print 'luoctl VERSION', the agent protocol version it speaks and the uAPI it was\n"
        "built for; 'luoctl --version' does the same. 'luoctl status' compares VERSION with\n"
        "the loaded module's.\n",
    .max_args = 0,
    .handler = run_version,
};

}  // namespace lu::luoctl
