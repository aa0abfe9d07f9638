// The agent's connection handling: one request per connection on a listening SOCK_SEQPACKET
// socket, from one thread, so that the agent's table needs no lock.
//
// Clients are served from one poll() loop, each with its own deadline: one that connects and
// says nothing, or never reads its reply, holds its own slot until the deadline and nobody
// else's. Requests are handled in the order they arrive; a reply longer than a datagram goes out
// in parts (protocol::split_reply). When accept() fails for lack of descriptors or memory, the
// listener rests for a moment instead of waking the loop again at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "fd.hpp"
#include "protocol.hpp"
#include "result.hpp"
#include "transport.hpp"

namespace lu::luoctl {

// What a handler answers: a message and the descriptors that go with it.
struct Reply {
    protocol::Message message;
    std::vector<Fd> fds;
};

struct ServerLimits {
    // From accept to the last byte of the reply, not counting the time the server spends
    // handling other clients' requests.
    std::chrono::milliseconds client_timeout{5000};
    // Connections served at once; more wait in the listener's backlog.
    std::size_t max_clients = 256;
    // How long the listener rests after accept() failed with EMFILE, ENFILE, ENOBUFS or ENOMEM.
    std::chrono::milliseconds accept_backoff{200};
};

class AgentServer {
public:
    using Handler =
        std::function<Reply(const protocol::Received&, const protocol::PeerCredentials&)>;
    using Logger = std::function<void(const std::string&)>;

    AgentServer(int listener, Handler handler, Logger log, ServerLimits limits = {});

    // Serves until stop() returns true; it is asked after every wake-up (a signal interrupts the
    // wait). An error only when the listener itself fails.
    Status run(const std::function<bool()>& stop);

private:
    using Clock = std::chrono::steady_clock;

    // One datagram of a reply, waiting for room in the socket.
    struct Part {
        std::string bytes;
        std::vector<Fd> fds;
    };
    struct Client {
        Fd fd;
        Clock::time_point deadline;
        std::vector<Part> reply;  // empty until the request arrived
        std::size_t sent = 0;     // parts of reply already sent
        bool answered = false;
    };

    void accept_clients();
    // Reads the client's request and queues the reply. False when the client is done with.
    bool receive(Client& client);
    // Sends what the socket takes. False when the client is done with (all sent, or failed).
    bool send(Client& client);

    int listener_;
    Handler handler_;
    Logger log_;
    ServerLimits limits_;
    std::vector<Client> clients_;
    Clock::time_point listener_rests_until_{};
};

// Raises the soft limit on open descriptors to the hard one: the agent holds one descriptor per
// session, and 1024 is far fewer than the sessions a host may keep.
void raise_descriptor_limit();

}  // namespace lu::luoctl
