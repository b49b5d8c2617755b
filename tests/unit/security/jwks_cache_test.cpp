// The JWKS cache as a state machine driven by a ManualClock: first fetch, TTL from Cache-Control,
// keep the last good set through failures with back-off, one fetch in flight, unknown-kid refetch
// rate limit, and a simulated fetcher wired the way the integrator will wire it.

#include "security/jwks_cache.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <deque>

#include "base/clock.hpp"
#include "security/jwt.hpp"
#include "test_support.hpp"

namespace herald::security {
namespace {

using namespace std::chrono_literals;
using testing::keys;

std::string jwks_of(std::initializer_list<std::pair<EVP_PKEY*, std::string>> list) {
    boost::json::array arr;
    for (const auto& [pkey, kid] : list) arr.push_back(testing::public_jwk(pkey, kid));
    return boost::json::serialize(boost::json::object{{"keys", arr}});
}

class JwksCacheTest : public ::testing::Test {
protected:
    ManualClock clock;
    JwksCache cache{"https://idp.test/.well-known/jwks.json"};
    const std::string doc1 = jwks_of({{keys().rsa.get(), "k1"}});
    const std::string doc2 = jwks_of({{keys().rsa.get(), "k1"}, {keys().ec256.get(), "k2"}});

    JwksCache::time_point now() const { return clock.steady_now(); }
};

TEST_F(JwksCacheTest, FirstFetchIsDueImmediatelyAndOnlyOneIsInFlight) {
    EXPECT_FALSE(cache.has_keys());
    EXPECT_TRUE(cache.keys().empty());
    EXPECT_TRUE(cache.needs_refresh(now()));
    EXPECT_TRUE(cache.begin_refresh(now()));
    EXPECT_TRUE(cache.fetch_in_flight(now()));
    EXPECT_FALSE(cache.needs_refresh(now()));
    EXPECT_FALSE(cache.begin_refresh(now()));

    auto r = cache.on_fetch_result(200, "public, max-age=600", doc1, now());
    EXPECT_EQ(r.outcome, JwksFetchOutcome::updated);
    EXPECT_EQ(r.detail, "1 key");
    EXPECT_TRUE(cache.has_keys());
    EXPECT_EQ(cache.keys().size(), 1u);
    EXPECT_EQ(cache.generation(), 1u);
    EXPECT_FALSE(cache.fetch_in_flight(now()));
    EXPECT_EQ(cache.next_refresh(), now() + 600s);
    EXPECT_EQ(r.next_refresh, now() + 600s);
}

TEST_F(JwksCacheTest, TtlFollowsMaxAgeWithinBounds) {
    ASSERT_TRUE(cache.begin_refresh(now()));
    cache.on_fetch_result(200, "max-age=600", doc1, now());
    clock.advance(599s);
    EXPECT_FALSE(cache.needs_refresh(now()));
    clock.advance(1s);
    EXPECT_TRUE(cache.needs_refresh(now()));

    // Too small: raised to min_ttl (60 s). Too large: capped at max_ttl (24 h). Absent: default_ttl
    // (300 s).
    ASSERT_TRUE(cache.begin_refresh(now()));
    cache.on_fetch_result(200, "max-age=5", doc1, now());
    EXPECT_EQ(cache.next_refresh(), now() + 60s);
    cache.on_fetch_result(200, "max-age=99999999", doc1, now());
    EXPECT_EQ(cache.next_refresh(), now() + 24h);
    cache.on_fetch_result(200, "", doc1, now());
    EXPECT_EQ(cache.next_refresh(), now() + 300s);
    cache.on_fetch_result(200, "no-store", doc1, now());
    EXPECT_EQ(cache.next_refresh(), now() + 60s);
}

TEST_F(JwksCacheTest, SameDocumentIsUnchangedNewDocumentIsUpdated) {
    cache.on_fetch_result(200, "", doc1, now());
    EXPECT_EQ(cache.generation(), 1u);
    auto same = cache.on_fetch_result(200, "", doc1, now());
    EXPECT_EQ(same.outcome, JwksFetchOutcome::unchanged);
    EXPECT_EQ(cache.generation(), 1u);
    auto changed = cache.on_fetch_result(200, "", doc2, now());
    EXPECT_EQ(changed.outcome, JwksFetchOutcome::updated);
    EXPECT_EQ(cache.generation(), 2u);
    EXPECT_EQ(cache.keys().size(), 2u);
}

TEST_F(JwksCacheTest, FailuresKeepTheLastGoodSet) {
    cache.on_fetch_result(200, "max-age=60", doc2, now());
    ASSERT_EQ(cache.keys().size(), 2u);
    clock.advance(60s);
    struct Bad {
        int status;
        std::string body;
    };
    for (const Bad& bad :
         {Bad{500, doc1}, Bad{404, ""}, Bad{200, "<html>"}, Bad{200, "{\"keys\":[]}"},
          Bad{200,
              "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw\"}]"
              "}"}}) {
        SCOPED_TRACE(bad.body);
        ASSERT_TRUE(cache.begin_refresh(now()));
        auto r = cache.on_fetch_result(bad.status, "", bad.body, now());
        EXPECT_EQ(r.outcome, JwksFetchOutcome::failed);
        EXPECT_NE(r.detail.find("keeping the last good key set"), std::string::npos) << r.detail;
        EXPECT_EQ(cache.keys().size(), 2u);
        EXPECT_TRUE(cache.has_keys());
        EXPECT_EQ(cache.generation(), 1u);
        clock.advance(
            std::chrono::duration_cast<std::chrono::milliseconds>(cache.next_refresh() - now()));
    }
    EXPECT_EQ(cache.consecutive_failures(), 5);
    // A transport failure (status 0) too.
    ASSERT_TRUE(cache.begin_refresh(now()));
    auto r = cache.on_fetch_result(JwksFetchResponse{0, "", "", "connection refused"}, now());
    EXPECT_EQ(r.outcome, JwksFetchOutcome::failed);
    EXPECT_NE(r.detail.find("connection refused"), std::string::npos);
    EXPECT_EQ(cache.keys().size(), 2u);
    // Recovery resets the failure count.
    clock.advance(
        std::chrono::duration_cast<std::chrono::milliseconds>(cache.next_refresh() - now()));
    ASSERT_TRUE(cache.begin_refresh(now()));
    EXPECT_EQ(cache.on_fetch_result(200, "", doc1, now()).outcome, JwksFetchOutcome::updated);
    EXPECT_EQ(cache.consecutive_failures(), 0);
    EXPECT_EQ(cache.keys().size(), 1u);
}

TEST_F(JwksCacheTest, BackOffDoublesUpToTheCap) {
    std::vector<std::chrono::seconds> delays;
    for (int i = 0; i < 9; ++i) {
        ASSERT_TRUE(cache.begin_refresh(now()));
        auto r = cache.on_fetch_result(503, "", "", now());
        delays.push_back(std::chrono::duration_cast<std::chrono::seconds>(r.next_refresh - now()));
        EXPECT_FALSE(cache.needs_refresh(now()));
        clock.advance(std::chrono::duration_cast<std::chrono::milliseconds>(delays.back()));
    }
    const std::vector<std::chrono::seconds> want = {5s, 10s, 20s, 40s, 80s, 160s, 300s, 300s, 300s};
    EXPECT_EQ(delays, want);
    EXPECT_FALSE(cache.has_keys());
}

TEST_F(JwksCacheTest, FailedEarlyRefetchDoesNotPullTheScheduleForward) {
    cache.on_fetch_result(200, "max-age=3600", doc1, now());
    clock.advance(20s);
    ASSERT_TRUE(cache.unknown_kid("new-kid", now()));
    cache.on_fetch_result(500, "", "", now());
    // Still scheduled at the original TTL, not at now + 5 s.
    EXPECT_EQ(cache.next_refresh(), now() - 20s + 3600s);
}

TEST_F(JwksCacheTest, UnknownKidRefetchIsRateLimited) {
    cache.on_fetch_result(200, "max-age=3600", doc1, now());
    EXPECT_FALSE(cache.unknown_kid("k1", now()));  // known kid: nothing to fetch
    EXPECT_FALSE(cache.unknown_kid("", now()));
    clock.advance(10s);
    EXPECT_TRUE(cache.unknown_kid("k2", now()));  // first unknown kid: fetch now
    EXPECT_TRUE(cache.fetch_in_flight(now()));
    EXPECT_FALSE(cache.unknown_kid("k3", now()));             // in flight
    cache.on_fetch_result(200, "max-age=3600", doc1, now());  // k2 still absent
    clock.advance(9s);
    EXPECT_FALSE(cache.unknown_kid("k2", now()));  // within 10 s of the last fetch
    clock.advance(1s);
    EXPECT_TRUE(cache.unknown_kid("k2", now()));
    cache.on_fetch_result(200, "max-age=3600", doc2, now());
    EXPECT_TRUE(cache.keys().contains_kid("k2"));
    clock.advance(60s);
    EXPECT_FALSE(cache.unknown_kid("k2", now()));
}

TEST_F(JwksCacheTest, UnknownKidFloodCausesAtMostOneFetchPerInterval) {
    cache.on_fetch_result(200, "max-age=3600", doc1, now());
    clock.advance(10s);
    int fetches = 0;
    for (int ms = 0; ms < 60'000;
         ms += 50) {  // a token with a fresh random kid every 50 ms for a minute
        if (cache.unknown_kid("attacker-" + std::to_string(ms), now())) {
            ++fetches;
            cache.on_fetch_result(200, "max-age=3600", doc1, now());
        }
        clock.advance(50ms);
    }
    EXPECT_EQ(fetches, 6);
}

TEST_F(JwksCacheTest, LostFetchTimesOut) {
    ASSERT_TRUE(cache.begin_refresh(now()));
    clock.advance(29s);
    EXPECT_FALSE(cache.needs_refresh(now()));
    clock.advance(1s);
    EXPECT_FALSE(cache.fetch_in_flight(now()));
    EXPECT_TRUE(cache.begin_refresh(now()));
}

TEST_F(JwksCacheTest, SymmetricKeysAreRefusedFromUrls) {
    const std::string doc = boost::json::serialize(boost::json::object{
        {"keys", boost::json::array{testing::oct_jwk(keys().hmac_secret, "h")}}});
    auto r = cache.on_fetch_result(200, "", doc, now());
    EXPECT_EQ(r.outcome, JwksFetchOutcome::failed);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("symmetric"), std::string::npos);
}

TEST_F(JwksCacheTest, DrivenThroughAFetcherCallback) {
    // The integrator's loop in miniature: a fetcher that queues requests, completions applied on
    // "the owning thread", the verifier copy refreshed when the set changes.
    std::deque<std::pair<std::string, JwksFetchDone>> pending;
    JwksFetcher fetcher = [&](const std::string& url, JwksFetchDone done) {
        pending.emplace_back(url, done);
    };

    IssuerConfig cfg;
    cfg.issuer = "https://idp.test";
    auto verifier = Verifier::create({cfg});
    ASSERT_TRUE(verifier);
    auto apply = [&](JwksFetchResponse response) {
        auto report = cache.on_fetch_result(response, now());
        if (report.outcome == JwksFetchOutcome::updated) {
            ASSERT_TRUE(verifier->set_keys(cfg.issuer, cache.keys()));
        }
    };

    const testing::Signer ec{Alg::es256, keys().ec256.get(), {}};
    const std::string token = testing::make_jwt(
        ec, boost::json::object{{"iss", "https://idp.test"}, {"exp", 1'700'000'100}}, "k2");
    const auto wall = clock.wall_now();

    EXPECT_EQ(verifier->verify(token, wall).error().reason, Reason::keys_unavailable);
    if (cache.begin_refresh(now())) fetcher(cache.url(), apply);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending.front().first, "https://idp.test/.well-known/jwks.json");
    pending.front().second(JwksFetchResponse{200, "max-age=300", doc1, {}});
    pending.pop_front();

    auto r = verifier->verify(token, wall);
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().reason, Reason::unknown_kid);
    // The set was fetched a moment ago, so the unknown kid cannot trigger another fetch yet...
    EXPECT_FALSE(cache.unknown_kid(r.error().kid, now()));
    clock.advance(10s);
    // ...but once the interval has passed it can.
    if (cache.unknown_kid(r.error().kid, now())) fetcher(cache.url(), apply);
    ASSERT_EQ(pending.size(), 1u);
    pending.front().second(JwksFetchResponse{200, "max-age=300", doc2, {}});
    pending.pop_front();
    EXPECT_TRUE(verifier->verify(token, wall));
}

TEST(CacheControl, MaxAgeParsing) {
    EXPECT_EQ(parse_cache_max_age("max-age=300"), 300s);
    EXPECT_EQ(parse_cache_max_age("public, max-age=60, must-revalidate"), 60s);
    EXPECT_EQ(parse_cache_max_age("MAX-AGE = 7"), 7s);
    EXPECT_EQ(parse_cache_max_age("max-age=\"42\""), 42s);
    EXPECT_EQ(parse_cache_max_age("max-age=0"), 0s);
    EXPECT_EQ(parse_cache_max_age("no-cache"), 0s);
    EXPECT_EQ(parse_cache_max_age("max-age=600, no-store"), 0s);
    EXPECT_EQ(parse_cache_max_age("max-age=99999999999999999999"),
              std::chrono::seconds(std::int64_t{1} << 31));
    EXPECT_FALSE(parse_cache_max_age(""));
    EXPECT_FALSE(parse_cache_max_age("public"));
    EXPECT_FALSE(parse_cache_max_age("max-age=abc"));
    EXPECT_FALSE(parse_cache_max_age("max-age=-5"));
    EXPECT_FALSE(parse_cache_max_age("s-maxage=5"));
}

}  // namespace
}  // namespace herald::security
