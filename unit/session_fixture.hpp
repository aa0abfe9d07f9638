// SPDX-License-Identifier: GPL-2.0
// The fixture of the session-level tests: a core with one fake handler,
// booted, "kexec'ed" and torn down through the C entry points.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
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
        after_boot();
    }
    // Derived fixtures register more (FLBs) with each boot.
    virtual void after_boot() {}
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

    // Session "a": token 1 ("dependent") declares a dependency on token 2
    // ("dep"); after a kexec, the incoming session, retrieved.
    lu_session* dependent_and_dependency_across_a_kexec() {
        lu_session* a = create("a");
        int dep = memfd("dep");
        lu_file* dependent = new lu_file{"dependent"};
        dependent->deps.push_back(FakeFds::instance().lookup(dep));
        EXPECT_EQ(lu_core_preserve_fd(core_, a, FakeFds::instance().install(dependent), 1), 0);
        EXPECT_EQ(lu_core_preserve_fd(core_, a, dep, 2), 0);
        kexec();
        EXPECT_EQ(lu_core_open(core_), 0);
        return retrieve("a");
    }

    lu_core* core_ = nullptr;
    lu_handler handler_;
    std::vector<lu_session*> open_sessions_;
};

}  // namespace
