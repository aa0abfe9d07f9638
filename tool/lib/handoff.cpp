#include "handoff.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "protocol.hpp"
#include "unix_socket.hpp"

namespace lu::protocol {
namespace {

constexpr std::string_view kHeaderPrefix = "luoctl/1 fd ";
constexpr std::size_t kMaxHeaderBytes = 256;
// Room for more than the one descriptor a handoff carries, so that extras are seen and refused.
constexpr std::size_t kRoomForFds = 4;

Error malformed(std::string_view line) {
    return Error(EBADMSG, "malformed handoff header '" + std::string(line) + "'");
}

Result<Fd> connect_any_type(const std::string& path) {
    const sockaddr_un addr = LU_TRY(unix_address(path));
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
    const std::size_t sent =
        LU_TRY(send_with_fds(socket.get(), header, std::span<const int>(&fd, 1),
                             "cannot send the descriptor to " + path));
    if (sent != header.size()) {
        return Error(EIO, "the header to " + path + " was cut short");
    }
    return {};
}

Result<ReceivedHandoff> receive_handoff(int socket) {
    std::array<char, kMaxHeaderBytes> buffer{};
    ReceivedBytes received =
        LU_TRY(receive_with_fds(socket, buffer, kRoomForFds, "cannot receive a handoff"));
    std::vector<Fd>& fds = received.fds;
    const std::string_view line(buffer.data(), received.length);
    Handoff handoff = LU_TRY(decode_handoff(line));
    if (fds.size() != 1 || (received.flags & MSG_CTRUNC) != 0) {
        return Error(EBADMSG, "a handoff carries exactly one descriptor, this one " +
                                  std::to_string(fds.size()));
    }
    return ReceivedHandoff{.handoff = std::move(handoff), .fd = std::move(fds[0])};
}

}  // namespace lu::protocol
