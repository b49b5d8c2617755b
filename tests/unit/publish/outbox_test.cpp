#include "publish/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace herald::publish {
namespace {

// An engine that does nothing but publishing: what the tests below override.
class PublishOnlyEngine : public engine::Engine {
public:
    Result<void> start(engine::CommitListener&) override { return {}; }
    void stop() override {}
    Result<std::shared_ptr<engine::TopicReader>> topic(std::string_view, bool) override {
        return make_error(Errc::not_found, "none");
    }
    std::vector<engine::TopicInfo> topics() const override { return {}; }
    void configure_topic(std::string, engine::TopicSettings, engine::ConfigureCallback) override {}
    void delete_topic(std::string, engine::DeleteCallback) override {}
    bool auto_create() const override { return true; }
    std::string health() const override { return {}; }
};

// Records every hand-over (publish_batch) and completes each request with its topic's length as the epoch.
class RecordingEngine final : public PublishOnlyEngine {
public:
    std::vector<std::vector<std::string>> batches;  // topics of each hand-over, in order
    int single_publishes = 0;

    void publish(engine::PublishRequest request, engine::PublishCallback done) override {
        ++single_publishes;
        complete(request, done);
    }
    void publish_batch(std::vector<engine::PendingPublish>& batch) override {
        auto& topics = batches.emplace_back();
        for (auto& p : batch) {
            topics.push_back(p.request.topic);
            complete(p.request, p.done);
        }
        batch.clear();
    }

private:
    static void complete(const engine::PublishRequest& r, const engine::PublishCallback& done) {
        engine::PublishResult res;
        res.epoch = r.topic.size();
        done(std::move(res));
    }
};

engine::PublishRequest request(std::string topic) {
    engine::PublishRequest r;
    r.topic = std::move(topic);
    return r;
}

struct OutboxTest : ::testing::Test {
    boost::asio::io_context io;
    Outbox& outbox = boost::asio::use_service<Outbox>(io);
    RecordingEngine engine;
    std::vector<std::uint64_t> completed;

    void submit(std::string topic, engine::Engine* e = nullptr) {
        outbox.submit(e ? *e : engine, request(std::move(topic)),
                      [this](Result<engine::PublishResult> r) { completed.push_back(r ? r->epoch : 0); },
                      io.get_executor());
    }
};

TEST_F(OutboxTest, RequestsOfOneTurnGoInOneHandOverInOrder) {
    submit("a");
    submit("bb");
    submit("ccc");
    EXPECT_TRUE(engine.batches.empty()) << "nothing reaches the engine inside submit";
    io.poll();
    ASSERT_EQ(engine.batches.size(), 1u);
    EXPECT_EQ(engine.batches[0], (std::vector<std::string>{"a", "bb", "ccc"}));
    EXPECT_EQ(completed, (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(outbox.hand_overs(), 1u);
    EXPECT_EQ(outbox.requests(), 3u);
    EXPECT_EQ(engine.single_publishes, 0);
}

TEST_F(OutboxTest, HandlersQueuedBeforeTheHandOverAddToIt) {
    // Connections made ready in the same turn: each handler submits; the hand-over runs after all of them.
    for (int i = 0; i < 4; ++i) boost::asio::post(io, [this] { submit("x"); });
    io.poll();
    ASSERT_EQ(engine.batches.size(), 1u);
    EXPECT_EQ(engine.batches[0].size(), 4u);
}

TEST_F(OutboxTest, ALaterTurnIsALaterHandOver) {
    submit("a");
    io.poll();
    io.restart();
    submit("b");
    io.poll();
    ASSERT_EQ(engine.batches.size(), 2u);
    EXPECT_EQ(engine.batches[1], std::vector<std::string>{"b"});
}

TEST_F(OutboxTest, ASecondEngineFlushesWhatWaitsForTheFirst) {
    RecordingEngine other;
    submit("a");
    submit("b", &other);
    ASSERT_EQ(engine.batches.size(), 1u) << "the first engine's request went before the other's was queued";
    EXPECT_EQ(engine.batches[0], std::vector<std::string>{"a"});
    io.poll();
    ASSERT_EQ(other.batches.size(), 1u);
    EXPECT_EQ(other.batches[0], std::vector<std::string>{"b"});
}

// An engine that throws part way through a hand-over: the requests it had not taken are answered, not dropped.
TEST_F(OutboxTest, RequestsAnEngineDidNotTakeAreAnsweredWhenItThrows) {
    struct Throwing final : PublishOnlyEngine {
        int taken = 0;
        void publish(engine::PublishRequest, engine::PublishCallback done) override {
            if (taken++ == 1) throw std::runtime_error("boom");
            engine::PublishResult r;
            r.epoch = 7;
            done(std::move(r));
        }
    } throwing;
    for (int i = 0; i < 3; ++i) submit("t", &throwing);
    io.poll();
    // The first committed (epoch 7); the third, which the engine never took, is answered with an error (0). The
    // second's completion went into the publish() that threw, as with a direct publish() call.
    EXPECT_EQ(completed, (std::vector<std::uint64_t>{7, 0}));
}

TEST(OutboxLifetime, WaitingRequestsAreDroppedWithTheContext) {
    RecordingEngine engine;
    bool called = false;
    {
        boost::asio::io_context io;
        boost::asio::use_service<Outbox>(io).submit(engine, request("a"),
                                                    [&](Result<engine::PublishResult>) { called = true; },
                                                    io.get_executor());
    }
    EXPECT_FALSE(called);
    EXPECT_TRUE(engine.batches.empty());
}

TEST(EngineDefault, PublishBatchCallsPublishForEachInOrder) {
    // Only publish(): the engine's default publish_batch is under test.
    struct Plain final : PublishOnlyEngine {
        std::vector<std::string> seen;
        void publish(engine::PublishRequest r, engine::PublishCallback) override { seen.push_back(r.topic); }
    } plain;
    std::vector<engine::PendingPublish> batch;
    batch.push_back({request("a"), nullptr});
    batch.push_back({request("b"), nullptr});
    plain.publish_batch(batch);
    EXPECT_EQ(plain.seen, (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace herald::publish
