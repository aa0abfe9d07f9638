#include "fake_agent.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "transport.hpp"

namespace lu::luoctl::test {

FakeAgent::FakeAgent(std::string socket_path, protocol::Message reply)
    : socket_path_(std::move(socket_path)), reply_(std::move(reply)) {
    std::filesystem::create_directories(std::filesystem::path(socket_path_).parent_path());
    Result<Fd> listener = protocol::listen_at(socket_path_);
    if (!listener.ok()) {
        ADD_FAILURE() << listener.error().message();
        return;
    }
    listener_ = std::move(listener).value();
    thread_ = std::thread([this] { serve(); });
}

FakeAgent::~FakeAgent() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
    std::filesystem::remove(socket_path_);
}

void FakeAgent::serve() {
    while (!stop_) {
        pollfd pfd = {.fd = listener_.get(), .events = POLLIN, .revents = 0};
        if (::poll(&pfd, 1, 20) <= 0) {
            continue;
        }
        const Fd client = Fd::adopt(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client.valid()) {
            continue;
        }
        Result<protocol::Received> request = protocol::receive_message(client.get());
        if (request.ok()) {
            requests_.push_back(request.value().message.verb());
        }
        (void)protocol::send_message(client.get(), reply_);
    }
}

}  // namespace lu::luoctl::test
