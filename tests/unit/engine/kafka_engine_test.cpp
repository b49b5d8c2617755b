// The Kafka engine and its shared state against librdkafka's in-process mock cluster (rdkafka_mock.h): what a
// publish answers, what the live consumer hands to the hub, reads and retention errors, the dedup window rebuilt
// by a second engine (another node, or a restart), and leases held by one holder at a time. The multi-node and
// bridge behaviour over HTTP is in tests/integration/kafka.test.js.
#include "engine/kafka_engine.hpp"

#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "core/event_record.hpp"

namespace herald::engine {
namespace {

struct Recorder : CommitListener {
    std::mutex mu;
    std::vector<std::uint64_t> offsets;
    std::vector<std::string> types;
    void on_commit(CommittedBatch&& b) override {
        std::lock_guard l(mu);
        for (std::size_t i = 0; i < b.events.size(); ++i) {
            EXPECT_EQ(b.events[i].offset, b.base_offset + i) << "offsets in a batch are consecutive";
            offsets.push_back(b.events[i].offset);
            types.push_back(b.events[i].type);
        }
    }
    std::size_t count() {
        std::lock_guard l(mu);
        return offsets.size();
    }
};

// A 3-broker mock cluster owned by this fixture, with the topics the tests use.
class KafkaEngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        char err[256];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
        owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        ASSERT_NE(owner_, nullptr) << err;
        cluster_ = rd_kafka_mock_cluster_new(owner_, 3);
        ASSERT_NE(cluster_, nullptr);
        for (const char* t : {"herald.orders", "herald.__shared", "herald.__leases"})
            ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, t, 1, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
        std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster_);
        for (std::size_t pos = 0; pos != std::string::npos;) {
            auto comma = bootstrap.find(',', pos);
            options_.brokers.push_back(bootstrap.substr(pos, comma == std::string::npos ? comma : comma - pos));
            pos = comma == std::string::npos ? comma : comma + 1;
        }
        options_.create_with_admin = false;  // the mock has no admin API
        options_.publish_timeout_ms = 3000;
        options_.request_timeout_ms = 3000;
        options_.lease_ttl_ms = 4000;        // the mock wants a session timeout above 3 s
        options_.properties["reconnect.backoff.max.ms"] = "200";  // brokers back: reconnect within the test
        options_.log = [this](int level, std::string_view, std::string_view message) {
            std::lock_guard l(log_mutex_);
            log_lines_.emplace_back(level, std::string(message));
        };
    }
    std::size_t log_errors() {
        std::lock_guard l(log_mutex_);
        return std::count_if(log_lines_.begin(), log_lines_.end(), [](auto& x) { return x.first <= 3; });
    }
    void TearDown() override {
        engines_.clear();
        if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
        if (owner_) rd_kafka_destroy(owner_);
    }
    // An engine with its own listener; both live until TearDown (the listener outlives the engine's threads).
    KafkaEngine& start() {
        recorders_.emplace_back();
        engines_.push_back(std::make_unique<KafkaEngine>(options_));
        auto started = engines_.back()->start(recorders_.back());
        EXPECT_TRUE(started) << (started ? "" : started.error().message);
        return *engines_.back();
    }
    static Result<PublishResult> publish(KafkaEngine& e, PublishRequest req) {
        std::promise<Result<PublishResult>> p;
        auto f = p.get_future();
        e.publish(std::move(req), [&](Result<PublishResult> r) { p.set_value(std::move(r)); });
        return f.get();
    }
    static PublishItem item(std::string id, std::string type = "t.happened.v1") {
        return PublishItem{id, "/s", type,
                           R"({"specversion":"1.0","id":")" + id + R"(","source":"/s","type":")" + type + R"("})"};
    }
    static void wait_until(const std::function<bool()>& done, int ms = 10000) {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (!done() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    rd_kafka_t* owner_ = nullptr;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
    KafkaOptions options_;
    std::mutex log_mutex_;
    std::vector<std::pair<int, std::string>> log_lines_;
    std::deque<Recorder> recorders_;
    std::vector<std::unique_ptr<KafkaEngine>> engines_;
};

TEST_F(KafkaEngineTest, PublishesAnswerOffsetsAndReachTheListenerAndReads) {
    auto& engine = start();
    auto& rec = recorders_.back();
    auto reader = engine.topic("orders", true);
    ASSERT_TRUE(reader);
    auto r = publish(engine, {"orders", {item("a"), item("b", "t.other.v1"), item("c")}, ""});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->outcomes.size(), 3u);
    EXPECT_EQ(r->outcomes[0].offset, 0u);
    EXPECT_EQ(r->outcomes[2].offset, 2u);
    EXPECT_EQ(r->epoch, (*reader)->epoch());
    wait_until([&] { return rec.count() == 3; });
    ASSERT_EQ(rec.count(), 3u);
    EXPECT_EQ(rec.types[1], "t.other.v1");
    EXPECT_EQ((*reader)->end_offset(), 3u);

    auto got = (*reader)->read(1, 10, 1 << 20);
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(got->size(), 2u);
    auto rec1 = core::decode_event_record((*got)[0].payload);
    ASSERT_TRUE(rec1);
    EXPECT_EQ(rec1->id, "b");
    EXPECT_EQ(rec1->type, "t.other.v1");
    EXPECT_TRUE((*reader)->read(3, 10, 1 << 20)->empty()) << "nothing past the end";
}

TEST_F(KafkaEngineTest, DuplicatesAndRetriedRequestsAnswerTheOriginalsOnEveryNode) {
    auto& one = start();
    auto first = publish(one, {"orders", {item("x"), item("y")}, "key-1"});
    ASSERT_TRUE(first) << first.error().message;
    // The same event again, and the same event twice in one request.
    auto dup = publish(one, {"orders", {item("x"), item("z"), item("z")}, ""});
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->outcomes[0].duplicate);
    EXPECT_EQ(dup->outcomes[0].offset, 0u);
    EXPECT_FALSE(dup->outcomes[1].duplicate);
    EXPECT_TRUE(dup->outcomes[2].duplicate);
    EXPECT_EQ(dup->outcomes[2].offset, dup->outcomes[1].offset);

    // A second engine (another node, or this one restarted) rebuilds the window from the topic.
    auto& two = start();
    auto replay = publish(two, {"orders", {item("x"), item("y")}, "key-1"});
    ASSERT_TRUE(replay) << replay.error().message;
    EXPECT_TRUE(replay->replayed);
    ASSERT_EQ(replay->outcomes.size(), 2u);
    EXPECT_EQ(replay->outcomes[1].offset, 1u);
    EXPECT_EQ(replay->outcomes[1].id, "y");
    auto again = publish(two, {"orders", {item("z")}, ""});
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->outcomes[0].duplicate);
    // Both engines name the topic with one epoch: cursors move between nodes.
    EXPECT_EQ((*one.topic("orders", false))->epoch(), (*two.topic("orders", false))->epoch());
}

TEST_F(KafkaEngineTest, UnknownTopicsAndBadInputAreErrorsNotWrites) {
    options_.auto_create = false;
    auto& engine = start();
    auto none = engine.topic("nowhere", true);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::not_found);
    auto r = publish(engine, {"nowhere", {item("a")}, ""});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
    auto big = publish(engine, {"orders", {item(std::string(70000, 'i'))}, ""});
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code, Errc::invalid_argument);
    EXPECT_EQ((*engine.topic("orders", false))->end_offset(), 0u);
}

TEST_F(KafkaEngineTest, BrokersGoneMeansUnavailableAfterThePublishTimeout) {
    auto& engine = start();
    ASSERT_TRUE(publish(engine, {"orders", {item("a")}, ""}));
    for (int id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_down(cluster_, id);
    auto r = publish(engine, {"orders", {item("b")}, ""});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_GT(log_errors(), 0u) << "librdkafka's connection errors reach the log sink (not stderr)";
    // Back: publishing works again, and what was acknowledged is still there.
    for (int id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_up(cluster_, id);
    Result<PublishResult> back = make_error(Errc::unavailable, "not yet");
    wait_until([&] { return bool(back = publish(engine, {"orders", {item("c")}, ""})); }, 20000);
    ASSERT_TRUE(back) << back.error().message;
    auto got = (*engine.topic("orders", false))->read(0, 10, 1 << 20);
    ASSERT_TRUE(got);
    ASSERT_GE(got->size(), 2u);
    EXPECT_EQ(core::decode_event_record((*got)[0].payload)->id, "a");
    EXPECT_EQ(core::decode_event_record(got->back().payload)->id, "c");
}

TEST_F(KafkaEngineTest, SharedRecordsAndOneLeaseHolderAtATime) {
    auto* a = start().shared_state();
    auto* b = start().shared_state();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(a->put("wh.def.1", "one"));
    ASSERT_TRUE(a->put("wh.def.2", "two"));
    ASSERT_TRUE(b->put("wh.def.1", "uno"));
    ASSERT_TRUE(b->remove("wh.def.2"));
    ASSERT_TRUE(a->put("other", "x"));
    auto listed = a->list("wh.def.");
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u) << "a removal is seen by every node";
    EXPECT_EQ((*listed)[0].value, "uno") << "the last write wins";

    // Both ask for the lease until one holds it; never both.
    bool a_holds = false, b_holds = false;
    wait_until([&] {
        a_holds = *a->hold_lease("webhooks", "node-a");
        b_holds = *b->hold_lease("webhooks", "node-b");
        EXPECT_FALSE(a_holds && b_holds);
        return a_holds || b_holds;
    }, 20000);
    ASSERT_TRUE(a_holds != b_holds);
    // The holder lets go: the other takes it (a group rebalance, not a session timeout).
    auto* holder = a_holds ? a : b;
    auto* other = a_holds ? b : a;
    holder->release_lease("webhooks", a_holds ? "node-a" : "node-b");
    bool taken = false;
    wait_until([&] { return taken = *other->hold_lease("webhooks", "other"); }, 20000);
    EXPECT_TRUE(taken);
}

}  // namespace
}  // namespace herald::engine
