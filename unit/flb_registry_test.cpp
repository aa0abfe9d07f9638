// SPDX-License-Identifier: GPL-2.0
// File-Lifecycle-Bound objects across fake kexecs: preserved with the first
// dependent file, unpreserved with the last, handed over with their count,
// retrieved on demand, finished with the last dependent file.
#include "crc32c.hpp"
#include "record_chain.hpp"
#include "session_fixture.hpp"

namespace {

class FlbTest : public SessionTest {
protected:
    void after_boot() override {
        flb_ = lu_flb{};
        strcpy(flb_.compatible, "shared-v1");
        ASSERT_EQ(lu_core_register_flb(core_, &handler_, &flb_), 0);
    }
    std::string* get_incoming(int* rc = nullptr) {
        void* obj = nullptr;
        int err = lu_core_flb_get_incoming(core_, &flb_, &obj);
        if (rc != nullptr)
            *rc = err;
        return static_cast<std::string*>(obj);
    }

    lu_flb flb_;
};

TEST_F(FlbTest, RegistrationRules) {
    lu_flb other{};
    strcpy(other.compatible, "shared-v1");
    EXPECT_EQ(lu_core_register_flb(core_, &handler_, &flb_), -EEXIST) << "linked already";
    EXPECT_EQ(lu_core_register_flb(core_, &handler_, &other), -EEXIST) << "compatible taken";
    lu_flb empty{};
    EXPECT_EQ(lu_core_register_flb(core_, &handler_, &empty), -EINVAL);
    lu_handler stranger{};
    strcpy(stranger.compatible, "stranger-v1");
    strcpy(other.compatible, "other-v1");
    EXPECT_EQ(lu_core_register_flb(core_, &stranger, &other), -EINVAL) << "handler unknown";

    lu_handler second{};
    strcpy(second.compatible, "second-v1");
    second.accepts = "second";
    ASSERT_EQ(lu_core_register_handler(core_, &second), 0);
    EXPECT_EQ(lu_core_register_flb(core_, &second, &flb_), 0) << "one FLB, two handlers";
    EXPECT_EQ(lu_core_unregister_flb(core_, &second, &flb_), 0);
    EXPECT_EQ(lu_core_unregister_flb(core_, &second, &flb_), -ENOENT);
    EXPECT_EQ(lu_core_unregister_handler(core_, &second), 0);
}

TEST_F(FlbTest, PreservedWithTheFirstFileAndUnpreservedWithTheLast) {
    void* obj = nullptr;
    EXPECT_EQ(lu_core_flb_get_outgoing(core_, &flb_, &obj), -ENOENT) << "no file yet";
    lu_session* a = create("a");
    lu_session* b = create("b");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    EXPECT_EQ(flb_.state.preserves, 1);
    EXPECT_EQ(flb_.state.pins, 1) << "the FLB's module is pinned while preserved";
    ASSERT_EQ(lu_core_preserve_fd(core_, b, memfd("two"), 1), 0);
    EXPECT_EQ(flb_.state.preserves, 1) << "across sessions, once";
    ASSERT_EQ(lu_core_flb_get_outgoing(core_, &flb_, &obj), 0);
    EXPECT_EQ(*static_cast<std::string*>(obj), "flb shared-v1");
    lu_core_flb_put_outgoing(core_, &flb_);
    EXPECT_EQ(lu_core_unregister_flb(core_, &handler_, &flb_), -EBUSY) << "preserved";

    close(a);
    EXPECT_EQ(flb_.state.unpreserves, 0);
    close(b);
    EXPECT_EQ(flb_.state.unpreserves, 1);
    EXPECT_EQ(flb_.state.pins, 0);
    EXPECT_TRUE(fake_store().empty());
    EXPECT_EQ(lu_core_unregister_flb(core_, &handler_, &flb_), 0);
}

TEST_F(FlbTest, AnOutgoingReferenceHeldAcrossTheSealChangesNothingHandedOver) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    void* obj = nullptr;
    ASSERT_EQ(lu_core_flb_get_outgoing(core_, &flb_, &obj), 0);
    lu_core_seal(core_);
    // A handler that lets go after the reboot notifier ran: the sealed
    // chain's CRC must still hold, and the count handed over is one file.
    lu_core_flb_put_outgoing(core_, &flb_);
    kexec();

    ASSERT_EQ(lu_core_open(core_), 0) << "the FLB chain still validates";
    lu_session* in = retrieve("a");
    EXPECT_EQ(retrieve_content(in, 1), "one");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(flb_.state.finishes, 1) << "finished with its one file";
}

TEST_F(FlbTest, AnOutgoingReferenceHeldPastTheLastFileLeavesNoRecordBehind) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    void* obj = nullptr;
    ASSERT_EQ(lu_core_flb_get_outgoing(core_, &flb_, &obj), 0);
    close(a);
    EXPECT_EQ(flb_.state.unpreserves, 0) << "the reference keeps the object";
    lu_session* b = create("b");
    ASSERT_EQ(lu_core_preserve_fd(core_, b, memfd("two"), 2), 0);
    lu_session* c = create("c");
    ASSERT_EQ(lu_core_preserve_fd(core_, c, memfd("three"), 3), 0);
    close(c);
    close(b);
    lu_core_seal(core_);
    lu_core_flb_put_outgoing(core_, &flb_);  // after the seal: touches nothing sealed
    EXPECT_EQ(flb_.state.unpreserves, 1);
    lu_session* d = nullptr;
    EXPECT_EQ(lu_core_create_session(core_, Name("d").bytes, &d), -EBUSY);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0) << "no FLB record with a count of zero";
}

TEST_F(FlbTest, HandedOverFlbsPinTheirModuleUntilTheirFilesFinish) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    // Never retrieved: the FLB's module must not go away (its unregister
    // returns nothing), or the file's finish would call into freed code.
    EXPECT_EQ(flb_.state.pins, 1);
    EXPECT_EQ(lu_core_finish(core_, retrieve("a")), 0);
    EXPECT_EQ(flb_.state.finishes, 1);
    EXPECT_EQ(flb_.state.pins, 0);
}

TEST_F(FlbTest, AnFlbRegisteredAfterTheSessionsWereReadIsPinnedAtRegistration) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_unregister_flb(core_, &handler_, &flb_), 0) << "not read yet: free to go";
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(flb_.state.pins, 0);
    ASSERT_EQ(lu_core_register_flb(core_, &handler_, &flb_), 0);
    EXPECT_EQ(flb_.state.pins, 1);
    EXPECT_EQ(lu_core_finish(core_, retrieve("a")), 0);
    EXPECT_EQ(flb_.state.pins, 0);
}

TEST_F(FlbTest, UnregisterIsRefusedWhileIncomingFilesStillNeedIt) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(lu_core_unregister_flb(core_, &handler_, &flb_), -EBUSY)
        << "never retrieved, but a handed-over file will finish it";
    lu_session* in = retrieve("a");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(flb_.state.finishes, 1);
    EXPECT_EQ(lu_core_unregister_flb(core_, &handler_, &flb_), 0);
}

TEST_F(FlbTest, AFailedFlbPreserveFailsTheFilesPreserve) {
    lu_session* a = create("a");
    flb_.state.fail_preserve = ENOSPC;
    int fd = memfd("x");
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 1), -ENOSPC);
    EXPECT_EQ(handler_.state.preserves, 0) << "the FLB comes before the file";
    EXPECT_EQ(handler_.state.pins, 0);
    flb_.state.fail_preserve = 0;
    handler_.state.fail_preserve = EIO;
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 1), -EIO);
    EXPECT_EQ(flb_.state.preserves, 1);
    EXPECT_EQ(flb_.state.unpreserves, 1) << "rolled back with the file";
    EXPECT_EQ(flb_.state.pins, 0);
    handler_.state.fail_preserve = 0;
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 1), 0);
}

TEST_F(FlbTest, RetrievedOnDemandAndFinishedWithTheLastFile) {
    lu_session* a = create("a");
    lu_session* b = create("b");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("two"), 2), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, b, memfd("three"), 1), 0);
    kexec();

    int rc = 0;
    EXPECT_EQ(get_incoming(&rc), nullptr);
    EXPECT_EQ(rc, -ENODATA) << "before the handover is read";
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(flb_.state.retrieves, 0) << "only on demand";
    std::string* obj = get_incoming(&rc);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(*obj, "flb shared-v1");
    EXPECT_EQ(get_incoming(), obj) << "retrieved once";
    EXPECT_EQ(flb_.state.retrieves, 1);
    lu_core_flb_put_incoming(core_, &flb_);
    lu_core_flb_put_incoming(core_, &flb_);
    EXPECT_EQ(lu_core_unregister_flb(core_, &handler_, &flb_), -EBUSY) << "retrieved";

    lu_session* in_a = retrieve("a");
    EXPECT_EQ(retrieve_content(in_a, 1), "one");
    EXPECT_EQ(lu_core_finish(core_, in_a), 0);
    EXPECT_EQ(flb_.state.finishes, 0) << "a file of b still uses it";
    lu_session* in_b = retrieve("b");
    EXPECT_EQ(lu_core_finish(core_, in_b), 0);
    EXPECT_EQ(flb_.state.finishes, 1);
    EXPECT_EQ(flb_.state.finished_content, "flb shared-v1");
    EXPECT_EQ(flb_.state.pins, 0);
    EXPECT_EQ(get_incoming(&rc), nullptr);
    EXPECT_EQ(rc, -ENODATA) << "finished";
    EXPECT_TRUE(fake_store().empty());
}

TEST_F(FlbTest, NeverRetrievedIsRetrievedToBeFinished) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(flb_.state.retrieves, 1);
    EXPECT_EQ(flb_.state.finishes, 1);
    EXPECT_TRUE(fake_store().empty());
}

TEST_F(FlbTest, AFailedRetrieveIsRemembered) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    flb_.state.fail_retrieve = EIO;
    int rc = 0;
    get_incoming(&rc);
    EXPECT_EQ(rc, -EIO);
    flb_.state.fail_retrieve = 0;
    get_incoming(&rc);
    EXPECT_EQ(rc, -EIO) << "not retried";
    EXPECT_EQ(flb_.state.pins, 1) << "only for the file that still needs it";
    EXPECT_EQ(lu_core_finish(core_, retrieve("a")), 0);
    EXPECT_EQ(flb_.state.pins, 0);
}

TEST_F(FlbTest, TheFlbSurvivesASecondKexecWithItsFiles) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    lu_session* again = create("again");
    ASSERT_EQ(lu_core_preserve_fd(core_, again, memfd("two"), 5), 0);
    EXPECT_EQ(flb_.state.preserves, 1) << "the new kernel preserves its own";
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    int rc = 0;
    EXPECT_EQ(*get_incoming(&rc), "flb shared-v1");
    lu_core_flb_put_incoming(core_, &flb_);
    lu_session* in2 = retrieve("again");
    EXPECT_EQ(retrieve_content(in2, 5), "two");
    EXPECT_EQ(lu_core_finish(core_, in2), 0);
    EXPECT_EQ(flb_.state.finishes, 1);
}

TEST_F(FlbTest, ACorruptedFlbRecordFailsTheHandover) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    lu_core_seal(core_);
    FakeKho::instance().reboot();
    uint64_t flbs = 0;
    memcpy(&flbs, FakeKho::instance().incoming_record() + 64, sizeof(flbs));
    ASSERT_NE(flbs, 0u);
    reinterpret_cast<uint8_t*>(flbs)[40] ^= 1;
    abandoned_kernels().push_back(core_);
    core_ = nullptr;
    open_sessions_.clear();
    FakeFds::instance().reset();
    boot();
    EXPECT_EQ(lu_core_open(core_), -EIO);
}

TEST_F(FlbTest, AnFlbRecordWithItsReservedWordSetFailsTheHandover) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    lu_core_seal(core_);
    FakeKho::instance().reboot();
    uint64_t flbs = 0;
    memcpy(&flbs, FakeKho::instance().incoming_record() + 64, sizeof(flbs));
    ASSERT_NE(flbs, 0u);
    // The first entry's record starts at 24 + 8; its reserved word at 4.
    uint8_t* block = reinterpret_cast<uint8_t*>(flbs);
    block[24 + 8 + 4] = 1;
    // With the block's checksum recomputed, only the field check is left.
    uint32_t crc = lu::crc32c(block + 20, lu::RecordChain::kBlockSize - 20, lu::crc32c(block, 16));
    memcpy(block + 16, &crc, sizeof(crc));
    abandoned_kernels().push_back(core_);
    core_ = nullptr;
    open_sessions_.clear();
    FakeFds::instance().reset();
    boot();
    EXPECT_EQ(lu_core_open(core_), -EIO);
    EXPECT_EQ(FakeKho::instance().bad_restores, 0);
}

}  // namespace
