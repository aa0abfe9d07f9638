#include "command.hpp"

namespace lu::luoctl {

std::optional<std::string_view> Invocation::option(std::string_view name) const {
    for (const auto& [key, value] : options) {
        if (key == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::string usage_line(const Command& command) {
    std::string line = "luoctl ";
    line += command.name;
    if (!command.synopsis.empty()) {
        line += ' ';
        line += command.synopsis;
    }
    return line;
}

}  // namespace lu::luoctl
