// Parsing luoctl's command line into an Invocation.
#pragma once

#include <span>
#include <string_view>

#include "command.hpp"
#include "result.hpp"

namespace lu::luoctl {

// Parses the arguments that follow argv[0]:
//
//   luoctl [OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]
//
// Options may come before or after the command:
//   -j, --json   JSON output
//   -h, --help   the help command; after a command, the help command with that topic
//   --version    stands for the word "version"
// "help COMMAND" and "COMMAND --help" both give the help command with COMMAND as its topic.
//
// Every usage error is found here, which makes exit status 2 a decision taken in one place:
// the error's errnum is EINVAL and its message says what was wrong.
Result<Invocation> parse_args(std::span<const std::string_view> args);

// Whether args ask for JSON output. Known even when parse_args fails, so that the usage error is
// reported in the format that was asked for.
bool json_requested(std::span<const std::string_view> args);

}  // namespace lu::luoctl
