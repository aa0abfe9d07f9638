// The new commands' options and their failure modes, end to end through run() (no agent, no
// device: the fake root has neither).
#include <gtest/gtest.h>

#include <chrono>

#include "args.hpp"
#include "cmd_kexec.hpp"
#include "cmd_retrieve.hpp"
#include "cmd_sessions.hpp"
#include "fake_sysfs.hpp"
#include "luoctl.hpp"
#include "luoctl_runner.hpp"
#include "temp_dir.hpp"
#include "transport.hpp"

namespace lu::luoctl {
namespace {

using test::FakeSysfs;
using test::Outcome;
using test::run_luoctl;

Result<Invocation> parse(std::vector<std::string_view> args) {
    return parse_args(args);
}

std::string usage_error(std::vector<std::string_view> args) {
    const Result<Invocation> invocation = parse(args);
    if (invocation.ok()) {
        return "(parsed)";
    }
    EXPECT_EQ(invocation.error().errnum(), EINVAL);
    return invocation.error().message();
}

TEST(CommandOptions, TakeValuesInBothSpellings) {
    const Result<Invocation> invocation =
        parse({"preserve", "--session=vm-1", "--token", "7", "--fd", "3", "-j"});
    ASSERT_TRUE(invocation.ok()) << invocation.error().message();
    EXPECT_EQ(invocation.value().command, &kPreserveCommand);
    EXPECT_EQ(invocation.value().option("--session"), "vm-1");
    EXPECT_EQ(invocation.value().option("--token"), "7");
    EXPECT_EQ(invocation.value().option("--fd"), "3");
    EXPECT_TRUE(invocation.value().json);
}

TEST(CommandOptions, AreUsageErrorsWhenWrong) {
    EXPECT_EQ(usage_error({"--session", "x", "preserve"}), "unknown option '--session'");
    EXPECT_EQ(usage_error({"status", "--session", "x"}), "unknown option '--session'");
    EXPECT_EQ(usage_error({"preserve", "--token"}), "option '--token' needs a value (N)");
    EXPECT_EQ(usage_error({"preserve", "--token", "1", "--token", "2"}),
              "option '--token' given twice");
    EXPECT_EQ(usage_error({"agent", "--detach=yes"}), "option '--detach' takes no value");
}

TEST(CommandOptions, PreserveNeedsOneSourceAndNumbers) {
    const std::string usage =
        "; usage: luoctl preserve --session NAME --token N (--fd N | --file PATH | --pid PID "
        "--pidfd-fd N)";
    EXPECT_EQ(usage_error({"preserve", "--token", "1", "--fd", "3"}),
              "option '--session' is required" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--fd", "3"}),
              "option '--token' is required" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "x", "--fd", "3"}),
              "option '--token' needs a decimal number, not 'x'" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1"}),
              "give exactly one of --fd, --file or --pid" + usage);
    // An fd or a pid is an int: 4294967296 once became fd 0 (stdin), 4294967297 pid 1.
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1", "--fd", "4294967296"}),
              "option '--fd' is out of range (0 to 2147483647): '4294967296'" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1", "--pid", "4294967297",
                           "--pidfd-fd", "3"}),
              "option '--pid' is out of range (1 to 2147483647): '4294967297'" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1", "--pid", "0",
                           "--pidfd-fd", "3"}),
              "option '--pid' is out of range (1 to 2147483647): '0'" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1", "--pid", "5",
                           "--pidfd-fd", "2147483648"}),
              "option '--pidfd-fd' is out of range (0 to 2147483647): '2147483648'" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "18446744073709551616", "--fd",
                           "3"}),
              "option '--token' is out of range (0 to 18446744073709551615): "
              "'18446744073709551616'" +
                  usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "-1", "--fd", "3"}),
              "option '--token' needs a decimal number, not '-1'" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1", "--fd", "3", "--file",
                           "/f"}),
              "give exactly one of --fd, --file or --pid" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "s", "--token", "1", "--pid", "5"}),
              "--pid and --pidfd-fd go together" + usage);
    EXPECT_EQ(usage_error({"preserve", "--session", "luoctl.agent", "--token", "1", "--fd", "3"}),
              "invalid session name 'luoctl.agent' (1 to 63 of A-Z a-z 0-9 . _ : @ + -, not "
              "starting with 'luoctl.')" +
                  usage);
}

TEST(CommandOptions, RetrieveTakesACommandAfterTheSeparator) {
    const Result<Invocation> invocation =
        parse({"retrieve", "--session", "s", "--token", "1", "--", "cat", "--json", "-"});
    ASSERT_TRUE(invocation.ok()) << invocation.error().message();
    EXPECT_EQ(invocation.value().command, &kRetrieveCommand);
    EXPECT_FALSE(invocation.value().json);  // after "--" it is COMMAND's
    EXPECT_EQ(invocation.value().command_line,
              (std::vector<std::string_view>{"cat", "--json", "-"}));
    const std::string usage =
        "; usage: luoctl retrieve --session NAME [--token N] [--socket PATH] (--to-socket PATH "
        "| -- COMMAND [ARG...])";
    EXPECT_EQ(usage_error({"retrieve", "--session", "s"}),
              "missing '-- COMMAND' (or --to-socket PATH)" + usage);
    EXPECT_EQ(usage_error({"retrieve", "--session", "s", "--"}), "missing '-- COMMAND'" + usage);
    EXPECT_EQ(usage_error({"retrieve", "--session", "s", "--to-socket", "/s", "--", "true"}),
              "give either --to-socket PATH or -- COMMAND, not both" + usage);
    EXPECT_EQ(usage_error({"retrieve", "--session", "s", "--to-socket="}),
              "--to-socket needs a path" + usage);
}

TEST(CommandOptions, RetrieveCanHandTheFileToASocketInstead) {
    const Result<Invocation> invocation =
        parse({"retrieve", "--session", "s", "--token", "1", "--to-socket", "/run/vmm.sock"});
    ASSERT_TRUE(invocation.ok()) << invocation.error().message();
    EXPECT_EQ(invocation.value().option("--to-socket"), "/run/vmm.sock");
    EXPECT_TRUE(invocation.value().command_line.empty());
}

TEST(CommandOptions, LoadNeedsAnImage) {
    EXPECT_EQ(usage_error({"load", "--reuse-cmdline"}),
              "IMAGE is required; usage: luoctl load IMAGE [--initrd FILE] [--append ARGS] "
              "[--reuse-cmdline]");
    EXPECT_EQ(parse({"load", "/boot/bzImage", "--append", "a=b c"}).value().option("--append"),
              "a=b c");
}

TEST(ClientCommands, FailWithExit1WhenNoAgentRuns) {
    for (const std::vector<std::string_view>& args :
         std::vector<std::vector<std::string_view>>{
             {"sessions"},
             {"finish", "--session", "s"},
             {"abort", "--session", "s"},
             {"retrieve", "--session", "s", "--token", "1", "--", "true"},
             {"preserve", "--session", "s", "--token", "1", "--fd", "0"}}) {
        const Outcome outcome = run_luoctl(args);
        EXPECT_EQ(outcome.exit_status, kExitFailure) << args[0];
        EXPECT_TRUE(outcome.err.starts_with("luoctl: the luoctl agent is not running"))
            << outcome.err;
    }
}

TEST(ClientCommands, ReportNoAgentAsJson) {
    const Outcome outcome = run_luoctl({"sessions", "-j"});
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_TRUE(outcome.out.starts_with(R"({"error":"the luoctl agent is not running)"));
    EXPECT_TRUE(outcome.out.ends_with(R"(,"errno":2})"
                                      "\n"));
}

TEST(CheckCommand, FailsLineByLine) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    fake.add_file("/sys/kernel/kexec_loaded", "0\n");
    const Outcome outcome = run_luoctl({"check"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(outcome.out,
              "ok   liveupdate: /dev/liveupdate served by the liveupdate module\n"
              "ok   kho: enabled\n"
              "FAIL kernel: no kernel staged (luoctl load IMAGE)\n"
              "ok   agent: not running (no sessions held by an agent)\n"
              "FAIL sessions: cannot ask the module: cannot read the module's status: "
              "Inappropriate ioctl for device\n");
    EXPECT_EQ(outcome.err, "luoctl: not ready for a live update: 2 check(s) failed\n");
}

TEST(CheckCommand, DoesNotTrustAKernelItDidNotStage) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/false);
    fake.add_file("/sys/kernel/kexec_loaded", "1\n");
    const Outcome outcome = run_luoctl({"check", "-j"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_NE(outcome.out.find(R"({"check":"kho","ok":false,)"), std::string::npos);
    EXPECT_NE(outcome.out.find(R"({"check":"kernel","ok":false,"detail":"a kernel is staged, )"
                               R"(but not by 'luoctl load')"),
              std::string::npos)
        << outcome.out;
    EXPECT_TRUE(outcome.out.starts_with(R"({"ready":false,"checks":[)"));
    EXPECT_TRUE(outcome.out.ends_with(R"(,"errno":125})"
                                      "\n"));
}

TEST(CheckCommand, NamesSessionsADeadAgentLost) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    // 999999999 is above any pid_max: never a live agent.
    fake.add_file("/run/luoctl.sock.state",
                  "luoctl/1 state\npid=999999999\nsession=vm-1 0 outgoing preserved 1\n");
    const Outcome outcome = run_luoctl({"check"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_NE(outcome.out.find("FAIL agent: not running; agent pid 999999999 died before the "
                               "reboot\n"
                               "FAIL lost: 1 session(s) lost with a dead agent, no longer "
                               "preserved: vm-1 (preserve again, or 'luoctl abort' to "
                               "acknowledge)\n"),
              std::string::npos)
        << outcome.out;
}

TEST(KexecCommand, NeverRebootsWithoutAStagedKernel) {
    FakeSysfs fake;
    const Outcome outcome = run_luoctl({"kexec"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(outcome.err, "luoctl: nothing staged by 'luoctl load'; give IMAGE\n");
}

TEST(KexecCommand, NeverRebootsWhenStagingFails) {
    FakeSysfs fake;
    const Outcome outcome = run_luoctl({"kexec", "/nonexistent/bzImage"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(outcome.err, "luoctl: cannot open /nonexistent/bzImage: No such file or directory\n");
}

// kexec(8) drops the boot loader's BOOT_IMAGE= from a reused command line: it names the image
// being replaced.
TEST(ReusableCmdline, DropsBootImageAndKeepsTheRest) {
    EXPECT_EQ(reusable_cmdline("BOOT_IMAGE=/boot/vmlinuz-7.3 root=/dev/vda ro quiet\n"),
              "root=/dev/vda ro quiet");
    EXPECT_EQ(reusable_cmdline("console=ttyS0 BOOT_IMAGE=(hd0,1)/vmlinuz kho=on"),
              "console=ttyS0 kho=on");
    EXPECT_EQ(reusable_cmdline("a=\"x BOOT_IMAGE=y\"  b"), "a=\"x BOOT_IMAGE=y\" b");
    EXPECT_EQ(reusable_cmdline("XBOOT_IMAGE=1"), "XBOOT_IMAGE=1");
    EXPECT_EQ(reusable_cmdline(""), "");
    EXPECT_EQ(reusable_cmdline("BOOT_IMAGE=x"), "");
}

// --timeout overrides $LUOCTL_TIMEOUT's 30 s default: a stopped agent costs the caller 1 s.
TEST(Commands, TimeoutOptionBoundsTheWaitForTheAgent) {
    const lu::test::TempDir dir;
    const std::string socket = dir / "agent.sock";
    const Result<Fd> listener = protocol::listen_at(socket);  // never accepts, never answers
    ASSERT_TRUE(listener.ok());
    const auto start = std::chrono::steady_clock::now();
    const Outcome outcome = run_luoctl({"sessions", "--socket", socket, "--timeout", "1"});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_NE(outcome.err.find("did not answer in 1 s"), std::string::npos) << outcome.err;
}

}  // namespace
}  // namespace lu::luoctl
