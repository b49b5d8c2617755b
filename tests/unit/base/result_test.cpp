#include "base/result.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

Result<int> half(int v) {
    if (v % 2) return make_error(Errc::invalid_argument, "odd", "v");
    return v / 2;
}

TEST(Result, HoldsValueOrError) {
    auto a = half(4);
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, 2);
    auto b = half(3);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code, Errc::invalid_argument);
    EXPECT_EQ(b.error().attribute, "v");
    EXPECT_EQ(to_string(b.error().code), "invalid_argument");
}

TEST(Result, VoidResult) {
    Result<void> fine = ok();
    EXPECT_TRUE(fine);
    Result<void> bad = make_error(Errc::io_error, "disk");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "disk");
}

}  // namespace
}  // namespace herald
