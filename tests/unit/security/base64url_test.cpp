// base64url as JOSE uses it: the RFC 4648 test vectors in the URL-safe alphabet, round trips over
// every length and byte value, and every non-canonical spelling refused (so two different tokens
// can never decode alike).

#include "security/base64url.hpp"

#include <gtest/gtest.h>

#include <string>

#include "security/crypto.hpp"

namespace herald::security {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
    for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto d = base64url_decode(base64url_encode(s));
        ASSERT_TRUE(d) << s;
        EXPECT_EQ(*d, s);
    }
}

TEST(Base64Url, UsesUrlSafeAlphabet) {
    const std::string bytes("\xfb\xff\xbf", 3);
    EXPECT_EQ(base64url_encode(bytes), "-_-_");
    auto d = base64url_decode("-_-_");
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, bytes);
}

TEST(Base64Url, RoundTripsEveryLengthAndByte) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    for (std::size_t len = 0; len <= all.size(); ++len) {
        const std::string in = all.substr(256 - len);
        const std::string enc = base64url_encode(in);
        EXPECT_EQ(enc.find('='), std::string::npos);
        auto dec = base64url_decode(enc);
        ASSERT_TRUE(dec) << len;
        EXPECT_EQ(*dec, in);
    }
    for (int i = 0; i < 50; ++i) {
        const std::string r = random_bytes(static_cast<std::size_t>(i) * 7 + 1);
        EXPECT_EQ(*base64url_decode(base64url_encode(r)), r);
    }
}

TEST(Base64Url, RefusesCharactersOutsideTheAlphabet) {
    for (std::string_view bad :
         {"Zm9v+g", "Zm9v/g", "Zm 9v", "Zm9v\n", "Zm9v.", "Zm9v\x80", "Zm9v*"}) {
        auto d = base64url_decode(bad);
        EXPECT_FALSE(d) << bad;
        if (!d) {
            EXPECT_EQ(d.error().code, Errc::invalid_argument);
            EXPECT_NE(d.error().message.find("offset"), std::string::npos);
        }
    }
    EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4)));
}

TEST(Base64Url, RefusesPaddingUnlessAllowed) {
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm8="));
    EXPECT_FALSE(base64url_decode("Zm9v="));
    EXPECT_EQ(*base64url_decode("Zg==", Base64Padding::allowed), "f");
    EXPECT_EQ(*base64url_decode("Zm8=", Base64Padding::allowed), "fo");
    EXPECT_EQ(*base64url_decode("Zm9v", Base64Padding::allowed), "foo");
    EXPECT_EQ(*base64url_decode("Zg", Base64Padding::allowed), "f");
}

TEST(Base64Url, RefusesPaddingMisuseEvenWhenAllowed) {
    for (std::string_view bad :
         {"Zg=", "Zg===", "Z===", "Zm9v=", "Zm9v====", "Z=g=", "=Zg=", "Zm8==", "===="}) {
        EXPECT_FALSE(base64url_decode(bad, Base64Padding::allowed)) << bad;
    }
}

TEST(Base64Url, RefusesTruncatedInput) {
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
    // "Zg" is the canonical spelling of "f"; "Zh" differs only in bits that do not reach a byte.
    EXPECT_TRUE(base64url_decode("Zg"));
    EXPECT_FALSE(base64url_decode("Zh"));
    EXPECT_FALSE(base64url_decode("Zm9"));  // "fo" is "Zm8"
    EXPECT_TRUE(base64url_decode("Zm8"));
}

TEST(Hex, RoundTripsEveryByteAndRefusesWhatIsNotLowerCaseHex) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    auto back = from_hex(to_hex(all));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, all);
    EXPECT_EQ(from_hex(""), std::optional<std::string>(""));
    for (const char* bad : {"a", "0g", "AB", "12 4", "-1"}) EXPECT_FALSE(from_hex(bad)) << bad;
}

}  // namespace
}  // namespace herald::security
