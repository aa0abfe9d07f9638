#include "cmd_help.hpp"

#include <algorithm>
#include <span>
#include <string>

#include "command_table.hpp"

namespace lu::luoctl {
namespace {

void print_command_help(const Command& command, std::ostream& out) {
    out << "Usage: " << usage_line(command) << "\n\n" << command.description;
}

// In JSON mode help lists the commands, so that scripts and shell completion can learn them from
// luoctl itself instead of parsing text.
void write_commands_json(std::span<const Command* const> commands, JsonWriter& json) {
    json.key("commands").begin_array();
    for (const Command* command : commands) {
        json.begin_object();
        json.key("name").string(command->name);
        json.key("usage").string(usage_line(*command));
        json.key("summary").string(command->summary);
        json.end_object();
    }
    json.end_array();
}

Status run_help(const CommandContext& context) {
    const Command* topic = context.invocation.help_topic;
    if (context.json != nullptr) {
        write_commands_json(
            topic != nullptr ? std::span<const Command* const>(&topic, 1) : all_commands(),
            *context.json);
    } else if (topic != nullptr) {
        print_command_help(*topic, context.out);
    } else {
        print_usage(context.out);
    }
    return {};
}

}  // namespace

constinit const Command kHelpCommand = {
    .name = "help",
    .synopsis = "[COMMAND]",
    .summary = "Show how to use luoctl or one of its commands",
    .description =
        "Without COMMAND, list the commands and options of luoctl. With COMMAND, show\n"
        "how to call it; 'luoctl COMMAND --help' does the same.\n",
    .max_args = 1,
    .handler = run_help,
};

void print_usage(std::ostream& out) {
    out << "Usage: luoctl [-j|--json] COMMAND [ARGUMENTS]\n"
           "\n"
           "Inspect and drive the Live Update Orchestrator behind /dev/liveupdate.\n"
           "\n"
           "Commands:\n";
    std::size_t name_width = 0;
    for (const Command* command : all_commands()) {
        name_width = std::max(name_width, command->name.size());
    }
    for (const Command* command : all_commands()) {
        const std::string padding(name_width - command->name.size() + 3, ' ');
        out << "  " << command->name << padding << command->summary << '\n';
    }
    out << "\n"
           "Options:\n"
           "  -j, --json     print one JSON object on standard output, errors included\n"
           "  -h, --help     show this help; after a command, that command's help\n"
           "      --version  print the version of luoctl\n"
           "\n"
           "Commands that ask the agent also take --socket PATH (else $LUOCTL_SOCKET, else\n"
           "/run/luoctl.sock) and --timeout SECONDS (else $LUOCTL_TIMEOUT, else 30; 0 waits\n"
           "for ever).\n"
           "\n"
           "A command may be shortened to any prefix that no other command shares, except\n"
           "kexec, finish and abort, which are always spelled out.\n"
           "Exit status: 0 success, 1 failure, 2 usage error.\n";
}

}  // namespace lu::luoctl
