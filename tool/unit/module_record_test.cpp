// Decoding the module's root record as luoctl inspect does: bytes the module's own encoder
// wrote, bytes a guest showed in debugfs, and records the module would refuse.
#include "module_record.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "kho_fixtures.hpp"

namespace lu::luoctl {
namespace {

TEST(ModuleRecord, DecodesWhatTheModulesEncoderWrites) {
    const Result<ModuleRecord> record = decode_module_record(test::kEncodedFailedRecord);
    ASSERT_TRUE(record.ok()) << record.error().message();
    const ModuleRecord& r = record.value();
    EXPECT_EQ(r.version, 2u);
    EXPECT_EQ(r.size, 80u);
    EXPECT_EQ(r.generation, 3u);
    EXPECT_EQ(record_state_name(r.state), "failed");
    EXPECT_EQ(r.failure, 5u);
    EXPECT_EQ(r.payload_phys, 0x7f000000u);
    EXPECT_EQ(r.payload_len, 4096u);
    EXPECT_EQ(r.flb_phys, 0x571000u);
    EXPECT_TRUE(r.crc_ok);
    EXPECT_EQ(record_adopted_text(r.adopted), "yes");
    EXPECT_EQ(record_consumed_text(r.consumed), "read");
    EXPECT_TRUE(r.problems.empty());
}

TEST(ModuleRecord, DecodesWhatAGuestShowed) {
    const ModuleRecord out = decode_module_record(test::kGuestOutgoingRecord).value();
    EXPECT_EQ(out.generation, 1u);
    EXPECT_EQ(record_state_name(out.state), "open");
    EXPECT_EQ(record_adopted_text(out.adopted), "no");
    EXPECT_TRUE(out.problems.empty());
    const ModuleRecord in = decode_module_record(test::kGuestIncomingRecord).value();
    EXPECT_EQ(record_state_name(in.state), "sealed");
    EXPECT_EQ(in.payload_phys, 0u);
    EXPECT_EQ(in.flb_phys, 0x571000u);
    EXPECT_EQ(record_adopted_text(in.adopted), "yes");  // outside the checksum
    EXPECT_TRUE(in.crc_ok);
}

TEST(ModuleRecord, ReportsWhatTheModuleWouldRefuse) {
    std::string bytes = test::kGuestOutgoingRecord;
    bytes[17] ^= 0x10;  // generation, under the checksum
    const ModuleRecord flipped = decode_module_record(bytes).value();
    EXPECT_FALSE(flipped.crc_ok);
    ASSERT_EQ(flipped.problems.size(), 1u);
    EXPECT_EQ(flipped.problems[0], "checksum 0xbe9d856, computed 0xecd87652");

    bytes = test::kGuestOutgoingRecord;
    bytes[8] = 3;  // version
    const ModuleRecord other = decode_module_record(bytes).value();
    EXPECT_EQ(other.version, 3u);
    EXPECT_EQ(other.problems, std::vector<std::string>{"version 3, this luoctl reads version 2"});

    const ModuleRecord shortened =
        decode_module_record(test::kGuestOutgoingRecord.substr(0, 64)).value();
    EXPECT_EQ(shortened.problems, std::vector<std::string>{"only 64 of 80 bytes"});
}

TEST(ModuleRecord, RefusesSomethingElse) {
    EXPECT_EQ(decode_module_record("LUMODHO").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_module_record(test::kGuestKexecMetadata).error().errnum(), EBADMSG);
}

TEST(ModuleRecord, NamesStatesAndMarks) {
    EXPECT_EQ(record_state_name(9), "unknown (9)");
    EXPECT_EQ(record_adopted_text(1), "invalid mark 0x1");
    EXPECT_EQ(record_consumed_text(0x4c464450), "read, failed");
    EXPECT_EQ(record_consumed_text(0), "not read");
}

}  // namespace
}  // namespace lu::luoctl
