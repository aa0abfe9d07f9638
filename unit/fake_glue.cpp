// SPDX-License-Identifier: GPL-2.0
// The glue interface (module/glue/lu_glue.h) implemented for userspace.
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fake_kho.hpp"
#include "lu_glue.h"

namespace {
int bug_count = 0;
}

std::vector<std::string>& fake_log() {
    static std::vector<std::string> log;
    return log;
}

int fake_bug_count() {
    return bug_count;
}

FakeKho::Block::Block(size_t len) : size((len + 4095) & ~size_t{4095}) {
    bytes = static_cast<uint8_t*>(aligned_alloc(4096, size));
    memset(bytes, 0, size);
}

FakeKho::Block::~Block() { free(bytes); }

FakeKho& FakeKho::instance() {
    static FakeKho kho;
    return kho;
}

void FakeKho::reset() {
    for (auto& [phys, block] : blocks_)
        delete block;
    for (auto& [phys, block] : freed_)
        delete block;
    *this = FakeKho();
}

void FakeKho::cold_boot() {
    reset();
}

void FakeKho::reboot() {
    std::map<uint64_t, Block*> survivors;
    for (auto& [phys, block] : blocks_) {
        if (preserved_.count(phys)) {
            block->restored = false;
            survivors[phys] = block;
        } else {
            delete block;
        }
    }
    blocks_ = survivors;
    incoming_preserved_ = preserved_;
    preserved_.clear();
    kho_boot_ = true;
    boot_++;
    incoming_phys_ = reinterpret_cast<uint64_t>(outgoing_);
    incoming_size_ = outgoing_size_;
    outgoing_ = nullptr;
    outgoing_size_ = 0;
}

uint8_t* FakeKho::incoming_record() {
    return reinterpret_cast<uint8_t*>(incoming_phys_);
}

int FakeKho::find_incoming(uint64_t* phys, uint64_t* size) {
    if (!kho_boot_ || incoming_phys_ == 0)
        return -ENOENT;
    *phys = incoming_phys_;
    *size = incoming_size_;
    return 0;
}

const void* FakeKho::peek(uint64_t phys, uint64_t) {
    if (freed_.count(phys))
        freed_reads++;
    return blocks_.count(phys) || freed_.count(phys) ? reinterpret_cast<const void*>(phys)
                                                     : nullptr;
}

void* FakeKho::restore(uint64_t phys) {
    if (!incoming_preserved_.count(phys)) {
        bad_restores++;
        return nullptr;  // the kernel WARNs here; the core must never get this far
    }
    incoming_preserved_.erase(phys);
    blocks_[phys]->restored = true;
    restores++;
    return reinterpret_cast<void*>(phys);
}

void FakeKho::free_restored(void* mem) {
    auto phys = reinterpret_cast<uint64_t>(mem);
    auto found = blocks_.find(phys);
    if (found == blocks_.end() || !found->second->restored)
        return;  // the kernel would free a page it does not own: a core bug
    freed_[phys] = found->second;
    blocks_.erase(found);
    freed_restored++;
}

void* FakeKho::alloc_preserved(size_t size) {
    if (fail_alloc)
        return nullptr;
    auto* block = new Block(size);
    block->boot = boot_;
    auto phys = reinterpret_cast<uint64_t>(block->bytes);
    blocks_[phys] = block;
    preserved_.insert(phys);
    return block->bytes;
}

void FakeKho::free_preserved(void* mem) {
    if (mem == nullptr)
        return;
    auto phys = reinterpret_cast<uint64_t>(mem);
    auto found = blocks_.find(phys);
    if (found == blocks_.end() || found->second->boot != boot_)
        return;
    preserved_.erase(phys);
    delete blocks_[phys];
    blocks_.erase(phys);
}

int FakeKho::publish(void* blob, size_t size) {
    if (fail_publish)
        return fail_publish;
    if (outgoing_ != nullptr)
        return -EEXIST;
    outgoing_ = blob;
    outgoing_size_ = size;
    return 0;
}

void FakeKho::unpublish(void* blob) {
    if (outgoing_ == blob) {
        outgoing_ = nullptr;
        outgoing_size_ = 0;
    }
}

extern "C" {

void* lu_alloc(size_t size) {
    return calloc(1, size ? size : 1);
}
void lu_free(void* ptr) {
    free(ptr);
}

void lu_log(int level, const char* fmt, ...) {
    char line[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    fake_log().push_back(std::to_string(level) + ": " + line);
}

void lu_bug(const char* expr, const char* file, int line) {
    bug_count++;
    fprintf(stderr, "core invariant broken: %s at %s:%d\n", expr, file, line);
}

int lu_kho_find_incoming(uint64_t* phys, uint64_t* size) {
    return FakeKho::instance().find_incoming(phys, size);
}
const void* lu_kho_peek(uint64_t phys, uint64_t size) {
    return FakeKho::instance().peek(phys, size);
}
void* lu_kho_restore(uint64_t phys) {
    return FakeKho::instance().restore(phys);
}
void* lu_kho_alloc_preserved(size_t size) {
    return FakeKho::instance().alloc_preserved(size);
}
void lu_kho_free_preserved(void* mem) {
    FakeKho::instance().free_preserved(mem);
}
void lu_kho_free_restored(void* mem) { FakeKho::instance().free_restored(mem); }
uint64_t lu_kho_phys(const void* mem) {
    return reinterpret_cast<uint64_t>(mem);
}
int lu_kho_publish(void* blob, size_t size) {
    return FakeKho::instance().publish(blob, size);
}
void lu_kho_unpublish(void* blob) {
    FakeKho::instance().unpublish(blob);
}

}  // extern "C"
