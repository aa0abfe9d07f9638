// SPDX-License-Identifier: GPL-2.0
#include "fake_files.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>

namespace {
int module_pins = 0;
uint64_t next_handle = 1;
}  // namespace

FakeFds& FakeFds::instance() {
    static FakeFds fds;
    return fds;
}

int FakeFds::install(lu_file* file) {
    table_[next_] = file;
    return next_++;
}

void FakeFds::close(int fd) {
    lu_file* file = table_.at(fd);
    table_.erase(fd);
    lu_file_put(file);
}

lu_file* FakeFds::lookup(int fd) {
    auto it = table_.find(fd);
    return it == table_.end() ? nullptr : it->second;
}

void FakeFds::reset() {
    for (auto& [fd, file] : table_)
        lu_file_put(file);
    table_.clear();
}

std::map<uint64_t, std::string>& fake_store() {
    static std::map<uint64_t, std::string> store;
    return store;
}

int fake_module_pins() { return module_pins; }

void fake_reset_files() {
    FakeFds::instance().reset();
    fake_store().clear();
    module_pins = 0;
}

struct lu_mutex {
    std::mutex mutex;
};

extern "C" {

lu_mutex* lu_mutex_create(lu_lock_class) { return new lu_mutex; }
void lu_mutex_destroy(lu_mutex* mutex) { delete mutex; }
void lu_mutex_lock(lu_mutex* mutex) { mutex->mutex.lock(); }
void lu_mutex_unlock(lu_mutex* mutex) { mutex->mutex.unlock(); }

lu_file* lu_file_get(int fd) {
    lu_file* file = FakeFds::instance().lookup(fd);
    if (file != nullptr)
        file->refs++;
    return file;
}
void lu_file_ref(lu_file* file) { file->refs++; }
void lu_file_put(lu_file* file) {
    if (--file->refs == 0)
        delete file;
}

const char* lu_handler_compatible(const lu_handler* handler) { return handler->compatible; }
bool lu_handler_can_preserve(lu_handler* handler, lu_file* file) {
    return file->kind == handler->accepts;
}
unsigned long lu_handler_file_id(lu_handler*, lu_file* file) {
    return reinterpret_cast<unsigned long>(file);
}
bool lu_handler_pin(lu_handler* handler) {
    if (handler->state.pin_fails)
        return false;
    handler->state.pins++;
    return true;
}
void lu_handler_unpin(lu_handler* handler) { handler->state.pins--; }

int lu_handler_preserve(lu_handler_call* call) {
    auto& state = call->handler->state;
    if (state.fail_preserve)
        return -state.fail_preserve;
    for (lu_file* dep : call->file->deps) {
        state.declare_errno = lu_core_declare_dependency(call->pending, dep);
        if (state.declare_errno)
            return state.declare_errno;
    }
    state.preserves++;
    call->data = next_handle++;
    fake_store()[call->data] = call->file->content;
    return 0;
}
void lu_handler_unpreserve(lu_handler_call* call) {
    call->handler->state.unpreserves++;
    fake_store().erase(call->data);
}
int lu_handler_freeze(lu_handler_call* call) {
    auto& state = call->handler->state;
    if (state.fail_freeze && call->file->content == std::to_string(state.fail_freeze_token))
        return -state.fail_freeze;
    state.freezes++;
    for (lu_file* dep : call->file->deps) {
        uint64_t token = 0;
        int rc = lu_core_session_token_outgoing(call->session, dep, &token);
        state.freeze_dep_tokens.push_back(rc == 0 ? token : UINT64_MAX);
    }
    // A freeze may refresh what is handed over (memfd: the file position).
    fake_store()[call->data] = call->file->content;
    return 0;
}
void lu_handler_unfreeze(lu_handler_call* call) { call->handler->state.unfreezes++; }
int lu_handler_retrieve(lu_handler_call* call) {
    auto& state = call->handler->state;
    if (state.fail_retrieve)
        return -state.fail_retrieve;
    auto it = fake_store().find(call->data);
    if (it == fake_store().end())
        return -EINVAL;
    state.retrieves++;
    if (state.retrieve_asks != 0) {
        lu_file* dep = nullptr;
        uint64_t token = state.retrieve_asks;
        state.retrieve_asks = 0;  // once: the nested retrieve must not ask again
        state.retrieve_ask_results.push_back(
            lu_core_session_file_incoming(call->session, token, &dep));
    }
    call->file = new lu_file{it->second};
    call->file->kind = call->handler->accepts;
    return 0;
}
bool lu_handler_can_finish(lu_handler_call* call) { return !call->handler->state.refuse_finish; }
void lu_handler_finish(lu_handler_call* call) {
    call->handler->state.finishes++;
    if (call->retrieve_status == 0)
        call->handler->state.finished_unretrieved++;
    fake_store().erase(call->data);
}

const char* lu_flb_compatible(const lu_flb* flb) { return flb->compatible; }
bool lu_flb_pin(lu_flb* flb) {
    if (flb->state.pin_fails)
        return false;
    flb->state.pins++;
    return true;
}
void lu_flb_unpin(lu_flb* flb) { flb->state.pins--; }
int lu_flb_preserve(lu_flb_call* call) {
    lu_flb* flb = call->flb;
    if (flb->state.fail_preserve)
        return -flb->state.fail_preserve;
    flb->state.preserves++;
    call->data = next_handle++;
    flb->object = std::string("flb ") + flb->compatible;
    fake_store()[call->data] = flb->object;
    call->obj = &flb->object;
    return 0;
}
void lu_flb_unpreserve(lu_flb_call* call) {
    call->flb->state.unpreserves++;
    fake_store().erase(call->data);
}
int lu_flb_retrieve(lu_flb_call* call) {
    lu_flb* flb = call->flb;
    if (flb->state.fail_retrieve)
        return -flb->state.fail_retrieve;
    auto it = fake_store().find(call->data);
    if (it == fake_store().end())
        return -EINVAL;
    flb->state.retrieves++;
    flb->object = it->second;
    fake_store().erase(it);
    call->obj = &flb->object;
    return 0;
}
void lu_flb_finish(lu_flb_call* call) {
    call->flb->state.finishes++;
    call->flb->state.finished_content = *static_cast<std::string*>(call->obj);
}

void lu_module_pin(void) { module_pins++; }
void lu_module_unpin(void) { module_pins--; }

}  // extern "C"
