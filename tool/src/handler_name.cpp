#include "handler_name.hpp"

#include <unistd.h>

#include <array>

namespace lu::luoctl {

std::string handler_of_fd(int fd) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    std::array<char, 256> link{};
    const ssize_t length = ::readlink(path.c_str(), link.data(), link.size());
    if (length <= 0 || static_cast<std::size_t>(length) >= link.size()) {
        return std::string(protocol::kUnknownHandler);
    }
    return std::string(handler_of_link(std::string_view(link.data(), length)));
}

}  // namespace lu::luoctl
