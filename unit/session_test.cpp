// SPDX-License-Identifier: GPL-2.0
// Sessions and files through the same C entry points the glue calls, across
// fake kexecs: the uAPI state machines, errno for errno.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "fake_files.hpp"
#include "fake_kho.hpp"
#include "lu_glue.h"

namespace {

struct Name {
    uint8_t bytes[64] = {};
    explicit Name(const std::string& text) { memcpy(bytes, text.data(), std::min<size_t>(64, text.size())); }
};

// What a kexec abandons: the old kernel's objects are never destroyed (no
// code of the old kernel runs again); they stay reachable here so that the
// leak checker reports only real leaks.
std::vector<lu_core*>& abandoned_kernels() {
    static auto* cores = new std::vector<lu_core*>;  // never destroyed, on purpose
    return *cores;
}

class SessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        FakeKho::instance().cold_boot();
        fake_reset_files();
        boot();
    }
    void TearDown() override {
        for (lu_session* session : open_sessions_)
            lu_core_release_session(core_, session);
        open_sessions_.clear();
        shutdown();
        fake_reset_files();
        FakeKho::instance().reset();
    }

    // Module load: the core, then the handler, then /dev/liveupdate opens.
    void boot() {
        ASSERT_EQ(lu_core_create(&core_), 0);
        handler_ = lu_handler{};
        strcpy(handler_.compatible, "memfd-v1");
        handler_.accepts = "memfd";
        ASSERT_EQ(lu_core_register_handler(core_, &handler_), 0);
    }
    void shutdown() {
        if (core_ == nullptr)
            return;
        lu_core_unregister_handler(core_, &handler_);
        lu_core_destroy(core_);
        core_ = nullptr;
    }
    // The reboot notifier seals; the old kernel vanishes with its sessions.
    void kexec() {
        lu_core_seal(core_);
        FakeKho::instance().reboot();
        open_sessions_.clear();
        FakeFds::instance().reset();
        abandoned_kernels().push_back(core_);
        core_ = nullptr;
        boot();
    }

    int memfd(const std::string& content) {
        return FakeFds::instance().install(new lu_file{content});
    }
    lu_session* create(const std::string& name) {
        lu_session* session = nullptr;
        EXPECT_EQ(lu_core_create_session(core_, Name(name).bytes, &session), 0) << name;
        open_sessions_.push_back(session);
        return session;
    }
    int create_errno(const std::string& name) {
        lu_session* session = nullptr;
        int rc = lu_core_create_session(core_, Name(name).bytes, &session);
        if (rc == 0)
            open_sessions_.push_back(session);
        return rc;
    }
    lu_session* retrieve(const std::string& name) {
        lu_session* session = nullptr;
        EXPECT_EQ(lu_core_retrieve_session(core_, Name(name).bytes, &session), 0) << name;
        open_sessions_.push_back(session);
        return session;
    }
    void close(lu_session* session) {
        std::erase(open_sessions_, session);
        lu_core_release_session(core_, session);
    }
    std::string retrieve_content(lu_session* session, uint64_t token) {
        lu_file* file = nullptr;
        int rc = lu_core_retrieve_fd(core_, session, token, &file);
        if (rc != 0)
            return "errno " + std::to_string(-rc);
        std::string content = file->content;
        lu_file_put(file);
        return content;
    }

    lu_core* core_ = nullptr;
    lu_handler handler_;
    std::vector<lu_session*> open_sessions_;
};

TEST_F(SessionTest, NamesAreCheckedAndUniqueAmongOutgoingSessions) {
    EXPECT_EQ(create_errno(""), -EINVAL);
    EXPECT_EQ(create_errno(std::string(64, 'a')), -EINVAL) << "64 bytes without NUL";
    EXPECT_EQ(create_errno(std::string(63, 'a')), 0);
    lu_session* vm = create("vm");
    EXPECT_STREQ(lu_core_session_name(vm), "vm");
    EXPECT_FALSE(lu_core_session_incoming(vm));
    EXPECT_EQ(create_errno("vm"), -EEXIST);
    close(vm);
    EXPECT_EQ(create_errno("vm"), 0) << "a closed session's name is free again";
}

TEST_F(SessionTest, PreserveFdErrorsAreUpstreams) {
    lu_session* a = create("a");
    lu_session* b = create("b");
    int fd = memfd("data");
    EXPECT_EQ(lu_core_preserve_fd(core_, a, 999, 1), -EBADF);
    lu_file* pipe = new lu_file{"", "pipe"};
    EXPECT_EQ(lu_core_preserve_fd(core_, a, FakeFds::instance().install(pipe), 1), -ENOENT);
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 1), 0);
    EXPECT_EQ(lu_core_preserve_fd(core_, a, memfd("other"), 1), -EEXIST) << "duplicate token";
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 2), -EBUSY) << "same file, same session";
    EXPECT_EQ(lu_core_preserve_fd(core_, b, fd, 1), -EBUSY) << "same file, other session";
    EXPECT_EQ(handler_.state.preserves, 1);
    EXPECT_EQ(handler_.state.pins, 1);
}

TEST_F(SessionTest, DuplicateTokenIsCheckedBeforeTheFd) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 7), 0);
    EXPECT_EQ(lu_core_preserve_fd(core_, a, 999, 7), -EEXIST);
}

TEST_F(SessionTest, AFailedPreserveLeavesNothingBehind) {
    lu_session* a = create("a");
    int fd = memfd("data");
    handler_.state.fail_preserve = ENOSPC;
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 1), -ENOSPC);
    EXPECT_EQ(handler_.state.pins, 0);
    EXPECT_EQ(FakeFds::instance().lookup(fd)->refs, 1);
    handler_.state.fail_preserve = 0;
    EXPECT_EQ(lu_core_preserve_fd(core_, a, fd, 1), 0) << "token and file are free again";
}

TEST_F(SessionTest, HandlerThatCannotBePinnedIsNoHandler) {
    lu_session* a = create("a");
    handler_.state.pin_fails = true;
    EXPECT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), -ENOENT);
}

TEST_F(SessionTest, ClosingAnOutgoingSessionUnpreservesEverything) {
    lu_session* a = create("a");
    int fd = memfd("data");
    for (uint64_t token = 0; token < 3; token++)
        ASSERT_EQ(lu_core_preserve_fd(core_, a, token == 0 ? fd : memfd("x"), token), 0);
    close(a);
    EXPECT_EQ(handler_.state.unpreserves, 3);
    EXPECT_EQ(handler_.state.pins, 0);
    EXPECT_TRUE(fake_store().empty());
    EXPECT_EQ(FakeFds::instance().lookup(fd)->refs, 1);
    lu_session* b = create("b");
    EXPECT_EQ(lu_core_preserve_fd(core_, b, fd, 0), 0) << "the file is free for another session";
}

TEST_F(SessionTest, SessionsAndFilesCrossTheKexec) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("two"), 2), 0);
    create("empty");
    kexec();

    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(fake_module_pins(), 1) << "incoming state pins the module";
    lu_session* in = retrieve("a");
    EXPECT_TRUE(lu_core_session_incoming(in));
    lu_session* again = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &again), -EINVAL);
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("nope").bytes, &again), -ENOENT);

    EXPECT_EQ(retrieve_content(in, 99), "errno " + std::to_string(ENOENT));
    EXPECT_EQ(retrieve_content(in, 2), "two");
    lu_file* first = nullptr;
    lu_file* second = nullptr;
    ASSERT_EQ(lu_core_retrieve_fd(core_, in, 1, &first), 0);
    ASSERT_EQ(lu_core_retrieve_fd(core_, in, 1, &second), 0);
    EXPECT_EQ(first, second) << "a second retrieve returns the same file";
    EXPECT_EQ(first->content, "one");
    lu_file_put(first);
    lu_file_put(second);

    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(retrieve_content(in, 1), "errno " + std::to_string(ENOENT)) << "after FINISH";
    EXPECT_EQ(lu_core_finish(core_, in), 0) << "FINISH of an empty session";
    EXPECT_EQ(handler_.state.finishes, 2);

    lu_session* empty = retrieve("empty");
    EXPECT_EQ(lu_core_finish(core_, empty), 0);
    close(in);
    close(empty);
    EXPECT_EQ(fake_module_pins(), 0) << "all incoming state is gone";
    EXPECT_TRUE(fake_store().empty());
}

TEST_F(SessionTest, FinishFinishesFilesThatWereNeverRetrieved) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("kept"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("skipped"), 2), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    EXPECT_EQ(retrieve_content(in, 1), "kept");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(handler_.state.finished_unretrieved, 1);
    EXPECT_TRUE(fake_store().empty()) << "nothing stays preserved after FINISH";
}

TEST_F(SessionTest, RefusedFinishKeepsEverythingAndCanBeRetried) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    handler_.state.refuse_finish = true;
    EXPECT_EQ(lu_core_finish(core_, in), -EBUSY);
    EXPECT_EQ(handler_.state.finishes, 0);
    EXPECT_EQ(retrieve_content(in, 1), "x") << "still owned and retrievable";
    handler_.state.refuse_finish = false;
    EXPECT_EQ(lu_core_finish(core_, in), 0);
}

TEST_F(SessionTest, ClosingARetrievedSessionFinishesIt) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    close(retrieve("a"));
    EXPECT_EQ(handler_.state.finishes, 1);
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -ENOENT);
}

TEST_F(SessionTest, ARetrievedSessionThatCannotFinishStaysUntilTheNextUpdate) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    handler_.state.refuse_finish = true;
    close(retrieve("a"));
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -EINVAL);
    EXPECT_EQ(fake_module_pins(), 1);
    handler_.state.refuse_finish = false;
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -ENOENT)
        << "discarded at the next live update";
}

TEST_F(SessionTest, UnretrievedSessionsAreDiscardedAtTheNextLiveUpdate) {
    lu_session* a = create("forgotten");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("forgotten").bytes, &session), -ENOENT);
}

TEST_F(SessionTest, RetrieveFailureIsRemembered) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    handler_.state.fail_retrieve = EIO;
    EXPECT_EQ(retrieve_content(in, 1), "errno 5");
    handler_.state.fail_retrieve = 0;
    EXPECT_EQ(retrieve_content(in, 1), "errno 5") << "the first failure sticks";
}

TEST_F(SessionTest, RetrievedFilesCanBePreservedAgainAfterFinish) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("gen1"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    lu_file* file = nullptr;
    ASSERT_EQ(lu_core_retrieve_fd(core_, in, 1, &file), 0);
    int fd = FakeFds::instance().install(file);
    lu_session* out = create("a");
    EXPECT_EQ(lu_core_preserve_fd(core_, out, fd, 1), -EBUSY) << "still held by the incoming session";
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(lu_core_preserve_fd(core_, out, fd, 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(retrieve_content(retrieve("a"), 1), "gen1");
}

TEST_F(SessionTest, AFreezeFailureIsHandedOverAsAFailedLiveUpdate) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("1"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("2"), 2), 0);
    handler_.state.fail_freeze = EAGAIN;
    handler_.state.fail_freeze_token = 2;
    kexec();
    char status[128];
    lu_core_handover_status(core_, status, sizeof(status));
    EXPECT_STREQ(status, "failed previous kernel could not seal its handover (errno 11)");
    EXPECT_EQ(lu_core_open(core_), -EIO);
    EXPECT_EQ(lu_core_open(core_), -EIO) << "for the rest of the boot";
}

TEST_F(SessionTest, StatusTrialFreezesAndUndoes) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("1"), 10), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("2"), 20), 0);
    create("b");
    lu_status status{};
    lu_core_status(core_, &status);
    EXPECT_EQ(status.generation, 1u);
    EXPECT_EQ(status.outgoing_sessions, 2u);
    EXPECT_EQ(status.outgoing_files, 2u);
    EXPECT_EQ(status.first_error, 0);
    EXPECT_GT(status.metadata_bytes, 0u);
    EXPECT_EQ(handler_.state.freezes, 2);
    EXPECT_EQ(handler_.state.unfreezes, 2);

    handler_.state.fail_freeze = EAGAIN;
    handler_.state.fail_freeze_token = 2;
    lu_core_status(core_, &status);
    EXPECT_EQ(status.first_error, -EAGAIN);
    EXPECT_EQ(status.failed_token, 20u);
    EXPECT_STREQ(status.failed_session, "a");
    EXPECT_EQ(handler_.state.unfreezes, 3) << "the frozen first file is unfrozen";
    handler_.state.fail_freeze = 0;
    EXPECT_EQ(lu_core_preserve_fd(core_, a, memfd("3"), 30), 0) << "nothing stays frozen";
}

TEST_F(SessionTest, NothingChangesOnceSealed) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    lu_core_seal(core_);
    EXPECT_EQ(lu_core_preserve_fd(core_, a, memfd("y"), 2), -EBUSY);
    EXPECT_EQ(create_errno("late"), -EBUSY);
    close(a);
    EXPECT_EQ(handler_.state.unpreserves, 0) << "a sealed session is not unpreserved";
    FakeKho::instance().reboot();
    abandoned_kernels().push_back(core_);
    core_ = nullptr;
    open_sessions_.clear();
    FakeFds::instance().reset();
    boot();
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(retrieve_content(retrieve("a"), 1), "x");
}

TEST_F(SessionTest, AMissingHandlerInTheNextKernelFailsTheHandover) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_unregister_handler(core_, &handler_), 0);
    EXPECT_EQ(lu_core_open(core_), -EIO);
    EXPECT_EQ(lu_core_register_handler(core_, &handler_), 0);
}

TEST_F(SessionTest, HandlerRegistrationRules) {
    lu_handler twin{};
    strcpy(twin.compatible, "memfd-v1");
    EXPECT_EQ(lu_core_register_handler(core_, &twin), -EEXIST);
    EXPECT_EQ(lu_core_register_handler(core_, &handler_), -EEXIST);
    lu_handler nameless{};
    EXPECT_EQ(lu_core_register_handler(core_, &nameless), -EINVAL);
    lu_handler unterminated{};
    memset(unterminated.compatible, 'x', sizeof(unterminated.compatible));
    EXPECT_EQ(lu_core_register_handler(core_, &unterminated), -EINVAL);
    EXPECT_EQ(lu_core_unregister_handler(core_, &twin), -ENOENT);
}

TEST_F(SessionTest, ACorruptedSessionBlockFailsTheHandoverWithoutRestoringIt) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    lu_core_seal(core_);
    // Flip a byte of the sessions chain's first block (the root's payload).
    uint64_t payload = 0;
    FakeKho::instance().reboot();
    memcpy(&payload, FakeKho::instance().incoming_record() + 32, sizeof(payload));
    reinterpret_cast<uint8_t*>(payload)[100] ^= 1;
    abandoned_kernels().push_back(core_);
    core_ = nullptr;
    open_sessions_.clear();
    FakeFds::instance().reset();
    boot();
    int restores = FakeKho::instance().restores;
    EXPECT_EQ(lu_core_open(core_), -EIO);
    EXPECT_EQ(FakeKho::instance().restores, restores) << "the bad block is not restored";
}

TEST_F(SessionTest, ThousandsOfSessionsAndFilesCrossOneKexec) {
    constexpr int kSessions = 5000;
    constexpr int kFiles = 5000;
    for (int i = 0; i < kSessions; i++) {
        lu_session* session = create("s" + std::to_string(i));
        ASSERT_EQ(lu_core_preserve_fd(core_, session, memfd("f" + std::to_string(i)), i), 0);
    }
    lu_session* big = create("big");
    for (int i = 0; i < kFiles; i++)
        ASSERT_EQ(lu_core_preserve_fd(core_, big, memfd(std::to_string(i)), i), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("big");
    for (int i = 0; i < kFiles; i += 499)
        EXPECT_EQ(retrieve_content(in, i), std::to_string(i));
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    for (int i = 0; i < kSessions; i += 997)
        EXPECT_EQ(retrieve_content(retrieve("s" + std::to_string(i)), i), "f" + std::to_string(i));
}

TEST_F(SessionTest, ReloadAfterTheSessionsWereReadDoesNotReadThemAgain) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    close(retrieve("a"));
    EXPECT_EQ(fake_module_pins(), 0);
    int restores = FakeKho::instance().restores;
    shutdown();
    boot();
    EXPECT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(FakeKho::instance().restores, restores);
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -ENOENT);
}

}  // namespace
