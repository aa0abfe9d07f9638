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

#include "session_fixture.hpp"

namespace {

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

TEST_F(SessionTest, ClosingEverythingGivesBackEveryHandoverBlock) {
    const size_t cold = FakeKho::instance().preserved_blocks();
    for (int round = 0; round < 2; round++) {
        lu_session* a = create("a");
        lu_session* b = create("b");
        for (uint64_t token = 0; token < 200; token++)
            ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), token), 0);
        ASSERT_EQ(lu_core_preserve_fd(core_, b, memfd("y"), 7), 0);
        EXPECT_GT(FakeKho::instance().preserved_blocks(), cold + 2);
        close(a);
        EXPECT_GT(FakeKho::instance().preserved_blocks(), cold) << "b still holds its blocks";
        close(b);
        EXPECT_EQ(FakeKho::instance().preserved_blocks(), cold) << "round " << round;
    }
    lu_session* c = create("c");
    ASSERT_EQ(lu_core_preserve_fd(core_, c, memfd("z"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(retrieve_content(retrieve("c"), 1), "z") << "a chain that emptied and grew again";
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

TEST_F(SessionTest, HandedOverFilesHoldTheModuleFromLoadOn) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    EXPECT_EQ(fake_module_pins(), 1) << "an unload before the first open would lose them";
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(fake_module_pins(), 1);
    close(retrieve("a"));
    EXPECT_EQ(fake_module_pins(), 0);
    kexec();
    EXPECT_EQ(fake_module_pins(), 0) << "nothing handed over, nothing held";
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

TEST_F(SessionTest, AFreezeFailureCostsOnlyItsOwnSession) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("1"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("2"), 2), 0);
    lu_session* b = create("b");
    ASSERT_EQ(lu_core_preserve_fd(core_, b, memfd("3"), 3), 0);
    handler_.state.fail_freeze = EAGAIN;
    handler_.state.fail_freeze_token = 2;
    lu_core_seal(core_);
    EXPECT_EQ(handler_.state.unpreserves, 2) << "the failed session's files are not handed over";
    EXPECT_EQ(lu_core_preserve_fd(core_, a, memfd("4"), 4), -EBUSY) << "nor can it take new ones";
    kexec();

    char status[256];
    lu_core_handover_status(core_, status, sizeof(status));
    EXPECT_STREQ(status, "accepted");
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_core_handover_status(core_, status, sizeof(status));
    EXPECT_STREQ(status, "accepted; not handed over: a (token 2 errno 11)");
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -EIO);
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -EIO) << "every time";
    lu_session* restored = retrieve("b");
    EXPECT_EQ(retrieve_content(restored, 3), "3");
    lu_status counts{};
    lu_core_status(core_, &counts);
    EXPECT_EQ(counts.incoming_sessions, 1u);
}

TEST_F(SessionTest, StatusTrialFreezeIsInvisibleToOtherCallers) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("1"), 1), 0);
    handler_.state.fail_freeze = EAGAIN;
    handler_.state.fail_freeze_token = 1;
    lu_status status{};
    lu_core_status(core_, &status);
    EXPECT_EQ(status.first_error, -EAGAIN);
    handler_.state.fail_freeze = 0;
    lu_core_status(core_, &status);
    EXPECT_EQ(status.first_error, 0);
    // After either trial, the session takes files as before.
    EXPECT_EQ(lu_core_preserve_fd(core_, a, memfd("2"), 2), 0);
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

// ---- handler lifetime and dependencies between files ---------------------

namespace {

TEST_F(SessionTest, UnregisterIsRefusedWhileTheHandlerHasFiles) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    EXPECT_EQ(lu_core_unregister_handler(core_, &handler_), -EBUSY) << "preserved";
    close(a);
    EXPECT_EQ(lu_core_unregister_handler(core_, &handler_), 0);
    EXPECT_EQ(lu_core_unregister_handler(core_, &handler_), -ENOENT);
    ASSERT_EQ(lu_core_register_handler(core_, &handler_), 0);

    a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("x"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    EXPECT_EQ(lu_core_unregister_handler(core_, &handler_), -EBUSY) << "held, not finished";
    lu_session* in = retrieve("a");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(lu_core_unregister_handler(core_, &handler_), 0);
    ASSERT_EQ(lu_core_register_handler(core_, &handler_), 0);
}

// Files that depend on others: lu_file::deps makes the fake handler's
// preserve declare them.
TEST_F(SessionTest, DependenciesAreResolvedAtFreezeInAnyPreserveOrder) {
    lu_session* a = create("a");
    int dep = memfd("dep");
    lu_file* dependent = new lu_file{"dependent"};
    dependent->deps.push_back(FakeFds::instance().lookup(dep));
    ASSERT_EQ(lu_core_preserve_fd(core_, a, FakeFds::instance().install(dependent), 1), 0)
        << "the dependency is not preserved yet: fine until the freeze";
    ASSERT_EQ(lu_core_preserve_fd(core_, a, dep, 2), 0);
    lu_status status{};
    lu_core_status(core_, &status);
    EXPECT_EQ(status.first_error, 0);
    EXPECT_EQ(handler_.state.freeze_dep_tokens, std::vector<uint64_t>{2})
        << "freeze finds the dependency's token";
}

TEST_F(SessionTest, AMissingDependencyFailsItsSession) {
    lu_session* a = create("a");
    lu_session* b = create("b");
    int dep = memfd("dep");
    lu_file* dependent = new lu_file{"dependent"};
    dependent->deps.push_back(FakeFds::instance().lookup(dep));
    ASSERT_EQ(lu_core_preserve_fd(core_, a, FakeFds::instance().install(dependent), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, b, dep, 2), 0) << "in another session";
    lu_status status{};
    lu_core_status(core_, &status);
    EXPECT_EQ(status.first_error, -ENOLINK);
    EXPECT_EQ(status.failed_token, 1u);
    EXPECT_STREQ(status.failed_session, "a");
    EXPECT_EQ(handler_.state.freezes, 0) << "checked before any freeze";

    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name("a").bytes, &session), -EIO);
    EXPECT_EQ(retrieve_content(retrieve("b"), 2), "dep") << "the dependency's own session";
}

TEST_F(SessionTest, DeclaringADependencyHoldsItAndIsCheckedForSelf) {
    lu_session* a = create("a");
    int dep = memfd("dep");
    lu_file* dep_file = FakeFds::instance().lookup(dep);
    lu_file* dependent = new lu_file{"dependent"};
    dependent->deps.push_back(dep_file);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, FakeFds::instance().install(dependent), 1), 0);
    EXPECT_EQ(dep_file->refs, 2) << "the core holds the dependency";
    close(a);
    EXPECT_EQ(dep_file->refs, 1);

    lu_session* b = create("b");
    lu_file* self = new lu_file{"self"};
    self->deps.push_back(self);
    EXPECT_EQ(lu_core_preserve_fd(core_, b, FakeFds::instance().install(self), 1), -EINVAL);
    EXPECT_EQ(lu_core_declare_dependency(nullptr, dep_file), -EINVAL);
}

TEST_F(SessionTest, FinishWaitsForTheDependenciesOfRetrievedFiles) {
    lu_session* in = dependent_and_dependency_across_a_kexec();
    ASSERT_FALSE(HasFailure()) << "the setup failed";
    EXPECT_EQ(retrieve_content(in, 1), "dependent");
    EXPECT_EQ(lu_core_finish(core_, in), -EBUSY) << "its dependency was never retrieved";
    EXPECT_EQ(handler_.state.finishes, 0);
    EXPECT_EQ(retrieve_content(in, 2), "dep");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(handler_.state.finishes, 2);
}

TEST_F(SessionTest, OnlyTheDependencyRetrievedFinishes) {
    lu_session* in = dependent_and_dependency_across_a_kexec();
    ASSERT_FALSE(HasFailure()) << "the setup failed";
    EXPECT_EQ(retrieve_content(in, 2), "dep");
    EXPECT_EQ(lu_core_finish(core_, in), 0) << "edges point one way";
}

TEST_F(SessionTest, ADependencyCycleCrossesTheKexec) {
    lu_session* a = create("a");
    int one = memfd("one");
    int two = memfd("two");
    int three = memfd("three");
    auto& fds = FakeFds::instance();
    fds.lookup(one)->deps.push_back(fds.lookup(two));
    fds.lookup(two)->deps.push_back(fds.lookup(three));
    fds.lookup(three)->deps.push_back(fds.lookup(one));
    ASSERT_EQ(lu_core_preserve_fd(core_, a, one, 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, two, 2), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, three, 3), 0);
    // The cycle holds references among the files; closing fds must not leak
    // them once the session lets go.
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    EXPECT_EQ(retrieve_content(in, 2), "two");
    EXPECT_EQ(lu_core_finish(core_, in), -EBUSY);
    EXPECT_EQ(retrieve_content(in, 3), "three");
    EXPECT_EQ(lu_core_finish(core_, in), -EBUSY);
    EXPECT_EQ(retrieve_content(in, 1), "one");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(handler_.state.finishes, 3);
}

TEST_F(SessionTest, AnUnretrievedCycleFinishesWhole) {
    lu_session* a = create("a");
    int one = memfd("one");
    int two = memfd("two");
    auto& fds = FakeFds::instance();
    fds.lookup(one)->deps.push_back(fds.lookup(two));
    fds.lookup(two)->deps.push_back(fds.lookup(one));
    ASSERT_EQ(lu_core_preserve_fd(core_, a, one, 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, two, 2), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    EXPECT_EQ(lu_core_finish(core_, in), 0);
    EXPECT_EQ(handler_.state.finished_unretrieved, 2);
}

}  // namespace

namespace {

TEST_F(SessionTest, HandlersFindIncomingFilesByTokenRetrievingThem) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("two"), 2), 0);
    lu_file* file = nullptr;
    EXPECT_EQ(lu_core_session_file_incoming(a, 1, &file), -ENOENT) << "outgoing session";
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    uint64_t token = 0;
    EXPECT_EQ(lu_core_session_token_outgoing(in, file, &token), -ENOENT) << "incoming session";

    handler_.state.retrieve_asks = 2;
    EXPECT_EQ(retrieve_content(in, 1), "one");
    EXPECT_EQ(handler_.state.retrieve_ask_results, std::vector<int>{0})
        << "token 2 retrieved from inside token 1's retrieve";
    EXPECT_EQ(handler_.state.retrieves, 2);
    EXPECT_EQ(retrieve_content(in, 2), "two") << "the same file for userspace";
    EXPECT_EQ(handler_.state.retrieves, 2);
    EXPECT_EQ(lu_core_session_file_incoming(in, 9, &file), -ENOENT);
    EXPECT_EQ(lu_core_finish(core_, in), 0);
}

TEST_F(SessionTest, ARetrieveThatAsksForItselfIsADeadlockNotARecursion) {
    lu_session* a = create("a");
    ASSERT_EQ(lu_core_preserve_fd(core_, a, memfd("one"), 1), 0);
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    lu_session* in = retrieve("a");
    handler_.state.retrieve_asks = 1;
    EXPECT_EQ(retrieve_content(in, 1), "one");
    EXPECT_EQ(handler_.state.retrieve_ask_results, std::vector<int>{-EDEADLK});
    EXPECT_EQ(lu_core_finish(core_, in), 0);
}

}  // namespace
