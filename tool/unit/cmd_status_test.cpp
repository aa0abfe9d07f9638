// luoctl status end to end: run() over a fake sysfs tree, output compared byte for byte.
#include <gtest/gtest.h>

#include "fake_agent.hpp"
#include "fake_sysfs.hpp"
#include "luoctl.hpp"
#include "luoctl_runner.hpp"

namespace lu::luoctl {
namespace {

using test::FakeSysfs;
using test::Outcome;
using test::run_luoctl;

constexpr std::string_view kNotLoaded =
    "luoctl: liveupdate is not available: module not loaded (modprobe liveupdate)\n";

TEST(StatusCommand, DescribesALoadedModule) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_EQ(outcome.out,
              "provider:   module\n"
              "module:     loaded (version 0.1.0)\n"
              "device:     /dev/liveupdate (mode 0600)\n"
              "generation: 1\n"
              "handover:   none\n"
              "kho:        enabled\n"
              "agent:      not running\n"
              "ready:      unknown (cannot read the module's status: Inappropriate ioctl for "
              "device)\n");
    EXPECT_EQ(outcome.err, "");
}

TEST(StatusCommand, ShowsTheReasonOfARejectedHandover) {
    FakeSysfs fake;
    fake.add_module("4", "rejected format version 9, expected 1");
    fake.mount_debugfs(/*kho_enabled=*/false);
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_EQ(outcome.out,
              "provider:   module\n"
              "module:     loaded (version 0.1.0)\n"
              "device:     /dev/liveupdate (mode 0600)\n"
              "generation: 4\n"
              "handover:   rejected: format version 9, expected 1\n"
              "kho:        disabled\n"
              "agent:      not running\n"
              "ready:      unknown (cannot read the module's status: Inappropriate ioctl for "
              "device)\n");
}

TEST(StatusCommand, PrintsTheStateAndFailsWhenTheModuleIsNotLoaded) {
    FakeSysfs fake;
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(outcome.out,
              "provider:   none\n"
              "module:     not loaded\n"
              "device:     /dev/liveupdate (missing)\n"
              "generation: unknown\n"
              "handover:   unknown\n"
              "kho:        unknown (debugfs not mounted)\n");
    EXPECT_EQ(outcome.err, kNotLoaded);
}

TEST(StatusCommand, NamesTheInKernelProvider) {
    FakeSysfs fake;
    fake.add_file("/dev/liveupdate", "", 0660);
    const Outcome outcome = run_luoctl({"st"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_EQ(outcome.out,
              "provider:   in-kernel\n"
              "module:     not loaded\n"
              "device:     /dev/liveupdate (mode 0660)\n"
              "generation: unknown\n"
              "handover:   unknown\n"
              "kho:        unknown (debugfs not mounted)\n"
              "agent:      not running\n"
              "ready:      unknown (cannot read the module's status: Inappropriate ioctl for "
              "device)\n");
}

// The in-kernel LUO has no MOD_STATUS (EINVAL): status shows what the agent holds and says why
// readiness is unknown, instead of a module error.
TEST(StatusCommand, CountsWhatTheAgentHoldsOnTheInKernelLuo) {
    FakeSysfs fake;
    fake.add_file("/dev/liveupdate", "", 0600);
    fake.add_directory("/run");
    protocol::Message reply = protocol::ok_reply();
    reply.add("agent_pid", 42).add("module_errno", EINVAL).add("module_error", "Invalid argument");
    reply.add("held_sessions", 2).add("held_files", 3);
    reply.add("held_incoming_sessions", 1).add("held_incoming_files", 4);
    reply.add("registry_sessions", 1).add("registry_files", 1);
    const test::FakeAgent agent(fake.root() + "/run/luoctl.sock", reply);
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    const std::size_t agent_line = outcome.out.find("agent:");
    ASSERT_NE(agent_line, std::string::npos) << outcome.out;
    EXPECT_EQ(outcome.out.substr(agent_line),
              "agent:      running (pid 42)\n"
              "outgoing:   2 session(s), 3 file(s) held by the agent\n"
              "registry:   luoctl.agent, the agent's own session, 1 file(s) (its registry; not in "
              "the counts above)\n"
              "incoming:   1 session(s), 4 file(s) held by the agent\n"
              "ready:      unknown (the in-kernel LUO cannot be asked: it has no "
              "LIVEUPDATE_IOCTL_MOD_STATUS; a file that refuses to freeze fails the kexec)\n");
}

TEST(StatusCommand, WritesOneJsonObjectForALoadedModule) {
    FakeSysfs fake;
    fake.add_module("2", "accepted");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const Outcome outcome = run_luoctl({"status", "--json"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_EQ(outcome.out, R"({"provider":"module","module":{"loaded":true,"version":"0.1.0","luoctl_version":"0.1.0"},)"
                           R"("device":{"path":"/dev/liveupdate","mode":"0600"},"generation":2,)"
                           R"("handover":{"outcome":"accepted","reason":null},"kho":"enabled",)"
              R"("agent":{"running":false,"pid":null,"dead_pid":null,"lost":[]},)"
              R"("handover_status":null})"
                           "\n");
    EXPECT_EQ(outcome.err, "");
}

TEST(StatusCommand, EscapesTheHandoverReasonInJson) {
    FakeSysfs fake;
    fake.add_module("5", "failed session \"db\"\tlost");
    const Outcome outcome = run_luoctl({"-j", "status"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_NE(
        outcome.out.find(R"("handover":{"outcome":"failed","reason":"session \"db\"\tlost"})"),
        std::string::npos)
        << outcome.out;
}

TEST(StatusCommand, PutsTheStateAndTheErrorInOneJsonObject) {
    FakeSysfs fake;
    const Outcome outcome = run_luoctl({"status", "-j"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(
        outcome.out,
        R"({"provider":null,"module":{"loaded":false,"version":null,"luoctl_version":"0.1.0"},"device":null,)"
        R"("generation":null,"handover":null,"kho":"unknown",)"
        R"json("error":"liveupdate is not available: module not loaded (modprobe liveupdate)",)json"
        R"("errno":19})"
        "\n");
    EXPECT_EQ(outcome.err, kNotLoaded);
}

TEST(StatusCommand, PrintsNothingButTheErrorWhenTheStateCannotBeRead) {
    FakeSysfs fake;
    fake.add_module("zero", "none");
    const Outcome text = run_luoctl({"status"}, fake.root());
    EXPECT_EQ(text.exit_status, kExitFailure);
    EXPECT_EQ(text.out, "");
    EXPECT_EQ(text.err,
              "luoctl: /sys/class/misc/liveupdate/generation: expected a decimal generation of at "
              "least 1, found 'zero'\n");

    const Outcome json = run_luoctl({"status", "--json"}, fake.root());
    EXPECT_EQ(json.exit_status, kExitFailure);
    EXPECT_EQ(json.out,
              R"({"error":"/sys/class/misc/liveupdate/generation: expected a decimal generation )"
              R"(of at least 1, found 'zero'","errno":71})"
              "\n");
}

// A module and a luoctl of different releases: said on the module's line.
TEST(StatusCommand, ReportsAModuleOfAnotherRelease) {
    FakeSysfs fake;
    fake.add_module("1", "none", "0.0.9");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const Outcome outcome = run_luoctl({"status"}, fake.root());
    EXPECT_NE(outcome.out.find("module:     loaded (version 0.0.9; this luoctl is " +
                               std::string(luoctl_version()) + ": install both from one release)\n"),
              std::string::npos)
        << outcome.out;
}

TEST(VersionCommand, NamesTheReleaseTheProtocolAndTheUapi) {
    const Outcome text = run_luoctl({"--version"});
    EXPECT_EQ(text.out, "luoctl " + std::string(luoctl_version()) +
                            "\nagent protocol 1\nuapi 7.3 (the in-kernel LUO's ioctls; module "
                            "extension: MOD_STATUS)\n");
    const Outcome json = run_luoctl({"version", "-j"});
    EXPECT_EQ(json.out, R"({"version":")" + std::string(luoctl_version()) +
                            R"(","protocol":1,"uapi":"7.3","uapi_extensions":"MOD_STATUS"})" "\n");
}

}  // namespace
}  // namespace lu::luoctl
