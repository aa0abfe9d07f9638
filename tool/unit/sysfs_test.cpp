#include "sysfs.hpp"

#include <gtest/gtest.h>

#include "fake_sysfs.hpp"

namespace lu::luoctl {
namespace {

using test::FakeSysfs;

TEST(SysfsRoot, ReadsAnAttributeWithoutItsNewline) {
    FakeSysfs fake;
    fake.add_file("/sys/a", "rejected bad magic\n");
    const Result<std::optional<std::string>> value =
        SysfsRoot(fake.root()).read_attribute("/sys/a");
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value.value(), "rejected bad magic");
}

TEST(SysfsRoot, StripsOnlyOneNewline) {
    FakeSysfs fake;
    fake.add_file("/sys/a", "two\nlines\n\n");
    EXPECT_EQ(SysfsRoot(fake.root()).read_attribute("/sys/a").value(), "two\nlines\n");
}

TEST(SysfsRoot, ReadsAnAttributeLargerThanOnePage) {
    FakeSysfs fake;
    const std::string big(10000, 'x');
    fake.add_file("/sys/big", big);
    EXPECT_EQ(SysfsRoot(fake.root()).read_attribute("/sys/big").value(), big);
}

TEST(SysfsRoot, ReportsAMissingAttributeAsAbsent) {
    FakeSysfs fake;
    const Result<std::optional<std::string>> value =
        SysfsRoot(fake.root()).read_attribute("/sys/missing");
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value.value(), std::nullopt);
}

TEST(SysfsRoot, FailsToReadADirectory) {
    FakeSysfs fake;
    fake.add_directory("/sys/dir");
    const Result<std::optional<std::string>> value =
        SysfsRoot(fake.root()).read_attribute("/sys/dir");
    ASSERT_FALSE(value.ok());
    EXPECT_EQ(value.error().errnum(), EISDIR);
    EXPECT_EQ(value.error().message(), "cannot read " + fake.root() + "/sys/dir: Is a directory");
}

TEST(SysfsRoot, StatsFilesAndReportsMissingOnes) {
    FakeSysfs fake;
    fake.add_file("/dev/liveupdate", "", 0600);
    const SysfsRoot root(fake.root());
    const Result<std::optional<struct stat>> present = root.stat("/dev/liveupdate");
    ASSERT_TRUE(present.ok());
    ASSERT_TRUE(present.value().has_value());
    EXPECT_EQ(present.value()->st_mode & 07777, 0600u);
    EXPECT_EQ(root.stat("/dev/missing").value(), std::nullopt);
}

TEST(SysfsRoot, TellsEmptyFromPopulatedDirectories) {
    FakeSysfs fake;
    fake.add_directory("/empty");
    fake.add_file("/full/entry", "");
    const SysfsRoot root(fake.root());
    EXPECT_FALSE(root.has_entries("/empty").value());
    EXPECT_TRUE(root.has_entries("/full").value());
    EXPECT_FALSE(root.has_entries("/absent").value());
}

TEST(SysfsRoot, IgnoresTrailingSlashesOfTheRoot) {
    FakeSysfs fake;
    fake.add_file("/sys/a", "1\n");
    EXPECT_EQ(SysfsRoot(fake.root() + "//").read_attribute("/sys/a").value(), "1");
}

}  // namespace
}  // namespace lu::luoctl
