#include "hub/delivery_queue.hpp"

#include <gtest/gtest.h>

namespace herald::hub {
namespace {

std::string concat(const std::vector<boost::asio::const_buffer>& bufs) {
    std::string s;
    for (auto& b : bufs) s.append(static_cast<const char*>(b.data()), b.size());
    return s;
}

TEST(DeliveryQueue, GathersSharedAndOwnedBytesInOrder) {
    auto batch = std::make_shared<EncodedBatch>();
    batch->formats[0].bytes = "AAABBB";
    DeliveryQueue q;
    q.push(std::string("head"));
    q.push(batch, std::string_view(batch->formats[0].bytes).substr(0, 3));
    q.push(std::string("x"));
    q.push(batch, std::string_view(batch->formats[0].bytes).substr(3));
    EXPECT_EQ(q.bytes(), 4u + 3 + 1 + 3);
    std::vector<boost::asio::const_buffer> bufs;
    EXPECT_EQ(q.gather(bufs, 64, 1 << 20), 11u);
    EXPECT_EQ(concat(bufs), "headAAAxBBB");
}

TEST(DeliveryQueue, PartialConsumeKeepsTheRest) {
    DeliveryQueue q;
    q.push(std::string("hello"));
    q.push(std::string("world"));
    q.consume(3);
    EXPECT_EQ(q.bytes(), 7u);
    std::vector<boost::asio::const_buffer> bufs;
    q.gather(bufs, 64, 1 << 20);
    EXPECT_EQ(concat(bufs), "loworld");
    q.consume(7);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(DeliveryQueue, GatherRespectsLimits) {
    DeliveryQueue q;
    for (int i = 0; i < 10; ++i) q.push(std::string(100, 'a' + i));
    std::vector<boost::asio::const_buffer> bufs;
    EXPECT_EQ(q.gather(bufs, 3, 1 << 20), 300u);
    bufs.clear();
    EXPECT_EQ(q.gather(bufs, 64, 150), 200u);  // stops once the byte budget is reached
}

// A WebSocket frame goes in as header, prefix and shared payload. If a gather stopped inside it, the writer
// would append another subscription's frames right after the half frame and corrupt the stream (found by the
// multiplexed WebSocket test under load).
TEST(DeliveryQueue, GatherNeverStopsInsideAUnit) {
    DeliveryQueue q;
    for (int i = 0; i < 10; ++i) {
        q.push(std::string("H") + std::to_string(i), false);
        q.push(std::string(20, 'p'), false);
        q.push(std::string(100, 't'));
    }
    for (std::size_t max_buffers = 1; max_buffers <= 31; ++max_buffers) {
        for (std::size_t max_bytes : {std::size_t{1}, std::size_t{50}, std::size_t{130}, std::size_t{300}, std::size_t{1} << 20}) {
            std::vector<boost::asio::const_buffer> bufs;
            auto n = q.gather(bufs, max_buffers, max_bytes);
            EXPECT_EQ(bufs.size() % 3, 0u) << max_buffers << " " << max_bytes;
            EXPECT_GE(bufs.size(), 3u) << "the first unit is always taken";
            std::size_t sum = 0;
            for (auto& b : bufs) sum += b.size();
            EXPECT_EQ(sum, n);
        }
    }
    std::vector<boost::asio::const_buffer> bufs;
    EXPECT_EQ(q.gather(bufs, 4, 1 << 20), 122u);  // 4 buffers: one whole unit only
    q.consume(122);
    bufs.clear();
    EXPECT_EQ(q.gather(bufs, 64, 1 << 20), 9u * 122u);
}

// Delivery latency: a live slice is recorded once, with its event count, when a write completes its last byte;
// owned bytes (catch-up, control frames) are not recorded; slices of one batch become one observation.
TEST(DeliveryQueue, RecordsCommitToWriteLatencyPerCompletedSlice) {
    auto batch = std::make_shared<EncodedBatch>();
    batch->formats[0].bytes = "AAAABBBBCC";
    const std::string_view bytes = batch->formats[0].bytes;
    const std::int64_t commit = steady_now_ns() - 3'000'000;  // 3 ms ago
    DeliveryQueue q;
    q.push(std::string("head"));
    q.push(batch, bytes.substr(0, 4), true, CommitStamp{commit, 2});
    q.push(batch, bytes.substr(4, 4), true, CommitStamp{commit, 3});
    q.push(batch, bytes.substr(8), true, CommitStamp{commit + 1, 1});
    Histogram h;
    LatencyRecorder latency{&h};

    q.consume(6, &latency);  // "head" and half of the first slice: nothing live completed yet
    EXPECT_EQ(h.snapshot().count, 0u);
    EXPECT_EQ(latency.now_ns, 0) << "no clock read when nothing live was completed";

    q.consume(6, &latency);  // the first two slices: one batch, 5 events, one observation
    auto s = h.snapshot();
    EXPECT_EQ(s.count, 5u);
    EXPECT_GE(s.sum_ns, 5u * 3'000'000u);
    EXPECT_GT(latency.now_ns, commit);

    const auto now = latency.now_ns;
    q.consume(2, &latency);  // the recorder's clock reading is reused for the rest of the write
    s = h.snapshot();
    EXPECT_EQ(s.count, 6u);
    EXPECT_EQ(latency.now_ns, now);
    EXPECT_TRUE(q.empty());
}

TEST(DeliveryQueue, ConsumeWithoutARecorderOrStampRecordsNothing) {
    auto batch = std::make_shared<EncodedBatch>();
    batch->formats[0].bytes = "AAAA";
    DeliveryQueue q;
    q.push(batch, batch->formats[0].bytes, true, CommitStamp{steady_now_ns(), 1});
    q.push(batch, batch->formats[0].bytes);  // a test batch without a commit time
    Histogram h;
    LatencyRecorder latency{&h};
    q.consume(4);
    q.consume(4, &latency);
    EXPECT_EQ(h.snapshot().count, 0u);
}

}  // namespace
}  // namespace herald::hub
