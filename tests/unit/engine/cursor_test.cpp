#include "engine/cursor.hpp"

#include <gtest/gtest.h>

namespace herald::engine {
namespace {

TEST(Cursor, RoundTrips) {
    for (auto c : {Cursor{1, 0}, Cursor{0x9f86d081884c7d65, 42}, Cursor{~0ull, ~0ull}}) {
        auto text = format_cursor(c);
        auto back = parse_cursor(text);
        ASSERT_TRUE(back) << text;
        EXPECT_EQ(*back, c);
    }
    EXPECT_EQ(format_cursor({0x9f86d081884c7d65, 42}), "1.9f86d081884c7d65.42");
}

TEST(Cursor, RejectsMalformed) {
    for (auto bad : {"", "1", "1.", "2.9f86d081884c7d65.42", "1.9f86d081884c7d6.42", "1.9F86D081884C7D65.42",
                     "1.9f86d081884c7d65.", "1.9f86d081884c7d65.042", "1.9f86d081884c7d65.4x",
                     "1.9f86d081884c7d65.-1", "1.9f86d081884c7d65.99999999999999999999999",
                     "1.9f86d081884c7d65,42", "earliest "}) {
        auto r = parse_cursor(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().attribute, "cursor");
        }
    }
}

TEST(Cursor, StartPositions) {
    EXPECT_TRUE(std::holds_alternative<StartEarliest>(*parse_start("earliest")));
    EXPECT_TRUE(std::holds_alternative<StartLatest>(*parse_start("latest")));
    auto c = parse_start("1.0000000000000001.7");
    ASSERT_TRUE(c);
    EXPECT_EQ(std::get<Cursor>(*c), (Cursor{1, 7}));
    EXPECT_FALSE(parse_start("Latest"));
}

}  // namespace
}  // namespace herald::engine
