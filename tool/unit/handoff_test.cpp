// Handing a descriptor to a Unix socket (luoctl retrieve --to-socket): the header, and the
// descriptor arriving over each socket type a receiver may use.
#include "handoff.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "transport.hpp"

namespace lu::protocol {
namespace {

TEST(Handoff, HeaderRoundTrips) {
    const Handoff file{.session = "vm-1", .token = 7};
    EXPECT_EQ(encode_handoff(file), "luoctl/1 fd session=vm-1 token=7\n");
    EXPECT_EQ(decode_handoff(encode_handoff(file)).value(), file);
    const Handoff session{.session = "vm-1", .token = std::nullopt};
    EXPECT_EQ(encode_handoff(session), "luoctl/1 fd session=vm-1\n");
    EXPECT_EQ(decode_handoff("luoctl/1 fd session=vm-1").value(), session);
}

TEST(Handoff, RejectsOtherHeaders) {
    for (const std::string_view line :
         {"", "luoctl/1 fd", "luoctl/1 fd session=", "luoctl/2 fd session=a token=1",
          "luoctl/1 fd token=1 session=a", "luoctl/1 fd session=a token=x",
          "luoctl/1 fd session=a token=1 size=2", "luoctl/1 preserve session=a"}) {
        const Result<Handoff> handoff = decode_handoff(line);
        ASSERT_FALSE(handoff.ok()) << line;
        EXPECT_EQ(handoff.error().errnum(), EBADMSG) << line;
    }
}

// A receiver listening at a fresh path with the given socket type.
class Receiver {
public:
    explicit Receiver(int type) : type_(type) {
        const char* tmpdir = std::getenv("TMPDIR");
        directory_ = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/luoctl_handoff.XXXXXX";
        EXPECT_NE(::mkdtemp(directory_.data()), nullptr);
        path_ = directory_ + "/receiver.sock";
        listener_ = Fd::adopt(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
        sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.data(), path_.size());
        EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)),
                  0);
        if (type != SOCK_DGRAM) {
            EXPECT_EQ(::listen(listener_.get(), 1), 0);
        }
    }
    ~Receiver() { std::filesystem::remove_all(directory_); }

    const std::string& path() const { return path_; }

    Result<ReceivedHandoff> receive() {
        if (type_ == SOCK_DGRAM) {
            return receive_handoff(listener_.get());
        }
        const Fd connection = Fd::adopt(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        return receive_handoff(connection.get());
    }

private:
    int type_;
    std::string directory_;
    std::string path_;
    Fd listener_;
};

class HandoffOverSocket : public testing::TestWithParam<int> {};

TEST_P(HandoffOverSocket, CarriesTheHeaderAndTheDescriptor) {
    Receiver receiver(GetParam());
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const Fd read_end = Fd::adopt(pipe_fds[0]);
    const Fd write_end = Fd::adopt(pipe_fds[1]);
    const Handoff sent{.session = "vm-1", .token = 3};
    const Status status = send_handoff(receiver.path(), sent, write_end.get());
    ASSERT_TRUE(status.ok()) << status.error().message();
    Result<ReceivedHandoff> received = receiver.receive();
    ASSERT_TRUE(received.ok()) << received.error().message();
    EXPECT_EQ(received.value().handoff, sent);
    // The descriptor that arrived is the same pipe.
    ASSERT_EQ(::write(received.value().fd.get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(read_end.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

INSTANTIATE_TEST_SUITE_P(EverySocketType, HandoffOverSocket,
                         testing::Values(SOCK_SEQPACKET, SOCK_STREAM, SOCK_DGRAM));

TEST(Handoff, SaysWhenNothingListens) {
    const Status status = send_handoff("/nonexistent/luoctl-unit/receiver.sock",
                                       Handoff{.session = "a", .token = 1}, 0);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().errnum(), ENOENT);
    EXPECT_EQ(status.error().message(),
              "nothing listens on /nonexistent/luoctl-unit/receiver.sock (No such file or "
              "directory)");
}

}  // namespace
}  // namespace lu::protocol
