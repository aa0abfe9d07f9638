#include "command.hpp"

namespace lu::luoctl {

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
