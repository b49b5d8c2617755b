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

}  // namespace
}  // namespace herald::hub
