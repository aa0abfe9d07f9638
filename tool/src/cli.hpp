// Helpers that several commands share: their common options and how they read them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "command.hpp"
#include "result.hpp"
#include "transport.hpp"

namespace lu::luoctl {

inline constexpr OptionSpec kSocketOption = {"--socket", "PATH"};
// How long a client waits for each step of a call to the agent; overrides $LUOCTL_TIMEOUT.
inline constexpr OptionSpec kTimeoutOption = {"--timeout", "SECONDS"};
inline constexpr unsigned kMaxTimeoutSeconds = 86400;
inline constexpr OptionSpec kSessionOption = {"--session", "NAME"};
inline constexpr OptionSpec kTokenOption = {"--token", "N"};

// The agent socket: --socket, else the environment's default.
std::string agent_socket(const CommandContext& context);
// The socket and how long to wait for the agent's reply (--timeout, else $LUOCTL_TIMEOUT).
protocol::AgentAddress agent_address(const CommandContext& context);

// For validators: a required option, a decimal number (u64 or non-negative int).
Result<std::string_view> required_option(const Invocation& invocation, std::string_view name);
// A decimal option within [min, max]: EINVAL for anything but digits, ERANGE outside the range
// (an fd or a pid is an int: 4294967296 must not become 0).
Result<std::uint64_t> number_option(const Invocation& invocation, std::string_view name,
                                    std::uint64_t min = 0,
                                    std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
Status check_session_name(std::string_view name);

// For handlers, after validation succeeded.
std::string_view option_value(const Invocation& invocation, std::string_view name);
std::uint64_t number_value(const Invocation& invocation, std::string_view name);

// "NAME: value" text lines, values aligned in one column.
void write_aligned(std::ostream& out,
                   const std::vector<std::pair<std::string, std::string>>& lines);

}  // namespace lu::luoctl
