// ClusterSync over an in-memory SharedState: one holder of the dispatch lease at a time, a clean stop hands it
// over with the last progress written first, and each round's view carries definitions and progress.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "webhook/cluster_sync.hpp"
#include "webhook/subscription_json.hpp"

namespace herald::webhook {
namespace {

class MemoryState final : public engine::SharedState {
public:
    Result<std::vector<engine::SharedEntry>> list(std::string_view prefix) override {
        std::lock_guard lock(mutex_);
        if (down) return make_error(Errc::unavailable, "down");
        std::vector<engine::SharedEntry> out;
        for (auto& [k, v] : records)
            if (std::string_view(k).starts_with(prefix)) out.push_back({k, v.first, v.second});
        return out;
    }
    Result<void> put(std::string_view key, std::string_view value) override {
        std::lock_guard lock(mutex_);
        ++puts;
        if (down || puts_fail) return make_error(Errc::unavailable, "down");
        auto& slot = records[std::string(key)];
        slot = {std::string(value), ++revision};
        return ok();
    }
    Result<void> remove(std::string_view key) override {
        std::lock_guard lock(mutex_);
        if (down) return make_error(Errc::unavailable, "down");
        records.erase(std::string(key));
        return ok();
    }
    Result<bool> hold_lease(std::string_view name, std::string_view holder) override {
        std::lock_guard lock(mutex_);
        if (down) return make_error(Errc::unavailable, "down");
        auto& h = leases[std::string(name)];
        if (h.empty()) h = holder;
        return h == holder;
    }
    void release_lease(std::string_view name, std::string_view holder) override {
        std::lock_guard lock(mutex_);
        auto it = leases.find(std::string(name));
        if (it != leases.end() && it->second == holder) leases.erase(it);
    }

    std::mutex mutex_;
    bool down = false;
    bool puts_fail = false;  // writes fail while the lease still renews: the holder cannot save its progress
    int puts = 0;
    std::uint64_t revision = 0;
    std::map<std::string, std::pair<std::string, std::uint64_t>> records;
    std::map<std::string, std::string> leases;
};

// Collects the views a ClusterSync delivers.
struct Views {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<ClusterView> got;
    ClusterSync::Deliver deliver() {
        return [this](ClusterView v) {
            std::lock_guard lock(mutex);
            got.push_back(std::move(v));
            cv.notify_all();
        };
    }
    ClusterView next(std::size_t after) {
        std::unique_lock lock(mutex);
        EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return got.size() > after; }));
        return got.size() > after ? got[after] : ClusterView{};
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return got.size();
    }
};

Subscription subscription(const std::string& id) {
    Subscription s;
    s.id = id;
    s.spec.topic = "orders";
    s.spec.url = "http://127.0.0.1:9/hook";
    s.secrets = {{"whsec_MDEyMzQ1Njc4OWFiY2RlZg==", std::nullopt}};
    return s;
}

ClusterSyncOptions options(const char* node) {
    ClusterSyncOptions o;
    o.node = node;
    o.interval = std::chrono::milliseconds(20);
    o.lease_ttl = std::chrono::milliseconds(1000);
    return o;
}

TEST(ClusterSync, OneHolderAtATimeAndACleanStopHandsOver) {
    MemoryState state;
    Views va, vb;
    ClusterSync a(state, options("a"), va.deliver(), nullptr);
    a.start();
    auto first = va.next(0);
    EXPECT_TRUE(first.leader);
    EXPECT_GT(first.lease_valid_until, first.taken_at);

    ClusterSync b(state, options("b"), vb.deliver(), nullptr);
    b.start();
    EXPECT_FALSE(vb.next(0).leader);

    // What the holder queued is written before it lets go.
    a.queue_progress("wh_1", R"({"state":"active","epoch":1,"next_offset":9})");
    a.stop();
    {
        std::lock_guard lock(state.mutex_);
        EXPECT_EQ(state.records.count(ClusterSync::progress_key("wh_1")), 1u);
        // Released: free, or already b's.
        EXPECT_TRUE(state.leases.empty() || state.leases["webhooks"] == "b");
    }
    // b takes over within a round or two.
    bool took = false;
    for (std::size_t i = vb.size(); i < vb.size() + 20 && !took; ++i) took = vb.next(i).leader;
    EXPECT_TRUE(took);
    b.stop();
}

TEST(ClusterSync, ViewsCarryDefinitionsAndProgress) {
    MemoryState state;
    Views v;
    ClusterSync sync(state, options("a"), v.deliver(), nullptr);
    ASSERT_TRUE(sync.put_definition(subscription("wh_1")));
    ASSERT_TRUE(sync.put_definition(subscription("wh_2")));
    SubscriptionStatus st;
    st.epoch = 3;
    st.next_offset = 17;
    ASSERT_TRUE(state.put(ClusterSync::progress_key("wh_2"), progress_json(st)));
    sync.start();
    auto view = v.next(0);
    ASSERT_EQ(view.subscriptions.size(), 2u);
    EXPECT_EQ(view.subscriptions[0].definition.id, "wh_1");
    EXPECT_FALSE(view.subscriptions[0].progress);
    ASSERT_TRUE(view.subscriptions[1].progress);
    EXPECT_EQ(view.subscriptions[1].progress->next_offset, 17u);
    EXPECT_GT(view.subscriptions[1].revision, view.subscriptions[0].revision);

    ASSERT_TRUE(sync.remove("wh_2"));
    auto later = v.next(v.size());
    ASSERT_EQ(later.subscriptions.size(), 1u);
    {
        std::lock_guard lock(state.mutex_);
        EXPECT_EQ(state.records.count(ClusterSync::progress_key("wh_2")), 0u);
    }
    sync.stop();
}

TEST(ClusterSync, AnUnreachableStateStopsDispatching) {
    MemoryState state;
    Views v;
    ClusterSync sync(state, options("a"), v.deliver(), nullptr);
    sync.start();
    EXPECT_TRUE(v.next(0).leader);
    {
        std::lock_guard lock(state.mutex_);
        state.down = true;
    }
    // The next rounds cannot renew: not the holder, and no listing (taken_at unset) so nothing is dropped.
    ClusterView down;
    for (std::size_t i = v.size(); i < v.size() + 20; ++i) {
        down = v.next(i);
        if (!down.leader) break;
    }
    EXPECT_FALSE(down.leader);
    EXPECT_EQ(down.taken_at, std::chrono::steady_clock::time_point{});
    {
        std::lock_guard lock(state.mutex_);
        state.down = false;
    }
    sync.stop();
}

TEST(ClusterSync, AStopThatCannotWriteTriesOnceAndKeepsTheLease) {
    MemoryState state;
    Views v;
    auto o = options("a");
    o.interval = std::chrono::seconds(30);  // one round at start, none while the test runs
    ClusterSync sync(state, o, v.deliver(), nullptr);
    sync.start();
    ASSERT_TRUE(v.next(0).leader);
    for (int i = 0; i < 50; ++i) sync.queue_progress("wh_" + std::to_string(i), "{}");
    {
        std::lock_guard lock(state.mutex_);
        state.puts_fail = true;
        state.puts = 0;
    }
    sync.stop();
    std::lock_guard lock(state.mutex_);
    // One failed write ends the attempt (against a real cluster each is a timeout), and the lease is not
    // released over progress that was not saved: it lapses by its TTL.
    EXPECT_EQ(state.puts, 1);
    EXPECT_EQ(state.leases["webhooks"], "a");
}

TEST(ClusterSync, AStopThatCanWriteSavesEverythingThenReleases) {
    MemoryState state;
    Views v;
    auto o = options("a");
    o.interval = std::chrono::seconds(30);
    ClusterSync sync(state, o, v.deliver(), nullptr);
    sync.start();
    ASSERT_TRUE(v.next(0).leader);
    for (int i = 0; i < 50; ++i) sync.queue_progress("wh_" + std::to_string(i), "{}");
    sync.stop();
    std::lock_guard lock(state.mutex_);
    EXPECT_EQ(state.puts, 50);
    EXPECT_EQ(state.records.count(ClusterSync::progress_key("wh_49")), 1u);
    EXPECT_EQ(state.leases.count("webhooks"), 0u);
}

}  // namespace
}  // namespace herald::webhook
