// run(): dispatch, error reporting and exit statuses, end to end.
#include "luoctl.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "luoctl_runner.hpp"
#include "version.hpp"

namespace lu::luoctl {
namespace {

using test::Outcome;
using test::run_luoctl;

TEST(Run, PrintsUsageToStderrWithoutArguments) {
    const Outcome outcome = run_luoctl({});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, run_luoctl({"help"}).out);
}

TEST(Run, PrintsTheVersionForEverySpelling) {
    const Outcome reference = run_luoctl({"version"});
    EXPECT_EQ(reference.exit_status, kExitSuccess);
    EXPECT_TRUE(reference.out.starts_with("luoctl " + std::string(luoctl_version()) + "\n"))
        << reference.out;
    for (const std::string_view spelling : {"--version", "vers", "v"}) {
        const Outcome outcome = run_luoctl({spelling});
        EXPECT_EQ(outcome.exit_status, kExitSuccess) << spelling;
        EXPECT_EQ(outcome.out, reference.out) << spelling;
        EXPECT_EQ(outcome.err, "") << spelling;
    }
}

TEST(Run, SuggestsACommandAndExitsWithUsageStatus) {
    const Outcome outcome = run_luoctl({"stauts"});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, "luoctl: unknown command 'stauts'; did you mean 'status'?\n");
}

TEST(Run, ReportsUsageErrorsAsJsonToo) {
    const Outcome outcome = run_luoctl({"-j", "stauts"});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.out,
              R"({"error":"unknown command 'stauts'; did you mean 'status'?","errno":22})"
              "\n");
    EXPECT_EQ(outcome.err, "luoctl: unknown command 'stauts'; did you mean 'status'?\n");
}

TEST(Run, RejectsAnUnknownOption) {
    const Outcome outcome = run_luoctl({"status", "--all"});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, "luoctl: unknown option '--all'\n");

    const Outcome json = run_luoctl({"status", "--all", "--json"});
    EXPECT_EQ(json.exit_status, kExitUsage);
    EXPECT_EQ(json.out, R"({"error":"unknown option '--all'","errno":22})"
                        "\n");
}

TEST(Run, RejectsSurplusArguments) {
    const Outcome outcome = run_luoctl({"version", "now"});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.err, "luoctl: unexpected argument 'now'; usage: luoctl version\n");
}

TEST(Run, RequiresACommandEvenWithOptions) {
    const Outcome outcome = run_luoctl({"--json"});
    EXPECT_EQ(outcome.exit_status, kExitUsage);
    EXPECT_EQ(outcome.out, R"({"error":"no command given; see 'luoctl help'","errno":22})"
                           "\n");
    EXPECT_EQ(outcome.err, "luoctl: no command given; see 'luoctl help'\n");
}

TEST(Run, FailsWhenTheOutputCannotBeWritten) {
    const std::vector<std::string_view> args = {"version"};
    std::ostringstream out;
    std::ostringstream err;
    out.setstate(std::ios::badbit);
    EXPECT_EQ(run(args, Environment{}, out, err), kExitFailure);
    EXPECT_EQ(err.str(), "luoctl: cannot write to standard output\n");
}

}  // namespace
}  // namespace lu::luoctl
