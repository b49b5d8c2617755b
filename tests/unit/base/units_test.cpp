#include "base/units.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(Units, Durations) {
    EXPECT_EQ(*parse_duration_ms("250ms"), 250);
    EXPECT_EQ(*parse_duration_ms("250"), 250);
    EXPECT_EQ(*parse_duration_ms("5s"), 5000);
    EXPECT_EQ(*parse_duration_ms("5m"), 300'000);
    EXPECT_EQ(*parse_duration_ms("2h"), 7'200'000);
    EXPECT_EQ(*parse_duration_ms("7d"), 604'800'000);
    EXPECT_FALSE(parse_duration_ms(""));
    EXPECT_FALSE(parse_duration_ms("s"));
    EXPECT_FALSE(parse_duration_ms("5 s"));
    EXPECT_FALSE(parse_duration_ms("5w"));
    EXPECT_FALSE(parse_duration_ms("-5s"));
    EXPECT_FALSE(parse_duration_ms("9999999999999999s"));
    EXPECT_FALSE(parse_duration_ms("999999999999999d"));  // would overflow
    EXPECT_FALSE(parse_bytes("999999999999999GiB"));
}

TEST(Units, Bytes) {
    EXPECT_EQ(*parse_bytes("512"), 512u);
    EXPECT_EQ(*parse_bytes("4KiB"), 4096u);
    EXPECT_EQ(*parse_bytes("64MiB"), 64u << 20);
    EXPECT_EQ(*parse_bytes("1GB"), 1'000'000'000u);
    EXPECT_FALSE(parse_bytes("1TiB"));
    EXPECT_FALSE(parse_bytes("MiB"));
}

}  // namespace
}  // namespace herald
