// SPDX-License-Identifier: GPL-2.0
// The previous kernel's root record as the next kernel judges it, for the
// marks that lie outside its checksum.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "fake_kho.hpp"
#include "lu_glue.h"

namespace {

class IncomingHandoverTest : public ::testing::Test {
protected:
    void SetUp() override { FakeKho::instance().cold_boot(); }
    void TearDown() override {
        for (lu_core* core : cores_)
            lu_core_destroy(core);
        FakeKho::instance().reset();
    }
    lu_core* load() {
        lu_core* core = nullptr;
        EXPECT_EQ(lu_core_create(&core), 0);
        cores_.push_back(core);
        return core;
    }
    void kexec(lu_core* core) {
        lu_core_seal(core);
        FakeKho::instance().reboot();
        lu_core_destroy(core);
        cores_.clear();
    }
    static std::string status(lu_core* core) {
        char buf[128];
        lu_core_handover_status(core, buf, sizeof(buf));
        return buf;
    }

    std::vector<lu_core*> cores_;
};

TEST_F(IncomingHandoverTest, AConsumedMarkOnARecordNeverAdoptedIsRejected) {
    kexec(load());
    // "PDOK" at 56: as if a kernel had read the sessions, though none took
    // the record (no "PODA" at 52): the sessions would silently vanish.
    const uint32_t consumed = 0x4b4f4450;
    memcpy(FakeKho::instance().incoming_record() + 56, &consumed, sizeof(consumed));
    lu_core* core = load();
    EXPECT_EQ(status(core), "rejected invalid handover record (errno 22)");
    EXPECT_EQ(lu_core_generation(core), 1u);
    EXPECT_EQ(lu_core_open(core), -EIO);
    EXPECT_EQ(FakeKho::instance().restores, 0) << "a rejected record is not restored";
}

TEST_F(IncomingHandoverTest, AReloadStillFindsTheMarksItWrote) {
    kexec(load());
    lu_core* core = load();
    EXPECT_EQ(lu_core_open(core), 0);
    lu_core_destroy(core);
    cores_.clear();
    core = load();
    EXPECT_EQ(status(core), "accepted") << "adopted and consumed, by this kernel";
    EXPECT_EQ(lu_core_open(core), 0);
    EXPECT_EQ(FakeKho::instance().bad_restores, 0);
}

}  // namespace
