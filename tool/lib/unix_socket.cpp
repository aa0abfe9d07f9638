#include "unix_socket.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace lu::protocol {
namespace {

// Control-message space for n descriptors, as cmsghdr-aligned storage.
std::vector<cmsghdr> control_for(std::size_t n) {
    const std::size_t bytes = CMSG_SPACE(sizeof(int) * n);
    return std::vector<cmsghdr>((bytes + sizeof(cmsghdr) - 1) / sizeof(cmsghdr));
}

}  // namespace

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return Error(ENAMETOOLONG, "socket path '" + path + "' is empty or longer than " +
                                       std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

Result<std::size_t> send_with_fds(int socket, std::string_view bytes, std::span<const int> fds,
                                  std::string_view failure) {
    iovec iov = {.iov_base = const_cast<char*>(bytes.data()), .iov_len = bytes.size()};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<cmsghdr> control = control_for(fds.size());
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
        const int send_errno = errno;
        return Error::from_errno(send_errno, failure);
    }
    return static_cast<std::size_t>(sent);
}

Result<ReceivedBytes> receive_with_fds(int socket, std::span<char> buffer, std::size_t max_fds,
                                       std::string_view failure) {
    iovec iov = {.iov_base = buffer.data(), .iov_len = buffer.size()};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<cmsghdr> control = control_for(max_fds);
    msg.msg_control = control.data();
    // Exactly max_fds: one more arrives with MSG_CTRUNC set, which callers check.
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
    ssize_t length;
    do {
        length = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (length < 0 && errno == EINTR);
    if (length < 0) {
        const int receive_errno = errno;
        return Error::from_errno(receive_errno, failure);
    }
    ReceivedBytes received{
        .length = static_cast<std::size_t>(length), .flags = msg.msg_flags, .fds = {}};
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
                received.fds.push_back(Fd::adopt(fd));
            }
        }
    }
    return received;
}

}  // namespace lu::protocol
