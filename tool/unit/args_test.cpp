#include "args.hpp"
#include "luoctl.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <initializer_list>
#include <string>
#include <vector>

#include "cmd_help.hpp"
#include "cmd_status.hpp"
#include "cmd_version.hpp"

namespace lu::luoctl {
namespace {

Result<Invocation> parse(std::initializer_list<std::string_view> args) {
    const std::vector<std::string_view> arguments(args);
    return parse_args(arguments);
}

Invocation parsed(std::initializer_list<std::string_view> args) {
    Result<Invocation> invocation = parse(args);
    if (!invocation.ok()) {
        ADD_FAILURE() << "usage error: " << invocation.error().message();
        return {};
    }
    return std::move(invocation).value();
}

std::string usage_error(std::initializer_list<std::string_view> args) {
    const Result<Invocation> invocation = parse(args);
    if (invocation.ok()) {
        return "(parsed)";
    }
    EXPECT_EQ(invocation.error().errnum(), EINVAL);
    return invocation.error().message();
}

TEST(ParseArgs, FindsTheCommand) {
    const Invocation invocation = parsed({"status"});
    EXPECT_EQ(invocation.command, &kStatusCommand);
    EXPECT_TRUE(invocation.args.empty());
    EXPECT_EQ(invocation.help_topic, nullptr);
    EXPECT_FALSE(invocation.json);
}

TEST(ParseArgs, AcceptsUniquePrefixes) {
    EXPECT_EQ(parsed({"stat"}).command, &kStatusCommand);
    EXPECT_EQ(parsed({"st"}).command, &kStatusCommand);
    EXPECT_EQ(usage_error({"s"}), "ambiguous command 's'; could be 'status' or 'sessions'");
    EXPECT_EQ(parsed({"v"}).command, &kVersionCommand);
    EXPECT_EQ(parsed({"he"}).command, &kHelpCommand);
}

TEST(ParseArgs, SuggestsACommandForATypo) {
    EXPECT_EQ(usage_error({"stauts"}), "unknown command 'stauts'; did you mean 'status'?");
}

TEST(ParseArgs, AcceptsJsonOptionsBeforeAndAfterTheCommand) {
    EXPECT_TRUE(parsed({"-j", "status"}).json);
    EXPECT_TRUE(parsed({"--json", "status"}).json);
    EXPECT_TRUE(parsed({"status", "-j"}).json);
    EXPECT_TRUE(parsed({"status", "--json"}).json);
}

TEST(ParseArgs, TurnsHelpOptionAloneIntoTheHelpCommand) {
    for (const std::string_view option : {"-h", "--help"}) {
        const Invocation invocation = parsed({option});
        EXPECT_EQ(invocation.command, &kHelpCommand) << option;
        EXPECT_EQ(invocation.help_topic, nullptr) << option;
    }
}

TEST(ParseArgs, TurnsHelpOptionAfterACommandIntoHelpWithATopic) {
    for (const std::string_view option : {"-h", "--help"}) {
        const Invocation invocation = parsed({"stat", option});
        EXPECT_EQ(invocation.command, &kHelpCommand) << option;
        EXPECT_EQ(invocation.help_topic, &kStatusCommand) << option;
    }
}

TEST(ParseArgs, IgnoresSurplusArgumentsWhenHelpIsAskedFor) {
    EXPECT_EQ(parsed({"status", "extra", "--help"}).help_topic, &kStatusCommand);
}

TEST(ParseArgs, ResolvesTheTopicOfTheHelpCommand) {
    const Invocation invocation = parsed({"help", "vers"});
    EXPECT_EQ(invocation.command, &kHelpCommand);
    EXPECT_EQ(invocation.help_topic, &kVersionCommand);
    EXPECT_TRUE(invocation.args.empty());
}

TEST(ParseArgs, RejectsAnUnknownHelpTopic) {
    EXPECT_EQ(usage_error({"help", "stauts"}), "unknown command 'stauts'; did you mean 'status'?");
}

TEST(ParseArgs, TurnsVersionOptionIntoTheVersionCommand) {
    EXPECT_EQ(parsed({"--version"}).command, &kVersionCommand);
    EXPECT_TRUE(parsed({"--json", "--version"}).json);
}

TEST(ParseArgs, RejectsUnknownOptions) {
    EXPECT_EQ(usage_error({"--frobnicate"}), "unknown option '--frobnicate'");
    EXPECT_EQ(usage_error({"status", "-x"}), "unknown option '-x'");
    // Options are not bundled: -jh is one unknown option, not -j -h.
    EXPECT_EQ(usage_error({"status", "-jh"}), "unknown option '-jh'");
}

TEST(ParseArgs, RejectsSurplusArguments) {
    EXPECT_EQ(usage_error({"status", "now"}),
              "unexpected argument 'now'; usage: luoctl status [--socket PATH]");
    EXPECT_EQ(usage_error({"help", "status", "version"}),
              "unexpected argument 'version'; usage: luoctl help [COMMAND]");
}

TEST(ParseArgs, TakesALoneDashForAWord) {
    EXPECT_EQ(usage_error({"-"}), "unknown command '-'; see 'luoctl help'");
}

TEST(ParseArgs, RequiresACommand) {
    EXPECT_EQ(usage_error({}), "no command given; see 'luoctl help'");
    EXPECT_EQ(usage_error({"--json"}), "no command given; see 'luoctl help'");
}

TEST(JsonRequested, SeesJsonOptionsAnywhere) {
    const std::vector<std::string_view> typo = {"stauts", "-j"};
    const std::vector<std::string_view> plain = {"stauts", "-x"};
    EXPECT_TRUE(json_requested(typo));
    EXPECT_FALSE(json_requested(plain));
}

TEST(ParseTimeout, TakesWholeSecondsUpToADay) {
    EXPECT_EQ(parse_timeout("30"), 30u);
    EXPECT_EQ(parse_timeout("0"), 0u);
    EXPECT_EQ(parse_timeout("86400"), 86400u);
    EXPECT_EQ(parse_timeout("86401"), std::nullopt);
    EXPECT_EQ(parse_timeout("4294967326"), std::nullopt);  // not 30 after wrapping
    EXPECT_EQ(parse_timeout("1.5"), std::nullopt);
    EXPECT_EQ(parse_timeout(""), std::nullopt);
}

TEST(ParseArgs, ChecksTheTimeoutOptionOfEveryAgentCommand) {
    EXPECT_EQ(parsed({"sessions", "--timeout", "5"}).option("--timeout"), "5");
    EXPECT_EQ(parsed({"check", "--timeout=0"}).option("--timeout"), "0");
    EXPECT_EQ(usage_error({"status", "--timeout", "86401"}),
              "option '--timeout' is out of range (0 to 86400): '86401'; usage: luoctl status "
              "[--socket PATH]");
    EXPECT_EQ(usage_error({"finish", "--session", "s", "--timeout", "soon"}),
              "option '--timeout' needs a decimal number, not 'soon'; usage: luoctl finish "
              "--session NAME [--socket PATH]");
    // Not for commands that never ask the agent.
    EXPECT_EQ(usage_error({"inspect", "--timeout", "5"}), "unknown option '--timeout'");
}

TEST(JsonRequested, IgnoresTheChildsArguments) {
    const std::vector<std::string_view> child = {"retrieve", "--session", "s", "--", "jq", "-j"};
    const std::vector<std::string_view> ours = {"retrieve", "-j", "--session", "s", "--", "cat"};
    EXPECT_FALSE(json_requested(child));
    EXPECT_TRUE(json_requested(ours));
}

}  // namespace
}  // namespace lu::luoctl
