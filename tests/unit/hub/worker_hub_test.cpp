#include "hub/hub.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <vector>

namespace herald::hub {
namespace {

using namespace std::chrono_literals;

// A subscriber that behaves like a connection under the write scheduler: a batch queues its events, and it
// asks for a flush; flush() "writes" everything queued at once and records how many events that write held.
struct FakeConnection final : Subscriber, Writer {
    WorkerHub* hub = nullptr;
    int id = 0;
    std::vector<int>* flush_order = nullptr;
    std::size_t queued = 0;
    std::vector<std::size_t> writes;  // events per write

    void on_batch(const BatchPtr& batch) override {
        queued += batch->size();
        hub->request_flush(*this);
    }
    void flush() override {
        if (flush_order) flush_order->push_back(id);
        if (queued) writes.push_back(queued);
        queued = 0;
    }
};

BatchPtr batch_of(std::string topic, std::uint64_t base, std::size_t events) {
    auto b = std::make_shared<EncodedBatch>();
    b->topic = std::move(topic);
    b->base_offset = base;
    for (std::size_t i = 0; i < events; ++i) {
        b->types.push_back("t");
        b->offsets.push_back(base + i);
        auto& f = b->formats[0];
        f.bytes += "x";
        f.ends.push_back(static_cast<std::uint32_t>(f.bytes.size()));
    }
    return b;
}

struct WorkerHubTest : ::testing::Test {
    boost::asio::io_context io;
    WorkerHub hub{io, std::chrono::hours(1)};
    std::vector<int> order;

    std::vector<std::unique_ptr<FakeConnection>> connect(std::size_t n, const std::string& topic = "t") {
        std::vector<std::unique_ptr<FakeConnection>> out;
        for (std::size_t i = 0; i < n; ++i) {
            auto c = std::make_unique<FakeConnection>();
            c->hub = &hub;
            c->id = static_cast<int>(i);
            c->flush_order = &order;
            hub.subscribe(topic, *c);
            out.push_back(std::move(c));
        }
        return out;
    }
};

TEST_F(WorkerHubTest, DispatchQueuesAndWritesOnALaterHandler) {
    auto conns = connect(3);
    hub.dispatch(batch_of("t", 0, 2));
    for (auto& c : conns) {
        EXPECT_EQ(c->queued, 2u);
        EXPECT_TRUE(c->writes.empty()) << "nothing is written inside dispatch";
    }
    io.poll();
    for (auto& c : conns) EXPECT_EQ(c->writes, std::vector<std::size_t>{2});
    EXPECT_EQ(hub.stats().deliveries.load(), 6u);
    EXPECT_EQ(hub.stats().flushes.load(), 3u);
}

TEST_F(WorkerHubTest, OtherTopicsAreNotTouched) {
    auto a = connect(1, "a");
    auto b = connect(1, "b");
    hub.dispatch(batch_of("a", 0, 1));
    io.poll();
    EXPECT_EQ(a[0]->writes.size(), 1u);
    EXPECT_TRUE(b[0]->writes.empty());
}

TEST_F(WorkerHubTest, ARequestWhileWaitingKeepsItsPlaceAndFlushesOnce) {
    auto conns = connect(2);
    hub.request_flush(*conns[1]);
    hub.request_flush(*conns[0]);
    hub.request_flush(*conns[1]);
    io.poll();
    EXPECT_EQ(order, (std::vector<int>{1, 0}));
}

// The point of the scheduler: a connection still waiting when the next batch arrives writes both at once, and
// connections already written to queue up behind the ones still waiting (FIFO, nobody starves).
TEST_F(WorkerHubTest, ASliceAtATimeSoLaterBatchesCoalesce) {
    const std::size_t n = WorkerHub::kFlushSlice * 3;
    auto conns = connect(n);
    hub.dispatch(batch_of("t", 0, 1));
    ASSERT_EQ(io.poll_one(), 1u);  // one slice
    EXPECT_EQ(order.size(), WorkerHub::kFlushSlice);
    hub.dispatch(batch_of("t", 1, 1));
    io.poll();
    ASSERT_EQ(order.size(), n + WorkerHub::kFlushSlice);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& w = conns[i]->writes;
        if (i < WorkerHub::kFlushSlice)
            EXPECT_EQ(w, (std::vector<std::size_t>{1, 1})) << i;
        else
            EXPECT_EQ(w, std::vector<std::size_t>{2}) << i;
    }
    // After the first slice: the waiting ones first, in their order, then the first slice again.
    for (std::size_t k = 0; k < n - WorkerHub::kFlushSlice; ++k)
        EXPECT_EQ(order[WorkerHub::kFlushSlice + k], static_cast<int>(WorkerHub::kFlushSlice + k));
    for (std::size_t k = 0; k < WorkerHub::kFlushSlice; ++k) EXPECT_EQ(order[n + k], static_cast<int>(k));
}

TEST_F(WorkerHubTest, AClosedConnectionLeavesTheQueue) {
    auto conns = connect(3);
    hub.dispatch(batch_of("t", 0, 1));
    conns[1].reset();
    io.poll();
    EXPECT_EQ(order, (std::vector<int>{0, 2}));
}

TEST_F(WorkerHubTest, OtherHandlersRunBetweenSlices) {
    auto conns = connect(WorkerHub::kFlushSlice + 1);
    hub.dispatch(batch_of("t", 0, 1));
    bool ran = false;
    boost::asio::post(io, [&] {
        ran = true;
        EXPECT_EQ(order.size(), WorkerHub::kFlushSlice) << "posted after the dispatch: runs after one slice";
    });
    io.poll();
    EXPECT_TRUE(ran);
    EXPECT_EQ(order.size(), WorkerHub::kFlushSlice + 1);
}

}  // namespace
}  // namespace herald::hub

namespace herald::hub {
namespace {

// The Hub encodes and posts a batch only to the workers that have subscribers of its topic.
struct HubInterestTest : ::testing::Test {
    boost::asio::io_context io0, io1;
    WorkerHub w0{io0, std::chrono::hours(1)};
    WorkerHub w1{io1, std::chrono::hours(1)};
    int encoded = 0;
    Hub hub{make_encoders(), {&w0, &w1}};

    Encoders make_encoders() {
        Encoders e;
        e[0] = [this](std::string& out, const EventView&) {
            ++encoded;
            out += "x";
        };
        return e;
    }
    void commit(const std::string& topic, std::uint64_t base) {
        engine::CommittedBatch b;
        b.topic = topic;
        b.base_offset = base;
        b.events.push_back(engine::CommittedEvent{base, "t", "{}"});
        hub.on_commit(std::move(b));
    }
    void run_both() {
        io0.restart();
        io0.poll();
        io1.restart();
        io1.poll();
    }
};

TEST_F(HubInterestTest, ATopicNobodyReadsIsNeitherEncodedNorPosted) {
    commit("t", 0);
    EXPECT_EQ(encoded, 0);
    EXPECT_EQ(hub.unwatched_batches(), 1u);
    run_both();
    EXPECT_EQ(w0.stats().batches.load(), 0u);
    EXPECT_EQ(w1.stats().batches.load(), 0u);
}

TEST_F(HubInterestTest, OnlyWorkersWithSubscribersGetTheBatch) {
    FakeConnection c;
    c.hub = &w1;
    w1.subscribe("t", c);
    commit("t", 0);
    commit("other", 0);
    EXPECT_EQ(encoded, 1);
    run_both();
    EXPECT_EQ(w0.stats().batches.load(), 0u);
    EXPECT_EQ(w1.stats().batches.load(), 1u);
    EXPECT_EQ(c.writes, std::vector<std::size_t>{1});
}

TEST_F(HubInterestTest, AWorkerWithdrawsOnceItsLastSubscriberHasGone) {
    {
        FakeConnection c;
        c.hub = &w0;
        w0.subscribe("t", c);
        commit("t", 0);
        run_both();
        EXPECT_EQ(encoded, 1);
    }  // the subscriber closes (auto-unlink): the worker learns it from the next batch
    commit("t", 1);
    EXPECT_EQ(encoded, 2);
    run_both();
    EXPECT_EQ(w0.stats().batches.load(), 2u);
    commit("t", 2);
    EXPECT_EQ(encoded, 2);
    EXPECT_EQ(hub.unwatched_batches(), 1u);
    // A new subscriber announces the topic again before it reads anything.
    FakeConnection again;
    again.hub = &w0;
    w0.subscribe("t", again);
    commit("t", 3);
    EXPECT_EQ(encoded, 3);
    run_both();
    EXPECT_EQ(again.writes, std::vector<std::size_t>{1});
}

}  // namespace
}  // namespace herald::hub
