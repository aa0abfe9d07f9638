#include "handoff.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "protocol.hpp"

namespace lu::protocol {
namespace {

constexpr std::string_view kHeaderPrefix = "luoctl/1 fd ";
constexpr std::size_t kMaxHeaderBytes = 256;

Error malformed(std::string_view line) {
    return Error(EBADMSG, "malformed handoff header '" + std::string(line) + "'");
}

Result<Fd> connect_any_type(const std::string& path) {
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return Error(ENAMETOOLONG, "socket path '" + path + "' is empty or longer than " +
                                       std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    // A socket of another type answers EPROTOTYPE; every other error is the answer.
    int last_errno = EPROTOTYPE;
    for (const int type : {SOCK_SEQPACKET, SOCK_STREAM, SOCK_DGRAM}) {
        Fd fd = Fd::adopt(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
        if (!fd.valid()) {
            const int socket_errno = errno;
            return Error::from_errno(socket_errno, "cannot create a Unix socket");
        }
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
            return fd;
        }
        last_errno = errno;
        if (last_errno != EPROTOTYPE) {
            break;
        }
    }
    if (last_errno == ENOENT || last_errno == ECONNREFUSED) {
        return Error(last_errno,
                     "nothing listens on " + path + " (" + std::strerror(last_errno) + ")");
    }
    return Error::from_errno(last_errno, "cannot connect to " + path);
}

}  // namespace

std::string encode_handoff(const Handoff& handoff) {
    std::string line = std::string(kHeaderPrefix) + "session=" + handoff.session;
    if (handoff.token) {
        line += " token=" + std::to_string(*handoff.token);
    }
    return line + '\n';
}

Result<Handoff> decode_handoff(std::string_view line) {
    const std::string_view whole = line;
    if (line.ends_with('\n')) {
        line.remove_suffix(1);
    }
    if (!line.starts_with(kHeaderPrefix)) {
        return malformed(whole);
    }
    line.remove_prefix(kHeaderPrefix.size());
    Handoff handoff;
    const std::size_t space = line.find(' ');
    const std::string_view session = line.substr(0, space);
    if (!session.starts_with("session=") || session.size() == 8) {
        return malformed(whole);
    }
    handoff.session = std::string(session.substr(8));
    if (space != std::string_view::npos) {
        const std::string_view token = line.substr(space + 1);
        if (!token.starts_with("token=")) {
            return malformed(whole);
        }
        handoff.token = parse_u64(token.substr(6));
        if (!handoff.token) {
            return malformed(whole);
        }
    }
    if (handoff.session.find_first_of(" \n") != std::string::npos) {
        return malformed(whole);
    }
    return handoff;
}

Status send_handoff(const std::string& path, const Handoff& handoff, int fd) {
    const Fd socket = LU_TRY(connect_any_type(path));
    const std::string header = encode_handoff(handoff);
    iovec iov = {.iov_base = const_cast<char*>(header.data()), .iov_len = header.size()};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    const ssize_t sent = ::sendmsg(socket.get(), &msg, MSG_NOSIGNAL);
    if (sent < 0) {
        const int send_errno = errno;
        return Error::from_errno(send_errno, "cannot send the descriptor to " + path);
    }
    if (static_cast<std::size_t>(sent) != header.size()) {
        return Error(EIO, "the header to " + path + " was cut short");
    }
    return {};
}

Result<ReceivedHandoff> receive_handoff(int socket) {
    std::array<char, kMaxHeaderBytes> buffer{};
    iovec iov = {.iov_base = buffer.data(), .iov_len = buffer.size()};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t length;
    do {
        length = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (length < 0 && errno == EINTR);
    if (length < 0) {
        const int receive_errno = errno;
        return Error::from_errno(receive_errno, "cannot receive a handoff");
    }
    std::vector<Fd> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                fds.push_back(Fd::adopt(fd));
            }
        }
    }
    const std::string_view line(buffer.data(), static_cast<std::size_t>(length));
    Handoff handoff = LU_TRY(decode_handoff(line));
    if (fds.size() != 1 || (msg.msg_flags & MSG_CTRUNC) != 0) {
        return Error(EBADMSG, "a handoff carries exactly one descriptor, this one " +
                                  std::to_string(fds.size()));
    }
    return ReceivedHandoff{.handoff = std::move(handoff), .fd = std::move(fds[0])};
}

}  // namespace lu::protocol
