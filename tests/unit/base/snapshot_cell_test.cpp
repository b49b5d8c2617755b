#include "base/snapshot_cell.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace herald {
namespace {

struct Value {
    int a;
    int b;  // always -a: a reader that saw a half-written value would see them disagree
};

TEST(SnapshotCell, ReadersKeepWhatTheyLoadedAndSeeLaterStores) {
    SnapshotCell<Value> cell(std::make_shared<const Value>(Value{1, -1}));
    auto held = cell.load();
    cell.store(std::make_shared<const Value>(Value{2, -2}));
    EXPECT_EQ(held->a, 1);  // still alive and unchanged
    EXPECT_EQ(cell.load()->a, 2);
    EXPECT_EQ(held.use_count(), 1);  // the cell let go of the old value

    SnapshotCell<Value> empty;
    EXPECT_EQ(empty.load(), nullptr);
}

// Run under make test-tsan this is the test that matters: no report with writers and readers racing.
TEST(SnapshotCell, ConcurrentReadersAndWritersSeeWholeValues) {
    SnapshotCell<Value> cell(std::make_shared<const Value>(Value{0, 0}));
    std::atomic<bool> stop{false};
    std::atomic<long> torn{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            int last = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                auto v = cell.load();
                if (v->a != -v->b || v->a < last) torn.fetch_add(1);
                last = v->a;
            }
        });
    }
    for (int i = 1; i <= 20000; ++i) cell.store(std::make_shared<const Value>(Value{i, -i}));
    stop = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(torn.load(), 0);  // whole values, and never one older than a value already seen
    EXPECT_EQ(cell.load()->a, 20000);
}

}  // namespace
}  // namespace herald
