// SPDX-License-Identifier: GPL-2.0
// Record chains damaged between the kernels, with their checksums
// recomputed so that the structure itself has to be checked: the sessions
// cannot be read (/dev/liveupdate opens with EIO, the log names the errno),
// and KHO is never asked to restore a block twice or one it does not hold.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

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

// ---- records the chains carry, damaged ------------------------------------

namespace {

constexpr size_t kFileEntry = lu::RecordChain::kEntryHeaderSize + lu::FileRecord::kSize;

class RecordChainRecordsTest : public RecordChainTest {
protected:
    // File @i of session @session's files chain (its first block): its record.
    uint8_t* file_record(int session, int i) {
        const uint64_t head = load64(session_record(session) + lu::SessionRecord::kFilesHeadOffset);
        return at(head) + lu::RecordChain::kHeaderSize + i * kFileEntry +
               lu::RecordChain::kEntryHeaderSize;
    }
    uint8_t* files_block(int session) {
        return at(load64(session_record(session) + lu::SessionRecord::kFilesHeadOffset));
    }
};

TEST_F(RecordChainRecordsTest, TwoIncomingSessionsOfOneNameAreRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        session_record(1)[0] = 'a';
        reseal(at(sessions_head()));
    });
    expect_refused(EEXIST);
}

TEST_F(RecordChainRecordsTest, AnUnterminatedSessionNameIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        memset(session_record(1), 'b', lu::SessionName::kCapacity);
        reseal(at(sessions_head()));
    });
    expect_refused(EINVAL);
}

TEST_F(RecordChainRecordsTest, AnEmptySessionNameIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        session_record(0)[0] = 0;
        reseal(at(sessions_head()));
    });
    expect_refused(EINVAL);
}

TEST_F(RecordChainRecordsTest, ANonZeroReservedWordIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        session_record(1)[lu::SessionRecord::kReservedOffset + 3] = 0x80;
        reseal(at(sessions_head()));
    });
    expect_refused(EBADMSG);
}

// A failed session hands over its name and errno only: a failure beyond
// the errno range, or one that still names chains, is not a failed session.
TEST_F(RecordChainRecordsTest, AFailureOutOfRangeOrWithFilesIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        const uint32_t failure = lu::errc::kMaxErrno + 1;
        memcpy(session_record(0) + lu::SessionRecord::kFailureOffset, &failure, 4);
        store64(session_record(0) + lu::SessionRecord::kFilesHeadOffset, 0);
        store64(session_record(0) + lu::SessionRecord::kDepsHeadOffset, 0);
        reseal(at(sessions_head()));
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainRecordsTest, AFailedSessionThatStillNamesItsFilesIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        const uint32_t failure = EIO;
        memcpy(session_record(0) + lu::SessionRecord::kFailureOffset, &failure, 4);
        reseal(at(sessions_head()));
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainRecordsTest, TwoFilesOfOneTokenAreRefused) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("two"), 2), 0);
    kexec_damaged([&] {
        store64(file_record(0, 1) + lu::FileRecord::kTokenOffset, 1);
        reseal(files_block(0));
    });
    expect_refused(EEXIST);
}

TEST_F(RecordChainRecordsTest, AnUnterminatedCompatibleIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        memset(file_record(1, 0) + lu::FileRecord::kCompatibleOffset, 'm',
               lu::HandlerRegistry::kCompatibleCapacity);
        reseal(files_block(1));
    });
    expect_refused(EBADMSG);
}

TEST_F(RecordChainRecordsTest, AFileOfAnUnknownCompatibleIsRefused) {
    preserve_two_sessions();
    kexec_damaged([&] {
        file_record(1, 0)[lu::FileRecord::kCompatibleOffset] = 'n';  // "nemfd-v1"
        reseal(files_block(1));
    });
    expect_refused(ENOENT);
}

TEST_F(RecordChainRecordsTest, ADependencyOnATokenTheSessionLacksIsRefused) {
    lu_session* a = create("a");
    int dep = memfd("dep");
    lu_file* dependent = new lu_file{"dependent"};
    dependent->deps.push_back(FakeFds::instance().lookup(dep));
    ASSERT_EQ(lu_core_preserve_fd(core_, a, FakeFds::instance().install(dependent), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, dep, 2), 0);
    kexec_damaged([&] {
        const uint64_t deps = load64(session_record(0) + lu::SessionRecord::kDepsHeadOffset);
        ASSERT_NE(deps, 0u);
        uint8_t* edge = at(deps) + lu::RecordChain::kHeaderSize + lu::RecordChain::kEntryHeaderSize;
        ASSERT_EQ(load64(edge + lu::DependencyRecord::kDepTokenOffset), 2u);
        store64(edge + lu::DependencyRecord::kDepTokenOffset, 3);
        reseal(at(deps));
    });
    expect_refused(EBADMSG);
}

}  // namespace

// ---- the validator alone, on blocks written by hand -------------------------

namespace {

using lu::ChainKind;
using lu::RecordChain;
using Payload = std::vector<uint8_t>;

constexpr uint32_t kMagic = 0x4b42554c;  // "LUBK"
constexpr size_t kHeader = RecordChain::kHeaderSize;
constexpr size_t kEntryHeader = RecordChain::kEntryHeaderSize;
// Entries of 48 bytes: 84 to a block, then 40 bytes that are no entry.
constexpr size_t kPayload = 40;
constexpr size_t kEntry = kEntryHeader + kPayload;
constexpr size_t kCapacity = (kBlock - kHeader) / kEntry;
static_assert(kCapacity == 84 && kHeader + kCapacity * kEntry + 40 == kBlock);

template <typename T>
void put(uint8_t* p, T value) {
    memcpy(p, &value, sizeof(value));
}

template <typename T>
T get(const uint8_t* p) {
    T value;
    memcpy(&value, p, sizeof(value));
    return value;
}

// A payload no other @n shares.
Payload payload_of(int n) {
    Payload payload(kPayload);
    for (size_t i = 0; i < kPayload; i++)
        payload[i] = static_cast<uint8_t>(n * 131 + i * 7 + 1);
    return payload;
}

uint8_t* entry_at(uint8_t* block, size_t slot) {
    return block + kHeader + slot * kEntry;
}

// A sealed block as the layout in record_chain.hpp describes it: @used in
// slots 0.., the other slots free.
void write_block(uint8_t* block, ChainKind kind, uint64_t next, const std::vector<Payload>& used) {
    memset(block, 0, kBlock);
    put<uint32_t>(block, kMagic);
    put<uint16_t>(block + 4, kEntry);
    put<uint16_t>(block + 6, kCapacity);
    put<uint64_t>(block + 8, next);
    put<uint32_t>(block + 20, static_cast<uint32_t>(kind));
    for (size_t i = 0; i < used.size(); i++) {
        put<uint32_t>(entry_at(block, i), RecordChain::kEntryUsed);
        memcpy(entry_at(block, i) + kEntryHeader, used[i].data(), kPayload);
    }
    reseal(block);
}

struct Read {
    int error = 0;  // positive errno, 0 for success
    std::vector<Payload> visited;
};

// What consume() must make of a (single) block: the layout's rules, written
// out independently. A link other than 0 leads nowhere the fake holds.
Read model_of(const uint8_t* block, ChainKind kind) {
    Read read;
    uint32_t crc = lu::crc32c(block, 16);
    crc = lu::crc32c(block + 20, kBlock - 20, crc);
    if (get<uint32_t>(block) != kMagic || get<uint16_t>(block + 4) != kEntry ||
        get<uint16_t>(block + 6) != kCapacity ||
        get<uint32_t>(block + 20) != static_cast<uint32_t>(kind) ||
        get<uint32_t>(block + 16) != crc) {
        read.error = EBADMSG;
        return read;
    }
    for (size_t i = 0; i < kCapacity; i++) {
        const uint8_t* e = block + kHeader + i * kEntry;
        const uint32_t state = get<uint32_t>(e);
        if (state == RecordChain::kEntryUsed) {
            read.visited.emplace_back(e + kEntryHeader, e + kEntry);
        } else if (state != RecordChain::kEntryFree) {
            read.error = EBADMSG;
            return read;
        }
    }
    if (get<uint64_t>(block + 8) != 0)
        read.error = EFAULT;
    return read;
}

class RecordChainConsumeTest : public ::testing::Test {
protected:
    void SetUp() override {
        FakeKho::instance().cold_boot();
        bugs_ = fake_bug_count();
    }
    void TearDown() override {
        EXPECT_EQ(fake_bug_count(), bugs_) << "no core invariant broke";
        FakeKho::instance().reset();
    }

    // A fresh boot after a kexec that handed over @count zeroed blocks, for
    // the test to fill as the previous kernel (or its corruption) left them.
    std::vector<uint64_t> hand_over(int count) {
        FakeKho::instance().cold_boot();
        std::vector<uint64_t> phys;
        for (int i = 0; i < count; i++)
            phys.push_back(reinterpret_cast<uint64_t>(lu_kho_alloc_preserved(kBlock)));
        FakeKho::instance().reboot();
        return phys;
    }

    // consume(), recording what it visits; the visit fails with ENOSPC on
    // visit number @fail_at (1-based; 0: never).
    Read read(uint64_t head, ChainKind kind = ChainKind::Files, size_t payload = kPayload,
              size_t fail_at = 0) {
        Read read;
        auto status = RecordChain::consume(head, kind, payload, [&](lu::ConstByteSpan bytes) {
            EXPECT_EQ(bytes.size(), payload);
            read.visited.emplace_back(bytes.data(), bytes.data() + bytes.size());
            return read.visited.size() == fail_at ? lu::Status(lu::err(ENOSPC)) : lu::ok();
        });
        read.error = status.is_ok() ? 0 : -status.error().to_errno();
        return read;
    }

    // KHO was never asked for anything it would warn about, nor was a block
    // read after it was given back, and every block restored was given back.
    void expect_clean_kho() {
        EXPECT_EQ(FakeKho::instance().bad_restores, 0);
        EXPECT_EQ(FakeKho::instance().freed_reads, 0);
        EXPECT_EQ(FakeKho::instance().freed_restored, FakeKho::instance().restores);
    }

    int bugs_ = 0;
};

std::vector<Payload> payloads(int first, int count) {
    std::vector<Payload> all;
    for (int i = 0; i < count; i++)
        all.push_back(payload_of(first + i));
    return all;
}

// The writer and the reader agree: what RecordChain wrote and sealed reads
// back, used slots only, in slot order, across blocks.
TEST_F(RecordChainConsumeTest, ASealedChainReadsBackEveryUsedRecordInSlotOrder) {
    uint64_t head = 0;
    std::vector<Payload> expected;
    RecordChain chain(ChainKind::Files, kPayload);
    {
        std::vector<lu::RecordSlot> slots;
        for (int i = 0; i < 200; i++) {
            auto slot = chain.allocate();
            ASSERT_TRUE(slot.is_ok());
            EXPECT_EQ(slot.value().index, static_cast<uint32_t>(i));
            memcpy(slot.value().payload, payload_of(i).data(), kPayload);
            slots.push_back(slot.value());
        }
        for (int i = 0; i < 200; i += 3)
            chain.release(slots[i]);
        for (int i = 0; i < 200; i++)
            if (i % 3 != 0)
                expected.push_back(payload_of(i));
        EXPECT_EQ(chain.used(), expected.size());
        EXPECT_EQ(chain.bytes(), 3 * kBlock);
        chain.seal();
        head = chain.head_phys();
    }
    FakeKho::instance().reboot();
    Read got = read(head);
    EXPECT_EQ(got.error, 0);
    EXPECT_EQ(got.visited, expected);
    EXPECT_EQ(FakeKho::instance().restores, 3);
    EXPECT_EQ(FakeKho::instance().unrestored(), 0u);
    expect_clean_kho();
}

// The wire format of record_chain.hpp, field by field.
TEST_F(RecordChainConsumeTest, TheSealedBlockHasTheDocumentedLayout) {
    RecordChain chain(ChainKind::Dependencies, kPayload);
    std::vector<lu::RecordSlot> slots;
    for (size_t i = 0; i < kCapacity + 1; i++)
        slots.push_back(chain.allocate().value());
    chain.release(slots[1]);
    chain.seal();
    uint8_t* first = at(chain.head_phys());
    EXPECT_EQ(std::string(reinterpret_cast<char*>(first), 4), "LUBK");
    EXPECT_EQ(size_t{get<uint16_t>(first + 4)}, kEntry);
    EXPECT_EQ(size_t{get<uint16_t>(first + 6)}, kCapacity);
    EXPECT_EQ(get<uint32_t>(first + 20), 4u);
    const uint64_t second = get<uint64_t>(first + 8);
    ASSERT_NE(second, 0u);
    EXPECT_EQ(second % kBlock, 0u);
    EXPECT_EQ(get<uint64_t>(at(second) + 8), 0u) << "the last block";
    EXPECT_EQ(get<uint32_t>(entry_at(first, 0)), RecordChain::kEntryUsed);
    EXPECT_EQ(get<uint32_t>(entry_at(first, 1)), RecordChain::kEntryFree);
    EXPECT_EQ(slots[2].payload, entry_at(first, 2) + kEntryHeader);
    EXPECT_EQ(slots[kCapacity].payload, entry_at(at(second), 0) + kEntryHeader);
    for (uint8_t* block : {first, at(second)}) {
        std::vector<uint8_t> copy(block, block + kBlock);
        reseal(copy.data());
        EXPECT_EQ(memcmp(copy.data(), block, kBlock), 0) << "CRC-32C of [0,16) and [20,end)";
    }
}

TEST_F(RecordChainConsumeTest, AnEmptyChainAsksKhoForNothing) {
    Read got = read(0);
    EXPECT_EQ(got.error, 0);
    EXPECT_TRUE(got.visited.empty());
    EXPECT_EQ(FakeKho::instance().restores, 0);
}

// Each header field, out of range with a valid checksum: refused before KHO
// restores the block, and nothing in it is visited.
TEST_F(RecordChainConsumeTest, EveryHeaderFieldOutOfRangeIsRefusedBeforeTheRestore) {
    struct Case {
        const char* what;
        size_t offset;
        size_t width;
        uint32_t value;
    };
    const Case cases[] = {
        {"magic zero", 0, 4, 0},
        {"magic in the other byte order", 0, 4, 0x4c55424b},
        {"magic off by one bit", 0, 4, kMagic ^ 0x20000000},
        {"entry size one short", 4, 2, kEntry - 1},
        {"entry size one long", 4, 2, kEntry + 1},
        {"entry size zero", 4, 2, 0},
        {"entry size 65535", 4, 2, 0xffff},
        {"entry size + 256", 4, 2, kEntry + 256},
        {"capacity one short", 6, 2, kCapacity - 1},
        {"capacity one more", 6, 2, kCapacity + 1},
        {"capacity zero", 6, 2, 0},
        {"capacity 65535", 6, 2, 0xffff},
        {"capacity + 256", 6, 2, kCapacity + 256},
        {"kind sessions", 20, 4, 1},
        {"kind FLBs", 20, 4, 3},
        {"kind dependencies", 20, 4, 4},
        {"kind zero", 20, 4, 0},
        {"kind files + 256", 20, 4, 2 + 256},
        {"kind all ones", 20, 4, 0xffffffff},
    };
    for (const Case& c : cases) {
        const uint64_t head = hand_over(1)[0];
        write_block(at(head), ChainKind::Files, 0, payloads(0, 3));
        memcpy(at(head) + c.offset, &c.value, c.width);
        reseal(at(head));
        Read got = read(head);
        EXPECT_EQ(got.error, EBADMSG) << c.what;
        EXPECT_TRUE(got.visited.empty()) << c.what;
        EXPECT_EQ(FakeKho::instance().restores, 0) << c.what;
        EXPECT_EQ(FakeKho::instance().unrestored(), 1u) << c.what;
        expect_clean_kho();
    }
}

TEST_F(RecordChainConsumeTest, AWrongChecksumIsRefusedBeforeTheRestore) {
    for (size_t offset : {size_t{16}, size_t{19}, kHeader + kEntryHeader, kBlock - 1}) {
        const uint64_t head = hand_over(1)[0];
        write_block(at(head), ChainKind::Files, 0, payloads(0, 3));
        at(head)[offset] ^= 0x10;
        Read got = read(head);
        EXPECT_EQ(got.error, EBADMSG) << "byte " << offset;
        EXPECT_TRUE(got.visited.empty());
        EXPECT_EQ(FakeKho::instance().restores, 0);
        expect_clean_kho();
    }
}

// Records of another size (another build's layout) are not read as ours.
TEST_F(RecordChainConsumeTest, AChainOfAnotherRecordSizeIsRefused) {
    for (size_t payload : {kPayload - 8, kPayload + 8, size_t{16}}) {
        const uint64_t head = hand_over(1)[0];
        write_block(at(head), ChainKind::Files, 0, payloads(0, 1));
        Read got = read(head, ChainKind::Files, payload);
        EXPECT_EQ(got.error, EBADMSG) << payload;
        EXPECT_TRUE(got.visited.empty());
        expect_clean_kho();
    }
}

// A head that is not the start of a page KHO could hand over is a fault:
// nowhere the fake knows, the top page, or misaligned into a real block.
TEST_F(RecordChainConsumeTest, AHeadOutsideTheHandedOverBlocksIsAFault) {
    const uint64_t block = hand_over(1)[0];
    write_block(at(block), ChainKind::Files, 0, payloads(0, 3));
    for (uint64_t head : {uint64_t{0x1000}, ~uint64_t{0xfff}, ~uint64_t{0}, block + 8,
                          block + kBlock / 2, block + kBlock - 1}) {
        Read got = read(head);
        EXPECT_EQ(got.error, EFAULT) << std::hex << head;
        EXPECT_TRUE(got.visited.empty());
    }
    EXPECT_EQ(FakeKho::instance().restores, 0);
    EXPECT_EQ(FakeKho::instance().unrestored(), 1u);
    expect_clean_kho();
    EXPECT_EQ(read(block).visited, payloads(0, 3)) << "the block itself was left intact";
}

// A valid-looking block KHO did not hand over (this kernel's own memory, a
// copy of a block) is stale. The fake counts the restore it refuses; the
// glue refuses it by KHO's page magic before kho_restore_folio().
TEST_F(RecordChainConsumeTest, AValidBlockKhoDidNotHandOverIsStale) {
    hand_over(0);
    void* ours = lu_kho_alloc_preserved(kBlock);
    const uint64_t head = reinterpret_cast<uint64_t>(ours);
    write_block(at(head), ChainKind::Files, 0, payloads(0, 3));
    Read got = read(head);
    EXPECT_EQ(got.error, ESTALE);
    EXPECT_TRUE(got.visited.empty());
    EXPECT_EQ(FakeKho::instance().restores, 0);
    EXPECT_EQ(FakeKho::instance().bad_restores, 1);
    EXPECT_EQ(get<uint32_t>(at(head)), kMagic) << "not ours to scrub";
    lu_kho_free_preserved(ours);
}

TEST_F(RecordChainConsumeTest, ALoopThroughTwoBlocksIsReadOnce) {
    const auto blocks = hand_over(2);
    write_block(at(blocks[0]), ChainKind::Files, blocks[1], payloads(0, 2));
    write_block(at(blocks[1]), ChainKind::Files, blocks[0], payloads(10, 3));
    Read got = read(blocks[0]);
    EXPECT_EQ(got.error, EBADMSG);
    std::vector<Payload> once = payloads(0, 2);
    for (auto& p : payloads(10, 3))
        once.push_back(p);
    EXPECT_EQ(got.visited, once);
    EXPECT_EQ(FakeKho::instance().restores, 2);
    expect_clean_kho();
}

TEST_F(RecordChainConsumeTest, ALinkToABlockOfAnotherChainStopsTheRead) {
    const auto blocks = hand_over(2);
    write_block(at(blocks[0]), ChainKind::Files, blocks[1], payloads(0, 2));
    write_block(at(blocks[1]), ChainKind::Sessions, 0, payloads(10, 3));
    Read got = read(blocks[0]);
    EXPECT_EQ(got.error, EBADMSG);
    EXPECT_EQ(got.visited, payloads(0, 2)) << "the first block was valid";
    EXPECT_EQ(FakeKho::instance().restores, 1);
    EXPECT_EQ(FakeKho::instance().unrestored(), 1u) << "the other chain's block is left alone";
    expect_clean_kho();
}

// A link is followed only once its own block was read; one leading outside
// the handed-over blocks is a fault.
TEST_F(RecordChainConsumeTest, ALinkOutsideTheHandedOverBlocksIsAFault) {
    for (uint64_t offset : {uint64_t{8}, uint64_t{kBlock / 2}}) {
        const auto blocks = hand_over(2);
        write_block(at(blocks[0]), ChainKind::Files, blocks[1] + offset, payloads(0, 2));
        write_block(at(blocks[1]), ChainKind::Files, 0, payloads(10, 3));
        Read got = read(blocks[0]);
        EXPECT_EQ(got.error, EFAULT) << offset;
        EXPECT_EQ(got.visited, payloads(0, 2));
        EXPECT_EQ(FakeKho::instance().unrestored(), 1u);
        expect_clean_kho();
    }
}

// Any state word but 0 and 1, in the first, a middle or the last slot:
// refused there, after the records before it.
TEST_F(RecordChainConsumeTest, EveryEntryStateButFreeAndUsedIsRefused) {
    const uint32_t states[] = {2, 3, 0x101, 0x100, 0x10000, 0x1000000, 0x80000001, 0xffffffff};
    for (size_t slot : {size_t{0}, size_t{5}, kCapacity - 1}) {
        for (uint32_t state : states) {
            const uint64_t head = hand_over(1)[0];
            write_block(at(head), ChainKind::Files, 0, payloads(0, kCapacity));
            put<uint32_t>(entry_at(at(head), slot), state);
            reseal(at(head));
            Read got = read(head);
            EXPECT_EQ(got.error, EBADMSG) << "slot " << slot << " state " << state;
            EXPECT_EQ(got.visited, payloads(0, slot)) << "slot " << slot << " state " << state;
            expect_clean_kho();
        }
    }
}

// Every slot is read, the last one too; the bytes after it are no entry.
TEST_F(RecordChainConsumeTest, EverySlotOfAFullBlockIsReadAndNoMore) {
    const uint64_t head = hand_over(1)[0];
    write_block(at(head), ChainKind::Files, 0, payloads(0, kCapacity));
    put<uint32_t>(at(head) + kHeader + kCapacity * kEntry, 7);  // in the 40 spare bytes
    reseal(at(head));
    Read got = read(head);
    EXPECT_EQ(got.error, 0);
    EXPECT_EQ(got.visited, payloads(0, kCapacity));
    expect_clean_kho();
}

// The free list threads through the entries' second word; a reader has no
// use for it and must not trust it.
TEST_F(RecordChainConsumeTest, TheFreeListWordIsIgnored) {
    const uint64_t head = hand_over(1)[0];
    write_block(at(head), ChainKind::Files, 0, payloads(0, 4));
    for (size_t slot = 0; slot < kCapacity; slot++)
        put<uint32_t>(entry_at(at(head), slot) + 4, 0xffffffff - static_cast<uint32_t>(slot));
    reseal(at(head));
    Read got = read(head);
    EXPECT_EQ(got.error, 0);
    EXPECT_EQ(got.visited, payloads(0, 4));
    expect_clean_kho();
}

// A visit that fails ends the read: no more visits, the next block is not
// restored, and the block read so far is still given back.
TEST_F(RecordChainConsumeTest, AFailedVisitStopsTheRead) {
    const auto blocks = hand_over(2);
    write_block(at(blocks[0]), ChainKind::Files, blocks[1], payloads(0, 3));
    write_block(at(blocks[1]), ChainKind::Files, 0, payloads(10, 3));
    Read got = read(blocks[0], ChainKind::Files, kPayload, 2);
    EXPECT_EQ(got.error, ENOSPC);
    EXPECT_EQ(got.visited, payloads(0, 2));
    EXPECT_EQ(FakeKho::instance().restores, 1);
    EXPECT_EQ(FakeKho::instance().unrestored(), 1u);
    expect_clean_kho();
}

// Without a fresh checksum, no single flipped bit gets a block restored.
TEST_F(RecordChainConsumeTest, EveryFlippedBitIsCaughtByTheChecksum) {
    std::vector<uint8_t> good(kBlock);
    write_block(good.data(), ChainKind::Files, 0, payloads(0, 7));
    for (size_t bit = 0; bit < kBlock * 8; bit++) {
        const uint64_t head = hand_over(1)[0];
        memcpy(at(head), good.data(), kBlock);
        at(head)[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        Read got = read(head);
        ASSERT_EQ(got.error, EBADMSG) << "bit " << bit;
        ASSERT_TRUE(got.visited.empty()) << "bit " << bit;
        ASSERT_EQ(FakeKho::instance().restores, 0) << "bit " << bit;
    }
}

// A careful corruptor's every single-bit change (checksum recomputed): the
// validator refuses it as the layout says, or reads exactly what the block
// now holds, and never asks KHO for a block it did not hand over.
TEST_F(RecordChainConsumeTest, EveryFlippedBitUnderAFreshChecksumIsRefusedOrReadAsWritten) {
    std::vector<uint8_t> good(kBlock);
    write_block(good.data(), ChainKind::Files, 0, payloads(0, 7));
    put<uint32_t>(entry_at(good.data(), 3), RecordChain::kEntryFree);  // a hole
    put<uint32_t>(entry_at(good.data(), 2) + 4, 9);                    // a free-list word
    reseal(good.data());
    int refused = 0;
    for (size_t bit = 0; bit < kBlock * 8; bit++) {
        if (bit / 8 >= 16 && bit / 8 < 20)
            continue;  // the checksum itself, recomputed below
        const uint64_t head = hand_over(1)[0];
        uint8_t* block = at(head);
        memcpy(block, good.data(), kBlock);
        block[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        reseal(block);
        const Read expected = model_of(block, ChainKind::Files);
        Read got = read(head);
        ASSERT_EQ(got.error, expected.error) << "bit " << bit;
        ASSERT_EQ(got.visited, expected.visited) << "bit " << bit;
        ASSERT_EQ(FakeKho::instance().bad_restores, 0) << "bit " << bit;
        ASSERT_EQ(FakeKho::instance().freed_reads, 0) << "bit " << bit;
        refused += got.error != 0;
    }
    // Header fields (64 + 32 + 32 bits: magic, sizes, kind), the link (64)
    // and the state words of the 84 slots but bit 0 of each (31 each).
    EXPECT_EQ(refused, 32 + 16 + 16 + 32 + 64 + 84 * 31);
}

TEST_F(RecordChainConsumeTest, AFailedGrowthLeavesTheChainAsItWas) {
    RecordChain chain(ChainKind::Files, kPayload);
    FakeKho::instance().fail_alloc = true;
    auto first = chain.allocate();
    ASSERT_FALSE(first.is_ok());
    EXPECT_EQ(first.error(), lu::err(ENOMEM));
    EXPECT_EQ(chain.head_phys(), 0u);
    EXPECT_EQ(chain.used(), 0u);
    FakeKho::instance().fail_alloc = false;

    std::vector<lu::RecordSlot> slots;
    for (size_t i = 0; i < kCapacity; i++)
        slots.push_back(chain.allocate().value());
    const uint64_t head = chain.head_phys();
    FakeKho::instance().fail_alloc = true;
    auto more = chain.allocate();
    ASSERT_FALSE(more.is_ok());
    EXPECT_EQ(more.error(), lu::err(ENOMEM));
    EXPECT_EQ(chain.used(), kCapacity);
    EXPECT_EQ(chain.bytes(), kBlock);
    EXPECT_EQ(get<uint64_t>(at(head) + 8), 0u) << "no link to a block that does not exist";
    chain.release(slots[7]);
    auto reused = chain.allocate();
    ASSERT_TRUE(reused.is_ok()) << "a free slot needs no growth";
    EXPECT_EQ(reused.value().index, 7u);
    FakeKho::instance().fail_alloc = false;
    auto grown = chain.allocate();
    ASSERT_TRUE(grown.is_ok());
    EXPECT_EQ(grown.value().index, kCapacity);
    EXPECT_EQ(chain.bytes(), 2 * kBlock);
    const uint64_t link = get<uint64_t>(at(head) + 8);
    ASSERT_NE(link, 0u);
    EXPECT_EQ(grown.value().payload, entry_at(at(link), 0) + kEntryHeader);
}

// Slots are stable and reused last-released first, handed out zeroed; the
// last release gives the blocks back unless the chain keeps them.
TEST_F(RecordChainConsumeTest, ReleasedSlotsAreReusedZeroedAndEmptyChainsFreeTheirBlocks) {
    for (lu::EmptyChain when_empty : {lu::EmptyChain::FreeBlocks, lu::EmptyChain::KeepBlocks}) {
        FakeKho::instance().cold_boot();
        RecordChain chain(ChainKind::Files, kPayload, when_empty);
        lu::RecordSlot a = chain.allocate().value();
        lu::RecordSlot b = chain.allocate().value();
        lu::RecordSlot c = chain.allocate().value();
        memset(b.payload, 0xab, kPayload);
        chain.release(b);
        chain.release(a);
        EXPECT_EQ(get<uint32_t>(b.payload - kEntryHeader), RecordChain::kEntryFree);
        lu::RecordSlot again = chain.allocate().value();
        EXPECT_EQ(again.index, a.index);
        EXPECT_EQ(again.payload, a.payload);
        again = chain.allocate().value();
        EXPECT_EQ(again.index, b.index);
        EXPECT_EQ(again.payload, b.payload);
        EXPECT_EQ(std::count(again.payload, again.payload + kPayload, 0),
                  static_cast<long>(kPayload));
        EXPECT_EQ(get<uint32_t>(again.payload - kEntryHeader), RecordChain::kEntryUsed);
        EXPECT_EQ(chain.allocate().value().index, 3u);
        EXPECT_EQ(chain.used(), 4u);
        chain.release(c);
        chain.release(lu::RecordSlot{entry_at(at(chain.head_phys()), 0) + kEntryHeader, 0});
        chain.release(lu::RecordSlot{entry_at(at(chain.head_phys()), 1) + kEntryHeader, 1});
        EXPECT_EQ(FakeKho::instance().preserved_blocks(), 1u);
        chain.release(lu::RecordSlot{entry_at(at(chain.head_phys()), 3) + kEntryHeader, 3});
        EXPECT_EQ(chain.used(), 0u);
        if (when_empty == lu::EmptyChain::FreeBlocks) {
            EXPECT_EQ(chain.head_phys(), 0u);
            EXPECT_EQ(FakeKho::instance().preserved_blocks(), 0u);
        } else {
            EXPECT_NE(chain.head_phys(), 0u);
            EXPECT_EQ(FakeKho::instance().preserved_blocks(), 1u);
            EXPECT_EQ(chain.allocate().value().index, 3u) << "last released, first reused";
        }
    }
}

}  // namespace
