#include "command_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <string>
#include <vector>

namespace lu::luoctl {
namespace {

constexpr Command named(std::string_view name) {
    return {.name = name,
            .synopsis = "",
            .summary = "",
            .description = "",
            .max_args = 0,
            .handler = nullptr};
}

// Commands of a later luoctl, to exercise prefixes that the current table cannot.
constexpr Command kLoad = named("load");
constexpr Command kLoadAll = named("loadall");
constexpr Command kSessions = named("sessions");
constexpr Command kStatus = named("status");
constexpr Command kStop = named("stop");
constexpr std::array<const Command*, 5> kTable = {&kLoad, &kLoadAll, &kSessions, &kStatus, &kStop};

std::string_view found_name(std::string_view name) {
    const Result<const Command*> command = find_command(kTable, name);
    return command.ok() ? command.value()->name : "(error)";
}

std::string error_message(std::string_view name) {
    const Result<const Command*> command = find_command(kTable, name);
    if (command.ok()) {
        return "(found " + std::string(command.value()->name) + ")";
    }
    EXPECT_EQ(command.error().errnum(), EINVAL);
    return command.error().message();
}

TEST(FindCommand, FindsAnExactName) {
    EXPECT_EQ(found_name("sessions"), "sessions");
}

TEST(FindCommand, FindsAUniquePrefix) {
    EXPECT_EQ(found_name("se"), "sessions");
    EXPECT_EQ(found_name("stat"), "status");
    EXPECT_EQ(found_name("loada"), "loadall");
}

TEST(FindCommand, PrefersAnExactNameToALongerCommand) {
    EXPECT_EQ(found_name("load"), "load");
}

TEST(FindCommand, ListsTheCandidatesOfAnAmbiguousPrefix) {
    EXPECT_EQ(error_message("lo"), "ambiguous command 'lo'; could be 'load' or 'loadall'");
    EXPECT_EQ(error_message("s"), "ambiguous command 's'; could be 'sessions', 'status' or 'stop'");
}

TEST(FindCommand, SuggestsTheNearestCommandForAnUnknownName) {
    EXPECT_EQ(error_message("stauts"), "unknown command 'stauts'; did you mean 'status'?");
    EXPECT_EQ(error_message("sessoins"), "unknown command 'sessoins'; did you mean 'sessions'?");
}

TEST(FindCommand, PointsToHelpWhenNothingIsNear) {
    EXPECT_EQ(error_message("kexec"), "unknown command 'kexec'; see 'luoctl help'");
}

// luoctl k once rebooted the machine: commands that reboot or end sessions are never abbreviated.
TEST(FindCommand, NeverAbbreviatesACommandThatMustBeSpelledOut) {
    static constexpr Command kKexec = {.name = "kexec",
                                .synopsis = "",
                                .summary = "",
                                .description = "",
                                .max_args = 0,
                                .handler = nullptr,
                                .spelled_out = true};
    static constexpr Command kKeys = named("keys");
    constexpr std::array<const Command*, 3> table = {&kLoad, &kKexec, &kKeys};
    EXPECT_EQ(find_command(table, "kexec").value(), &kKexec);
    ASSERT_FALSE(find_command(table, "kex").ok());
    EXPECT_EQ(find_command(table, "kex").error().message(),
              "'kex' is not short for 'kexec': it reboots or ends sessions, so spell it out");
    // A prefix shared with an ordinary command is ambiguous, not that command.
    EXPECT_EQ(find_command(table, "ke").error().message(),
              "ambiguous command 'ke'; could be 'keys' or 'kexec'");
    EXPECT_EQ(find_command(table, "key").value(), &kKeys);
}

TEST(AllCommands, SpellOutEveryCommandThatRebootsOrEndsSessions) {
    for (const std::string_view word : {"k", "kex", "kexe", "ab", "abor", "f", "fin", "finis"}) {
        const Result<const Command*> found = find_command(all_commands(), word);
        EXPECT_FALSE(found.ok()) << word << " ran " << found.value()->name;
    }
    EXPECT_EQ(find_command(all_commands(), "stat").value()->name, "status");
    // Three edits away from 'load', but nothing like it.
    EXPECT_EQ(find_command(all_commands(), "foo").error().message(),
              "unknown command 'foo'; see 'luoctl help'");
}

TEST(FindCommand, TreatsTheEmptyWordAsUnknown) {
    EXPECT_EQ(error_message(""), "unknown command ''; see 'luoctl help'");
}

TEST(AllCommands, ListsTheCommandsOfTheIssueInHelpOrder) {
    std::vector<std::string_view> names;
    for (const Command* command : all_commands()) {
        names.push_back(command->name);
        EXPECT_NE(command->handler, nullptr) << command->name;
        EXPECT_FALSE(command->summary.empty()) << command->name;
        EXPECT_TRUE(command->description.ends_with('\n')) << command->name;
    }
    EXPECT_EQ(names, (std::vector<std::string_view>{"status", "sessions", "check", "agent",
                                                    "preserve", "load", "kexec", "retrieve",
                                                    "finish", "abort", "inspect", "version",
                                                    "help"}));
}

TEST(AllCommands, FindsEveryCommandByItsName) {
    for (const Command* command : all_commands()) {
        const Result<const Command*> found = find_command(all_commands(), command->name);
        ASSERT_TRUE(found.ok()) << command->name;
        EXPECT_EQ(found.value(), command);
    }
}

}  // namespace
}  // namespace lu::luoctl
