#include "args.hpp"

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "cmd_help.hpp"
#include "cmd_version.hpp"
#include "command_table.hpp"

namespace lu::luoctl {
namespace {

constexpr bool is_json_option(std::string_view arg) {
    return arg == "-j" || arg == "--json";
}
constexpr bool is_help_option(std::string_view arg) {
    return arg == "-h" || arg == "--help";
}
constexpr bool is_version_option(std::string_view arg) {
    return arg == "--version";
}

// "-" alone is an ordinary word, as it is for most tools (it often means standard input).
constexpr bool looks_like_option(std::string_view arg) {
    return arg.size() > 1 && arg.front() == '-';
}

Error usage_error(std::string message) {
    return Error(EINVAL, std::move(message));
}

}  // namespace

bool json_requested(std::span<const std::string_view> args) {
    return std::ranges::any_of(args, is_json_option);
}

Result<Invocation> parse_args(std::span<const std::string_view> args) {
    Invocation invocation;
    bool help_requested = false;
    std::vector<std::string_view> words;
    for (const std::string_view arg : args) {
        if (is_json_option(arg)) {
            invocation.json = true;
        } else if (is_help_option(arg)) {
            help_requested = true;
        } else if (is_version_option(arg)) {
            words.push_back(kVersionCommand.name);
        } else if (looks_like_option(arg)) {
            return usage_error("unknown option '" + std::string(arg) + "'");
        } else {
            words.push_back(arg);
        }
    }

    if (words.empty()) {
        if (!help_requested) {
            return usage_error("no command given; see 'luoctl help'");
        }
        invocation.command = &kHelpCommand;
        return invocation;
    }

    const Command* const command = LU_TRY(find_command(all_commands(), words.front()));
    const std::span<const std::string_view> operands = std::span(words).subspan(1);
    if (help_requested) {
        // Asking for help is never a usage error: the command's own arguments do not matter.
        invocation.command = &kHelpCommand;
        invocation.help_topic = command;
        return invocation;
    }
    if (operands.size() > command->max_args) {
        return usage_error("unexpected argument '" + std::string(operands[command->max_args]) +
                           "'; usage: " + usage_line(*command));
    }

    invocation.command = command;
    if (command == &kHelpCommand && !operands.empty()) {
        invocation.help_topic = LU_TRY(find_command(all_commands(), operands.front()));
    } else {
        invocation.args.assign(operands.begin(), operands.end());
    }
    return invocation;
}

}  // namespace lu::luoctl
