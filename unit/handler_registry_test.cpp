// SPDX-License-Identifier: GPL-2.0
// HandlerRegistry (handler_registry.hpp): the registered file handlers, by
// file and by compatible string, each with the count of files that pin it.
// The next kernel trusts find() to name the handler of a handed-over file,
// and a handler module may go only when remove() lets it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "fake_files.hpp"
#include "fake_kho.hpp"
#include "handler_registry.hpp"

namespace {

using lu::HandlerRegistry;

constexpr size_t kCapacity = HandlerRegistry::kCompatibleCapacity;
static_assert(sizeof(lu_handler{}.compatible) == kCapacity);

lu_handler handler(const std::string& compatible, const std::string& accepts = "memfd") {
    lu_handler h{};
    memcpy(h.compatible, compatible.data(), std::min(compatible.size(), kCapacity));
    h.accepts = accepts;
    return h;
}

int errno_of(lu::Status status) {
    return status.is_ok() ? 0 : -status.error().to_errno();
}

class HandlerRegistryTest : public ::testing::Test {
protected:
    void SetUp() override {
        bugs_ = fake_bug_count();
        auto created = HandlerRegistry::create();
        ASSERT_TRUE(created.is_ok());
        registry_.emplace(created.release_value());
    }
    void TearDown() override { EXPECT_EQ(fake_bug_count(), bugs_) << "no core invariant broke"; }

    std::optional<HandlerRegistry> registry_;
    lu_handler memfd_ = handler("memfd-v1", "memfd");
    lu_handler guest_ = handler("guest-memfd-v1", "guest");
    int bugs_ = 0;
};

TEST_F(HandlerRegistryTest, FindsEachHandlerByItsWholeCompatible) {
    EXPECT_EQ(registry_->find("memfd-v1"), nullptr) << "empty registry";
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    ASSERT_EQ(errno_of(registry_->add(&guest_)), 0);
    EXPECT_EQ(registry_->find("memfd-v1"), &memfd_);
    EXPECT_EQ(registry_->find("guest-memfd-v1"), &guest_);
    EXPECT_TRUE(registry_->contains(&memfd_));
    EXPECT_TRUE(registry_->contains(&guest_));
    for (const char* other : {"memfd", "memfd-v", "memfd-v12", "Memfd-v1", "", "guest-memfd-v"})
        EXPECT_EQ(registry_->find(other), nullptr) << other;
}

// A handed-over file's compatible is a 48-byte field: what follows its NUL
// is not part of it, and one without a NUL names no handler.
TEST_F(HandlerRegistryTest, AFieldMatchesUpToItsTerminatorAndAnUnterminatedOneNever) {
    lu_handler longest = handler(std::string(kCapacity - 1, 'x'));
    ASSERT_EQ(errno_of(registry_->add(&longest)), 0);
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    char field[kCapacity];
    memset(field, 'x', sizeof(field));
    EXPECT_EQ(registry_->find(field), nullptr) << "48 bytes without NUL";
    field[kCapacity - 1] = '\0';
    EXPECT_EQ(registry_->find(field), &longest);
    memset(field, 'z', sizeof(field));
    strcpy(field, "memfd-v1");
    EXPECT_EQ(registry_->find(field), &memfd_) << "bytes after the NUL are ignored";
}

TEST_F(HandlerRegistryTest, AnEmptyOrUnterminatedCompatibleIsInvalid) {
    lu_handler empty = handler("");
    EXPECT_EQ(errno_of(registry_->add(&empty)), EINVAL);
    lu_handler unterminated = handler("");
    memset(unterminated.compatible, 'u', kCapacity);
    EXPECT_EQ(errno_of(registry_->add(&unterminated)), EINVAL);
    EXPECT_FALSE(registry_->contains(&empty));
    EXPECT_FALSE(registry_->contains(&unterminated));
    lu_handler longest = handler(std::string(kCapacity - 1, 'u'));
    EXPECT_EQ(errno_of(registry_->add(&longest)), 0) << "47 bytes and the NUL fit";
    EXPECT_TRUE(registry_->contains(&longest));
}

// Two handlers of one compatible would make the next kernel's choice
// arbitrary; the handler already registered stays.
TEST_F(HandlerRegistryTest, ATakenCompatibleOrHandlerIsRefused) {
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    EXPECT_EQ(errno_of(registry_->add(&memfd_)), EEXIST) << "the same handler twice";
    lu_handler twin = handler("memfd-v1", "other");
    EXPECT_EQ(errno_of(registry_->add(&twin)), EEXIST) << "another handler, same compatible";
    EXPECT_FALSE(registry_->contains(&twin));
    EXPECT_EQ(registry_->find("memfd-v1"), &memfd_);
    lu_handler longer = handler("memfd-v1.1");
    EXPECT_EQ(errno_of(registry_->add(&longer)), 0) << "a compatible extending another is another";
    ASSERT_EQ(errno_of(registry_->remove(&memfd_)), 0);
    EXPECT_EQ(errno_of(registry_->add(&twin)), 0) << "free once its holder is gone";
    EXPECT_EQ(registry_->find("memfd-v1"), &twin);
}

TEST_F(HandlerRegistryTest, RemoveTakesOutExactlyThatHandler) {
    lu_handler third = handler("third-v1", "third");
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), ENOENT) << "never registered";
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    ASSERT_EQ(errno_of(registry_->add(&guest_)), 0);
    ASSERT_EQ(errno_of(registry_->add(&third)), 0);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), 0);
    EXPECT_FALSE(registry_->contains(&memfd_));
    EXPECT_EQ(registry_->find("memfd-v1"), nullptr);
    EXPECT_EQ(registry_->find("guest-memfd-v1"), &guest_);
    EXPECT_EQ(registry_->find("third-v1"), &third);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), ENOENT) << "removed twice";
    EXPECT_EQ(errno_of(registry_->remove(&third)), 0);
    EXPECT_EQ(registry_->find("guest-memfd-v1"), &guest_);
    EXPECT_EQ(errno_of(registry_->remove(&guest_)), 0);
    EXPECT_EQ(errno_of(registry_->add(&memfd_)), 0) << "registrable again";
    EXPECT_EQ(registry_->find("memfd-v1"), &memfd_);
}

// A file finds the handler that accepts it, which is then pinned (its
// module and its registration) until the file lets go.
TEST_F(HandlerRegistryTest, AFilePinsTheHandlerThatAcceptsIt) {
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    ASSERT_EQ(errno_of(registry_->add(&guest_)), 0);
    lu_file guest_file{"g", "guest"};
    lu_file memfd_file{"m", "memfd"};
    EXPECT_EQ(registry_->pin_handler_for(&guest_file), &guest_);
    EXPECT_EQ(registry_->pin_handler_for(&memfd_file), &memfd_);
    EXPECT_EQ(registry_->pin_handler_for(&memfd_file), &memfd_);
    EXPECT_EQ(guest_.state.pins, 1);
    EXPECT_EQ(memfd_.state.pins, 2);
    lu_file socket{"s", "socket"};
    EXPECT_EQ(registry_->pin_handler_for(&socket), nullptr) << "no handler accepts it";

    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), EBUSY);
    registry_->unpin(&memfd_);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), EBUSY) << "one file left";
    registry_->unpin(&memfd_);
    EXPECT_EQ(memfd_.state.pins, 0);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), 0);
    EXPECT_EQ(registry_->pin_handler_for(&memfd_file), nullptr) << "gone";
    EXPECT_EQ(errno_of(registry_->remove(&guest_)), EBUSY);
    EXPECT_TRUE(registry_->contains(&guest_));
    registry_->unpin(&guest_);
    EXPECT_EQ(errno_of(registry_->remove(&guest_)), 0);
}

// An incoming file pins the handler find() named (its module may be
// leaving: then the pin fails and the file has no handler).
TEST_F(HandlerRegistryTest, AnIncomingFilePinsARegisteredHandlerOnly) {
    EXPECT_FALSE(registry_->pin(&memfd_)) << "not registered";
    EXPECT_EQ(memfd_.state.pins, 0);
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    EXPECT_TRUE(registry_->pin(&memfd_));
    EXPECT_EQ(memfd_.state.pins, 1);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), EBUSY);
    memfd_.state.pin_fails = true;
    EXPECT_FALSE(registry_->pin(&memfd_)) << "module going away";
    registry_->unpin(&memfd_);
    EXPECT_EQ(memfd_.state.pins, 0);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), 0) << "the failed pin counted no file";
}

TEST_F(HandlerRegistryTest, AHandlerThatCannotBePinnedTakesNoFile) {
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    memfd_.state.pin_fails = true;
    lu_file file{"m", "memfd"};
    EXPECT_EQ(registry_->pin_handler_for(&file), nullptr);
    EXPECT_EQ(memfd_.state.pins, 0);
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), 0) << "no file was counted";
}

// An unpin without its pin is a core bug: it is reported, and the count
// does not wrap around (which would make the handler busy for ever).
TEST_F(HandlerRegistryTest, AnUnpinWithoutAPinIsReportedAndDoesNotWrapTheCount) {
    ASSERT_EQ(errno_of(registry_->add(&memfd_)), 0);
    memfd_.state.pins = 1;  // the module pin the caller believes it holds
    registry_->unpin(&memfd_);
    EXPECT_EQ(fake_bug_count(), bugs_ + 1);
    bugs_ = fake_bug_count();
    EXPECT_EQ(errno_of(registry_->remove(&memfd_)), 0);
}

// The comparison that find() and add() share: at most 48 bytes, stopping
// at the first NUL.
TEST(SameCompatible, ComparesUpToTheTerminatorWithinTheField) {
    char a[kCapacity] = "memfd-v1";
    char b[kCapacity] = "memfd-v1";
    b[20] = 'x';
    EXPECT_TRUE(lu::same_compatible(a, b));
    EXPECT_FALSE(lu::same_compatible(a, "memfd-v2"));
    EXPECT_FALSE(lu::same_compatible(a, "memfd-v1+"));
    EXPECT_FALSE(lu::same_compatible(a, "memfd"));
    char full_a[kCapacity], full_b[kCapacity + 1];
    memset(full_a, 'f', sizeof(full_a));
    memset(full_b, 'f', sizeof(full_b));
    full_b[kCapacity] = 'g';  // beyond the field: never read
    EXPECT_TRUE(lu::same_compatible(full_a, full_b));
}

// Through the entry points: registration rules, and unregistering while a
// preserved file uses the handler is refused until the file is gone.
TEST(HandlerRegistryEntryPoints, UnregisterWhileInUseIsBusy) {
    FakeKho::instance().cold_boot();
    fake_reset_files();
    lu_core* core = nullptr;
    ASSERT_EQ(lu_core_create(&core), 0);
    lu_handler memfd = handler("memfd-v1", "memfd");
    ASSERT_EQ(lu_core_register_handler(core, &memfd), 0);
    lu_handler twin = handler("memfd-v1", "memfd");
    EXPECT_EQ(lu_core_register_handler(core, &twin), -EEXIST);
    uint8_t name[64] = "s";
    lu_session* session = nullptr;
    ASSERT_EQ(lu_core_create_session(core, name, &session), 0);
    const int fd = FakeFds::instance().install(new lu_file{"data"});
    ASSERT_EQ(lu_core_preserve_fd(core, session, fd, 1), 0);
    EXPECT_EQ(memfd.state.pins, 1);
    EXPECT_EQ(lu_core_unregister_handler(core, &memfd), -EBUSY);
    EXPECT_EQ(lu_core_unregister_handler(core, &twin), -ENOENT);
    lu_core_release_session(core, session);  // unpreserves the file
    EXPECT_EQ(memfd.state.pins, 0);
    EXPECT_EQ(lu_core_unregister_handler(core, &memfd), 0);
    EXPECT_EQ(lu_core_register_handler(core, &twin), 0) << "the compatible is free again";
    EXPECT_EQ(lu_core_unregister_handler(core, &twin), 0);
    lu_core_destroy(core);
    fake_reset_files();
    FakeKho::instance().reset();
}

}  // namespace
