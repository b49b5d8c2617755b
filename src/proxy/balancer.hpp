#pragma once
// Choosing a target of an upstream pool for one attempt.
//
// Every balancer skips targets that are not eligible (ejected by passive health or unhealthy by
// active health) and those in `exclude` (the targets already tried by this request, so a retry goes
// elsewhere). When nothing is left, pick() answers nullopt and the caller answers 503.
//
//   RoundRobin     smooth weighted round robin (nginx's algorithm): weights {5,1,1} give a a b a c
//                  a a, spreading a heavy target's turns instead of bunching them. The sequence of
//                  one cycle is computed once (weights reduced by their gcd; cycles longer than
//                  65536 are scaled down proportionally), and pick() is an atomic counter into it,
//                  so workers share it without a lock. A turn that falls on an unusable target is
//                  drawn again, so the others keep their relative weights.
//   LeastRequest   power of two choices: two distinct random eligible targets, the one with fewer
//                  requests in flight per unit of weight wins. Nearly as good as a full scan, O(1)
//                  state, and it avoids the herd that "always the least loaded" makes when several
//                  workers decide at once.
//   ConsistentHash a ring with `points_per_weight` × weight virtual nodes per target, placed by
//                  a stable hash of the target's address, so a request key keeps its target across
//                  restarts and when a target is added or removed only about 1/N of the keys move.
//                  The key is a header, a cookie or the client address (hash_on); a request
//                  without one falls back to round robin. An ineligible or excluded target's keys
//                  go to the next target clockwise.
//
// Randomness (LeastRequest) comes from a seeded splitmix64 sequence advanced atomically:
// deterministic for a seed in tests, lock-free and shared in production.
//
// Threading: pick() may be called from any number of threads at once; TargetSet implementations
// must allow that.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/proxy_settings.hpp"
#include "http/message.hpp"

namespace herald::proxy {

// What a balancer sees of a pool: a fixed number of targets whose eligibility and load change
// underneath.
class TargetSet {
public:
    virtual ~TargetSet() = default;
    virtual std::size_t size() const noexcept = 0;
    virtual bool eligible(std::size_t i) const noexcept = 0;  // admitted and healthy
    virtual std::uint64_t in_flight(std::size_t i) const noexcept = 0;
};

// Targets already tried by this request.
using Exclude = std::span<const std::size_t>;

class Balancer {
public:
    virtual ~Balancer() = default;
    // `key`: the hash key (ConsistentHash; others ignore it). nullopt: no eligible, non-excluded
    // target.
    virtual std::optional<std::size_t> pick(const TargetSet& targets, std::string_view key,
                                            Exclude exclude) = 0;
};

class RoundRobin final : public Balancer {
public:
    // One weight (>= 1) per target.
    explicit RoundRobin(std::vector<std::uint32_t> weights);
    std::optional<std::size_t> pick(const TargetSet& targets, std::string_view key,
                                    Exclude exclude) override;
    // One cycle of the schedule (target indices), for tests and the admin view.
    const std::vector<std::uint32_t>& cycle() const noexcept { return cycle_; }

private:
    std::vector<std::uint32_t> cycle_;
    std::atomic<std::uint64_t> next_{0};
};

class LeastRequest final : public Balancer {
public:
    LeastRequest(std::vector<std::uint32_t> weights, std::uint64_t seed);
    std::optional<std::size_t> pick(const TargetSet& targets, std::string_view key,
                                    Exclude exclude) override;

private:
    std::uint64_t random() noexcept;
    std::vector<std::uint32_t> weights_;
    std::atomic<std::uint64_t> state_;
};

class ConsistentHash final : public Balancer {
public:
    // `ids`: a stable identity per target ("host:port"), which places its points on the ring.
    ConsistentHash(std::vector<std::string> ids, std::vector<std::uint32_t> weights,
                   std::uint32_t points_per_weight = 100);
    std::optional<std::size_t> pick(const TargetSet& targets, std::string_view key,
                                    Exclude exclude) override;
    // The target owning `key` when every target is eligible (for tests and diagnostics).
    std::size_t owner(std::string_view key) const noexcept;
    std::size_t ring_size() const noexcept { return ring_.size(); }

private:
    std::vector<std::pair<std::uint64_t, std::uint32_t>> ring_;  // (point, target), sorted by point
    RoundRobin fallback_;
};

// A 64-bit hash that is the same on every platform and in every process (FNV-1a, then a murmur3
// finaliser to spread FNV's weak low bits), so ring positions and key placement survive restarts.
std::uint64_t stable_hash(std::string_view data) noexcept;

// The hash key of a request per hash_on: a header's first value, a cookie's value, or the client
// address. Empty when absent (the balancer then falls back to round robin). Views into `headers` or
// `client_address`.
std::string_view hash_key(const config::HashOnSettings& hash_on, const http::HeaderList& headers,
                          std::string_view client_address) noexcept;

// The balancer an upstream's settings ask for. `seed` feeds LeastRequest.
std::unique_ptr<Balancer> make_balancer(const config::UpstreamSettings& settings,
                                        std::uint64_t seed);

}  // namespace herald::proxy
