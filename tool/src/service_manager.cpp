#include "service_manager.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "unix_socket.hpp"

namespace lu::luoctl {
namespace {

constexpr int kFirstListenedFd = 3;
constexpr std::size_t kMaxFdNameBytes = 255;
// systemd's own limit on the fds one notification carries.
constexpr std::size_t kMaxNotifyFds = 253;

std::optional<unsigned long> parse_number(const char* text) {
    if (text == nullptr || *text == '\0') {
        return std::nullopt;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || text[0] == '-') {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<ServiceManager> ServiceManager::from_environment() {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@') ||
        std::strlen(path) >= sizeof(sockaddr_un::sun_path)) {
        return std::nullopt;
    }
    return ServiceManager(path);
}

Status ServiceManager::notify(std::string_view state, std::span<const int> fds) const {
    if (fds.size() > kMaxNotifyFds) {
        return Error(E2BIG, "too many descriptors for one notification");
    }
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
    if (address.sun_path[0] == '@') {
        address.sun_path[0] = '\0';  // abstract: the length below, not a NUL, ends the name
    }
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
    const std::string failure = "cannot notify the service manager at " + socket_path_;
    const int raw = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (raw < 0) {
        const int socket_errno = errno;
        return Error::from_errno(socket_errno, "socket");
    }
    const Fd socket = Fd::adopt(raw);
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        const int connect_errno = errno;
        return Error::from_errno(connect_errno, failure);
    }
    LU_TRY(protocol::send_with_fds(socket.get(), state, fds, failure));
    return {};
}

Status ServiceManager::store(std::string_view name, int fd) const {
    const std::string fdname = LU_TRY(fd_store_name(name));
    const int fds[] = {fd};
    return notify("FDSTORE=1\nFDNAME=" + fdname, fds);
}

Status ServiceManager::remove(std::string_view name) const {
    return remove_entry(LU_TRY(fd_store_name(name)));
}

Status ServiceManager::remove_entry(std::string_view fdname) const {
    return notify("FDSTOREREMOVE=1\nFDNAME=" + std::string(fdname));
}

Result<std::string> fd_store_name(std::string_view name) {
    std::string out;
    for (const char c : name) {
        if (c == ':') {
            out += "%3A";
        } else if (c == '%') {
            out += "%25";
        } else if (c >= ' ' && c < 127) {
            out += c;
        } else {
            return Error(EINVAL, "'" + std::string(name) + "' cannot name an fd store entry");
        }
    }
    if (out.empty() || out.size() > kMaxFdNameBytes) {
        return Error(EINVAL, "'" + std::string(name) + "' cannot name an fd store entry");
    }
    return out;
}

std::vector<ListenedFd> take_listened_fds() {
    std::vector<ListenedFd> fds;
    const std::optional<unsigned long> pid = parse_number(std::getenv("LISTEN_PID"));
    const std::optional<unsigned long> count = parse_number(std::getenv("LISTEN_FDS"));
    const char* names = std::getenv("LISTEN_FDNAMES");
    const std::string name_list = names != nullptr ? names : "";
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!pid || !count || *pid != static_cast<unsigned long>(::getpid()) ||
        *count > static_cast<unsigned long>(INT_MAX - kFirstListenedFd)) {
        return fds;
    }
    std::size_t start = 0;
    for (unsigned long i = 0; i < *count; ++i) {
        const int fd = kFirstListenedFd + static_cast<int>(i);
        if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
            continue;  // not open after all: nothing to own
        }
        std::string name;
        if (start <= name_list.size()) {
            const std::size_t end = std::min(name_list.find(':', start), name_list.size());
            name = name_list.substr(start, end - start);
            start = end + 1;
        }
        fds.push_back(ListenedFd{.fd = Fd::adopt(fd), .name = std::move(name)});
    }
    return fds;
}

}  // namespace lu::luoctl
