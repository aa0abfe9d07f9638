#include "agent_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "unix_socket.hpp"

namespace lu::luoctl {

using protocol::Message;

AgentServer::AgentServer(int listener, Handler handler, Logger log, ServerLimits limits)
    : listener_(listener), handler_(std::move(handler)), log_(std::move(log)), limits_(limits) {}

Status AgentServer::run(const std::function<bool()>& stop) {
    // A connection that is gone by the time accept() runs must not block the loop.
    ::fcntl(listener_, F_SETFL, ::fcntl(listener_, F_GETFL) | O_NONBLOCK);
    std::vector<pollfd> polled;
    while (!stop()) {
        const Clock::time_point now = Clock::now();
        // Clients past their deadline go first: that is all an idle one can cost the others.
        std::erase_if(clients_, [&](const Client& client) { return client.deadline <= now; });

        polled.clear();
        const bool listening =
            clients_.size() < limits_.max_clients && now >= listener_rests_until_;
        polled.push_back({.fd = listening ? listener_ : -1, .events = POLLIN, .revents = 0});
        Clock::time_point wake = listening ? Clock::time_point::max() : listener_rests_until_;
        for (const Client& client : clients_) {
            const short events = client.answered ? POLLOUT : POLLIN;
            polled.push_back({.fd = client.fd.get(), .events = events, .revents = 0});
            wake = std::min(wake, client.deadline);
        }
        int timeout_ms = -1;
        if (wake != Clock::time_point::max()) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
            timeout_ms = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
        }
        if (::poll(polled.data(), polled.size(), timeout_ms) < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int poll_errno = errno;
            return Error::from_errno(poll_errno, "poll");
        }
        // Clients first: accept_clients() appends to clients_, whose order polled mirrors.
        const Clock::time_point woke = Clock::now();
        std::size_t kept = 0;
        for (std::size_t i = 0; i < clients_.size(); ++i) {
            Client& client = clients_[i];
            const bool woken = polled[i + 1].revents != 0;
            const bool more = !woken || (client.answered ? send(client) : receive(client));
            if (more) {
                if (kept != i) {
                    clients_[kept] = std::move(client);
                }
                ++kept;
            }
        }
        clients_.resize(kept);
        // Time spent handling requests is the agent's, not the waiting clients': a client whose
        // request sits unread while a long preserve runs is not dropped for it.
        const Clock::duration busy = Clock::now() - woke;
        for (Client& client : clients_) {
            client.deadline += busy;
        }
        if ((polled[0].revents & POLLIN) != 0) {
            accept_clients();
        }
    }
    return {};
}

void AgentServer::accept_clients() {
    while (clients_.size() < limits_.max_clients) {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            clients_.push_back(Client{.fd = Fd::adopt(fd),
                                      .deadline = Clock::now() + limits_.client_timeout,
                                      .reply = {},
                                      .sent = 0,
                                      .answered = false});
            continue;
        }
        const int accept_errno = errno;
        if (accept_errno == EMFILE || accept_errno == ENFILE || accept_errno == ENOBUFS ||
            accept_errno == ENOMEM) {
            log_(Error::from_errno(accept_errno, "cannot accept a client").message() +
                 "; not accepting for " + std::to_string(limits_.accept_backoff.count()) + " ms");
            listener_rests_until_ = Clock::now() + limits_.accept_backoff;
        }
        // EAGAIN: nobody else waits; ECONNABORTED, EINTR: the next one may.
        if (accept_errno != ECONNABORTED && accept_errno != EINTR) {
            return;
        }
    }
}

bool AgentServer::receive(Client& client) {
    const Result<protocol::PeerCredentials> peer = protocol::peer_credentials(client.fd.get());
    if (!peer.ok()) {
        return false;
    }
    Result<protocol::Received> request = protocol::receive_message(client.fd.get());
    if (!request.ok() && request.error().errnum() == EAGAIN) {
        return true;  // woken for nothing
    }
    if (!request.ok() && request.error().errnum() == ECONNRESET) {
        return false;  // a client that left without asking: nothing to answer
    }
    Reply reply = request.ok() ? handler_(request.value(), peer.value())
                               : Reply{protocol::error_reply(request.error()), {}};
    std::vector<Message> parts = protocol::split_reply(reply.message);
    for (Message& part : parts) {
        Result<std::string> bytes = protocol::encode(part);
        if (!bytes.ok()) {
            // Only a single field longer than a datagram gets here; say so instead.
            client.reply.clear();
            client.reply.push_back(
                Part{.bytes = protocol::encode(protocol::error_reply(bytes.error())).value(),
                     .fds = {}});
            break;
        }
        client.reply.push_back(Part{.bytes = std::move(bytes).value(), .fds = {}});
    }
    client.reply.front().fds = std::move(reply.fds);
    client.answered = true;
    return send(client);
}

bool AgentServer::send(Client& client) {
    while (client.sent < client.reply.size()) {
        Part& part = client.reply[client.sent];
        std::vector<int> raw;
        for (const Fd& fd : part.fds) {
            raw.push_back(fd.get());
        }
        const Result<std::size_t> sent =
            protocol::send_with_fds(client.fd.get(), part.bytes, raw, "cannot reply to a client");
        if (!sent.ok()) {
            if (sent.error().errnum() == EAGAIN) {
                return true;  // the client reads slowly: wait for room
            }
            log_(sent.error().message());
            return false;
        }
        part.fds.clear();  // they are the client's now
        ++client.sent;
    }
    return false;
}

void raise_descriptor_limit() {
    rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace lu::luoctl
