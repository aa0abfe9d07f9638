#include "transport.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "unix_socket.hpp"

namespace lu::protocol {
namespace {

Result<Fd> new_socket() {
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        const int socket_errno = errno;
        return Error::from_errno(socket_errno, "cannot create a Unix socket");
    }
    return Fd::adopt(fd);
}

Status connect_raw(int fd, const sockaddr_un& addr) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        return Error(errno, "connect");
    }
    return {};
}

}  // namespace

Status send_message(int socket, const Message& message, std::span<const int> fds) {
    if (fds.size() > kMaxFds) {
        return Error(EINVAL, "too many descriptors for one agent message");
    }
    const std::string datagram = LU_TRY(encode(message));
    LU_TRY(send_with_fds(socket, datagram, fds, "cannot send to the agent socket"));
    return {};
}

Result<Received> receive_message(int socket) {
    std::string buffer(kMaxMessageBytes + 1, '\0');
    ReceivedBytes bytes =
        LU_TRY(receive_with_fds(socket, buffer, kMaxFds, "cannot receive from the agent socket"));
    const std::size_t length = bytes.length;
    Received received;
    received.fds = std::move(bytes.fds);
    if (length == 0) {
        return Error(ECONNRESET, "the agent closed the connection without a reply");
    }
    if ((bytes.flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || length > kMaxMessageBytes) {
        return Error(EMSGSIZE, "agent message truncated (too long or too many descriptors)");
    }
    received.message = LU_TRY(decode(std::string_view(buffer.data(), length)));
    return received;
}

Result<PeerCredentials> peer_credentials(int socket) {
    ucred cred = {};
    socklen_t length = sizeof(cred);
    if (::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
        const int cred_errno = errno;
        return Error::from_errno(cred_errno, "cannot read the peer's credentials");
    }
    return PeerCredentials{.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
}

Result<Fd> listen_at(const std::string& path) {
    const sockaddr_un addr = LU_TRY(unix_address(path));
    // Something listens there: another agent. A connection refused means a stale socket file.
    {
        Fd probe = LU_TRY(new_socket());
        const Status connected = connect_raw(probe.get(), addr);
        if (connected.ok()) {
            return Error(EADDRINUSE, "another agent is already listening on " + path);
        }
        // Refused by a regular file, a symlink or a fifo too: only a socket is ours to remove.
        struct stat st = {};
        if (connected.error().errnum() == ECONNREFUSED && ::lstat(path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                return Error(EEXIST, path + " exists and is not a socket; not removing it");
            }
            ::unlink(path.c_str());
        }
    }
    Fd fd = LU_TRY(new_socket());
    const mode_t old_umask = ::umask(077);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    const int bind_errno = errno;
    ::umask(old_umask);
    if (bound != 0) {
        return Error::from_errno(bind_errno, "cannot bind the agent socket " + path);
    }
    if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), 64) != 0) {
        const int listen_errno = errno;
        return Error::from_errno(listen_errno, "cannot listen on " + path);
    }
    return fd;
}

Result<Fd> connect_to(const std::string& path) {
    const sockaddr_un addr = LU_TRY(unix_address(path));
    Fd fd = LU_TRY(new_socket());
    const Status connected = connect_raw(fd.get(), addr);
    if (!connected.ok()) {
        const int errnum = connected.error().errnum();
        if (errnum == ENOENT || errnum == ECONNREFUSED) {
            return Error(errnum, "the luoctl agent is not running (nothing listens on " + path +
                                     ": " + std::strerror(errnum) +
                                     "); start it with 'luoctl agent'");
        }
        return Error::from_errno(errnum, "cannot connect to the luoctl agent at " + path);
    }
    return fd;
}

Result<Received> call(const AgentAddress& agent, const Message& request, std::span<const int> fds,
                      std::size_t expected_fds) {
    const Fd socket = LU_TRY(connect_to(agent.socket));
    if (agent.timeout_seconds > 0) {
        const timeval timeout = {.tv_sec = agent.timeout_seconds, .tv_usec = 0};
        ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    }
    const auto timed_out = [&](const Error& error) {
        if (error.errnum() != EAGAIN) {
            return error;
        }
        return Error(ETIMEDOUT,
                     "the luoctl agent at " + agent.socket + " did not answer in " +
                         std::to_string(agent.timeout_seconds) +
                         " s (is it stopped? --timeout SECONDS or LUOCTL_TIMEOUT waits longer)");
    };
    const Status sent = send_message(socket.get(), request, fds);
    if (!sent.ok()) {
        return timed_out(sent.error());
    }
    Result<Received> received = receive_message(socket.get());
    if (!received.ok()) {
        return timed_out(received.error());
    }
    Received reply = std::move(received).value();
    LU_TRY(reply_status(reply.message));
    bool more = has_more(reply.message);
    if (more) {
        Message joined(reply.message.verb());
        join_part(joined, reply.message);
        reply.message = std::move(joined);
    }
    while (more) {
        Result<Received> next = receive_message(socket.get());
        if (!next.ok()) {
            return timed_out(next.error());
        }
        const Message& part = next.value().message;
        if (part.verb() != reply.message.verb() || !next.value().fds.empty()) {
            return Error(EBADMSG, "the agent's reply to '" + request.verb() + "' went on with a '" +
                                      part.verb() + "' part");
        }
        join_part(reply.message, part);
        more = has_more(part);
    }
    if (reply.fds.size() != expected_fds) {
        return Error(EBADMSG, "the agent's reply to '" + request.verb() + "' carried " +
                                  std::to_string(reply.fds.size()) + " descriptors, expected " +
                                  std::to_string(expected_fds));
    }
    return reply;
}

}  // namespace lu::protocol
