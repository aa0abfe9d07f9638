// luoctl help, in all its spellings, end to end through run().
#include <gtest/gtest.h>

#include "luoctl.hpp"
#include "luoctl_runner.hpp"

namespace lu::luoctl {
namespace {

using test::Outcome;
using test::run_luoctl;

constexpr std::string_view kStatusHelp =
    "Usage: luoctl status [--socket PATH]\n"
    "\n"
    "Show who provides /dev/liveupdate (the liveupdate module or the kernel's own LUO), the\n"
    "handover generation (1 after a cold boot, one more after each live update), what became\n"
    "of the previous kernel's handover, and whether kexec handover (KHO) is enabled.\n"
    "With liveupdate available, also the agent, the module's session and file counts, and\n"
    "whether the handover is ready (LIVEUPDATE_IOCTL_MOD_STATUS, asked through the agent\n"
    "when one runs, since it holds the device). The outgoing counts leave out the agent's\n"
    "own registry session (luoctl.agent), shown on a line of its own. Exit status 1 if\n"
    "liveupdate is not available.\n";

TEST(HelpCommand, ShowsTheSameUsageForEverySpelling) {
    const Outcome reference = run_luoctl({"help"});
    EXPECT_EQ(reference.exit_status, kExitSuccess);
    EXPECT_TRUE(reference.out.starts_with("Usage: luoctl [-j|--json] COMMAND [ARGUMENTS]\n"));
    EXPECT_EQ(reference.err, "");
    for (const std::string_view spelling : {"--help", "-h", "he"}) {
        const Outcome outcome = run_luoctl({spelling});
        EXPECT_EQ(outcome.exit_status, kExitSuccess) << spelling;
        EXPECT_EQ(outcome.out, reference.out) << spelling;
    }
}

TEST(HelpCommand, ListsEveryCommand) {
    const std::string usage = run_luoctl({"help"}).out;
    EXPECT_NE(usage.find("\n  status     Show whether liveupdate is available"), std::string::npos);
    EXPECT_NE(usage.find("\n  version    Print the version of luoctl\n"), std::string::npos);
    EXPECT_NE(usage.find("\n  help       Show how to use luoctl"), std::string::npos);
    for (const std::string_view command : {"agent", "preserve", "sessions", "check", "load",
                                           "kexec", "retrieve", "finish", "abort", "inspect"}) {
        EXPECT_NE(usage.find("\n  " + std::string(command) + " "), std::string::npos) << command;
    }
}

TEST(HelpCommand, EveryCommandHasHelp) {
    for (const std::string_view command : {"agent", "preserve", "sessions", "check", "load",
                                           "kexec", "retrieve", "finish", "abort", "inspect"}) {
        const Outcome outcome = run_luoctl({command, "--help"});
        EXPECT_EQ(outcome.exit_status, kExitSuccess) << command;
        EXPECT_TRUE(outcome.out.starts_with("Usage: luoctl " + std::string(command)))
            << outcome.out;
    }
}

TEST(HelpCommand, ShowsOneCommandForEverySpelling) {
    const std::vector<std::vector<std::string_view>> spellings = {
        {"help", "status"}, {"help", "stat"}, {"status", "--help"},
        {"-h", "status"},   {"status", "-h"}, {"status", "now", "--help"}};
    for (const std::vector<std::string_view>& args : spellings) {
        const Outcome outcome = run_luoctl(args);
        EXPECT_EQ(outcome.exit_status, kExitSuccess) << args[0] << ' ' << args[1];
        EXPECT_EQ(outcome.out, kStatusHelp) << args[0] << ' ' << args[1];
    }
}

TEST(HelpCommand, DescribesItself) {
    const Outcome outcome = run_luoctl({"help", "--help"});
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_TRUE(outcome.out.starts_with("Usage: luoctl help [COMMAND]\n\n")) << outcome.out;
}

TEST(HelpCommand, ListsTheCommandsInJson) {
    const Outcome outcome = run_luoctl({"help", "-j"});
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_TRUE(outcome.out.starts_with(
        R"({"commands":[)"
        R"({"name":"status","usage":"luoctl status [--socket PATH]",)"
        R"("summary":"Show whether liveupdate is available and in what state"},)"
        R"({"name":"sessions","usage":"luoctl sessions [--socket PATH]",)"))
        << outcome.out;
    EXPECT_TRUE(outcome.out.ends_with(
        R"({"name":"version","usage":"luoctl version","summary":"Print the version of luoctl"},)"
        R"({"name":"help","usage":"luoctl help [COMMAND]",)"
        R"("summary":"Show how to use luoctl or one of its commands"}]})"
        "\n"))
        << outcome.out;
}

TEST(HelpCommand, DescribesOneCommandInJson) {
    const Outcome outcome = run_luoctl({"version", "--help", "--json"});
    EXPECT_EQ(outcome.exit_status, kExitSuccess);
    EXPECT_EQ(outcome.out, R"({"commands":[{"name":"version","usage":"luoctl version",)"
                           R"("summary":"Print the version of luoctl"}]})"
                           "\n");
}

TEST(HelpCommand, RejectsAnUnknownTopic) {
    const Outcome outcome = run_luoctl({"help", "stauts"});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, "luoctl: unknown command 'stauts'; did you mean 'status'?\n");
}

}  // namespace
}  // namespace lu::luoctl
