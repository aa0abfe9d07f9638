// The agent's connection handling over a real listening socket: idle clients, replies in parts,
// deadlines, and accept() failing for lack of descriptors.
#include "agent_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "temp_dir.hpp"
#include "transport.hpp"

namespace lu::luoctl {
namespace {

using namespace std::chrono_literals;
using protocol::Message;
using Clock = std::chrono::steady_clock;

// Answers "list" with `count` session= fields, anything else with "ok".
Reply answer(const protocol::Received& request, std::size_t count) {
    Message reply = protocol::ok_reply();
    if (request.message.verb() == protocol::kList) {
        for (std::size_t i = 0; i < count; ++i) {
            reply.add("session", "vm-" + std::to_string(i) + " 0 outgoing preserved 0");
        }
    }
    return Reply{.message = std::move(reply), .fds = {}};
}

// A server on its own thread, stopped (and woken by one last connection) when destroyed. Each
// request takes the handler `work` long.
class RunningServer {
public:
    explicit RunningServer(ServerLimits limits, std::size_t list_count = 3,
                           std::chrono::milliseconds work = 0ms)
        : socket_(dir_ / "agent.sock"), listener_(protocol::listen_at(socket_).value()) {
        thread_ = std::thread([this, limits, list_count, work] {
            AgentServer server(
                listener_.get(),
                [list_count, work](const protocol::Received& request,
                                   const protocol::PeerCredentials&) {
                    std::this_thread::sleep_for(work);
                    return answer(request, list_count);
                },
                [](const std::string&) {}, limits);
            EXPECT_TRUE(server.run([this] { return stop_.load(); }).ok());
        });
    }
    ~RunningServer() {
        stop_ = true;
        (void)protocol::connect_to(socket_);
        thread_.join();
    }

    protocol::AgentAddress address() const { return {.socket = socket_, .timeout_seconds = 10}; }
    Fd connect() const { return protocol::connect_to(socket_).value(); }

private:
    test::TempDir dir_;
    std::string socket_;
    Fd listener_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Before: one client at a time, each idle one holding the rest for the 5 s timeout (10 idle
// connections made `luoctl sessions` take 50 s).
TEST(AgentServer, IdleClientsStallNobody) {
    const RunningServer server(
        {.client_timeout = 10s, .max_clients = 256, .accept_backoff = 200ms});
    std::vector<Fd> idle;
    for (int i = 0; i < 10; ++i) {
        idle.push_back(server.connect());
    }
    const Clock::time_point start = Clock::now();
    const Result<protocol::Received> reply =
        protocol::call(server.address(), Message(protocol::kList));
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    EXPECT_LT(Clock::now() - start, 2s);
    EXPECT_EQ(reply.value().message.get_all("session").size(), 3u);
}

TEST(AgentServer, AnIdleClientIsClosedAtItsDeadline) {
    const RunningServer server(
        {.client_timeout = 300ms, .max_clients = 256, .accept_backoff = 200ms});
    const Fd idle = server.connect();
    const timeval timeout = {.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(idle.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    const Clock::time_point start = Clock::now();
    char byte = 0;
    EXPECT_EQ(::recv(idle.get(), &byte, 1, 0), 0);  // closed by the server, not timed out here
    EXPECT_LT(Clock::now() - start, 3s);
}

// Before: one datagram of at most 64 KiB, so the list of about 800 sessions was the most a
// client could see.
TEST(AgentServer, AListLongerThanADatagramArrivesWhole) {
    const RunningServer server({.client_timeout = 10s, .max_clients = 256, .accept_backoff = 200ms},
                               20000);
    const Result<protocol::Received> reply =
        protocol::call(server.address(), Message(protocol::kList));
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    const std::vector<std::string_view> sessions = reply.value().message.get_all("session");
    ASSERT_EQ(sessions.size(), 20000u);
    EXPECT_EQ(sessions[19999], "vm-19999 0 outgoing preserved 0");
    EXPECT_FALSE(reply.value().message.get(protocol::kMore).has_value());
}

TEST(AgentServer, ClientsBeyondTheLimitWaitTheirTurn) {
    const RunningServer server({.client_timeout = 1s, .max_clients = 2, .accept_backoff = 200ms});
    const Fd idle1 = server.connect();
    const Fd idle2 = server.connect();
    // Served once an idle one's deadline frees a slot, not refused.
    const Result<protocol::Received> reply =
        protocol::call(server.address(), Message(protocol::kStatus));
    ASSERT_TRUE(reply.ok()) << reply.error().message();
}

// Three clients ask at once and each request takes longer than the timeout: the time the server
// spends on the others does not count against the one that waits (it was dropped unanswered).
TEST(AgentServer, ASlowRequestCostsTheOthersNoDeadline) {
    const RunningServer server({.client_timeout = 400ms, .max_clients = 256, .accept_backoff = 200ms},
                               3, 500ms);
    std::vector<std::thread> clients;
    std::atomic<int> answered{0};
    for (int i = 0; i < 3; ++i) {
        clients.emplace_back([&] {
            const Result<protocol::Received> reply =
                protocol::call(server.address(), Message(protocol::kStatus));
            EXPECT_TRUE(reply.ok()) << reply.error().message();
            answered += reply.ok();
        });
    }
    for (std::thread& client : clients) {
        client.join();
    }
    EXPECT_EQ(answered, 3);
}

volatile sig_atomic_t g_alarm = 0;
void on_alarm(int) {
    g_alarm = 1;
}

// Before: accept4() failing with EMFILE woke poll() again at once, 100% CPU for as long as the
// connection waited. The server runs in a child whose descriptors are all taken, for 1 s; its CPU
// time shows whether it spun.
TEST(AgentServer, AcceptFailingForWantOfDescriptorsBacksOff) {
    test::TempDir dir;
    const std::string socket = dir / "agent.sock";
    Fd listener = protocol::listen_at(socket).value();
    int log_pipe[2];
    ASSERT_EQ(::pipe(log_pipe), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(log_pipe[0]);
        const rlimit limit = {.rlim_cur = 64, .rlim_max = 64};
        ::setrlimit(RLIMIT_NOFILE, &limit);
        while (::open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0) {
        }
        struct sigaction action = {};
        action.sa_handler = on_alarm;
        ::sigaction(SIGALRM, &action, nullptr);
        ::alarm(1);
        AgentServer server(
            listener.get(),
            [](const protocol::Received& request, const protocol::PeerCredentials&) {
                return answer(request, 0);
            },
            [&](const std::string& line) {
                (void)!::write(log_pipe[1], line.data(), line.size());
                (void)!::write(log_pipe[1], "\n", 1);
            },
            {.client_timeout = 5s, .max_clients = 256, .accept_backoff = 200ms});
        ::_exit(server.run([] { return g_alarm != 0; }).ok() ? 0 : 1);
    }
    ::close(log_pipe[1]);
    const Fd log_end = Fd::adopt(log_pipe[0]);
    const Fd waiting = protocol::connect_to(socket).value();  // in the backlog, never accepted
    int status = 0;
    rusage usage = {};
    ASSERT_EQ(::wait4(child, &status, 0, &usage), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    EXPECT_LT(cpu, 0.3) << "the server spun on accept()";
    std::string log(4096, '\0');
    const ssize_t length = ::read(log_end.get(), log.data(), log.size());
    ASSERT_GT(length, 0);
    log.resize(static_cast<std::size_t>(length));
    EXPECT_NE(log.find("not accepting for 200 ms"), std::string::npos) << log;
}

}  // namespace
}  // namespace lu::luoctl
