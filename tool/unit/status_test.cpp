#include "status.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "fake_sysfs.hpp"

namespace lu::luoctl {
namespace {

using test::FakeSysfs;

LiveUpdateStatus read(const FakeSysfs& fake) {
    Result<LiveUpdateStatus> status = read_status(SysfsRoot(fake.root()));
    if (!status.ok()) {
        ADD_FAILURE() << status.error().message();
        return {};
    }
    return std::move(status).value();
}

std::string read_error(const FakeSysfs& fake) {
    const Result<LiveUpdateStatus> status = read_status(SysfsRoot(fake.root()));
    if (status.ok()) {
        return "(read)";
    }
    EXPECT_EQ(status.error().errnum(), EPROTO);
    return status.error().message();
}

TEST(ReadStatus, SeesTheLoadedModuleAfterAColdBoot) {
    FakeSysfs fake;
    fake.add_module("1", "none");
    fake.mount_debugfs(/*kho_enabled=*/true);
    const LiveUpdateStatus status = read(fake);
    EXPECT_TRUE(status.module_loaded);
    EXPECT_EQ(status.module_version, "0.1.0");
    EXPECT_EQ(status.device_mode, 0600u);
    EXPECT_EQ(status.generation, 1u);
    ASSERT_TRUE(status.handover.has_value());
    EXPECT_EQ(status.handover->outcome, HandoverOutcome::kNone);
    EXPECT_EQ(status.kho, KhoState::kEnabled);
    EXPECT_EQ(status.provider(), Provider::kModule);
    EXPECT_TRUE(check_available(status).ok());
}

TEST(ReadStatus, SeesARejectedHandover) {
    FakeSysfs fake;
    fake.add_module("3", "rejected checksum mismatch in session block 2");
    const LiveUpdateStatus status = read(fake);
    EXPECT_EQ(status.generation, 3u);
    ASSERT_TRUE(status.handover.has_value());
    EXPECT_EQ(status.handover->outcome, HandoverOutcome::kRejected);
    EXPECT_EQ(status.handover->reason, "checksum mismatch in session block 2");
    EXPECT_TRUE(check_available(status).ok());
}

TEST(ReadStatus, SeesNothingWhenTheModuleIsNotLoaded) {
    FakeSysfs fake;
    const LiveUpdateStatus status = read(fake);
    EXPECT_FALSE(status.module_loaded);
    EXPECT_EQ(status.module_version, std::nullopt);
    EXPECT_EQ(status.device_mode, std::nullopt);
    EXPECT_EQ(status.generation, std::nullopt);
    EXPECT_FALSE(status.handover.has_value());
    EXPECT_EQ(status.provider(), Provider::kNone);

    const Status available = check_available(status);
    ASSERT_FALSE(available.ok());
    EXPECT_EQ(available.error().errnum(), ENODEV);
    EXPECT_EQ(available.error().message(),
              "liveupdate is not available: module not loaded (modprobe liveupdate)");
}

TEST(ReadStatus, AttributesTheDeviceToTheKernelWhenNoModuleIsLoaded) {
    FakeSysfs fake;
    fake.add_file("/dev/liveupdate", "", 0600);
    const LiveUpdateStatus status = read(fake);
    EXPECT_FALSE(status.module_loaded);
    EXPECT_EQ(status.provider(), Provider::kInKernel);
    EXPECT_EQ(status.generation, std::nullopt);
    EXPECT_TRUE(check_available(status).ok());
}

TEST(ReadStatus, ReportsALoadedModuleWithoutItsDevice) {
    FakeSysfs fake;
    fake.add_directory("/sys/module/liveupdate");
    const LiveUpdateStatus status = read(fake);
    EXPECT_EQ(status.provider(), Provider::kModule);
    EXPECT_EQ(status.module_version, std::nullopt);
    const Status available = check_available(status);
    ASSERT_FALSE(available.ok());
    EXPECT_EQ(available.error().message(),
              "liveupdate is not available: the module is loaded but /dev/liveupdate is missing "
              "(is devtmpfs mounted?)");
}

TEST(ReadStatus, TellsKhoStateOnlyWhenDebugfsIsMounted) {
    FakeSysfs unmounted;
    EXPECT_EQ(read(unmounted).kho, KhoState::kDebugfsNotMounted);

    FakeSysfs without_kho;
    without_kho.mount_debugfs(/*kho_enabled=*/false);
    EXPECT_EQ(read(without_kho).kho, KhoState::kDisabled);

    FakeSysfs with_kho;
    with_kho.mount_debugfs(/*kho_enabled=*/true);
    EXPECT_EQ(read(with_kho).kho, KhoState::kEnabled);
}

TEST(ReadStatus, RejectsAMalformedGeneration) {
    for (const std::string_view generation :
         {"", "0", "-1", "+2", "2x", " 2", "18446744073709551616"}) {
        FakeSysfs fake;
        fake.add_module(generation, "none");
        EXPECT_EQ(read_error(fake),
                  "/sys/class/misc/liveupdate/generation: expected a decimal generation of at "
                  "least 1, found '" +
                      std::string(generation) + "'");
    }
}

TEST(ReadStatus, RejectsAMalformedHandover) {
    FakeSysfs fake;
    fake.add_module("2", "rejected");
    EXPECT_EQ(read_error(fake),
              "/sys/class/misc/liveupdate/handover: unrecognised handover state 'rejected'");
}

}  // namespace
}  // namespace lu::luoctl
