// Handing one file descriptor to another program over a Unix socket: what
// `luoctl retrieve --to-socket PATH` does with a retrieved file. Part of libluoctl; the README's
// "Handing a file to a socket" is the specification.
//
// One message: a single line of text and the descriptor beside it as SCM_RIGHTS,
//
//   luoctl/1 fd session=NAME token=N\n      a preserved file
//   luoctl/1 fd session=NAME\n              the session's own fd (no token)
//
// NAME is an agent session name (no spaces, see is_agent_session_name). The receiver's socket
// may be SOCK_SEQPACKET, SOCK_STREAM or SOCK_DGRAM; the sender tries them in that order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fd.hpp"
#include "result.hpp"

namespace lu::protocol {

// What the header line names.
struct Handoff {
    std::string session;
    std::optional<std::uint64_t> token;  // none: the session fd itself

    bool operator==(const Handoff&) const = default;
};

// The header line, newline included.
std::string encode_handoff(const Handoff& handoff);
// The header line (with or without its newline). EBADMSG for anything else, naming what.
Result<Handoff> decode_handoff(std::string_view line);

// Connects to path and sends the header for handoff with fd. ENOENT or ECONNREFUSED when
// nothing listens there, with a message that says so.
Status send_handoff(const std::string& path, const Handoff& handoff, int fd);

// A handoff as it arrived on socket: the header and its descriptor (close-on-exec, owned).
struct ReceivedHandoff {
    Handoff handoff;
    Fd fd;
};
// Receives one handoff from a connected socket. EBADMSG without exactly one descriptor or with
// a malformed header.
Result<ReceivedHandoff> receive_handoff(int socket);

}  // namespace lu::protocol
