#include <gtest/gtest.h>

#include "base/base64.hpp"

namespace herald {
namespace {

TEST(Base64, RoundTripsEveryLength) {
    for (std::size_t n = 0; n < 70; ++n) {
        std::vector<std::uint8_t> bytes(n);
        for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + n);
        auto text = base64_encode(bytes);
        EXPECT_EQ(text.size() % 4, 0u);
        auto back = base64_decode(text);
        ASSERT_TRUE(back) << text;
        EXPECT_EQ(*back, bytes);
    }
    EXPECT_EQ(base64_encode(std::string_view("foob")), "Zm9vYg==");
}

TEST(Base64, DecodingIsStrict) {
    EXPECT_TRUE(base64_decode("Zm9vYg"));  // padding is optional
    for (const char* bad : {"Zm9vYg=", "Zm9vY===", "Z", "Zm9v Yg==", "Zm9-Yg==", "Zm9vYh=="})
        EXPECT_FALSE(base64_decode(bad)) << bad;
}

}  // namespace
}  // namespace herald
