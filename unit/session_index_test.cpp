// SPDX-License-Identifier: GPL-2.0
// SessionIndex (session_index.hpp): sessions by name, chained hash buckets.
// The index does not check uniqueness itself: its callers look a name up
// before they insert it, so find() must find exactly the session of that
// name (never a prefix, an extension or an unterminated field), remove()
// exactly the one given, and neither may lose a session as buckets grow.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "session.hpp"
#include "session_index.hpp"

#include "fake_kho.hpp"
#include "session_fixture.hpp"

namespace {

using lu::Session;
using lu::SessionIndex;
using lu::SessionName;

// A caller's 64-byte name field.
struct Field {
    uint8_t bytes[SessionName::kCapacity] = {};
    explicit Field(const std::string& text) {
        memcpy(bytes, text.data(), std::min(text.size(), sizeof(bytes)));
    }
};

lu::Own<Session> make_session(const std::string& name) {
    auto parsed = SessionName::parse(Field(name).bytes);
    EXPECT_TRUE(parsed.is_ok()) << name;
    auto session = Session::create_incoming(parsed.value(), lu::SessionContext{});
    EXPECT_TRUE(session.is_ok()) << name;
    return session.release_value();
}

class SessionIndexTest : public ::testing::Test {
protected:
    void SetUp() override { bugs_ = fake_bug_count(); }
    void TearDown() override {
        EXPECT_EQ(fake_bug_count(), bugs_) << "no core invariant broke";
        // The index must be empty (or gone) before its sessions are.
        for (auto& session : sessions_)
            index_.remove(*session);
        EXPECT_EQ(index_.size(), 0u);
    }

    Session* add(const std::string& name) {
        sessions_.push_back(make_session(name));
        Session* session = sessions_.back().get();
        EXPECT_TRUE(index_.reserve_one().is_ok());
        index_.insert(*session);
        return session;
    }
    Session* find(const std::string& name) { return index_.find(Field(name).bytes); }

    SessionIndex index_;
    std::vector<lu::Own<Session>> sessions_;
    int bugs_ = 0;
};

TEST_F(SessionIndexTest, AnEmptyIndexFindsNothing) {
    EXPECT_EQ(find("a"), nullptr);
    EXPECT_EQ(index_.size(), 0u);
    lu::Own<Session> stray = make_session("a");
    index_.remove(*stray);  // before any bucket exists
    EXPECT_EQ(index_.size(), 0u);
}

TEST_F(SessionIndexTest, FindsEachSessionByItsName) {
    Session* a = add("a");
    Session* vm1 = add("vm1");
    Session* vm2 = add("vm2");
    EXPECT_EQ(index_.size(), 3u);
    EXPECT_EQ(find("a"), a);
    EXPECT_EQ(find("vm1"), vm1);
    EXPECT_EQ(find("vm2"), vm2);
    EXPECT_EQ(find("b"), nullptr);
}

// A name matches only as a whole: not its prefix, not an extension of it.
TEST_F(SessionIndexTest, NeitherAPrefixNorAnExtensionMatches) {
    add("vm1");
    EXPECT_EQ(find("vm"), nullptr);
    EXPECT_EQ(find("vm10"), nullptr);
    EXPECT_EQ(find("Vm1"), nullptr);
    EXPECT_EQ(find(""), nullptr);
}

// The field's bytes after its NUL are not part of the name (hash and
// comparison alike), as with upstream's strncmp.
TEST_F(SessionIndexTest, BytesAfterTheTerminatorAreIgnored) {
    Session* vm1 = add("vm1");
    Field field("vm1");
    memset(field.bytes + 4, 'x', sizeof(field.bytes) - 4);
    EXPECT_EQ(index_.find(field.bytes), vm1);
}

// 63 bytes is the longest name; a 64-byte field without its NUL matches
// nothing, not even the session whose 63 bytes it starts with.
TEST_F(SessionIndexTest, TheLongestNameIsFoundAndAnUnterminatedFieldIsNot) {
    const std::string longest(SessionName::kCapacity - 1, 'n');
    Session* session = add(longest);
    EXPECT_EQ(session->name().length(), SessionName::kCapacity - 1);
    EXPECT_EQ(find(longest), session);
    EXPECT_EQ(find(std::string(SessionName::kCapacity, 'n')), nullptr);
    EXPECT_EQ(find(longest.substr(1)), nullptr);
}

// The names an index can hold at all (session_name.hpp): 1 to 63 bytes.
TEST(SessionNameBounds, EmptyAndUnterminatedNamesAreInvalid) {
    auto parse_errno = [](const std::string& text) {
        auto parsed = SessionName::parse(Field(text).bytes);
        return parsed.is_ok() ? 0 : -parsed.error().to_errno();
    };
    EXPECT_EQ(parse_errno(""), EINVAL);
    EXPECT_EQ(parse_errno(std::string(SessionName::kCapacity, 'a')), EINVAL);
    EXPECT_EQ(parse_errno(std::string(SessionName::kCapacity - 1, 'a')), 0);
    EXPECT_EQ(parse_errno("a"), 0);
    Field field("abc");
    field.bytes[5] = 'z';
    auto parsed = SessionName::parse(field.bytes);
    ASSERT_TRUE(parsed.is_ok());
    EXPECT_STREQ(parsed.value().c_str(), "abc");
    EXPECT_EQ(parsed.value().length(), 3u);
}

TEST_F(SessionIndexTest, RemoveTakesOutExactlyThatSession) {
    Session* a = add("a");
    Session* b = add("b");
    index_.remove(*a);
    EXPECT_EQ(index_.size(), 1u);
    EXPECT_EQ(find("a"), nullptr);
    EXPECT_EQ(find("b"), b);
    EXPECT_EQ(a->index_next, nullptr) << "insertable again";
    index_.remove(*a);
    EXPECT_EQ(index_.size(), 1u) << "removing it twice changes nothing";
    ASSERT_TRUE(index_.reserve_one().is_ok());
    index_.insert(*a);
    EXPECT_EQ(find("a"), a);
    EXPECT_EQ(index_.size(), 2u);
}

// A session of the same name that is not the indexed one (the caller's
// duplicate, refused before insertion) is not removed in its place.
TEST_F(SessionIndexTest, RemovingAnUnindexedTwinKeepsTheIndexedSession) {
    Session* indexed = add("twin");
    lu::Own<Session> twin = make_session("twin");
    index_.remove(*twin);
    EXPECT_EQ(index_.size(), 1u);
    EXPECT_EQ(find("twin"), indexed);
}

// Three names in one of the first 64 buckets (chosen with the index's own
// hash and bucket rule; should those change, they merely stop colliding):
// the chain's middle, head and tail each leave it alone.
TEST_F(SessionIndexTest, RemovalFromTheMiddleHeadAndTailOfABucketChain) {
    std::vector<std::string> names;
    const auto bucket = [](const std::string& name) {
        return (SessionIndex::hash(name.c_str()) >> 7) & 63;
    };
    for (int i = 0; names.size() < 3; i++) {
        const std::string name = "c" + std::to_string(i);
        if (bucket(name) == bucket("c0"))
            names.push_back(name);
    }
    Session* tail = add(names[0]);
    Session* middle = add(names[1]);
    Session* head = add(names[2]);
    EXPECT_EQ(head->index_next, middle) << "the names collide";
    index_.remove(*middle);
    EXPECT_EQ(middle->index_next, nullptr);
    EXPECT_EQ(find(names[1]), nullptr);
    EXPECT_EQ(find(names[0]), tail);
    EXPECT_EQ(find(names[2]), head);
    index_.remove(*head);
    EXPECT_EQ(find(names[0]), tail);
    EXPECT_EQ(find(names[2]), nullptr);
    ASSERT_TRUE(index_.reserve_one().is_ok());
    index_.insert(*middle);
    index_.remove(*tail);
    EXPECT_EQ(find(names[0]), nullptr);
    EXPECT_EQ(find(names[1]), middle);
    EXPECT_EQ(index_.size(), 1u);
}

// Many names share a bucket: removing one from the head, the middle or the
// end of its chain keeps the others; growth (64 buckets, then doubling)
// keeps every session.
TEST_F(SessionIndexTest, ThousandsOfSessionsGrowAndShrinkWithoutLosingOne) {
    constexpr int kCount = 5000;
    std::vector<Session*> all;
    for (int i = 0; i < kCount; i++) {
        all.push_back(add("s" + std::to_string(i)));
        if (i == 63 || i == 64 || i == 127 || i == 128 || i == 1023) {
            for (int j = 0; j <= i; j++)
                ASSERT_EQ(find("s" + std::to_string(j)), all[j]) << j << " of " << i;
        }
    }
    EXPECT_EQ(index_.size(), static_cast<size_t>(kCount));
    std::mt19937 random(5000);
    std::vector<int> order(kCount);
    for (int i = 0; i < kCount; i++)
        order[i] = i;
    std::shuffle(order.begin(), order.end(), random);
    std::set<int> removed;
    for (int n = 0; n < kCount; n++) {
        index_.remove(*all[order[n]]);
        removed.insert(order[n]);
        ASSERT_EQ(index_.size(), static_cast<size_t>(kCount - n - 1));
        if (n % 500 == 0 || n > kCount - 70) {
            for (int j = 0; j < kCount; j++)
                ASSERT_EQ(find("s" + std::to_string(j)), removed.count(j) ? nullptr : all[j])
                    << j << " after " << n;
        }
    }
}

// reserve_one() is the part of an insertion that can fail; it must not
// reallocate while there is room, so a reservation is never lost.
TEST_F(SessionIndexTest, ReserveOneMakesRoomForExactlyOneMoreAtATime) {
    for (int i = 0; i < 200; i++) {
        ASSERT_TRUE(index_.reserve_one().is_ok());
        ASSERT_TRUE(index_.reserve_one().is_ok()) << "twice is as good as once";
        sessions_.push_back(make_session("r" + std::to_string(i)));
        index_.insert(*sessions_.back());
    }
    EXPECT_EQ(index_.size(), 200u);
    for (int i = 0; i < 200; i++)
        EXPECT_EQ(find("r" + std::to_string(i)), sessions_[i].get()) << i;
}

// Random inserts and removals of names from a pool, against std::map.
TEST_F(SessionIndexTest, BehavesAsAMapOfNamesUnderRandomOperations) {
    constexpr int kPool = 700;
    std::vector<std::string> names;
    for (int i = 0; i < kPool; i++)
        names.push_back(i % 7 == 0 ? std::string(60, 'l') + std::to_string(i)  // up to 63 bytes
                                   : "n" + std::to_string(i * 7919));
    // Names that are prefixes of each other: "p", "pp", ... up to 63 bytes.
    for (size_t len = 1; len < SessionName::kCapacity; len++)
        names.push_back(std::string(len, 'p'));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<lu::Own<Session>> owned;
    for (const std::string& name : names)
        owned.push_back(make_session(name));
    std::map<std::string, Session*> model;
    std::mt19937 random(7);
    for (int op = 0; op < 50000; op++) {
        const size_t pick = random() % names.size();
        const std::string& name = names[pick];
        Session* session = owned[pick].get();
        ASSERT_EQ(find(name), model.count(name) ? model[name] : nullptr) << "op " << op;
        if (random() % 2 == 0) {
            if (model.count(name))
                continue;  // a caller refuses the duplicate here (EEXIST)
            ASSERT_TRUE(index_.reserve_one().is_ok());
            index_.insert(*session);
            model[name] = session;
        } else {
            index_.remove(*session);
            model.erase(name);
        }
        ASSERT_EQ(index_.size(), model.size()) << "op " << op;
    }
    for (size_t i = 0; i < names.size(); i++)
        ASSERT_EQ(find(names[i]), model.count(names[i]) ? owned[i].get() : nullptr) << names[i];
    for (auto& session : owned)
        index_.remove(*session);
}

// Through the entry points: the outgoing index refuses a taken name,
// forgets a closed one, and a kexec moves every name into the incoming
// index, where RETRIEVE_SESSION finds each and nothing else.
// Its own suite: gtest wants one fixture class per suite name, and each
// test file has its own SessionTest (session_fixture.hpp).
class SessionIndexEntryTest : public SessionTest {};

TEST_F(SessionIndexEntryTest, TheIndexesAgreeWithTheSessionsThroughCreateCloseAndKexec) {
    std::mt19937 random(99);
    std::map<std::string, lu_session*> open;
    for (int op = 0; op < 3000; op++) {
        const std::string name = "v" + std::to_string(random() % 300);
        if (open.count(name)) {
            ASSERT_EQ(create_errno(name), -EEXIST) << name;
            if (random() % 2) {
                close(open[name]);
                open.erase(name);
            }
        } else {
            ASSERT_EQ(create_errno(name), 0) << name;
            open[name] = open_sessions_.back();
        }
    }
    kexec();
    ASSERT_EQ(lu_core_open(core_), 0);
    for (int i = 0; i < 300; i++) {
        const std::string name = "v" + std::to_string(i);
        lu_session* session = nullptr;
        const int rc = lu_core_retrieve_session(core_, Name(name).bytes, &session);
        ASSERT_EQ(rc, open.count(name) ? 0 : -ENOENT) << name;
        if (rc == 0) {
            open_sessions_.push_back(session);
            EXPECT_STREQ(lu_core_session_name(session), name.c_str());
            EXPECT_TRUE(lu_core_session_incoming(session));
            lu_session* again = nullptr;
            EXPECT_EQ(lu_core_retrieve_session(core_, Name(name).bytes, &again), -EINVAL)
                << "retrieved once";
        }
    }
    // A finished (closed) incoming session leaves the index.
    ASSERT_FALSE(open_sessions_.empty());
    const std::string gone = lu_core_session_name(open_sessions_.front());
    close(open_sessions_.front());
    lu_session* session = nullptr;
    EXPECT_EQ(lu_core_retrieve_session(core_, Name(gone).bytes, &session), -ENOENT);
}

}  // namespace
