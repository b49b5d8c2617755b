#include "base/glob.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald {
namespace {

TEST(Glob, LiteralsMatchThemselvesOnly) {
    EXPECT_TRUE(glob_match("orders", "orders"));
    EXPECT_FALSE(glob_match("orders", "order"));
    EXPECT_FALSE(glob_match("orders", "orders2"));
    EXPECT_TRUE(glob_match("", ""));
    EXPECT_FALSE(glob_match("", "a"));
}

TEST(Glob, StarMatchesAnyRunIncludingDotsAndEmpty) {
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("*", "anything.at.all"));
    EXPECT_TRUE(glob_match("orders.*", "orders.eu"));
    EXPECT_TRUE(glob_match("orders.*", "orders."));
    EXPECT_FALSE(glob_match("orders.*", "orders"));
    EXPECT_TRUE(glob_match("shop.*.v1", "shop.orderShipped.v1"));
    EXPECT_FALSE(glob_match("shop.*.v1", "shop.orderShipped.v2"));
    EXPECT_TRUE(glob_match("*created*", "order.created.v1"));
    EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
    EXPECT_FALSE(glob_match("a*b*c", "aXXcYYb"));
}

TEST(Glob, QuestionMarkIsExactlyOneCharacter) {
    EXPECT_TRUE(glob_match("v?", "v1"));
    EXPECT_FALSE(glob_match("v?", "v"));
    EXPECT_FALSE(glob_match("v?", "v12"));
}

TEST(Glob, PathologicalPatternsStayFast) {
    std::string text(5000, 'a');
    std::string pattern;
    for (int i = 0; i < 50; ++i) pattern += "a*";
    pattern += "b";
    EXPECT_FALSE(glob_match(pattern, text));  // would be exponential with naive backtracking
}

}  // namespace
}  // namespace herald
