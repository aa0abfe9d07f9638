// SPDX-License-Identifier: GPL-2.0
// Record chains damaged between the kernels, with their checksums
// recomputed so that the structure itself has to be checked: the sessions
// cannot be read (/dev/liveupdate opens with EIO, the log names the errno),
// and KHO is never asked to restore a block twice or one it does not hold.
#include <cstring>
#include <string>

#include "crc32c.hpp"
#include "record_chain.hpp"
#include "session.hpp"
#include "session_fixture.hpp"

namespace {

constexpr size_t kBlock = lu::RecordChain::kBlockSize;
constexpr size_t kSessionEntry = lu::RecordChain::kEntryHeaderSize + lu::SessionRecord::kSize;

uint8_t* at(uint64_t phys) {
    return reinterpret_cast<uint8_t*>(phys);
}

uint64_t load64(const uint8_t* p) {
    uint64_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

void store64(uint8_t* p, uint64_t value) {
    memcpy(p, &value, sizeof(value));
}

// What a careful corruptor does after its change: the block's CRC-32C of
// [0, 16) and [20, end) at offset 16.
void reseal(uint8_t* block) {
    uint32_t crc = lu::crc32c(block, 16);
    crc = lu::crc32c(block + 20, kBlock - 20, crc);
    memcpy(block + 16, &crc, sizeof(crc));
}

class RecordChainTest : public SessionTest {
protected:
    // The kexec, with the handover damaged between the two kernels.
    template <typename Damage>
    void kexec_damaged(Damage damage) {
        lu_core_seal(core_);
        FakeKho::instance().reboot();
        damage();
        abandoned_kernels().push_back(core_);
        core_ = nullptr;
        open_sessions_.clear();
        FakeFds::instance().reset();
        fake_log().clear();
        boot();
    }
    uint64_t sessions_head() { return load64(FakeKho::instance().incoming_record() + 32); }
    // Session @i of the sessions chain's first block: its entry header,
    // then its record.
    uint8_t* session_entry(int i) {
        return at(sessions_head()) + lu::RecordChain::kHeaderSize + i * kSessionEntry;
    }
    uint8_t* session_record(int i) { return session_entry(i) + lu::RecordChain::kEntryHeaderSize; }
    void preserve_two_sessions() {
        ASSERT_EQ(lu_core_preserve_fd(core_, create("a"), memfd("one"), 1), 0);
        ASSERT_EQ(lu_core_preserve_fd(core_, create("b"), memfd("two"), 2), 0);
    }
    // The read is refused with @error, without a restore KHO would warn about.
    void expect_refused(int error) {
        EXPECT_EQ(lu_core_open(core_), -EIO);
        bool named = false;
        for (const std::string& line : fake_log())
            named |= line.find("errno " + std::to_string(error) + ")") != std::string::npos;
        EXPECT_TRUE(named) << "the log names errno " << error;
        EXPECT_EQ(FakeKho::instance().bad_restores, 0);
        EXPECT_EQ(FakeKho::instance().freed_reads, 0) << "no block is read after it was freed";
    }
};

TEST_F(RecordChainTest, AChainThatLoopsBackIsReadOnce) {
    preserve_two_sessions();
    kexec_damaged([&] {
        uint8_t* head = at(sessions_head());
        store64(head + 8, sessions_head());
        reseal(head);
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainTest, TwoSessionsNamingOneFilesChainAreRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        const uint64_t a_files = load64(session_record(0) + lu::SessionRecord::kFilesHeadOffset);
        store64(session_record(1) + lu::SessionRecord::kFilesHeadOffset, a_files);
        reseal(at(sessions_head()));
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainTest, AnEntryNeitherFreeNorUsedIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        const uint32_t state = 3;
        memcpy(session_entry(0), &state, sizeof(state));
        reseal(at(sessions_head()));
    });
    // Read as free, session "a" would silently not exist.
    expect_refused(EBADMSG);
}

TEST_F(RecordChainTest, AFilesChainHeadNamingTheSessionsBlockIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        store64(session_record(0) + lu::SessionRecord::kFilesHeadOffset, sessions_head());
        reseal(at(sessions_head()));
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainTest, AHeadNamingSomethingElseIsNotRestored) {
    preserve_two_sessions();
    kexec_damaged([&] {
        // The root record itself: preserved (and restored already), not a block.
        const uint64_t root = reinterpret_cast<uint64_t>(FakeKho::instance().incoming_record());
        store64(session_record(1) + lu::SessionRecord::kFilesHeadOffset, root);
        reseal(at(sessions_head()));
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainTest, AMisalignedHeadIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        uint8_t* root = FakeKho::instance().incoming_record();
        store64(root + 32, sessions_head() + 64);
        // The root record's CRC-32C of [0, 48) and [64, 80), at 48.
        uint32_t crc = lu::crc32c(root + 64, 16, lu::crc32c(root, 48));
        memcpy(root + 48, &crc, sizeof(crc));
    });
    expect_refused(EFAULT);
}

TEST_F(RecordChainTest, ABlockOfAnotherEntrySizeIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        uint8_t* head = at(sessions_head());
        const uint16_t size = static_cast<uint16_t>(kSessionEntry + 8);
        memcpy(head + 4, &size, sizeof(size));
        reseal(head);
    });
    expect_refused(EBADMSG);
}

// Chains read one after the other (the sessions, then the FLBs) share one
// ReadScope: a damaged link from the second into the first finds a block
// that is scrubbed but not given back yet.
TEST(RecordChainReadTest, ChainsReadInOneScopeNeverReadAGivenBackBlock) {
    FakeKho::instance().cold_boot();
    {
        lu::RecordChain first(lu::ChainKind::Flbs, 16);
        lu::RecordChain second(lu::ChainKind::Flbs, 16);
        ASSERT_TRUE(first.allocate().is_ok());
        ASSERT_TRUE(second.allocate().is_ok());
        first.seal();
        second.seal();
        const uint64_t first_head = first.head_phys();
        const uint64_t second_head = second.head_phys();
        FakeKho::instance().reboot();

        store64(at(second_head) + 8, first_head);
        reseal(at(second_head));
        int visits = 0;
        auto count = [&](lu::ConstByteSpan) -> lu::Status {
            visits++;
            return lu::ok();
        };
        lu::Status read = lu::ok();
        {
            lu::RecordChain::ReadScope scope;
            ASSERT_TRUE(
                lu::RecordChain::consume(first_head, lu::ChainKind::Flbs, 16, count).is_ok());
            read = lu::RecordChain::consume(second_head, lu::ChainKind::Flbs, 16, count);
            EXPECT_EQ(FakeKho::instance().freed_restored, 0) << "nothing given back yet";
        }
        ASSERT_FALSE(read.is_ok());
        EXPECT_EQ(read.error(), lu::err(EBADMSG));
        EXPECT_EQ(visits, 2);
        EXPECT_EQ(FakeKho::instance().freed_reads, 0);
        EXPECT_EQ(FakeKho::instance().bad_restores, 0);
        EXPECT_EQ(FakeKho::instance().freed_restored, 2) << "both given back when the read ends";
    }
    FakeKho::instance().reset();
}

}  // namespace
