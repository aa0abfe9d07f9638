// SPDX-License-Identifier: GPL-2.0
// The orchestrator across fake kexecs, through the same C entry points the
// glue calls.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "fake_kho.hpp"
#include "lu_glue.h"

namespace {

class OrchestratorTest : public ::testing::Test {
protected:
    void SetUp() override {
        FakeKho::instance().cold_boot();
        fake_log().clear();
    }
    void TearDown() override {
        if (core_ != nullptr)
            lu_core_destroy(core_);
        FakeKho::instance().reset();
    }

    void load() {
        ASSERT_EQ(core_, nullptr);
        ASSERT_EQ(lu_core_create(&core_), 0);
    }
    void unload() {
        lu_core_destroy(core_);
        core_ = nullptr;
    }
    // The reboot notifier runs (unless told otherwise), then the kexec; the
    // old kernel's objects are gone without running anything.
    void kexec(bool notifier_runs = true) {
        if (notifier_runs)
            lu_core_seal(core_);
        FakeKho::instance().reboot();
        unload();
    }
    std::string status() const {
        char buf[128];
        lu_core_handover_status(core_, buf, sizeof(buf));
        return buf;
    }

    lu_core* core_ = nullptr;
};

TEST_F(OrchestratorTest, ColdBootIsGenerationOne) {
    load();
    EXPECT_EQ(lu_core_generation(core_), 1u);
    EXPECT_EQ(status(), "none");
    EXPECT_TRUE(FakeKho::instance().published());
}

TEST_F(OrchestratorTest, GenerationCountsThreeLiveUpdates) {
    load();
    for (uint64_t expected = 2; expected <= 4; expected++) {
        kexec();
        load();
        EXPECT_EQ(lu_core_generation(core_), expected);
        EXPECT_EQ(status(), "accepted");
    }
    EXPECT_EQ(FakeKho::instance().restores, 3);
}

TEST_F(OrchestratorTest, UnsealedHandoverIsReportedAsFailed) {
    load();
    kexec(/*notifier_runs=*/false);
    load();
    EXPECT_EQ(lu_core_generation(core_), 2u);
    EXPECT_EQ(status(), "failed previous kernel did not seal its handover");
}

TEST_F(OrchestratorTest, CorruptedHandoverIsRejectedAndCountingRestarts) {
    load();
    kexec();
    FakeKho::instance().incoming_record()[20] ^= 0xff;
    load();
    EXPECT_EQ(lu_core_generation(core_), 1u);
    EXPECT_EQ(status(), "rejected corrupted or foreign handover record (errno 74)");
    EXPECT_EQ(FakeKho::instance().restores, 0) << "a rejected record must not be restored";
}

TEST_F(OrchestratorTest, WrongVersionIsRejected) {
    load();
    kexec();
    FakeKho::instance().incoming_record()[8] = 9;
    load();
    EXPECT_EQ(status(), "rejected unsupported handover version (errno 93)");
}

TEST_F(OrchestratorTest, ReloadInTheSameBootDoesNotRestoreTwice) {
    load();
    kexec();
    load();
    unload();
    load();
    EXPECT_EQ(lu_core_generation(core_), 2u);
    EXPECT_EQ(status(), "accepted");
    EXPECT_EQ(FakeKho::instance().restores, 1);
}

TEST_F(OrchestratorTest, UnloadUnpublishesAndFreesTheRecord) {
    load();
    unload();
    EXPECT_FALSE(FakeKho::instance().published());
    EXPECT_EQ(FakeKho::instance().preserved_blocks(), 0u);
}

TEST_F(OrchestratorTest, PublishFailureFailsTheLoadWithoutLeaking) {
    FakeKho::instance().fail_publish = -ENOMEM;
    EXPECT_EQ(lu_core_create(&core_), -ENOMEM);
    EXPECT_EQ(core_, nullptr);
    EXPECT_EQ(FakeKho::instance().preserved_blocks(), 0u);
}

TEST_F(OrchestratorTest, PreservedAllocationFailureIsNoMem) {
    FakeKho::instance().fail_alloc = true;
    EXPECT_EQ(lu_core_create(&core_), -ENOMEM);
}

TEST_F(OrchestratorTest, LoadLogsGenerationAndStatus) {
    load();
    ASSERT_FALSE(fake_log().empty());
    EXPECT_NE(fake_log().back().find("generation 1, incoming handover: none"), std::string::npos);
}

TEST_F(OrchestratorTest, StatusIsTruncatedSafely) {
    load();
    char buf[3];
    EXPECT_EQ(lu_core_handover_status(core_, buf, sizeof(buf)), 2u);
    EXPECT_STREQ(buf, "no");
}

}  // namespace
