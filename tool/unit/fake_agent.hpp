// A stand-in for `luoctl agent` in tests: it listens on a socket and answers every request with
// one canned reply, so that client commands can be run end to end without /dev/liveupdate.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fd.hpp"
#include "protocol.hpp"

namespace lu::luoctl::test {

// Invariants: listens on socket_path from construction until destruction (which stops the
// serving thread and removes the socket); requests() is read only after the clients are done.
class FakeAgent {
public:
    FakeAgent(std::string socket_path, protocol::Message reply);
    ~FakeAgent();
    FakeAgent(const FakeAgent&) = delete;
    FakeAgent& operator=(const FakeAgent&) = delete;

    // The verbs of the requests answered so far.
    const std::vector<std::string>& requests() const { return requests_; }

private:
    void serve();

    std::string socket_path_;
    protocol::Message reply_;
    Fd listener_;
    std::vector<std::string> requests_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace lu::luoctl::test
