// SPDX-License-Identifier: GPL-2.0
// Fakes of the glue's files, file handlers, locks and module pinning, for
// the core's unit tests. A FakeHandler "preserves" a FakeFile by copying
// its content into a store keyed by the handle it returns; the store
// survives FakeKho::reboot() as preserved memory would, and retrieve
// rebuilds a new file from it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lu_glue.h"

struct lu_file {
    std::string content;
    std::string kind = "memfd";
    int refs = 1;
    // The fake handler's preserve declares these as dependencies.
    std::vector<lu_file*> deps;
};

// A process's fd table, for lu_file_get(fd).
class FakeFds {
public:
    static FakeFds& instance();
    int install(lu_file* file);  // takes the caller's reference
    void close(int fd);
    lu_file* lookup(int fd);
    void reset();

private:
    std::map<int, lu_file*> table_;
    int next_ = 3;
};

// Fault injection and call counts, per handler.
struct FakeHandlerState {
    int fail_preserve = 0;       // errno to return, 0 = succeed
    int fail_freeze_token = -1;  // the file whose freeze fails (its content as number)
    int fail_freeze = 0;
    int fail_retrieve = 0;
    bool refuse_finish = false;
    bool pin_fails = false;
    int preserves = 0, unpreserves = 0, freezes = 0, unfreezes = 0, retrieves = 0,
        finishes = 0, pins = 0;
    int finished_unretrieved = 0;
    int declare_errno = 0;       // last lu_core_declare_dependency() result
    // Freeze looks every declared dependency up by token (the proposal's
    // rule: outgoing tokens in freeze); the results, in call order.
    std::vector<uint64_t> freeze_dep_tokens;
    // Retrieve asks the session for the file of this token (0: no), as a
    // handler that needs its dependency does; the results, in call order.
    uint64_t retrieve_asks = 0;
    std::vector<int> retrieve_ask_results;
};

struct FakeFlbState {
    int fail_preserve = 0;
    int fail_retrieve = 0;
    bool pin_fails = false;
    int preserves = 0, unpreserves = 0, retrieves = 0, finishes = 0, pins = 0;
    std::string finished_content;  // what the last finish found
};

struct lu_flb {
    char compatible[48];
    FakeFlbState state;
    std::string object;  // the live object; obj points at it
};

struct lu_handler {
    char compatible[48];
    std::string accepts;  // the lu_file::kind it takes
    FakeHandlerState state;
};

// Preserved payloads by handle; survives reboots (cleared by cold boot).
std::map<uint64_t, std::string>& fake_store();
int fake_module_pins();
void fake_reset_files();
