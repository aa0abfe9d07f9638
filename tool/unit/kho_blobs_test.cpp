// The kernel's plain-struct KHO subtrees: kexec-metadata and the in-kernel LUO's root.
#include "kho_blobs.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "kho_fixtures.hpp"

namespace lu::luoctl {
namespace {

TEST(KhoBlobs, DecodesKexecMetadataAsAGuestShowedIt) {
    const Result<KexecMetadata> metadata = decode_kexec_metadata(test::kGuestKexecMetadata);
    ASSERT_TRUE(metadata.ok()) << metadata.error().message();
    EXPECT_EQ(metadata.value().version, 1u);
    EXPECT_EQ(metadata.value().previous_release, "7.3.4");
    EXPECT_EQ(metadata.value().kexec_count, 1u);
}

TEST(KhoBlobs, KeepsOnlyTheVersionOfOtherMetadata) {
    const KexecMetadata metadata = decode_kexec_metadata(std::string("\x02\0\0\0", 4)).value();
    EXPECT_EQ(metadata.version, 2u);
    EXPECT_FALSE(metadata.kexec_count.has_value());
    EXPECT_EQ(decode_kexec_metadata("ab").error().errnum(), EBADMSG);
}

TEST(KhoBlobs, DecodesAnLuoRoot) {
    std::string blob(32, '\0');
    std::memcpy(blob.data(), "luo-v5", 6);
    const std::uint64_t numbers[3] = {4, 0x1000, 0x2000};
    std::memcpy(blob.data() + 8, numbers, sizeof(numbers));
    const Result<LuoRoot> luo = decode_luo_root(blob);
    ASSERT_TRUE(luo.ok()) << luo.error().message();
    EXPECT_EQ(luo.value().compatible, "luo-v5");
    EXPECT_EQ(luo.value().liveupdate_num, 4u);
    EXPECT_EQ(luo.value().sessions_pa, 0x1000u);
    EXPECT_EQ(luo.value().flbs_pa, 0x2000u);
    EXPECT_EQ(decode_luo_root(std::string(24, 'x')).error().errnum(), EBADMSG);
    EXPECT_EQ(decode_luo_root(std::string(32, 'x')).error().errnum(), EBADMSG);
}

}  // namespace
}  // namespace lu::luoctl
