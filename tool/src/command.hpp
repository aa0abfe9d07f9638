// What a luoctl command is, and what its handler receives.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "result.hpp"

namespace lu::luoctl {

struct CommandContext;

// Runs one command. A handler reports failure by returning an Error; the dispatcher prints it,
// adds it to the JSON object in JSON mode, and exits 1. A failing handler may still have written
// output: status shows the state it found before reporting that liveupdate is unavailable.
using Handler = Status (*)(const CommandContext& context);

struct Invocation;

// An option of one command ("--session NAME"), accepted after the command's name only.
// Spelled "--name VALUE" or "--name=VALUE"; value_name is empty for a flag ("--detach").
struct OptionSpec {
    std::string_view name;        // with the dashes: "--session"
    std::string_view value_name;  // "NAME", or empty for a flag
};

// Checks what parse_args cannot know generically (required options, numbers, exclusive
// choices). Its error is a usage error (exit 2), like every other one parse_args reports.
using Validator = Status (*)(const Invocation& invocation);

// One entry of the command table; each is defined next to its handler in cmd_<name>.cpp.
struct Command {
    std::string_view name;
    std::string_view synopsis;     // what follows the name in the usage line, e.g. "[COMMAND]"
    std::string_view summary;      // one line, for the command list
    std::string_view description;  // a paragraph, for `luoctl help NAME`
    std::size_t max_args;          // positional arguments accepted
    Handler handler;
    std::span<const OptionSpec> options = {};
    bool takes_command = false;  // "-- COMMAND [ARG...]" follows (luoctl retrieve)
    // With takes_command: "-- COMMAND" may be left out, and validate decides when it may.
    bool command_optional = false;
    Validator validate = nullptr;
    // Reboots or ends sessions: reached by its full name only, never by an abbreviation.
    bool spelled_out = false;
};

// The command line, parsed: which command runs, and with what.
//
// Invariants, once parse_args() succeeded: command is not null; args.size() <= command->max_args;
// help_topic is null unless command is the help command, whose argument it replaces.
struct Invocation {
    const Command* command = nullptr;
    std::vector<std::string_view> args;
    const Command* help_topic = nullptr;  // the command to describe; null: describe luoctl
    bool json = false;
    // The command's options as given, each at most once; a flag has an empty value.
    std::vector<std::pair<std::string_view, std::string_view>> options;
    // After "--", for a command that takes_command: the command line to run (not empty), or
    // empty if the command's command_optional let "--" be left out.
    std::vector<std::string_view> command_line;

    std::optional<std::string_view> option(std::string_view name) const;
    bool flag(std::string_view name) const { return option(name).has_value(); }
};

// What luoctl takes from its process environment; tests build one by hand.
struct Environment {
    // The directory that stands for "/" when reading /sys, /dev and debugfs ($LUOCTL_SYSFS_ROOT).
    std::string sysfs_root = "/";
    // The agent's socket unless --socket says otherwise ($LUOCTL_SOCKET).
    std::string agent_socket = "/run/luoctl.sock";
    // Where luoctl load records what it staged (a tmpfs: the record dies with the boot).
    std::string run_dir = "/run";
    // How long a client waits for the agent's reply ($LUOCTL_TIMEOUT; 0: for ever). A stopped
    // agent (SIGSTOP, a debugger) still accepts connections and would hang every client.
    unsigned agent_timeout_seconds = 30;
};

// Everything a handler may use.
//
// Invariants: json is non-null exactly in JSON mode. Then the dispatcher has opened the one
// top-level object on out and closes it after the handler: the handler adds members through json
// and writes nothing to out directly. It gathers everything that can fail before writing, so it
// never returns with a nested object or array still open. In text mode the handler writes lines
// to out.
struct CommandContext {
    const Invocation& invocation;
    const Environment& environment;
    std::ostream& out;
    JsonWriter* json;
};

// "luoctl NAME SYNOPSIS": how to call the command, as shown by help and in usage errors.
std::string usage_line(const Command& command);

}  // namespace lu::luoctl
