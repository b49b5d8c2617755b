#include "hub/feed.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "core/event_record.hpp"

namespace herald::hub {
namespace {

// An in-memory topic: offsets [start, end) with type "t<offset % 2>". With `step` > 1 only every step-th offset
// holds an event, as a topic's offsets do in a JetStream stream shared with other topics.
class MemoryTopic final : public engine::TopicReader {
public:
    std::string topic_name = "mem";
    std::uint64_t start = 0, end = 0;
    std::uint64_t step = 1;
    const std::string& name() const override { return topic_name; }
    std::uint64_t epoch() const override { return 7; }
    std::uint64_t start_offset() const override { return start; }
    std::uint64_t end_offset() const override { return end; }
    Result<std::vector<engine::StoredEvent>> read(std::uint64_t from, std::size_t max_records,
                                                  std::size_t) const override {
        if (from < start) return make_error(Errc::gone, "gone");
        std::vector<engine::StoredEvent> out;
        for (auto o = from; o < end && out.size() < max_records; ++o)
            if (o % step == 0) out.push_back({o, 0, *core::encode_event_record("id", type_of(o), "", json_of(o))});
        return out;
    }
    static std::string type_of(std::uint64_t o) { return "t" + std::to_string(o % 2); }
    static std::string json_of(std::uint64_t o) { return "{" + std::to_string(o) + "}"; }
};

void encode(std::string& out, const EventView& e) {
    out += std::to_string(e.cursor.offset - 1);  // the event's own offset
    out += ',';
}

// Events at `offsets` in a batch starting at `base` (at or before the first of them).
BatchPtr make_sparse_batch(std::uint64_t base, std::vector<std::uint64_t> offsets) {
    auto b = std::make_shared<EncodedBatch>();
    b->topic = "mem";
    b->epoch = 7;
    b->base_offset = base;
    for (auto o : offsets) {
        b->offsets.push_back(o);
        b->types.push_back(MemoryTopic::type_of(o));
        encode(b->formats[0].bytes, EventView{"mem", {7, o + 1}, b->types.back(), ""});
        b->formats[0].ends.push_back(static_cast<std::uint32_t>(b->formats[0].bytes.size()));
    }
    return b;
}

BatchPtr make_batch(std::uint64_t base, std::uint64_t n) {
    std::vector<std::uint64_t> offsets;
    for (auto o = base; o < base + n; ++o) offsets.push_back(o);
    return make_sparse_batch(base, std::move(offsets));
}

std::string drain(Feed& f) {
    std::vector<boost::asio::const_buffer> bufs;
    auto n = f.queue().gather(bufs, 1000, 1 << 30);
    std::string s;
    for (auto& b : bufs) s.append(static_cast<const char*>(b.data()), b.size());
    f.queue().consume(n);
    return s;
}

const Encoder kEncoder = &encode;

TEST(Feed, CatchesUpFromTheLogThenGoesLive) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->end = 3;
    Feed f(topic, 0, {}, kEncoder);
    EXPECT_FALSE(f.live());
    f.on_batch(make_batch(3, 1));  // ignored while catching up
    EXPECT_TRUE(f.queue().empty());
    EXPECT_EQ(f.refill(), Feed::Refill::queued);
    EXPECT_EQ(drain(f), "0,1,2,");
    topic->end = 4;  // the batch above is in the log too
    EXPECT_EQ(f.refill(), Feed::Refill::queued);
    EXPECT_EQ(drain(f), "3,");
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    EXPECT_TRUE(f.live());
    topic->end = 6;
    f.on_batch(make_batch(4, 2));
    EXPECT_EQ(drain(f), "4,5,");
    EXPECT_EQ(f.position().offset, 6u);
}

TEST(Feed, SkipsWhatItAlreadyHasAndSlicesOverlaps) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->end = 5;
    Feed f(topic, 0, {}, kEncoder);
    while (f.refill() != Feed::Refill::idle) {}
    EXPECT_EQ(drain(f), "0,1,2,3,4,");
    f.on_batch(make_batch(2, 3));  // read from the log already
    EXPECT_TRUE(f.queue().empty());
    f.on_batch(make_batch(3, 4));  // overlaps: only 5 and 6 are new
    EXPECT_EQ(drain(f), "5,6,");
}

TEST(Feed, AGapSwitchesToCatchUpAndTheLogFillsIt) {
    auto topic = std::make_shared<MemoryTopic>();
    Feed f(topic, 0, {}, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    EXPECT_TRUE(f.live());
    topic->end = 4;
    f.on_batch(make_batch(2, 2));  // 0 and 1 never arrived live
    EXPECT_FALSE(f.live());
    EXPECT_TRUE(f.queue().empty());
    while (f.refill() == Feed::Refill::queued) {}
    EXPECT_EQ(drain(f), "0,1,2,3,");
    EXPECT_TRUE(f.live());
}

// A topic sharing a JetStream stream: its events sit at every other offset, batches start where the previous
// one ended, and a subscriber's position can fall between two events.
TEST(Feed, SparseBatchCoveringNextIsTakenFromItsFirstEventAtOrAfterIt) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->step = 2;
    topic->end = 3;  // events 0 and 2
    Feed f(topic, 3, {}, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    ASSERT_TRUE(f.live());
    topic->end = 7;
    f.on_batch(make_sparse_batch(1, {2, 4, 6}));  // 2 is before the subscriber's position
    EXPECT_EQ(drain(f), "4,6,");
    EXPECT_EQ(f.position().offset, 7u);
    f.on_batch(make_sparse_batch(7, {10}));  // a hole of other topics' messages, then 10
    EXPECT_EQ(drain(f), "10,");
    EXPECT_EQ(f.position().offset, 11u);
    f.on_batch(make_sparse_batch(1, {2, 4, 6}));  // delivered already
    EXPECT_TRUE(f.queue().empty());
}

TEST(Feed, SparseBatchStartingAfterNextIsAGapTheLogFills) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->step = 2;
    topic->end = 5;  // events 0, 2, 4
    Feed f(topic, 5, {}, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    topic->end = 11;
    f.on_batch(make_sparse_batch(9, {10}));  // the batch with 6 and 8 never arrived live
    EXPECT_FALSE(f.live());
    while (f.refill() == Feed::Refill::queued) {}
    EXPECT_EQ(drain(f), "6,8,10,");
    EXPECT_TRUE(f.live());
    EXPECT_EQ(f.position().offset, 11u);
}

TEST(Feed, BatchesOfAnotherEpochAreNotTaken) {
    auto topic = std::make_shared<MemoryTopic>();
    Feed f(topic, 0, {}, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    auto other = std::const_pointer_cast<EncodedBatch>(make_batch(0, 2));
    other->epoch = 8;  // the topic was deleted and created again: same name, new offsets
    f.on_batch(other);
    EXPECT_TRUE(f.queue().empty());
    EXPECT_EQ(f.position().offset, 0u);
    f.on_batch(make_batch(0, 2));
    EXPECT_EQ(drain(f), "0,1,");
}

TEST(Feed, HighWaterMarkSwitchesToCatchUpWithoutLosingAnything) {
    auto topic = std::make_shared<MemoryTopic>();
    FeedOptions o;
    o.high_water_bytes = 8;  // two frames of "N,"... roughly
    Feed f(topic, 0, o, kEncoder);
    f.refill();
    std::string got;
    for (std::uint64_t base = 0; base < 20; base += 2) {
        topic->end = base + 2;
        f.on_batch(make_batch(base, 2));
    }
    EXPECT_FALSE(f.live());
    EXPECT_GE(f.catchup_switches(), 1u);
    // The consumer reads again: whatever was queued, then the log.
    got += drain(f);
    while (f.refill() == Feed::Refill::queued) got += drain(f);
    std::string want;
    for (int i = 0; i < 20; ++i) want += std::to_string(i) + ",";
    EXPECT_EQ(got, want);
    EXPECT_TRUE(f.live());
}

TEST(Feed, TypeFilterAppliesToLiveAndLog) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->end = 4;
    FeedOptions o;
    o.types = {"t1"};
    Feed f(topic, 0, o, kEncoder);
    while (f.refill() == Feed::Refill::queued) {}
    EXPECT_EQ(drain(f), "1,3,");
    topic->end = 9;
    f.on_batch(make_batch(4, 5));
    EXPECT_EQ(drain(f), "5,7,");
    EXPECT_EQ(f.position().offset, 9u);
}

TEST(Feed, RetentionGapIsReported) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->start = 5;
    topic->end = 8;
    Feed f(topic, 2, {}, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::gap);
    EXPECT_EQ(f.gap_from(), 2u);
    EXPECT_EQ(f.next_offset(), 5u);
    EXPECT_EQ(f.refill(), Feed::Refill::queued);
    EXPECT_EQ(drain(f), "5,6,7,");
}

// Framing with compression (WebSocket permessage-deflate): header + the subscriber's prefix + the batch's
// compressed frame, which the batch computes once, on first use, for every compressing subscriber.
std::atomic<int> g_compress_calls{0};

void fake_compress(std::string& out, std::string_view frame) {
    g_compress_calls.fetch_add(1);
    out += "z(";
    out += frame;
    out += ")";
}

std::size_t fake_header(unsigned char* out, std::uint64_t size) {
    const std::string h = "H" + std::to_string(size) + "|";
    std::memcpy(out, h.data(), h.size());
    return h.size();
}

FeedOptions framed(bool compress, std::atomic<std::uint64_t>* counter = nullptr) {
    FeedOptions o;
    o.frame_header = &fake_header;
    o.frame_prefix = std::make_shared<const std::string>(compress ? "P" : "p");
    if (compress) {
        o.compress = &fake_compress;
        o.compressed_messages = counter;
    }
    return o;
}

TEST(Feed, CompressedFramesAreMadeOncePerBatchAndOnlyWhenNeeded) {
    g_compress_calls = 0;
    std::atomic<std::uint64_t> counter{0};
    auto topic = std::make_shared<MemoryTopic>();
    Feed plain(topic, 0, framed(false), kEncoder);
    Feed a(topic, 0, framed(true, &counter), kEncoder);
    Feed b(topic, 0, framed(true, &counter), kEncoder);
    for (Feed* f : {&plain, &a, &b}) EXPECT_EQ(f->refill(), Feed::Refill::idle);
    topic->end = 2;
    auto batch = make_batch(0, 2);

    plain.on_batch(batch);
    EXPECT_EQ(drain(plain), "H3|p0,H3|p1,");
    EXPECT_EQ(g_compress_calls.load(), 0);  // no compressing subscriber yet: nothing spent

    a.on_batch(batch);
    b.on_batch(batch);
    EXPECT_EQ(g_compress_calls.load(), 2);  // one per event, shared by both
    EXPECT_EQ(drain(a), "H6|Pz(0,)H6|Pz(1,)");
    EXPECT_EQ(drain(b), "H6|Pz(0,)H6|Pz(1,)");
    EXPECT_EQ(counter.load(), 4u);
    // The shared frames point into the batch, not into copies.
    EXPECT_EQ(batch->compressed_frames(WireFormat::sse, &fake_compress, 0, 2), "z(0,)z(1,)");
    EXPECT_EQ(g_compress_calls.load(), 2);
}

TEST(Feed, CompressedFramesFromTheLogAreCompressedPerSubscriber) {
    g_compress_calls = 0;
    std::atomic<std::uint64_t> counter{0};
    auto topic = std::make_shared<MemoryTopic>();
    topic->end = 3;
    FeedOptions o = framed(true, &counter);
    o.types = {"t0"};
    Feed f(topic, 0, o, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::queued);
    EXPECT_EQ(drain(f), "H6|Pz(0,)H6|Pz(2,)");
    EXPECT_EQ(g_compress_calls.load(), 2);
    EXPECT_EQ(counter.load(), 2u);
}

TEST(Feed, CompressedFramesAreComputedOnceUnderConcurrentFirstUse) {
    // Batches are shared by every worker thread; the first users may race.
    for (int round = 0; round < 20; ++round) {
        g_compress_calls = 0;
        auto batch = make_batch(0, 50);
        std::vector<std::thread> threads;
        std::atomic<bool> go{false};
        std::vector<std::string> seen(4);
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                while (!go.load()) {}
                seen[t] = std::string(batch->compressed_frames(WireFormat::sse, &fake_compress, 10, 12));
            });
        go = true;
        for (auto& t : threads) t.join();
        EXPECT_EQ(g_compress_calls.load(), 50);
        for (auto& s : seen) EXPECT_EQ(s, "z(10,)z(11,)");
    }
}

// Live slices carry their batch's commit time, so the writer can record delivery latency per event; catch-up
// reads do not.
TEST(Feed, LiveSlicesAreStampedWithTheBatchCommitTime) {
    auto topic = std::make_shared<MemoryTopic>();
    topic->end = 2;
    Feed f(topic, 0, {}, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::queued);  // 0 and 1 from the log
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    auto batch = std::const_pointer_cast<EncodedBatch>(make_batch(2, 3));
    batch->commit_ns = steady_now_ns() - 1'000'000;
    topic->end = 5;
    f.on_batch(batch);
    Histogram h;
    LatencyRecorder latency{&h};
    f.queue().consume(f.queue().bytes(), &latency);
    auto s = h.snapshot();
    EXPECT_EQ(s.count, 3u) << "the three live events, not the two read from the log";
    EXPECT_GE(s.sum_ns, 3u * 1'000'000u);
}

TEST(Feed, FilteredLiveSlicesCountOnlyTheWantedEvents) {
    auto topic = std::make_shared<MemoryTopic>();
    FeedOptions o;
    o.types = {"t0"};
    Feed f(topic, 0, o, kEncoder);
    EXPECT_EQ(f.refill(), Feed::Refill::idle);
    auto batch = std::const_pointer_cast<EncodedBatch>(make_batch(0, 5));  // t0 at 0, 2, 4
    batch->commit_ns = steady_now_ns();
    topic->end = 5;
    f.on_batch(batch);
    Histogram h;
    LatencyRecorder latency{&h};
    f.queue().consume(f.queue().bytes(), &latency);
    EXPECT_EQ(h.snapshot().count, 3u);
}

}  // namespace
}  // namespace herald::hub
