// luoctl sessions and status against a fake agent: what the agent's replies turn into.
#include <gtest/gtest.h>

#include "fake_agent.hpp"
#include "fake_sysfs.hpp"
#include "luoctl.hpp"
#include "luoctl_runner.hpp"

namespace lu::luoctl {
namespace {

using protocol::Message;
using test::FakeAgent;
using test::FakeSysfs;
using test::Outcome;
using test::run_luoctl;

Message list_reply() {
    Message reply = protocol::ok_reply();
    reply.add("session", "vm-1 0 outgoing preserved 2");
    reply.add("file", "vm-1 1 1048576 preserved memfd");
    reply.add("file", "vm-1 2 4096 preserved unknown");
    return reply;
}

TEST(SessionsCommand, ListsEachFilesHandler) {
    FakeSysfs fake;
    const FakeAgent agent(fake.root() + "/run/luoctl.sock", list_reply());
    const Outcome outcome = run_luoctl({"sessions"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_EQ(outcome.out,
              "vm-1: outgoing, preserved, uid 0, 2 file(s)\n"
              "  token 1: memfd, 1048576 bytes, preserved\n"
              "  token 2: unknown, 4096 bytes, preserved\n");
}

TEST(SessionsCommand, ListsEachFilesHandlerInJson) {
    FakeSysfs fake;
    const FakeAgent agent(fake.root() + "/run/luoctl.sock", list_reply());
    const Outcome outcome = run_luoctl({"sessions", "-j"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_EQ(outcome.out,
              R"({"sessions":[{"name":"vm-1","uid":0,"direction":"outgoing","state":"preserved",)"
              R"("files":[{"token":1,"handler":"memfd","size":1048576,"state":"preserved"},)"
              R"({"token":2,"handler":"unknown","size":4096,"state":"preserved"}]}]})"
              "\n");
}

// What the agent answers to "status" while it holds one client session (two files) and its own
// registry session (one memfd): the module counts both.
Message status_reply(bool with_registry) {
    Message reply = protocol::ok_reply();
    reply.add("agent_pid", std::uint64_t{42});
    reply.add("ready", std::uint64_t{1});
    reply.add("generation", std::uint64_t{1});
    reply.add("outgoing_sessions", std::uint64_t{with_registry ? 2u : 1u});
    reply.add("outgoing_files", std::uint64_t{with_registry ? 3u : 2u});
    reply.add("incoming_sessions", std::uint64_t{0});
    reply.add("incoming_files", std::uint64_t{0});
    reply.add("metadata_bytes", std::uint64_t{12288});
    reply.add("first_error", std::uint64_t{0});
    reply.add("failed_session", "");
    reply.add("failed_token", std::uint64_t{0});
    if (with_registry) {
        reply.add("registry_sessions", std::uint64_t{1});
        reply.add("registry_files", std::uint64_t{1});
    }
    return reply;
}

TEST(StatusCommand, LeavesTheAgentsRegistryOutOfTheCounts) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const FakeAgent agent(fake.root() + "/run/luoctl.sock", status_reply(true));
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_NE(outcome.out.find("agent:      running (pid 42)\n"
                               "outgoing:   1 session(s), 2 file(s), 12288 bytes of handover "
                               "metadata\n"
                               "registry:   luoctl.agent, the agent's own session, 1 file(s) (its "
                               "registry; not in the counts above)\n"
                               "incoming:   0 session(s), 0 file(s)\n"
                               "ready:      yes\n"),
              std::string::npos)
        << outcome.out;
}

TEST(StatusCommand, LeavesTheAgentsRegistryOutOfTheJsonCounts) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const FakeAgent agent(fake.root() + "/run/luoctl.sock", status_reply(true));
    const Outcome outcome = run_luoctl({"status", "-j"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_NE(outcome.out.find(R"("outgoing_sessions":1,"outgoing_files":2,)"
                               R"("registry":{"session":"luoctl.agent","files":1},)"),
              std::string::npos)
        << outcome.out;
}

TEST(StatusCommand, CountsEverythingFromAnAgentWithoutARegistry) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const FakeAgent agent(fake.root() + "/run/luoctl.sock", status_reply(false));
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_NE(outcome.out.find("outgoing:   1 session(s), 2 file(s), "), std::string::npos)
        << outcome.out;
    EXPECT_EQ(outcome.out.find("registry:"), std::string::npos) << outcome.out;
}

// An agent that answers with an error is there and failing, not "not running" (check once said
// "ok   agent: not running" then).
TEST(CheckCommand, FailsTheAgentLineWhenTheAgentAnswersWithAnError) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const FakeAgent agent(fake.root() + "/run/luoctl.sock",
                          protocol::error_reply(Error(EINVAL, "MOD_STATUS: Invalid argument")));
    const Outcome outcome = run_luoctl({"check"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure) << outcome.err;
    EXPECT_NE(outcome.out.find("FAIL agent: not usable: MOD_STATUS: Invalid argument\n"),
              std::string::npos)
        << outcome.out;
    EXPECT_EQ(outcome.out.find("agent: not running"), std::string::npos) << outcome.out;
}

}  // namespace
}  // namespace lu::luoctl
