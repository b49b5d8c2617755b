#include "engine/embedded_engine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "base/uuid.hpp"
#include "core/event_record.hpp"

namespace herald::engine {
namespace {

namespace fs = std::filesystem;

struct Recorder : CommitListener {
    std::mutex mu;
    std::vector<CommittedBatch> batches;
    void on_commit(CommittedBatch&& b) override {
        std::lock_guard l(mu);
        batches.push_back(std::move(b));
    }
    std::vector<std::uint64_t> offsets() {
        std::lock_guard l(mu);
        std::vector<std::uint64_t> out;
        for (auto& b : batches)
            for (auto& e : b.events) out.push_back(e.offset);
        return out;
    }
};

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-engine-" + random_hex(8));
        options_.data_dir = dir_;
        options_.dedup = {60'000, 1000};
    }
    void TearDown() override {
        engine_.reset();
        fs::remove_all(dir_);
    }
    void start() {
        engine_ = std::make_unique<EmbeddedEngine>(options_, clock_);
        ASSERT_TRUE(engine_->start(recorder_));
    }
    Result<PublishResult> publish(PublishRequest req) {
        std::promise<Result<PublishResult>> p;
        auto f = p.get_future();
        engine_->publish(std::move(req), [&](Result<PublishResult> r) { p.set_value(std::move(r)); });
        return f.get();
    }
    static PublishItem item(std::string id, std::string source = "/s") {
        // `json` is the structured encoding upstream; the engine reads `source` back from it on restart.
        return PublishItem{id, source, "t.happened.v1",
                           "{\"id\":\"" + id + "\",\"source\":\"" + source + "\"}"};
    }

    fs::path dir_;
    EmbeddedOptions options_;
    ManualClock clock_;
    Recorder recorder_;
    std::unique_ptr<EmbeddedEngine> engine_;
};

TEST_F(EngineTest, AppendsAssignsOffsetsAndNotifiesInOrder) {
    start();
    auto r = publish({"t", {item("a"), item("b")}, ""});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].offset, 0u);
    EXPECT_EQ(r->outcomes[1].offset, 1u);
    EXPECT_EQ(r->outcomes[1].id, "b");
    EXPECT_FALSE(r->outcomes[0].duplicate);
    auto r2 = publish({"t", {item("c")}, ""});
    EXPECT_EQ(r2->outcomes[0].offset, 2u);
    EXPECT_EQ(recorder_.offsets(), (std::vector<std::uint64_t>{0, 1, 2}));
    auto reader = engine_->topic("t", false);
    ASSERT_TRUE(reader);
    EXPECT_EQ((*reader)->end_offset(), 3u);
    auto events = (*reader)->read(1, 10, 1 << 20);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 2u);
    auto rec = core::decode_event_record((*events)[0].payload);
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->id, "b");
    EXPECT_EQ(rec->json, "{\"id\":\"b\",\"source\":\"/s\"}");
}

TEST_F(EngineTest, DuplicatesAnswerTheOriginalOffsetAndAppendNothing) {
    start();
    ASSERT_TRUE(publish({"t", {item("a")}, ""}));
    auto dup = publish({"t", {item("a"), item("b"), item("b"), item("a", "/other")}, ""});
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->outcomes[0].duplicate);
    EXPECT_EQ(dup->outcomes[0].offset, 0u);
    EXPECT_FALSE(dup->outcomes[1].duplicate);
    EXPECT_EQ(dup->outcomes[1].offset, 1u);
    EXPECT_TRUE(dup->outcomes[2].duplicate);  // the same event twice in one request
    EXPECT_EQ(dup->outcomes[2].offset, 1u);
    EXPECT_FALSE(dup->outcomes[3].duplicate);  // same id, other source: another event
    EXPECT_EQ(dup->outcomes[3].offset, 2u);
    EXPECT_EQ((*engine_->topic("t", false))->end_offset(), 3u);
}

TEST_F(EngineTest, DedupWindowExpiresWithTheClock) {
    start();
    ASSERT_TRUE(publish({"t", {item("a")}, ""}));
    clock_.advance(std::chrono::milliseconds(60'001));
    auto again = publish({"t", {item("a")}, ""});
    EXPECT_FALSE(again->outcomes[0].duplicate);
    EXPECT_EQ(again->outcomes[0].offset, 1u);
}

TEST_F(EngineTest, IdempotencyKeyReplaysTheOriginalResult) {
    start();
    auto first = publish({"t", {item("x1"), item("x2")}, "key-1"});
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->replayed);
    // A retry with regenerated ids (plain JSON publishing generates them) still gets the original answer.
    auto retry = publish({"t", {item("y1"), item("y2")}, "key-1"});
    ASSERT_TRUE(retry);
    EXPECT_TRUE(retry->replayed);
    ASSERT_EQ(retry->outcomes.size(), 2u);
    EXPECT_EQ(retry->outcomes[0].id, "x1");
    EXPECT_EQ(retry->outcomes[1].offset, 1u);
    EXPECT_EQ((*engine_->topic("t", false))->end_offset(), 2u);
}

TEST_F(EngineTest, DedupWindowSurvivesARestart) {
    start();
    ASSERT_TRUE(publish({"t", {item("a"), item("b")}, "k"}));
    engine_->stop();
    engine_.reset();
    start();
    auto dup = publish({"t", {item("b")}, ""});
    EXPECT_TRUE(dup->outcomes[0].duplicate);
    EXPECT_EQ(dup->outcomes[0].offset, 1u);
    auto replay = publish({"t", {item("zzz")}, "k"});
    EXPECT_TRUE(replay->replayed);
    EXPECT_EQ(replay->outcomes.size(), 2u);
}

TEST_F(EngineTest, ConcurrentPublishersAreGroupCommittedWithoutLoss) {
    options_.defaults.fsync = FsyncPolicy::always;
    start();
    constexpr int kThreads = 8, kEach = 200;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto r = publish({"g", {item(std::to_string(t) + "-" + std::to_string(i))}, ""});
                if (!r || r->outcomes[0].duplicate) ++failures;
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    auto offsets = recorder_.offsets();
    ASSERT_EQ(offsets.size(), std::size_t(kThreads * kEach));
    for (std::size_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], i);
    // Fewer commits than publishes: requests that waited on an fsync went together.
    std::lock_guard l(recorder_.mu);
    EXPECT_LE(recorder_.batches.size(), offsets.size());
}

TEST_F(EngineTest, TopicCreationFollowsTheConfig) {
    options_.auto_create = false;
    options_.declared["declared"] = TopicSettings{};
    start();
    EXPECT_TRUE(engine_->topic("declared", false));
    auto missing = engine_->topic("other", true);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    auto r = publish({"other", {item("a")}, ""});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
    auto bad = engine_->topic("Bad Name", true);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

// A worker's hand-over (publish/outbox.hpp): the requests are committed in their order, a duplicate within the
// batch is answered from the first, and every request is completed.
TEST_F(EngineTest, PublishBatchCommitsEveryRequestInOrder) {
    start();
    std::vector<std::promise<Result<PublishResult>>> promises(4);
    std::vector<PendingPublish> batch;
    const char* ids[] = {"a", "b", "a", "c"};
    for (int i = 0; i < 4; ++i)
        batch.push_back({PublishRequest{i == 3 ? "u" : "t", {item(ids[i])}, ""},
                         [&promises, i](Result<PublishResult> r) { promises[i].set_value(std::move(r)); }});
    engine_->publish_batch(batch);
    EXPECT_TRUE(batch.empty());
    std::vector<Result<PublishResult>> results;
    for (auto& p : promises) results.push_back(p.get_future().get());
    for (auto& r : results) ASSERT_TRUE(r);
    EXPECT_EQ(results[0]->outcomes[0].offset, 0u);
    EXPECT_EQ(results[1]->outcomes[0].offset, 1u);
    EXPECT_TRUE(results[2]->outcomes[0].duplicate);
    EXPECT_EQ(results[2]->outcomes[0].offset, 0u);
    EXPECT_EQ(results[3]->outcomes[0].offset, 0u);  // topic "u"
    EXPECT_EQ((*engine_->topic("t", false))->end_offset(), 2u);
}

TEST_F(EngineTest, PublishBatchAfterStopFailsEveryRequest) {
    start();
    engine_->stop();
    int failed = 0;
    std::vector<PendingPublish> batch;
    for (int i = 0; i < 3; ++i)
        batch.push_back({PublishRequest{"t", {item("a")}, ""}, [&](Result<PublishResult> r) {
                             if (!r && r.error().code == Errc::unavailable) ++failed;
                         }});
    engine_->publish_batch(batch);
    EXPECT_EQ(failed, 3);
    EXPECT_TRUE(batch.empty());
}

TEST_F(EngineTest, PublishAfterStopFailsCleanly) {
    start();
    engine_->stop();
    auto r = publish({"t", {item("a")}, ""});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
}


TEST_F(EngineTest, IntervalFsyncsRunInTheBackgroundAndAppendsGoOn) {
    options_.defaults.fsync = FsyncPolicy::interval;
    options_.defaults.fsync_interval_ms = 10;
    start();
    auto background_fsyncs = [&] {
        for (auto& s : engine_->stats())
            if (s.name == "background_fsyncs_total") return s.value;
        ADD_FAILURE() << "no background_fsyncs_total";
        return std::uint64_t{0};
    };
    EXPECT_EQ(background_fsyncs(), 0u);
    ASSERT_TRUE(publish({"t", {item("a")}, ""}));
    clock_.advance(std::chrono::milliseconds(20));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (background_fsyncs() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(background_fsyncs(), 1u);
    // Nothing written since: no other fsync, however long the wait.
    clock_.advance(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(background_fsyncs(), 1u);
    ASSERT_TRUE(publish({"t", {item("b")}, ""}));
    EXPECT_EQ(engine_->health(), "");
    // Stopping drains the background sync and flushes inline (not observable here: the page cache outlives the
    // process); the log reopens with both events.
    engine_->stop();
    engine_.reset();
    start();
    EXPECT_EQ((*engine_->topic("t", false))->end_offset(), 2u);
}

}  // namespace
}  // namespace herald::engine
