// What the agent protocol (transport.hpp) and the socket handoff (handoff.hpp) share: Unix
// socket addresses, and one datagram's bytes sent or received with descriptors beside them as
// SCM_RIGHTS. Part of libluoctl.
#pragma once

#include <sys/un.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fd.hpp"
#include "result.hpp"

namespace lu::protocol {

// The address of path; ENAMETOOLONG when it is empty or does not fit sun_path.
Result<sockaddr_un> unix_address(const std::string& path);

// One sendmsg() of bytes with fds as one SCM_RIGHTS message (none: no control message).
// Returns the bytes sent; a failure is failure with the errno.
Result<std::size_t> send_with_fds(int socket, std::string_view bytes, std::span<const int> fds,
                                  std::string_view failure);

// One message as recvmsg() left it: how many bytes landed in the caller's buffer, the flags
// (MSG_TRUNC, MSG_CTRUNC) and the descriptors that came (close-on-exec, owned).
struct ReceivedBytes {
    std::size_t length = 0;
    int flags = 0;
    std::vector<Fd> fds;
};

// One recvmsg() into buffer with room for max_fds descriptors, retried on EINTR. A failure is
// failure with the errno.
Result<ReceivedBytes> receive_with_fds(int socket, std::span<char> buffer, std::size_t max_fds,
                                       std::string_view failure);

}  // namespace lu::protocol
