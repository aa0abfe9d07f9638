// Messages and descriptors over a real socket pair, and connecting where no agent listens.
#include "transport.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>

namespace lu::protocol {
namespace {

struct Pair {
    Fd a;
    Fd b;
};

Pair socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    return {Fd::adopt(fds[0]), Fd::adopt(fds[1])};
}

TEST(Transport, CarriesAMessageAndADescriptor) {
    const Pair pair = socket_pair();
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const Fd read_end = Fd::adopt(pipe_fds[0]);
    const Fd write_end = Fd::adopt(pipe_fds[1]);
    Message message(kPreserve);
    message.add("session", "s").add("token", std::uint64_t{1});
    const int raw = write_end.get();
    ASSERT_TRUE(send_message(pair.a.get(), message, std::span<const int>(&raw, 1)).ok());
    Result<Received> received = receive_message(pair.b.get());
    ASSERT_TRUE(received.ok()) << received.error().message();
    Received got = std::move(received).value();
    EXPECT_EQ(got.message, message);
    ASSERT_EQ(got.fds.size(), 1u);
    EXPECT_EQ(::fcntl(got.fds[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    // The descriptor that arrived is the same pipe.
    ASSERT_EQ(::write(got.fds[0].get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(read_end.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(Transport, ReportsAClosedPeer) {
    Pair pair = socket_pair();
    pair.a = Fd();
    const Result<Received> received = receive_message(pair.b.get());
    ASSERT_FALSE(received.ok());
    EXPECT_EQ(received.error().errnum(), ECONNRESET);
}

TEST(Transport, ReportsGarbage) {
    const Pair pair = socket_pair();
    ASSERT_EQ(::send(pair.a.get(), "hello\n", 6, 0), 6);
    const Result<Received> received = receive_message(pair.b.get());
    ASSERT_FALSE(received.ok());
    EXPECT_EQ(received.error().errnum(), EBADMSG);
}

TEST(Transport, KnowsItsPeer) {
    const Pair pair = socket_pair();
    const Result<PeerCredentials> peer = peer_credentials(pair.a.get());
    ASSERT_TRUE(peer.ok());
    EXPECT_EQ(peer.value().pid, ::getpid());
    EXPECT_EQ(peer.value().uid, ::getuid());
}

TEST(Transport, SaysWhenNoAgentRuns) {
    const Result<Fd> fd = connect_to("/nonexistent/luoctl.sock");
    ASSERT_FALSE(fd.ok());
    EXPECT_EQ(fd.error().errnum(), ENOENT);
    EXPECT_EQ(fd.error().message(),
              "the luoctl agent is not running (nothing listens on /nonexistent/luoctl.sock: No "
              "such file or directory); start it with 'luoctl agent'");
}

TEST(Transport, ListensAt0600AndRefusesASecondListener) {
    char dir[] = "/tmp/luoctl-transport-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/agent.sock";
    {
        const Result<Fd> listener = listen_at(path);
        ASSERT_TRUE(listener.ok()) << listener.error().message();
        struct stat st = {};
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u);
        const Result<Fd> second = listen_at(path);
        ASSERT_FALSE(second.ok());
        EXPECT_EQ(second.error().errnum(), EADDRINUSE);
    }
    // The first listener is gone: its socket file is stale and gets replaced.
    const Result<Fd> again = listen_at(path);
    EXPECT_TRUE(again.ok());
    ::unlink(path.c_str());
    ::rmdir(dir);
}

}  // namespace
}  // namespace lu::protocol
