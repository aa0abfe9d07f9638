// Messages and descriptors over a real socket pair, and connecting where no agent listens.
#include "transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "temp_dir.hpp"

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
    const test::TempDir dir;
    const std::string path = dir / "agent.sock";
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
}

// A stopped agent still accepts connections (the kernel queues them): without a timeout every
// client would wait for ever.
TEST(Transport, GivesUpOnAnAgentThatDoesNotAnswer) {
    const test::TempDir dir;
    const std::string path = dir / "agent.sock";
    const Result<Fd> listener = listen_at(path);  // never accepts, never answers
    ASSERT_TRUE(listener.ok());
    const auto start = std::chrono::steady_clock::now();
    const Result<Received> reply = call({.socket = path, .timeout_seconds = 1}, Message("list"));
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().errnum(), ETIMEDOUT);
    EXPECT_EQ(reply.error().message(), "the luoctl agent at " + path +
                                           " did not answer in 1 s (is it stopped? --timeout "
                                           "SECONDS or LUOCTL_TIMEOUT waits longer)");
    EXPECT_GE(waited, std::chrono::milliseconds(900));
    EXPECT_LT(waited, std::chrono::seconds(10));
}

// A connect to a regular file, a symlink or a fifo is refused like one to a stale socket; none of
// them may be deleted (`luoctl agent --socket /tmp/notes.txt` once deleted the file).
TEST(Transport, RemovesOnlyAStaleSocket) {
    const test::TempDir dir;
    const std::string file = dir / "notes.txt";
    const std::string link = dir / "link.sock";
    const std::string fifo = dir / "fifo.sock";
    {
        const Fd fd = Fd::adopt(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        ASSERT_TRUE(fd.valid());
        ASSERT_EQ(::write(fd.get(), "keep", 4), 4);
    }
    ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    for (const std::string& path : {file, link, fifo}) {
        const Result<Fd> listener = listen_at(path);
        ASSERT_FALSE(listener.ok()) << path;
        EXPECT_EQ(listener.error().errnum(), EEXIST) << path;
        EXPECT_EQ(listener.error().message(), path + " exists and is not a socket; not removing it");
        struct stat st = {};
        EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << " was removed";
    }
    struct stat st = {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 4);
}

}  // namespace
}  // namespace lu::protocol
