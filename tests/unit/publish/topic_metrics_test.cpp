// Per-topic publishing figures: the registry itself, and what the pipeline counts into it on a real
// embedded engine (events, record bytes, dedup hits, contract refusals, publish durations).
#include "publish/topic_metrics.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "base/uuid.hpp"
#include "core/codec.hpp"
#include "core/event_record.hpp"
#include "engine/embedded_engine.hpp"
#include "publish/pipeline.hpp"

namespace herald::publish {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

TEST(TopicMetrics, OneEntryPerTopicWithAStableAddress) {
    TopicMetrics m;
    auto& a = m.for_topic("a");
    a.events.fetch_add(2);
    auto& b = m.for_topic("b");
    EXPECT_NE(&a, &b);
    for (int i = 0; i < 100; ++i) m.for_topic("t" + std::to_string(i));
    EXPECT_EQ(&m.for_topic("a"), &a);
    EXPECT_EQ(m.for_topic("a").events.load(), 2u);
    std::vector<std::string> names;
    m.for_each([&](const std::string& name, const TopicCounters&) { names.push_back(name); });
    EXPECT_EQ(names.size(), 102u);
    EXPECT_EQ(names.front(), "a");
}

TEST(TopicMetrics, ConcurrentFirstUseMakesOneEntry) {
    TopicMetrics m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                m.for_topic("hot").events.fetch_add(1, std::memory_order_relaxed);
        });
    for (auto& t : threads) t.join();
    std::size_t entries = 0;
    m.for_each([&](const std::string&, const TopicCounters& c) {
        ++entries;
        EXPECT_EQ(c.events.load(), 4000u);
    });
    EXPECT_EQ(entries, 1u);
}

struct NoListener : engine::CommitListener {
    void on_commit(engine::CommittedBatch&&) override {}
};

core::CloudEvent event(std::string id, std::string type = "shop.orderPlaced.v1") {
    core::CloudEvent e;
    e.id = std::move(id);
    e.source = "/test";
    e.type = std::move(type);
    e.data_kind = core::DataKind::json;
    e.data = "{\"n\":1}";
    e.datacontenttype = "application/json";
    return e;
}

class PipelineMetrics : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-pipeline-" + random_hex(8));
        engine::EmbeddedOptions o;
        o.data_dir = dir_;
        engine_ = std::make_unique<engine::EmbeddedEngine>(o);
        ASSERT_TRUE(engine_->start(listener_));
        ContractOptions co;
        co.enforce_naming = false;
        co.topics["strict"] = schema::TopicContract{{"shop.*"}, true};
        contracts_ =
            std::make_unique<Contracts>(std::move(co), std::make_shared<schema::Registry>());
        pipeline_ = std::make_unique<Pipeline>(*engine_, stats_, contracts_.get());
    }
    void TearDown() override {
        pipeline_.reset();
        engine_->stop();
        engine_.reset();
        fs::remove_all(dir_);
    }

    // Publishes on the fixture's io_context and waits; true when the pipeline accepted it. The io_context
    // outlives the engine (TearDown stops it first): the engine's thread posts each completion to it and may
    // still be inside that post (signalling the scheduler) when run() has already returned (ThreadSanitizer
    // saw a local io_context destroyed under it).
    bool publish(std::string topic, std::vector<core::CloudEvent> events, std::string key = {}) {
        asio::io_context& io = io_;
        io.restart();
        bool ok = false;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto r = co_await pipeline_->publish(std::move(topic), std::move(events),
                                                     std::move(key));
                ok = static_cast<bool>(r);
            },
            asio::detached);
        io.run();
        return ok;
    }
    std::uint64_t published_count(const std::string& topic) {
        std::uint64_t n = 0;
        stats_.topics.for_each([&](const std::string& name, const TopicCounters& c) {
            if (name == topic) n = c.publish_duration.snapshot().count;
        });
        return n;
    }
    bool has_entry(const std::string& topic) {
        bool found = false;
        stats_.topics.for_each(
            [&](const std::string& name, const TopicCounters&) { found |= name == topic; });
        return found;
    }

    asio::io_context io_;  // first member: destroyed last
    fs::path dir_;
    NoListener listener_;
    std::unique_ptr<engine::EmbeddedEngine> engine_;
    std::unique_ptr<Contracts> contracts_;
    Stats stats_;
    std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineMetrics, CountsEventsBytesDuplicatesRefusalsAndDurationsPerTopic) {
    ASSERT_TRUE(publish("strict", {event("1")}));
    ASSERT_TRUE(publish("strict", {event("2"), event("3")}));
    ASSERT_TRUE(publish("strict", {event("1")}));  // a dedup hit
    ASSERT_FALSE(publish("strict",
                         {event("4", "billing.invoicePaid.v1")}));  // refused by the topic contract
    ASSERT_TRUE(publish("other", {event("1", "any.thing.v1")}));

    auto& strict = stats_.topics.for_topic("strict");
    EXPECT_EQ(strict.events.load(), 3u);
    EXPECT_EQ(strict.duplicates.load(), 1u);
    EXPECT_EQ(strict.validation_failures.load(), 1u);
    EXPECT_EQ(published_count("strict"), 3u)
        << "every acknowledged request, the dedup hit included";
    EXPECT_GT(strict.publish_duration.snapshot().sum_ns, 0u);
    // The bytes are the records as stored: the structured JSON (with the traceparent the pipeline
    // adds; its length never varies) and the record header, id and type.
    auto e = event("1");
    e.extensions.emplace("traceparent",
                         "00-" + std::string(32, 'a') + "-" + std::string(16, 'b') + "-00");
    const auto json = core::encode_structured(e);
    EXPECT_EQ(strict.bytes.load(), 3 * core::event_record_size(e.id, e.type, "", json));

    auto& other = stats_.topics.for_topic("other");
    EXPECT_EQ(other.events.load(), 1u);
    EXPECT_EQ(other.validation_failures.load(), 0u);
    EXPECT_EQ(stats_.events.load(), 4u) << "the aggregate counters are kept";
    EXPECT_EQ(stats_.contract_rejected.load(), 1u);
}

TEST_F(PipelineMetrics, ARefusalForATopicThatDoesNotExistMakesNoSeries) {
    ASSERT_FALSE(publish("strict", {event("1", "billing.invoicePaid.v1")}));
    EXPECT_FALSE(has_entry("strict"));
    EXPECT_FALSE(engine_->topic("strict", false)) << "nor a topic";
    EXPECT_EQ(stats_.contract_rejected.load(), 1u);
}

}  // namespace
}  // namespace herald::publish
