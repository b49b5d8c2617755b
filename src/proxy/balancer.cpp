#include "proxy/balancer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace herald::proxy {
namespace {

constexpr std::size_t kMaxCycle = 65536;
constexpr std::size_t kMaxRingPoints = 160'000;

bool excluded(Exclude exclude, std::size_t i) noexcept {
    return std::find(exclude.begin(), exclude.end(), i) != exclude.end();
}

bool usable(const TargetSet& t, Exclude exclude, std::size_t i) noexcept {
    return t.eligible(i) && !excluded(exclude, i);
}

// Scans from `start` for any usable target: the fallback when a schedule's own walk found none
// quickly.
std::optional<std::size_t> first_usable(const TargetSet& t, Exclude exclude,
                                        std::size_t start) noexcept {
    const auto n = t.size();
    for (std::size_t k = 0; k < n; ++k) {
        auto i = (start + k) % n;
        if (usable(t, exclude, i)) return i;
    }
    return std::nullopt;
}

std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return z ^ (z >> 33);
}

}  // namespace

std::uint64_t stable_hash(std::string_view data) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : data) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return mix64(h);
}

// --- RoundRobin ---------------------------------------------------------------------------------

RoundRobin::RoundRobin(std::vector<std::uint32_t> weights) {
    if (weights.empty()) return;
    for (auto& w : weights) w = std::max<std::uint32_t>(w, 1);
    std::uint32_t g = 0;
    for (auto w : weights) g = std::gcd(g, w);
    std::uint64_t sum = 0;
    for (auto& w : weights) sum += (w /= g);
    if (sum > kMaxCycle) {
        // Scale down proportionally; every target keeps at least one turn.
        const double f = static_cast<double>(kMaxCycle) / static_cast<double>(sum);
        sum = 0;
        for (auto& w : weights)
            sum += (w = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(w * f))));
    }
    // nginx's smooth weighted round robin, run for one cycle: each step every target gains its
    // weight, the richest is chosen and pays the total back. Ties go to the lower index.
    std::vector<std::int64_t> current(weights.size(), 0);
    const auto total = static_cast<std::int64_t>(sum);
    cycle_.reserve(sum);
    for (std::uint64_t step = 0; step < sum; ++step) {
        std::size_t best = 0;
        for (std::size_t i = 0; i < weights.size(); ++i) {
            current[i] += weights[i];
            if (current[i] > current[best]) best = i;
        }
        current[best] -= total;
        cycle_.push_back(static_cast<std::uint32_t>(best));
    }
}

std::optional<std::size_t> RoundRobin::pick(const TargetSet& targets, std::string_view,
                                            Exclude exclude) {
    if (cycle_.empty() || targets.size() == 0) return std::nullopt;
    const std::size_t len = cycle_.size();
    // A turn that falls on an unusable target is drawn again from the shared counter (rather than
    // handed to the next entry of the cycle), so the remaining targets keep their relative weights
    // exactly. The number of draws is bounded (a few turns of every target); past that, any usable
    // target will do, so a pool that is mostly ejected costs O(targets), not O(cycle).
    const std::size_t draws = std::min(len, 4 * targets.size() + 16);
    std::uint64_t turn = 0;
    for (std::size_t k = 0; k < draws; ++k) {
        turn = next_.fetch_add(1, std::memory_order_relaxed);
        auto i = cycle_[turn % len];
        if (i < targets.size() && usable(targets, exclude, i)) return i;
    }
    return first_usable(targets, exclude, turn % targets.size());
}

// --- LeastRequest -------------------------------------------------------------------------------

LeastRequest::LeastRequest(std::vector<std::uint32_t> weights, std::uint64_t seed)
    : weights_(std::move(weights)), state_(seed) {
    for (auto& w : weights_) w = std::max<std::uint32_t>(w, 1);
}

std::uint64_t LeastRequest::random() noexcept {
    // splitmix64 over an atomically advanced counter: every caller gets a distinct element of one
    // sequence.
    constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state_.fetch_add(kGamma, std::memory_order_relaxed) + kGamma;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::optional<std::size_t> LeastRequest::pick(const TargetSet& targets, std::string_view,
                                              Exclude exclude) {
    const auto n = std::min(targets.size(), weights_.size());
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i) m += usable(targets, exclude, i) ? 1 : 0;
    if (m == 0) return std::nullopt;
    std::size_t ra = random() % m, rb = ra;
    if (m > 1) {
        rb = random() % (m - 1);
        if (rb >= ra) ++rb;
    }
    // Ordinals among usable targets to indices (one scan).
    std::optional<std::size_t> a, b;
    for (std::size_t i = 0, k = 0; i < n && (!a || !b); ++i) {
        if (!usable(targets, exclude, i)) continue;
        if (k == ra) a = i;
        if (k == rb) b = i;
        ++k;
    }
    if (!a || !b)
        return a ? a : b ? b : first_usable(targets, exclude, 0);  // eligibility changed meanwhile
    // Fewer requests in flight per unit of weight wins; +1 so idle targets still compare by weight.
    const auto la = (targets.in_flight(*a) + 1) * weights_[*b];
    const auto lb = (targets.in_flight(*b) + 1) * weights_[*a];
    return lb < la ? b : a;
}

// --- ConsistentHash -----------------------------------------------------------------------------

namespace {
std::vector<std::uint32_t> unit_weights(std::size_t n) { return std::vector<std::uint32_t>(n, 1); }
}  // namespace

ConsistentHash::ConsistentHash(std::vector<std::string> ids, std::vector<std::uint32_t> weights,
                               std::uint32_t points_per_weight)
    : fallback_(weights.empty() ? unit_weights(ids.size()) : weights) {
    weights.resize(ids.size(), 1);
    std::uint64_t sum = 0;
    for (auto& w : weights) sum += (w = std::max<std::uint32_t>(w, 1));
    std::uint64_t per = std::max<std::uint32_t>(points_per_weight, 1);
    if (sum * per > kMaxRingPoints)
        per = std::max<std::uint64_t>(1, kMaxRingPoints / std::max<std::uint64_t>(sum, 1));
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
        const auto points = weights[i] * per;
        for (std::uint64_t k = 0; k < points; ++k)
            ring_.emplace_back(stable_hash(ids[i] + "#" + std::to_string(k)), i);
    }
    std::sort(ring_.begin(), ring_.end());
}

std::size_t ConsistentHash::owner(std::string_view key) const noexcept {
    if (ring_.empty()) return 0;
    auto it = std::lower_bound(ring_.begin(), ring_.end(),
                               std::make_pair(stable_hash(key), std::uint32_t{0}));
    return (it == ring_.end() ? ring_.front() : *it).second;
}

std::optional<std::size_t> ConsistentHash::pick(const TargetSet& targets, std::string_view key,
                                                Exclude exclude) {
    if (key.empty()) return fallback_.pick(targets, key, exclude);
    if (ring_.empty() || !first_usable(targets, exclude, 0)) return std::nullopt;
    auto it = std::lower_bound(ring_.begin(), ring_.end(),
                               std::make_pair(stable_hash(key), std::uint32_t{0}));
    auto start = static_cast<std::size_t>(it - ring_.begin());
    for (std::size_t k = 0; k < ring_.size(); ++k) {
        auto t = ring_[(start + k) % ring_.size()].second;
        if (t < targets.size() && usable(targets, exclude, t)) return t;
    }
    return first_usable(targets, exclude, 0);
}

// --- keys and construction ----------------------------------------------------------------------

std::string_view hash_key(const config::HashOnSettings& on, const http::HeaderList& headers,
                          std::string_view client_address) noexcept {
    switch (on.source) {
        case config::HashSource::none:
            return {};
        case config::HashSource::client_address:
            return client_address;
        case config::HashSource::header:
            for (auto& [name, value] : headers)
                if (http::iequals(name, on.name)) return value;
            return {};
        case config::HashSource::cookie:
            for (auto& [name, value] : headers) {
                if (!http::iequals(name, "Cookie")) continue;
                std::string_view rest = value;
                while (!rest.empty()) {
                    auto semi = rest.find(';');
                    auto item = rest.substr(0, semi);
                    rest =
                        semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
                    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
                        item.remove_prefix(1);
                    auto eq = item.find('=');
                    if (eq != std::string_view::npos && item.substr(0, eq) == on.name) {
                        auto v = item.substr(eq + 1);
                        while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
                            v.remove_suffix(1);
                        return v;
                    }
                }
            }
            return {};
    }
    return {};
}

std::unique_ptr<Balancer> make_balancer(const config::UpstreamSettings& s, std::uint64_t seed) {
    std::vector<std::uint32_t> weights;
    std::vector<std::string> ids;
    for (auto& t : s.targets) {
        weights.push_back(t.weight);
        ids.push_back(t.host + ":" + std::to_string(t.port));
    }
    switch (s.balancer) {
        case config::BalancerKind::round_robin:
            return std::make_unique<RoundRobin>(std::move(weights));
        case config::BalancerKind::least_request:
            return std::make_unique<LeastRequest>(std::move(weights), seed);
        case config::BalancerKind::consistent_hash:
            return std::make_unique<ConsistentHash>(std::move(ids), std::move(weights));
    }
    return std::make_unique<RoundRobin>(std::move(weights));
}

}  // namespace herald::proxy
