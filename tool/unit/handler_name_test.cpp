// Naming a file's handler from its descriptor, as the agent does for its listings.
#include "handler_name.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fd.hpp"

namespace lu::luoctl {
namespace {

TEST(HandlerName, AMemfdIsTheMemfdHandlers) {
    const Fd memfd = Fd::adopt(::memfd_create("handler name test", MFD_CLOEXEC));
    ASSERT_TRUE(memfd.valid());
    EXPECT_EQ(handler_of_fd(memfd.get()), "memfd");
}

TEST(HandlerName, OtherFilesAreUnknown) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const Fd read_end = Fd::adopt(fds[0]);
    const Fd write_end = Fd::adopt(fds[1]);
    EXPECT_EQ(handler_of_fd(read_end.get()), "unknown");
    EXPECT_EQ(handler_of_fd(-1), "unknown");
}

TEST(HandlerName, AnAnonymousInodeIsNamedByItsType) {
    EXPECT_EQ(handler_of_link("anon_inode:[lutest]"), "lutest");
    EXPECT_EQ(handler_of_link("anon_inode:[eventfd]"), "eventfd");
    EXPECT_EQ(handler_of_link("anon_inode:lutest"), "unknown");
}

}  // namespace
}  // namespace lu::luoctl
