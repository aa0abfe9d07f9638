// Carrying agent protocol messages (protocol.hpp) and file descriptors over a Unix
// SOCK_SEQPACKET socket. Part of libluoctl.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "fd.hpp"
#include "protocol.hpp"
#include "result.hpp"

namespace lu::protocol {

// A message as it arrived, with the descriptors that came with it (close-on-exec, owned).
struct Received {
    Message message;
    std::vector<Fd> fds;
};

// Who is at the other end of a connection (SO_PEERCRED).
struct PeerCredentials {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

// Sends message with fds (at most kMaxFds) as SCM_RIGHTS in one datagram.
Status send_message(int socket, const Message& message, std::span<const int> fds = {});

// Receives one datagram. ECONNRESET if the peer closed without sending; EMSGSIZE if the text or
// the descriptors were truncated (the descriptors that did arrive are closed); EBADMSG or
// EPROTONOSUPPORT from decode().
Result<Received> receive_message(int socket);

Result<PeerCredentials> peer_credentials(int socket);

// A listening socket at path, mode 0600 from the moment it exists (created under umask 077).
// A socket file left behind by a dead agent is replaced; a live one is EADDRINUSE.
Result<Fd> listen_at(const std::string& path);

// Connects to the agent at path. The error says that the agent is not running when nothing
// listens there (ENOENT, ECONNREFUSED).
Result<Fd> connect_to(const std::string& path);

// Where the agent listens, and how long a client waits for each step of a call (0: for ever).
struct AgentAddress {
    std::string socket;
    unsigned timeout_seconds = 0;
};

// One request and its reply: connect, send, receive. An "error" reply becomes its Error; an "ok"
// reply is returned with its descriptors, joined from its parts if it came in several
// (split_reply). The number of descriptors is checked against
// expected_fds (EBADMSG otherwise). An agent that does not answer in time is ETIMEDOUT.
Result<Received> call(const AgentAddress& agent, const Message& request,
                      std::span<const int> fds = {}, std::size_t expected_fds = 0);

}  // namespace lu::protocol
