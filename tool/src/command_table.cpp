#include "command_table.hpp"

#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "cmd_agent.hpp"
#include "cmd_help.hpp"
#include "cmd_inspect.hpp"
#include "cmd_kexec.hpp"
#include "cmd_retrieve.hpp"
#include "cmd_sessions.hpp"
#include "cmd_status.hpp"
#include "cmd_version.hpp"
#include "suggest.hpp"

namespace lu::luoctl {
namespace {

// To add a command, define its Command in cmd_<name>.cpp and list it here.
constinit const std::array<const Command*, 13> kCommands = {
    &kStatusCommand,  &kSessionsCommand, &kCheckCommand,    &kAgentCommand,  &kPreserveCommand,
    &kLoadCommand,    &kKexecCommand,    &kRetrieveCommand, &kFinishCommand, &kAbortCommand,
    &kInspectCommand, &kVersionCommand,  &kHelpCommand,
};

std::string quoted(std::string_view word) {
    return "'" + std::string(word) + "'";
}

Error unknown_command(std::span<const Command* const> commands, std::string_view name) {
    std::vector<std::string_view> names;
    for (const Command* command : commands) {
        names.push_back(command->name);
    }
    std::string message = "unknown command " + quoted(name);
    if (const std::optional<std::string_view> nearest = closest_match(name, names)) {
        message += "; did you mean " + quoted(*nearest) + "?";
    } else {
        message += "; see 'luoctl help'";
    }
    return Error(EINVAL, std::move(message));
}

Error ambiguous_command(std::string_view name, const std::vector<const Command*>& candidates) {
    std::string message = "ambiguous command " + quoted(name) + "; could be ";
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (i > 0) {
            message += i + 1 == candidates.size() ? " or " : ", ";
        }
        message += quoted(candidates[i]->name);
    }
    return Error(EINVAL, std::move(message));
}

}  // namespace

std::span<const Command* const> all_commands() {
    return kCommands;
}

Result<const Command*> find_command(std::span<const Command* const> commands,
                                    std::string_view name) {
    std::vector<const Command*> prefixed;
    const Command* spelled_out = nullptr;
    for (const Command* command : commands) {
        if (command->name == name) {
            return command;
        }
        // The empty word is a prefix of everything and a sensible abbreviation of nothing.
        if (name.empty() || !command->name.starts_with(name)) {
            continue;
        }
        if (command->spelled_out) {
            spelled_out = command;
        } else {
            prefixed.push_back(command);
        }
    }
    if (prefixed.size() == 1 && spelled_out == nullptr) {
        return prefixed.front();
    }
    if (prefixed.empty() && spelled_out != nullptr) {
        return Error(EINVAL, quoted(name) + " is not short for " + quoted(spelled_out->name) +
                                 ": it reboots or ends sessions, so spell it out");
    }
    if (prefixed.empty()) {
        return unknown_command(commands, name);
    }
    if (spelled_out != nullptr) {
        prefixed.push_back(spelled_out);
    }
    return ambiguous_command(name, prefixed);
}

}  // namespace lu::luoctl
