// sd_notify(3) and sd_listen_fds(3) as the agent speaks them: a real datagram socket stands in
// for systemd's notification socket.
#include "service_manager.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "temp_dir.hpp"
#include "unix_socket.hpp"

namespace lu::luoctl {
namespace {

// What one notification carried: its text and the descriptors attached.
struct Notification {
    std::string text;
    std::vector<Fd> fds;
};

class NotifySocket {
public:
    NotifySocket() {
        path_ = dir_ / "notify";
        socket_ = Fd::adopt(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un address = {};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path_.c_str());
        EXPECT_EQ(::bind(socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        // A notification that never comes fails the test instead of hanging it.
        const timeval timeout = {.tv_sec = 5, .tv_usec = 0};
        ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    }
    const std::string& path() const { return path_; }

    Notification receive() {
        char text[512] = {};
        Result<protocol::ReceivedBytes> got =
            protocol::receive_with_fds(socket_.get(), std::span<char>(text, sizeof(text) - 1), 4,
                                       "receive a notification");
        if (!got.ok()) {
            return {};
        }
        protocol::ReceivedBytes bytes = std::move(got).value();
        return {.text = std::string(text, bytes.length), .fds = std::move(bytes.fds)};
    }

private:
    test::TempDir dir_;
    std::string path_;
    Fd socket_;
};

TEST(ServiceManager, StoresADescriptorUnderItsName) {
    NotifySocket manager;
    const ServiceManager notifier(manager.path());
    const Fd memfd = Fd::adopt(::memfd_create("stored", MFD_CLOEXEC));
    ASSERT_TRUE(notifier.store("vm:42", memfd.get()).ok());
    Notification got = manager.receive();
    EXPECT_EQ(got.text, "FDSTORE=1\nFDNAME=vm%3A42");
    ASSERT_EQ(got.fds.size(), 1u);
    struct stat ours = {}, theirs = {};
    ASSERT_EQ(::fstat(memfd.get(), &ours), 0);
    ASSERT_EQ(::fstat(got.fds[0].get(), &theirs), 0);
    EXPECT_EQ(ours.st_ino, theirs.st_ino);

    ASSERT_TRUE(notifier.remove("vm:42").ok());
    got = manager.receive();
    EXPECT_EQ(got.text, "FDSTOREREMOVE=1\nFDNAME=vm%3A42");
    EXPECT_TRUE(got.fds.empty());
}

TEST(ServiceManager, ReportsAManagerThatIsGone) {
    const ServiceManager notifier("/nonexistent/notify");
    const Status sent = notifier.notify("READY=1");
    ASSERT_FALSE(sent.ok());
    EXPECT_EQ(sent.error().errnum(), ENOENT);
}

TEST(ServiceManager, ComesFromTheEnvironmentOnlyWhenUsable) {
    ::setenv("NOTIFY_SOCKET", "relative/path", 1);
    EXPECT_FALSE(ServiceManager::from_environment().has_value());
    ::setenv("NOTIFY_SOCKET", std::string(200, '/').c_str(), 1);  // longer than sun_path
    EXPECT_FALSE(ServiceManager::from_environment().has_value());
    ::setenv("NOTIFY_SOCKET", "@abstract", 1);
    EXPECT_TRUE(ServiceManager::from_environment().has_value());
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(ServiceManager::from_environment().has_value());
}

TEST(ServiceManager, FdStoreNamesStayDistinctAndValid) {
    EXPECT_EQ(fd_store_name("vm-1.ram").value(), "vm-1.ram");
    EXPECT_EQ(fd_store_name("a:b").value(), "a%3Ab");
    EXPECT_EQ(fd_store_name("a%3Ab").value(), "a%253Ab");  // not the same as "a:b"
    EXPECT_EQ(fd_store_name("").error().errnum(), EINVAL);
    EXPECT_EQ(fd_store_name("tab\there").error().errnum(), EINVAL);
    EXPECT_EQ(fd_store_name(std::string(256, 'x')).error().errnum(), EINVAL);
    EXPECT_EQ(fd_store_name(std::string(100, ':')).error().errnum(), EINVAL);  // 300 once encoded
}

TEST(ServiceManager, TakesListenedFdsOnlyWhenTheyAreForThisProcess) {
    ::setenv("LISTEN_PID", std::to_string(::getpid() + 1).c_str(), 1);
    ::setenv("LISTEN_FDS", "2", 1);
    ::setenv("LISTEN_FDNAMES", "a:b", 1);
    EXPECT_TRUE(take_listened_fds().empty());
    // Taken once: a child started later does not see them.
    EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr);
    EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
    EXPECT_EQ(std::getenv("LISTEN_FDNAMES"), nullptr);

    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LISTEN_FDS", "-1", 1);
    EXPECT_TRUE(take_listened_fds().empty());
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LISTEN_FDS", "99999999999999999999", 1);
    EXPECT_TRUE(take_listened_fds().empty());
}

}  // namespace
}  // namespace lu::luoctl
