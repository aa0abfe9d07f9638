// "Did you mean ...?": the nearest known word to a mistyped one, by edit distance.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace lu::luoctl {

// Levenshtein distance: the fewest single-character insertions, deletions and substitutions that
// turn a into b. A swap of two neighbours ("stauts") counts as two substitutions.
constexpr std::size_t edit_distance(std::string_view a, std::string_view b) {
    // One row of the classic dynamic-programming table: row[j] is the distance between the
    // prefix of a handled so far and the first j characters of b.
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];  // distance(a[0, i-1), b[0, j-1))
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
            diagonal = above;
        }
    }
    return row[b.size()];
}

static_assert(edit_distance("", "") == 0);
static_assert(edit_distance("", "help") == 4);
static_assert(edit_distance("status", "status") == 0);
static_assert(edit_distance("stauts", "status") == 2);
static_assert(edit_distance("kitten", "sitting") == 3);

// A word further than this from every candidate gets no suggestion; ninja uses the same bound.
inline constexpr std::size_t kMaxSuggestionDistance = 3;

// The distance within which word suggests candidate: kMaxSuggestionDistance, but never more than
// half of the candidate, so that three edits do not turn "foo" into "load".
constexpr std::size_t suggestion_bound(std::string_view candidate) {
    return std::min(kMaxSuggestionDistance, std::max<std::size_t>(1, candidate.size() / 2));
}

static_assert(suggestion_bound("load") == 2 && suggestion_bound("sessions") == 3);

// Returns the candidate nearest to word, or nothing if none is within its suggestion_bound.
// On a tie the earlier candidate wins, so the answer does not depend on anything but the order
// the caller chose.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace lu::luoctl
