#include "engine/dedup_window.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

namespace herald::engine {
namespace {

TEST(DedupWindow, FindsWhatWasInsertedWithinTheWindow) {
    DedupWindow w({/*window_ms=*/1000, /*max_entries=*/10});
    auto k = DedupWindow::event_key("/src", "id-1");
    EXPECT_FALSE(w.find(k, 0));
    w.insert(k, {5, 1}, 0);
    auto hit = w.find(k, 999);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->offset, 5u);
    EXPECT_EQ(hit->count, 1u);
    // The first insert is the original: a later one does not replace it.
    w.insert(k, {9, 1}, 10);
    EXPECT_EQ(w.find(k, 20)->offset, 5u);
}

TEST(DedupWindow, ExpiresByAge) {
    DedupWindow w({1000, 10});
    w.insert(DedupWindow::event_key("/s", "a"), {1, 1}, 0);
    w.insert(DedupWindow::event_key("/s", "b"), {2, 1}, 500);
    EXPECT_TRUE(w.find(DedupWindow::event_key("/s", "a"), 1000));
    EXPECT_FALSE(w.find(DedupWindow::event_key("/s", "a"), 1001));
    EXPECT_TRUE(w.find(DedupWindow::event_key("/s", "b"), 1001));
    EXPECT_EQ(w.size(), 1u);
}

TEST(DedupWindow, BoundedByCountOldestFirst) {
    DedupWindow w({1'000'000, 3});
    for (int i = 0; i < 5; ++i) w.insert(DedupWindow::event_key("/s", std::to_string(i)), {std::uint64_t(i), 1}, i);
    EXPECT_EQ(w.size(), 3u);
    EXPECT_FALSE(w.find(DedupWindow::event_key("/s", "0"), 10));
    EXPECT_FALSE(w.find(DedupWindow::event_key("/s", "1"), 10));
    EXPECT_TRUE(w.find(DedupWindow::event_key("/s", "4"), 10));
}

TEST(DedupWindow, KeysDoNotCollide) {
    // (source, id) pairs that concatenate to the same text, and request keys vs event keys.
    EXPECT_NE(DedupWindow::event_key("ab", "c"), DedupWindow::event_key("b", "ca"));
    EXPECT_NE(DedupWindow::request_key("x"), DedupWindow::event_key("", "x"));
    DedupWindow w;
    w.insert(DedupWindow::request_key("k"), {0, 3}, 0);
    EXPECT_EQ(w.find(DedupWindow::request_key("k"), 0)->count, 3u);
}

TEST(DedupWindow, ZeroEntriesDisablesIt) {
    DedupWindow w({1000, 0});
    w.insert(DedupWindow::event_key("/s", "a"), {1, 1}, 0);
    EXPECT_FALSE(w.find(DedupWindow::event_key("/s", "a"), 0));
}


// The index is open-addressed with backward-shift deletion: drive it through many inserts, evictions by count
// and by age, and lookups of present, evicted and never-seen keys, against a plain model.
TEST(DedupWindow, AgreesWithAModelThroughEvictionsAndGrowth) {
    std::mt19937 rng(7);
    for (std::size_t max_entries : {1u, 5u, 37u, 1000u}) {
        DedupWindow w({/*window_ms=*/500, max_entries});
        std::map<std::string, std::pair<std::uint64_t, std::int64_t>> model;  // key -> offset, at
        std::deque<std::string> order;
        std::int64_t now = 0;
        for (std::uint64_t n = 0; n < 20'000; ++n) {
            now += rng() % 3;
            // Expire in the model as the window does: oldest first, by age.
            while (!order.empty() && model[order.front()].second < now - 500) {
                model.erase(order.front());
                order.pop_front();
            }
            const auto key = DedupWindow::event_key("/s", std::to_string(rng() % 3000));
            const auto hit = w.find(key, now);
            const auto it = model.find(key);
            ASSERT_EQ(hit.has_value(), it != model.end()) << "max " << max_entries << " step " << n;
            if (hit) {
                EXPECT_EQ(hit->offset, it->second.first);
                continue;
            }
            w.insert(key, {n, 1}, now);
            model[key] = {n, now};
            order.push_back(key);
            while (order.size() > max_entries) {
                model.erase(order.front());
                order.pop_front();
            }
            ASSERT_EQ(w.size(), model.size());
        }
    }
}


TEST(DedupWindow, ATakenBackRoundEvictsNothingAndBigRoundsSeeTheirOwnCopies) {
    DedupWindow w({1000, 2});
    w.insert(DedupWindow::event_key("/s", "old1"), {0, 1}, 0);
    w.insert(DedupWindow::event_key("/s", "old2"), {1, 1}, 0);
    // A round of three new events in a window of two: no eviction until trim().
    for (int i = 0; i < 3; ++i)
        EXPECT_FALSE(w.find_or_insert(DedupWindow::event_key("/s", "n" + std::to_string(i)), {2u + i, 1}, 0));
    EXPECT_TRUE(w.find_or_insert(DedupWindow::event_key("/s", "n0"), {9, 1}, 0));  // its own first copy
    w.erase_newest(3);  // the append failed
    w.trim();
    EXPECT_TRUE(w.find(DedupWindow::event_key("/s", "old1"), 0));
    EXPECT_TRUE(w.find(DedupWindow::event_key("/s", "old2"), 0));
    // With max_entries 0 a round still sees its own copies, and trim() empties the window after it.
    DedupWindow off({1000, 0});
    EXPECT_FALSE(off.find_or_insert(DedupWindow::event_key("/s", "a"), {0, 1}, 0));
    EXPECT_TRUE(off.find_or_insert(DedupWindow::event_key("/s", "a"), {1, 1}, 0));
    off.trim();
    EXPECT_EQ(off.size(), 0u);
}

TEST(DedupWindow, FindOrInsertAndTakingTheNewestBack) {
    DedupWindow w({1000, 100});
    EXPECT_FALSE(w.find_or_insert(DedupWindow::event_key("/s", "a"), {0, 1}, 0));
    EXPECT_FALSE(w.find_or_insert(DedupWindow::event_key("/s", "b"), {1, 1}, 0));
    auto again = w.find_or_insert(DedupWindow::event_key("/s", "a"), {7, 1}, 0);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->offset, 0u);  // the first is the original
    EXPECT_FALSE(w.find_or_insert(DedupWindow::event_key("/s", "c"), {2, 1}, 0));
    // A failed append takes back what its round recorded, newest first.
    w.erase_newest(2);
    EXPECT_EQ(w.size(), 1u);
    EXPECT_TRUE(w.find(DedupWindow::event_key("/s", "a"), 0));
    EXPECT_FALSE(w.find(DedupWindow::event_key("/s", "b"), 0));
    EXPECT_FALSE(w.find(DedupWindow::event_key("/s", "c"), 0));
    w.erase_newest(5);  // more than there is: empties it
    EXPECT_EQ(w.size(), 0u);
    EXPECT_FALSE(w.find_or_insert(DedupWindow::event_key("/s", "a"), {3, 1}, 0));
    EXPECT_EQ(w.find(DedupWindow::event_key("/s", "a"), 0)->offset, 3u);
    // Expiry still applies before the lookup.
    EXPECT_FALSE(w.find_or_insert(DedupWindow::event_key("/s", "a"), {9, 1}, 5000));
}

// Rounds of find_or_insert, some taken back with erase_newest, against a model: the backward-shift deletion of
// the newest entries keeps every other lookup right.
TEST(DedupWindow, RoundsTakenBackAgreeWithAModel) {
    std::mt19937 rng(11);
    for (std::size_t max_entries : {3u, 50u, 2000u}) {
        DedupWindow w({/*window_ms=*/1'000'000, max_entries});
        std::deque<std::pair<std::string, std::uint64_t>> model;  // oldest first
        auto model_find = [&](const std::string& k) -> const std::uint64_t* {
            for (auto& [key, off] : model)
                if (key == k) return &off;
            return nullptr;
        };
        std::uint64_t offset = 0;
        for (int round = 0; round < 2000; ++round) {
            const std::size_t n = 1 + rng() % 6;
            std::size_t inserted = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const auto key = DedupWindow::event_key("/s", std::to_string(rng() % 500));
                const auto* expected = model_find(key);
                auto hit = w.find_or_insert(key, {offset, 1}, 0);
                ASSERT_EQ(hit.has_value(), expected != nullptr) << "max " << max_entries << " round " << round;
                if (hit) {
                    EXPECT_EQ(hit->offset, *expected);
                    continue;
                }
                model.emplace_back(key, offset++);
                ++inserted;
            }
            if (rng() % 4 == 0) {  // the round's append failed: its entries go, the older ones all stay
                w.erase_newest(inserted);
                for (std::size_t k = 0; k < inserted; ++k) model.pop_back();
            }
            w.trim();
            while (model.size() > max_entries) model.pop_front();
            ASSERT_EQ(w.size(), model.size());
        }
    }
}

}  // namespace
}  // namespace herald::engine
