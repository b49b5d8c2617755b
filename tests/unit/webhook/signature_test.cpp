#include "webhook/signature.hpp"

#include <gtest/gtest.h>

#include <set>

namespace herald::webhook {
namespace {

using namespace std::chrono_literals;

// The published Standard Webhooks test vector.
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kTimestamp = 1614265330;
constexpr std::string_view kBody = R"({"test": 2432232314})";
constexpr std::string_view kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::chrono::system_clock::time_point at(std::int64_t seconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

TEST(Signature, PublishedVector) {
    auto key = decode_secret(kSecret);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->size(), 24u);
    EXPECT_EQ(sign(*key, kMsgId, kTimestamp, kBody), kSignature);
}

TEST(Signature, HeaderWithOneSecretIsTheSignature) {
    std::vector<std::string> secrets{std::string(kSecret)};
    auto h = signature_header(secrets, kMsgId, kTimestamp, kBody);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(*h, kSignature);
}

TEST(Signature, HeaderDuringRotationCarriesOneSignaturePerSecret) {
    const std::string fresh = generate_secret();
    std::vector<std::string> secrets{fresh, std::string(kSecret)};
    auto h = signature_header(secrets, kMsgId, kTimestamp, kBody);
    ASSERT_TRUE(h);
    auto space = h->find(' ');
    ASSERT_NE(space, std::string::npos);
    EXPECT_EQ(h->substr(space + 1), kSignature);
    EXPECT_EQ(h->substr(0, space), sign(*decode_secret(fresh), kMsgId, kTimestamp, kBody));
    // A receiver that knows only one of the two accepts the delivery.
    for (auto& known : secrets) {
        std::vector<std::string> one{known};
        EXPECT_TRUE(verify(one, kMsgId, std::to_string(kTimestamp), *h, kBody, at(kTimestamp)));
    }
}

TEST(Signature, HeaderRefusesNoSecretOrABadOne) {
    std::vector<std::string> none;
    EXPECT_FALSE(signature_header(none, kMsgId, kTimestamp, kBody));
    std::vector<std::string> bad{std::string(kSecret), "whsec_not*base64"};
    auto h = signature_header(bad, kMsgId, kTimestamp, kBody);
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code, Errc::invalid_argument);
    EXPECT_NE(h.error().message.find("secret 2"), std::string::npos);
}

TEST(Signature, GeneratedSecretsAreWellFormedAndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        auto s = generate_secret();
        EXPECT_TRUE(s.starts_with("whsec_"));
        EXPECT_EQ(s.size(), 6u + 32u);
        auto key = decode_secret(s);
        ASSERT_TRUE(key);
        EXPECT_EQ(key->size(), generated_secret_bytes);
        seen.insert(s);
    }
    EXPECT_EQ(seen.size(), 20u);
}

TEST(Signature, DecodeSecret) {
    EXPECT_TRUE(decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // without the prefix
    auto padded = decode_secret("whsec_YWJjZA==");
    ASSERT_TRUE(padded);
    EXPECT_EQ(std::string(padded->begin(), padded->end()), "abcd");
    auto unpadded = decode_secret("whsec_YWJjZA");
    ASSERT_TRUE(unpadded);
    EXPECT_EQ(*unpadded, *padded);

    EXPECT_FALSE(decode_secret(""));
    EXPECT_FALSE(decode_secret("whsec_"));
    EXPECT_FALSE(decode_secret("whsec_abc$"));
    EXPECT_FALSE(decode_secret("whsec_ab-_"));      // URL-safe alphabet
    EXPECT_FALSE(decode_secret("whsec_YWJjZA="));   // padding that does not complete the group
    EXPECT_FALSE(decode_secret("whsec_YWJjZ"));     // impossible length
    EXPECT_FALSE(decode_secret("whsec_YWJjZB=="));  // non-zero trailing bits
    EXPECT_FALSE(decode_secret("whsec_YWJj ZA=="));
    auto err = decode_secret("whsec_***");
    ASSERT_FALSE(err);
    EXPECT_EQ(err.error().attribute, "secret");
}

TEST(Signature, VerifyAcceptsTheVectorWithinTolerance) {
    std::vector<std::string> secrets{std::string(kSecret)};
    const auto ts = std::to_string(kTimestamp);
    EXPECT_TRUE(verify(secrets, kMsgId, ts, kSignature, kBody, at(kTimestamp)));
    EXPECT_TRUE(verify(secrets, kMsgId, ts, kSignature, kBody, at(kTimestamp + 299)));
    EXPECT_TRUE(verify(secrets, kMsgId, ts, kSignature, kBody, at(kTimestamp - 299)));
    // Other versions and junk entries are skipped, not fatal.
    EXPECT_TRUE(verify(secrets, kMsgId, ts, std::string("v2,abc v1,!!! ") + std::string(kSignature),
                       kBody, at(kTimestamp)));
}

TEST(Signature, VerifyRejects) {
    std::vector<std::string> secrets{std::string(kSecret)};
    const auto ts = std::to_string(kTimestamp);
    auto too_old = verify(secrets, kMsgId, ts, kSignature, kBody, at(kTimestamp + 301));
    ASSERT_FALSE(too_old);
    EXPECT_NE(too_old.error().message.find("too old"), std::string::npos);
    auto future = verify(secrets, kMsgId, ts, kSignature, kBody, at(kTimestamp - 301));
    ASSERT_FALSE(future);
    EXPECT_NE(future.error().message.find("future"), std::string::npos);
    EXPECT_FALSE(
        verify(secrets, kMsgId, ts, kSignature, R"({"test": 2432232315})", at(kTimestamp)));
    EXPECT_FALSE(verify(secrets, "msg_other", ts, kSignature, kBody, at(kTimestamp)));
    EXPECT_FALSE(verify(secrets, kMsgId, "1614265331", kSignature, kBody, at(kTimestamp)));
    EXPECT_FALSE(verify(secrets, kMsgId, "soon", kSignature, kBody, at(kTimestamp)));
    EXPECT_FALSE(verify(secrets, kMsgId, ts, "v1,", kBody, at(kTimestamp)));
    std::vector<std::string> other{generate_secret()};
    EXPECT_FALSE(verify(other, kMsgId, ts, kSignature, kBody, at(kTimestamp)));
}

TEST(Signature, EmptyBodyAndLargeBody) {
    auto key = *decode_secret(kSecret);
    auto a = sign(key, "id", 1, "");
    EXPECT_TRUE(a.starts_with("v1,"));
    EXPECT_EQ(a.size(), 3u + 44u);
    std::string big(1 << 20, 'x');
    auto b = sign(key, "id", 1, big);
    std::vector<std::string> secrets{std::string(kSecret)};
    EXPECT_TRUE(verify(secrets, "id", "1", b, big, at(1)));
}

}  // namespace
}  // namespace herald::webhook
