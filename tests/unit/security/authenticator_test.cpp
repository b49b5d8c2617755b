// The Authenticator's paths: bearer JWT (with the verified-token cache), API keys in every carrier,
// query and cookie tokens with their permission flags, anonymous access, every refusal with its
// status, reason and RFC 6750 challenge, authorization, and key rotation through set_verifier.

#include "security/authenticator.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "test_support.hpp"

namespace herald::security {
namespace {

using namespace std::chrono_literals;
using testing::keys;
using testing::Signer;

constexpr std::string_view kIssuer = "https://idp.test";

class AuthenticatorTest : public ::testing::Test {
protected:
    AuthenticatorTest() {
        IssuerConfig cfg;
        cfg.issuer = std::string(kIssuer);
        cfg.audiences = {"herald"};
        cfg.keys.add(*Key::from_evp(keys().ec256.get(), {.kid = "ec"}));
        cfg.leeway = 30s;
        verifier = std::make_shared<const Verifier>(*Verifier::create({cfg}));
        auto store = std::make_shared<ApiKeyStore>();
        api_key = store->create("ci", {{Action::publish, "builds.*"}}, clock.wall_now())->key;
        expiring_key = store->create("temp", {}, clock.wall_now(), clock.wall_now() + 1h)->key;
        api_keys = store;
    }

    std::int64_t now_s() const { return clock.wall_ms() / 1000; }

    boost::json::object claims(std::int64_t exp_in = 300) const {
        return {{"iss", kIssuer}, {"aud", "herald"},
                {"sub", "alice"}, {"exp", now_s() + exp_in},
                {"iat", now_s()}, {"scope", "subscribe:orders.* publish:orders.eu"}};
    }

    std::string token(const boost::json::object& c, std::string_view kid = "ec") const {
        return testing::make_jwt(Signer{Alg::es256, keys().ec256.get(), {}}, c, kid);
    }

    Authenticator make(AuthenticatorOptions options = {}) {
        return Authenticator(std::move(options), verifier, api_keys, clock);
    }

    static void expect_error(const Expected<PrincipalPtr, AuthError>& r, int status,
                             Reason reason) {
        ASSERT_FALSE(r) << "expected " << to_string(reason);
        EXPECT_EQ(r.error().status, status) << r.error().detail;
        EXPECT_EQ(r.error().reason, reason)
            << to_string(r.error().reason) << ": " << r.error().detail;
        EXPECT_FALSE(r.error().detail.empty());
    }

    ManualClock clock;
    std::shared_ptr<const Verifier> verifier;
    std::shared_ptr<const ApiKeyStore> api_keys;
    std::string api_key;
    std::string expiring_key;
};

TEST_F(AuthenticatorTest, BearerJwtBecomesAPrincipal) {
    auto auth = make();
    const std::string t = token(claims());
    const std::string header = "Bearer " + t;
    auto r = auth.authenticate({.authorization = header});
    ASSERT_TRUE(r) << r.error().detail;
    const Principal& p = **r;
    EXPECT_EQ(p.kind, PrincipalKind::jwt);
    EXPECT_EQ(p.subject, "alice");
    EXPECT_EQ(p.issuer, kIssuer);
    ASSERT_TRUE(p.expires_at);
    EXPECT_EQ(*p.expires_at, clock.wall_now() + 300s);
    ASSERT_TRUE(p.claims);
    EXPECT_EQ(p.claims->at("sub").as_string(), "alice");
    EXPECT_TRUE(auth.authorize(p, Action::subscribe, "orders.us"));
    EXPECT_TRUE(auth.authorize(p, Action::publish, "orders.eu"));
    EXPECT_EQ(auth.stats().jwt_ok, 1u);
}

TEST_F(AuthenticatorTest, SchemeIsCaseInsensitiveAndWhitespaceTolerated) {
    auto auth = make();
    const std::string t = token(claims());
    for (const std::string& h : {"bearer " + t, "BEARER " + t, "  Bearer    " + t + "  "}) {
        EXPECT_TRUE(auth.authenticate({.authorization = h})) << h.substr(0, 12);
    }
}

TEST_F(AuthenticatorTest, VerifiedTokensAreCachedUntilExpiry) {
    auto auth = make();
    const std::string header = "Bearer " + token(claims(120));
    auto first = auth.authenticate({.authorization = header});
    ASSERT_TRUE(first);
    EXPECT_EQ(auth.stats().cache_misses, 1u);
    for (int i = 0; i < 100; ++i) {
        auto again = auth.authenticate({.authorization = header});
        ASSERT_TRUE(again);
        EXPECT_EQ(again->get(), first->get());  // the very same principal, no re-verification
    }
    EXPECT_EQ(auth.stats().cache_hits, 100u);
    EXPECT_EQ(auth.cache_size(), 1u);

    clock.advance(120s + 29s);  // exp + leeway not yet reached
    EXPECT_TRUE(auth.authenticate({.authorization = header}));
    clock.advance(1s);  // exp + 30 s leeway
    expect_error(auth.authenticate({.authorization = header}), 401, Reason::expired);
    EXPECT_EQ(auth.cache_size(), 0u);
}

TEST_F(AuthenticatorTest, CacheIsBoundedLru) {
    auto auth = make({.cache_capacity = 2});
    std::vector<std::string> headers;
    for (int i = 0; i < 3; ++i) {
        auto c = claims();
        c["jti"] = i;
        headers.push_back("Bearer " + token(c));
    }
    for (const auto& h : headers) ASSERT_TRUE(auth.authenticate({.authorization = h}));
    EXPECT_EQ(auth.cache_size(), 2u);
    EXPECT_EQ(auth.stats().cache_evictions, 1u);
    ASSERT_TRUE(auth.authenticate({.authorization = headers[0]}));  // evicted: verified again
    EXPECT_EQ(auth.stats().cache_misses, 4u);
    ASSERT_TRUE(auth.authenticate({.authorization = headers[2]}));
    EXPECT_EQ(auth.stats().cache_hits, 1u);
}

TEST_F(AuthenticatorTest, CacheTtlIsCapped) {
    auto auth = make({.max_cache_ttl = 10s});
    const std::string header = "Bearer " + token(claims(3600));
    ASSERT_TRUE(auth.authenticate({.authorization = header}));
    clock.advance(10s);
    ASSERT_TRUE(auth.authenticate({.authorization = header}));
    EXPECT_EQ(auth.stats().cache_misses, 2u);
}

TEST_F(AuthenticatorTest, SetVerifierDropsCachedTokens) {
    auto auth = make();
    const std::string header = "Bearer " + token(claims());
    ASSERT_TRUE(auth.authenticate({.authorization = header}));
    // The key is rotated out: the new verifier only knows another key.
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {"herald"};
    cfg.keys.add(*Key::from_evp(keys().ec256_other.get(), {.kid = "ec2"}));
    auth.set_verifier(std::make_shared<const Verifier>(*Verifier::create({cfg})));
    EXPECT_EQ(auth.cache_size(), 0u);
    expect_error(auth.authenticate({.authorization = header}), 401, Reason::unknown_kid);
}

TEST_F(AuthenticatorTest, InvalidTokensAre401WithInvalidTokenChallenge) {
    auto auth = make();
    auto r = auth.authenticate({.authorization = "Bearer " + token(claims(-100))});
    expect_error(r, 401, Reason::expired);
    EXPECT_EQ(
        r.error().www_authenticate,
        "Bearer realm=\"herald\", error=\"invalid_token\", error_description=\"token expired\"");

    auto wrong_aud = claims();
    wrong_aud["aud"] = "other";
    expect_error(auth.authenticate({.authorization = "Bearer " + token(wrong_aud)}), 401,
                 Reason::wrong_audience);
    expect_error(auth.authenticate({.authorization = "Bearer a.b.c"}), 401, Reason::malformed);
    const std::string none =
        testing::join(testing::b64("{\"alg\":\"none\"}"), testing::b64_json(claims()), "");
    expect_error(auth.authenticate({.authorization = "Bearer " + none}), 401, Reason::alg_none);
    EXPECT_EQ(auth.stats().failures, 4u);
    EXPECT_EQ(auth.cache_size(), 0u);  // failures are never cached
}

TEST_F(AuthenticatorTest, MissingCredentialsChallengeHasNoErrorCode) {
    auto auth = make();
    auto r = auth.authenticate({});
    expect_error(r, 401, Reason::missing_credentials);
    EXPECT_EQ(r.error().www_authenticate, "Bearer realm=\"herald\"");
    auto custom = make({.realm = "api"});
    EXPECT_EQ(custom.authenticate({}).error().www_authenticate, "Bearer realm=\"api\"");
}

TEST_F(AuthenticatorTest, AnonymousWhenAllowedButNeverForBadCredentials) {
    auto auth =
        make({.allow_anonymous = true, .anonymous_scopes = {{Action::subscribe, "public.*"}}});
    auto r = auth.authenticate({});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->kind, PrincipalKind::anonymous);
    EXPECT_EQ((*r)->subject, "anonymous");
    EXPECT_TRUE(allows(**r, Action::subscribe, "public.news"));
    EXPECT_FALSE(allows(**r, Action::subscribe, "orders"));
    EXPECT_EQ(auth.stats().anonymous, 1u);
    expect_error(auth.authenticate({.authorization = "Bearer " + token(claims(-100))}), 401,
                 Reason::expired);
    expect_error(auth.authenticate({.api_key = "hk_wrong"}), 401, Reason::invalid_api_key);
}

TEST_F(AuthenticatorTest, OtherSchemesAndMalformedHeaders) {
    auto auth = make();
    auto basic = auth.authenticate({.authorization = "Basic dXNlcjpwYXNz"});
    expect_error(basic, 401, Reason::unsupported_scheme);
    EXPECT_EQ(basic.error().www_authenticate, "Bearer realm=\"herald\"");
    expect_error(auth.authenticate({.authorization = "Bearer"}), 400, Reason::invalid_request);
    expect_error(auth.authenticate({.authorization = "Bearer    "}), 400, Reason::invalid_request);
    auto bad_chars = auth.authenticate({.authorization = "Bearer abc def"});
    expect_error(bad_chars, 400, Reason::invalid_request);
    EXPECT_NE(bad_chars.error().www_authenticate.find("error=\"invalid_request\""),
              std::string::npos);
    expect_error(auth.authenticate({.authorization = "Bearer a\"b"}), 400, Reason::invalid_request);
    expect_error(auth.authenticate({.authorization = "Bearerabc"}), 401,
                 Reason::unsupported_scheme);
}

TEST_F(AuthenticatorTest, ApiKeyInEveryCarrier) {
    auto auth = make();
    const std::string bearer = "Bearer " + api_key;  // outlives the views in the list below
    for (const Credentials& c :
         {Credentials{.api_key = api_key}, Credentials{.authorization = bearer},
          Credentials{.query_token = api_key, .allow_query_token = true},
          Credentials{.cookie_token = api_key, .allow_cookie_token = true}}) {
        auto r = auth.authenticate(c);
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ((*r)->kind, PrincipalKind::api_key);
        EXPECT_EQ((*r)->subject, "ci");
        EXPECT_EQ((*r)->rate_limit_key(), "api_key:ci");
        EXPECT_TRUE(allows(**r, Action::publish, "builds.main"));
    }
    EXPECT_EQ(auth.stats().api_key_ok, 4u);
}

TEST_F(AuthenticatorTest, ApiKeyFailures) {
    auto auth = make();
    auto r = auth.authenticate({.api_key = "hk_not-a-real-key"});
    expect_error(r, 401, Reason::invalid_api_key);
    EXPECT_NE(r.error().www_authenticate.find("error=\"invalid_token\""), std::string::npos);
    EXPECT_EQ(r.error().detail.find("hk_not"),
              std::string::npos);  // the credential is never echoed
    clock.advance(1h);
    expect_error(auth.authenticate({.api_key = expiring_key}), 401, Reason::api_key_expired);
    Authenticator no_keys(AuthenticatorOptions{}, verifier, nullptr, clock);
    expect_error(no_keys.authenticate({.api_key = api_key}), 401, Reason::invalid_api_key);
}

TEST_F(AuthenticatorTest, QueryAndCookieTokensNeedPermission) {
    auto auth = make();
    const std::string t = token(claims());
    EXPECT_TRUE(auth.authenticate({.query_token = t, .allow_query_token = true}));
    EXPECT_TRUE(auth.authenticate({.cookie_token = t, .allow_cookie_token = true}));
    expect_error(auth.authenticate({.query_token = t}), 401, Reason::credential_not_allowed);
    expect_error(auth.authenticate({.cookie_token = t}), 401, Reason::credential_not_allowed);
    // A disallowed query token next to a valid header is ignored, not an error.
    EXPECT_TRUE(auth.authenticate({.authorization = "Bearer " + t, .query_token = "junk"}));
}

TEST_F(AuthenticatorTest, TwoExplicitCredentialsAreABadRequest) {
    auto auth = make();
    const std::string t = token(claims());
    expect_error(auth.authenticate({.authorization = "Bearer " + t, .api_key = api_key}), 400,
                 Reason::invalid_request);
    expect_error(auth.authenticate(
                     {.authorization = "Bearer " + t, .query_token = t, .allow_query_token = true}),
                 400, Reason::invalid_request);
    expect_error(
        auth.authenticate({.api_key = api_key, .query_token = t, .allow_query_token = true}), 400,
        Reason::invalid_request);
}

TEST_F(AuthenticatorTest, CookieYieldsToExplicitCredentials) {
    auto auth = make();
    const std::string t = token(claims());
    auto r = auth.authenticate(
        {.api_key = api_key, .cookie_token = "stale-cookie", .allow_cookie_token = true});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->kind, PrincipalKind::api_key);
    r = auth.authenticate(
        {.authorization = "Bearer " + t, .cookie_token = api_key, .allow_cookie_token = true});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->kind, PrincipalKind::jwt);
}

TEST_F(AuthenticatorTest, UnknownKidTriggersTheRefetchHook) {
    std::vector<std::pair<std::string, std::string>> calls;
    auto auth = make({.on_unknown_kid = [&](const std::string& iss, const std::string& kid) {
        calls.emplace_back(iss, kid);
    }});
    expect_error(auth.authenticate({.authorization = "Bearer " + token(claims(), "rotated")}), 401,
                 Reason::unknown_kid);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].first, kIssuer);
    EXPECT_EQ(calls[0].second, "rotated");
}

TEST_F(AuthenticatorTest, IssuerWithoutKeysIs503WithoutChallenge) {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {"herald"};
    Authenticator auth(AuthenticatorOptions{},
                       std::make_shared<const Verifier>(*Verifier::create({cfg})), api_keys, clock);
    auto r = auth.authenticate({.authorization = "Bearer " + token(claims())});
    expect_error(r, 503, Reason::keys_unavailable);
    EXPECT_TRUE(r.error().www_authenticate.empty());
}

TEST_F(AuthenticatorTest, NoVerifierMeansApiKeysOnly) {
    Authenticator auth(AuthenticatorOptions{}, nullptr, api_keys, clock);
    expect_error(auth.authenticate({.authorization = "Bearer " + token(claims())}), 401,
                 Reason::unsupported_scheme);
    EXPECT_TRUE(auth.authenticate({.authorization = "Bearer " + api_key}));
}

TEST_F(AuthenticatorTest, AuthorizeAnswers403WithTheNeededScope) {
    auto auth = make();
    auto p = auth.authenticate({.authorization = "Bearer " + token(claims())});
    ASSERT_TRUE(p);
    auto denied = auth.authorize(**p, Action::publish, "payments");
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().status, 403);
    EXPECT_EQ(denied.error().reason, Reason::insufficient_scope);
    EXPECT_EQ(denied.error().www_authenticate,
              "Bearer realm=\"herald\", error=\"insufficient_scope\", error_description=\"the "
              "credential does not "
              "grant publish:payments\", scope=\"publish:payments\"");
    auto admin = auth.authorize(**p, Action::admin, "");
    ASSERT_FALSE(admin);
    EXPECT_NE(admin.error().www_authenticate.find("scope=\"admin\""), std::string::npos);
}

TEST_F(AuthenticatorTest, ChallengeParametersAreSanitized) {
    auto auth = make({.realm = "my \"realm\""});
    EXPECT_EQ(auth.challenge("invalid_token", "bad \"token\"\\\n"),
              "Bearer realm=\"my ?realm?\", error=\"invalid_token\", error_description=\"bad "
              "?token???\"");
    // Attacker-controlled text (an untrusted iss) cannot break out of the quoted string.
    auto c = claims();
    c["iss"] = "evil\", error=\"none";
    auto r = auth.authenticate({.authorization = "Bearer " + token(c)});
    expect_error(r, 401, Reason::wrong_issuer);
    EXPECT_EQ(r.error().www_authenticate.find("error=\"none"), std::string::npos)
        << r.error().www_authenticate;
}

TEST_F(AuthenticatorTest, CachedPathIsCheap) {
    // Not a benchmark: a sanity check that the cached path does no signature work (ECDSA
    // verification is ~100 us; 20k cached authentications must take far less than 20k verifications
    // would).
    auto auth = make();
    const std::string header = "Bearer " + token(claims());
    ASSERT_TRUE(auth.authenticate({.authorization = header}));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20'000; ++i) ASSERT_TRUE(auth.authenticate({.authorization = header}));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(auth.stats().cache_misses, 1u);
    EXPECT_LT(elapsed, 1s);
}

}  // namespace
}  // namespace herald::security
