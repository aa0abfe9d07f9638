#include "cli.hpp"

#include <algorithm>
#include <cerrno>
#include <ostream>
#include <vector>

#include "protocol.hpp"

namespace lu::luoctl {

std::string agent_socket(const CommandContext& context) {
    if (const std::optional<std::string_view> path = context.invocation.option("--socket")) {
        return std::string(*path);
    }
    return context.environment.agent_socket;
}

protocol::AgentAddress agent_address(const CommandContext& context) {
    const bool given = context.invocation.option(kTimeoutOption.name).has_value();
    return {.socket = agent_socket(context),
            .timeout_seconds =
                given ? static_cast<unsigned>(number_value(context.invocation, kTimeoutOption.name))
                      : context.environment.agent_timeout_seconds};
}

Result<std::string_view> required_option(const Invocation& invocation, std::string_view name) {
    if (const std::optional<std::string_view> value = invocation.option(name)) {
        return *value;
    }
    return Error(EINVAL, "option '" + std::string(name) + "' is required");
}

Result<std::uint64_t> number_option(const Invocation& invocation, std::string_view name,
                                    std::uint64_t min, std::uint64_t max) {
    const std::string_view text = LU_TRY(required_option(invocation, name));
    const std::optional<std::uint64_t> number = protocol::parse_u64(text);
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (!digits) {
        return Error(EINVAL, "option '" + std::string(name) + "' needs a decimal number, not '" +
                                 std::string(text) + "'");
    }
    // Past 2^64 - 1 too: a number, but one that fits nothing.
    if (!number || *number < min || *number > max) {
        return Error(ERANGE, "option '" + std::string(name) + "' is out of range (" +
                                 std::to_string(min) + " to " + std::to_string(max) + "): '" +
                                 std::string(text) + "'");
    }
    return *number;
}

Status check_session_name(std::string_view name) {
    if (!protocol::is_agent_session_name(name)) {
        return Error(EINVAL, "invalid session name '" + std::string(name) +
                                 "' (1 to 63 of A-Z a-z 0-9 . _ : @ + -, not starting with "
                                 "'luoctl.')");
    }
    return {};
}

std::string_view option_value(const Invocation& invocation, std::string_view name) {
    return invocation.option(name).value_or("");
}

std::uint64_t number_value(const Invocation& invocation, std::string_view name) {
    return protocol::parse_u64(option_value(invocation, name)).value_or(0);
}

void write_aligned(std::ostream& out,
                   const std::vector<std::pair<std::string, std::string>>& lines) {
    std::size_t width = 0;
    for (const auto& [key, value] : lines) {
        width = std::max(width, key.size());
    }
    for (const auto& [key, value] : lines) {
        out << key << ':' << std::string(width - key.size() + 1, ' ') << value << '\n';
    }
}

}  // namespace lu::luoctl
