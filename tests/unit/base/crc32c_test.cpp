#include "base/crc32c.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald {
namespace {

// Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" vector.
TEST(Crc32c, KnownVectors) {
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
    std::string zeros(32, '\0');
    EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
    std::string ones(32, '\xff');
    EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
    std::string inc;
    for (int i = 0; i < 32; ++i) inc.push_back(static_cast<char>(i));
    EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
}

TEST(Crc32c, HardwareAndPortableAgreeOnEveryLengthAndSplit) {
    std::string data;
    for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7 + 3));
    for (std::size_t n = 0; n <= data.size(); ++n) {
        auto whole = crc32c_extend(0, data.data(), n);
        ASSERT_EQ(whole, crc32c_portable(0, data.data(), n)) << n;
        auto split = crc32c_extend(crc32c_extend(0, data.data(), n / 3), data.data() + n / 3, n - n / 3);
        ASSERT_EQ(whole, split) << n;
    }
}

}  // namespace
}  // namespace herald
