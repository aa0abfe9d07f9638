// A dead agent is told by its released lock, not by its pid (which another process may have).
#include "agent_lock.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "temp_dir.hpp"

namespace lu::luoctl {
namespace {

class AgentLock : public ::testing::Test {
protected:
    test::TempDir dir_;
    std::string path_ = agent_lock_path(dir_ / "luoctl.sock");
};

TEST_F(AgentLock, IsHeldWhileTheAgentRunsAndNotAfter) {
    EXPECT_EQ(path_, dir_ / "luoctl.sock.lock");
    EXPECT_FALSE(agent_lock_held(path_));  // no file yet
    {
        const Result<Fd> lock = take_agent_lock(path_);
        ASSERT_TRUE(lock.ok()) << lock.error().message();
        EXPECT_TRUE(agent_lock_held(path_));
        const Result<Fd> second = take_agent_lock(path_);
        ASSERT_FALSE(second.ok());
        EXPECT_EQ(second.error().errnum(), EADDRINUSE);
    }
    // The holder is gone (closed, or exited: the kernel drops the lock either way).
    EXPECT_FALSE(agent_lock_held(path_));
    EXPECT_TRUE(take_agent_lock(path_).ok());
}

TEST_F(AgentLock, FollowsNoSymlink) {
    const std::string target = dir_ / "elsewhere";
    ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
    const Result<Fd> lock = take_agent_lock(path_);
    ASSERT_FALSE(lock.ok());
    EXPECT_EQ(lock.error().errnum(), ELOOP);
    EXPECT_NE(::access(target.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace lu::luoctl
