#include "fd.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <utility>

namespace lu {
namespace {

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

Fd open_dev_null() {
    Result<Fd> fd = Fd::open("/dev/null", O_RDONLY);
    EXPECT_TRUE(fd.ok());
    return std::move(fd).value();
}

TEST(Fd, OpensWithCloseOnExec) {
    const Fd fd = open_dev_null();
    EXPECT_EQ(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(Fd, ClosesOnDestruction) {
    int raw = -1;
    {
        const Fd fd = open_dev_null();
        raw = fd.get();
        EXPECT_TRUE(is_open(raw));
    }
    EXPECT_FALSE(is_open(raw));
}

TEST(Fd, MoveTransfersOwnership) {
    Fd first = open_dev_null();
    const int raw = first.get();
    const Fd second = std::move(first);
    EXPECT_EQ(second.get(), raw);
    EXPECT_EQ(first.get(), -1);  // the moved-from Fd owns nothing
    EXPECT_TRUE(is_open(raw));
}

TEST(Fd, MoveAssignmentClosesTheOldDescriptor) {
    Fd target = open_dev_null();
    const int old_raw = target.get();
    Fd source = open_dev_null();
    const int new_raw = source.get();
    target = std::move(source);
    EXPECT_EQ(target.get(), new_raw);
    EXPECT_FALSE(is_open(old_raw));
    EXPECT_TRUE(is_open(new_raw));
}

TEST(Fd, ReportsWhatCouldNotBeOpened) {
    const Result<Fd> fd = Fd::open("/nonexistent/file", O_RDONLY);
    ASSERT_FALSE(fd.ok());
    EXPECT_EQ(fd.error().errnum(), ENOENT);
    EXPECT_EQ(fd.error().message(), "cannot open /nonexistent/file: No such file or directory");
}

}  // namespace
}  // namespace lu
