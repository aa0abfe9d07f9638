// SPDX-License-Identifier: GPL-2.0
// U64HashSet (lu/hash_set.hpp): open addressing with linear probing and
// backward-shift deletion. Its callers (a session's tokens, the file index)
// rely on an erase keeping every other member findable, which only probe
// runs that collide and wrap around the table's end really exercise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

#include "lu/hash_set.hpp"

namespace {

using lu::U64HashSet;

constexpr uint64_t kMax = ~uint64_t{0};

int insert_errno(U64HashSet& set, uint64_t key) {
    lu::Status status = set.insert(key);
    return status.is_ok() ? 0 : -status.error().to_errno();
}

// The set's bucket hash before masking, mirrored here to build probe runs
// on purpose (if it changes, these keys merely stop colliding).
uint64_t mixed(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return key;
}

// @count keys per wanted value of the hash's low 16 bits: keys sharing one
// value share their home bucket at every capacity up to 65536 slots; 0xffff
// is the last bucket, so its run wraps around the end of the table.
std::vector<std::vector<uint64_t>> colliding(const std::vector<uint64_t>& lows, size_t count) {
    std::vector<std::vector<uint64_t>> groups(lows.size());
    for (uint64_t key = 1;
         std::any_of(groups.begin(), groups.end(), [&](const auto& g) { return g.size() < count; });
         key++) {
        for (size_t g = 0; g < lows.size(); g++)
            if ((mixed(key) & 0xffff) == lows[g] && groups[g].size() < count)
                groups[g].push_back(key);
    }
    return groups;
}

TEST(HashSet, AnEmptySetHoldsNothing) {
    U64HashSet set;
    EXPECT_EQ(set.size(), 0u);
    for (uint64_t key : {uint64_t{0}, uint64_t{1}, kMax - 1, kMax})
        EXPECT_FALSE(set.contains(key)) << key;
    set.erase(0);
    set.erase(kMax);
    EXPECT_EQ(set.size(), 0u) << "erasing from an empty set changes nothing";
}

TEST(HashSet, InsertFindEraseOneKey) {
    U64HashSet set;
    EXPECT_EQ(insert_errno(set, 42), 0);
    EXPECT_TRUE(set.contains(42));
    EXPECT_FALSE(set.contains(41));
    EXPECT_FALSE(set.contains(43));
    EXPECT_EQ(set.size(), 1u);
    set.erase(42);
    EXPECT_FALSE(set.contains(42));
    EXPECT_EQ(set.size(), 0u);
    EXPECT_EQ(insert_errno(set, 42), 0) << "insertable again";
}

TEST(HashSet, ADuplicateIsEexistAndChangesNothing) {
    U64HashSet set;
    for (uint64_t key : {uint64_t{0}, uint64_t{7}, kMax - 1, kMax})
        ASSERT_EQ(insert_errno(set, key), 0) << key;
    for (uint64_t key : {uint64_t{0}, uint64_t{7}, kMax - 1, kMax}) {
        EXPECT_EQ(insert_errno(set, key), EEXIST) << key;
        EXPECT_TRUE(set.contains(key)) << key;
    }
    EXPECT_EQ(set.size(), 4u);
}

// A slot holds key + 1 and 0 marks an empty one: the keys at both ends of
// the range are the ones that encoding could lose.
TEST(HashSet, TheKeysAtBothEndsAreOrdinaryMembers) {
    U64HashSet set;
    ASSERT_EQ(insert_errno(set, kMax), 0);
    EXPECT_TRUE(set.contains(kMax));
    EXPECT_FALSE(set.contains(kMax - 1));
    EXPECT_FALSE(set.contains(0)) << "~0 + 1 is the empty slot's 0";
    ASSERT_EQ(insert_errno(set, 0), 0);
    ASSERT_EQ(insert_errno(set, kMax - 1), 0);
    EXPECT_EQ(set.size(), 3u);
    set.erase(kMax);
    EXPECT_FALSE(set.contains(kMax));
    EXPECT_TRUE(set.contains(0));
    EXPECT_TRUE(set.contains(kMax - 1));
    EXPECT_EQ(set.size(), 2u);
    set.erase(kMax);
    EXPECT_EQ(set.size(), 2u) << "erasing ~0 twice counts once";
    set.erase(0);
    set.erase(kMax - 1);
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.contains(0));
    EXPECT_FALSE(set.contains(kMax - 1));
}

TEST(HashSet, ErasingAnAbsentKeyChangesNothing) {
    U64HashSet set;
    for (uint64_t key = 0; key < 10; key++)
        ASSERT_EQ(insert_errno(set, key * 3), 0);
    for (uint64_t key : {uint64_t{1}, uint64_t{2}, uint64_t{1000}, kMax - 1, kMax})
        set.erase(key);
    EXPECT_EQ(set.size(), 10u);
    for (uint64_t key = 0; key < 30; key++)
        EXPECT_EQ(set.contains(key), key % 3 == 0) << key;
}

// Growth rehashes through 16, 32, ... slots; every member survives each.
TEST(HashSet, GrowthKeepsEveryMember) {
    U64HashSet set;
    constexpr uint64_t kCount = 100000;
    for (uint64_t i = 0; i < kCount; i++) {
        ASSERT_EQ(insert_errno(set, i * 0x9e3779b97f4a7c15ull), 0) << i;
        if ((i & (i + 1)) == 0) {  // just after each power of two
            for (uint64_t j = 0; j <= i; j++)
                ASSERT_TRUE(set.contains(j * 0x9e3779b97f4a7c15ull)) << j << " of " << i;
        }
    }
    EXPECT_EQ(set.size(), kCount);
    for (uint64_t i = 0; i < kCount; i++)
        ASSERT_TRUE(set.contains(i * 0x9e3779b97f4a7c15ull)) << i;
    EXPECT_FALSE(set.contains(kCount * 0x9e3779b97f4a7c15ull));
}

// Runs of keys sharing one home bucket, next to each other and wrapping
// around the table's end: after each erase, in every order tried, the rest
// is still found and the erased key is not.
TEST(HashSet, EraseInsideCollidingRunsKeepsTheOthersFindable) {
    // Homes: the last bucket, the first two, and one further on.
    const auto groups = colliding({0xffff, 0x0000, 0x0001, 0x0003}, 3);
    std::vector<uint64_t> keys;
    for (const auto& group : groups)
        keys.insert(keys.end(), group.begin(), group.end());
    ASSERT_EQ(keys.size(), 12u);  // 12 of 16 slots: the table does not grow
    std::mt19937_64 random(12);
    for (int round = 0; round < 2000; round++) {
        std::vector<uint64_t> order = keys;
        std::shuffle(order.begin(), order.end(), random);
        U64HashSet set;
        for (uint64_t key : order)
            ASSERT_EQ(insert_errno(set, key), 0);
        std::shuffle(order.begin(), order.end(), random);
        for (size_t erased = 0; erased < order.size(); erased++) {
            set.erase(order[erased]);
            ASSERT_EQ(set.size(), order.size() - erased - 1);
            for (size_t k = 0; k < order.size(); k++)
                ASSERT_EQ(set.contains(order[k]), k > erased)
                    << "round " << round << ": key " << k << " after erasing " << erased;
        }
    }
}

// Long runs at every table size: 3 x 150 keys on three adjacent homes, as
// the table grows to 1024 slots, then erased one by one.
TEST(HashSet, LongCollidingRunsSurviveGrowthAndErase) {
    const auto groups = colliding({0xfffe, 0xffff, 0x0000}, 150);
    std::vector<uint64_t> keys;
    for (size_t i = 0; i < 150; i++)
        for (const auto& group : groups)
            keys.push_back(group[i]);
    U64HashSet set;
    for (size_t i = 0; i < keys.size(); i++) {
        ASSERT_EQ(insert_errno(set, keys[i]), 0) << i;
        ASSERT_EQ(insert_errno(set, keys[i / 2]), EEXIST) << i;
    }
    for (uint64_t key : keys)
        ASSERT_TRUE(set.contains(key));
    std::mt19937_64 random(450);
    std::vector<uint64_t> order = keys;
    std::shuffle(order.begin(), order.end(), random);
    for (size_t erased = 0; erased < order.size(); erased++) {
        set.erase(order[erased]);
        set.erase(order[erased]);  // twice: the second finds nothing to erase
        ASSERT_EQ(set.size(), order.size() - erased - 1);
        for (size_t k = 0; k < order.size(); k++)
            ASSERT_EQ(set.contains(order[k]), k > erased) << k << " after " << erased;
    }
}

// Random inserts, erases and lookups against std::unordered_set: keys from
// a small range (so that most operations hit), from colliding runs, and the
// two ends of the range.
TEST(HashSet, BehavesAsAStdUnorderedSetUnderRandomOperations) {
    const auto groups = colliding({0xffff, 0x0000, 0x0002}, 40);
    std::vector<uint64_t> pool;
    for (uint64_t key = 0; key < 3000; key++)
        pool.push_back(key);
    for (const auto& group : groups)
        pool.insert(pool.end(), group.begin(), group.end());
    pool.push_back(kMax);
    pool.push_back(kMax - 1);

    std::mt19937_64 random(20240612);
    U64HashSet set;
    std::unordered_set<uint64_t> model;
    for (int op = 0; op < 300000; op++) {
        const uint64_t key = pool[random() % pool.size()];
        // Mostly inserts early on, mostly erases in the middle, to go up
        // and down through several table sizes.
        const int phase = op / 50000;
        const bool grow = phase % 2 == 0;
        const uint64_t dice = random() % 10;
        if (dice < (grow ? 6u : 3u)) {
            const int expected = model.count(key) ? EEXIST : 0;
            ASSERT_EQ(insert_errno(set, key), expected) << "op " << op << " key " << key;
            model.insert(key);
        } else if (dice < 9) {
            set.erase(key);
            model.erase(key);
        } else {
            ASSERT_EQ(set.contains(key), model.count(key) == 1) << "op " << op << " key " << key;
        }
        ASSERT_EQ(set.size(), model.size()) << "op " << op;
        if (op % 10000 == 0) {
            for (uint64_t k : pool)
                ASSERT_EQ(set.contains(k), model.count(k) == 1) << "op " << op << " key " << k;
        }
    }
    for (uint64_t k : pool)
        ASSERT_EQ(set.contains(k), model.count(k) == 1) << k;
}

}  // namespace
