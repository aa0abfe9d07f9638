#include "args.hpp"

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "cli.hpp"
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
    // What follows "--" is a child's command line (luoctl retrieve -- cmd -j), not ours.
    const auto separator = std::ranges::find(args, std::string_view("--"));
    return std::any_of(args.begin(), separator, is_json_option);
}

Result<Invocation> parse_args(std::span<const std::string_view> args) {
    Invocation invocation;
    bool help_requested = false;
    bool saw_separator = false;
    std::vector<std::string_view> words;
    const Command* command = nullptr;  // known once the first word is read
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--" && command != nullptr && command->takes_command) {
            invocation.command_line.assign(args.begin() + i + 1, args.end());
            saw_separator = true;
            break;
        }
        if (is_json_option(arg)) {
            invocation.json = true;
        } else if (is_help_option(arg)) {
            help_requested = true;
        } else if (is_version_option(arg)) {
            words.push_back(kVersionCommand.name);
        } else if (looks_like_option(arg)) {
            const std::size_t equals = arg.find('=');
            const std::string_view name = arg.substr(0, equals);
            const OptionSpec* spec = nullptr;
            if (command != nullptr) {
                for (const OptionSpec& candidate : command->options) {
                    if (candidate.name == name) {
                        spec = &candidate;
                    }
                }
            }
            if (spec == nullptr) {
                return usage_error("unknown option '" + std::string(arg) + "'");
            }
            if (invocation.option(name)) {
                return usage_error("option '" + std::string(name) + "' given twice");
            }
            std::string_view value;
            if (spec->value_name.empty()) {
                if (equals != std::string_view::npos) {
                    return usage_error("option '" + std::string(name) + "' takes no value");
                }
            } else if (equals != std::string_view::npos) {
                value = arg.substr(equals + 1);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return usage_error("option '" + std::string(name) + "' needs a value (" +
                                   std::string(spec->value_name) + ")");
            }
            invocation.options.emplace_back(name, value);
        } else {
            words.push_back(arg);
            if (command == nullptr) {
                command = LU_TRY(find_command(all_commands(), arg));
            }
        }
    }

    if (words.empty()) {
        if (!help_requested) {
            return usage_error("no command given; see 'luoctl help'");
        }
        invocation.command = &kHelpCommand;
        invocation.options.clear();
        return invocation;
    }

    command = LU_TRY(find_command(all_commands(), words.front()));
    const std::span<const std::string_view> operands = std::span(words).subspan(1);
    if (help_requested) {
        // Asking for help is never a usage error: the command's own arguments do not matter.
        invocation.command = &kHelpCommand;
        invocation.help_topic = command;
        invocation.options.clear();
        invocation.command_line.clear();
        return invocation;
    }
    if (operands.size() > command->max_args) {
        return usage_error("unexpected argument '" + std::string(operands[command->max_args]) +
                           "'; usage: " + usage_line(*command));
    }
    if (command->takes_command && ((!saw_separator && !command->command_optional) ||
                                   (saw_separator && invocation.command_line.empty()))) {
        return usage_error("missing '-- COMMAND'; usage: " + usage_line(*command));
    }

    invocation.command = command;
    if (command == &kHelpCommand && !operands.empty()) {
        invocation.help_topic = LU_TRY(find_command(all_commands(), operands.front()));
    } else {
        invocation.args.assign(operands.begin(), operands.end());
    }
    // An option several commands share is checked here, once.
    if (invocation.option(kTimeoutOption.name)) {
        const Result<std::uint64_t> seconds =
            number_option(invocation, kTimeoutOption.name, 0, kMaxTimeoutSeconds);
        if (!seconds.ok()) {
            return usage_error(seconds.error().message() + "; usage: " + usage_line(*command));
        }
    }
    if (command->validate != nullptr) {
        const Status valid = command->validate(invocation);
        if (!valid.ok()) {
            return usage_error(valid.error().message() + "; usage: " + usage_line(*command));
        }
    }
    return invocation;
}

}  // namespace lu::luoctl
