#pragma once
// An upstream pool at run time: its targets, their load and health, its balancer and its retry
// budget. The forwarding I/O (not in this module) asks it for a target per attempt and reports how
// each attempt went.
//
// Life of one proxied request against an Upstream:
//     auto request = upstream.retry_budget().begin_request();
//     std::vector<std::size_t> tried;
//     for (;;) {
//         auto lease = upstream.pick(hash_key(...), tried);  // no target: answer 503
//         ... connect to lease->target(), send, read ...
//         lease->report(status or nullopt);                  // passive health
//         if (ok) break;
//         tried.push_back(lease->index());
//         auto d = decide_retry({method, replayable, retries, call.retries}, failure,
//                               upstream.retry_budget());
//         if (d.verdict != RetryVerdict::retry) answer;      // d.token lives while the retry runs
//     }
//
// Threading: one Upstream is shared by every worker. Why this split rather than per-worker copies:
// in-flight counts and ejections only mean something pool-wide (a target failing on four workers is
// failing), and the per-request work must stay lock-free. So:
//   - per-target in-flight counts are atomics (incremented by pick, decremented when the Lease
//     ends);
//   - each target's availability is mirrored into atomics (ejected-until time, healthy flag) that
//     pick() reads without a lock;
//   - health *transitions* (a failure, a probe result, a success after failures) take one mutex
//     around the PassiveHealthPool/ActiveHealth state machines. A success with no failures pending
//     takes no lock, so the mutex is touched only while something is failing, and then by few
//     threads for a short time;
//   - balancers are lock-free (see balancer.hpp); the retry budget is atomics (retry_budget.hpp).
// An Upstream is not movable (leases point at it); keep it behind a unique_ptr or shared_ptr.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/expected.hpp"
#include "base/result.hpp"
#include "config/proxy_settings.hpp"
#include "proxy/balancer.hpp"
#include "proxy/health.hpp"
#include "proxy/retry_budget.hpp"

namespace herald::proxy {

using UpstreamSpec = config::UpstreamSettings;

struct Target {
    std::string host;  // IPv6 without brackets
    std::uint16_t port = 0;
    std::uint32_t weight = 1;
    std::string
        authority;  // "host:port", IPv6 in brackets: the target's identity in logs and hashing
};

// The timeouts and retries that apply to one route's calls: the upstream's, overridden by the
// route's.
struct CallSettings {
    std::int64_t connect_timeout_ms = 0;
    std::int64_t read_timeout_ms = 0;   // 0: none
    std::int64_t total_timeout_ms = 0;  // 0: none
    std::uint32_t retries = 0;
    std::int64_t per_try_timeout_ms = 0;  // 0: none
};
CallSettings call_settings(const UpstreamSpec& upstream, const config::RouteSettings& route);

// Why pick() found no target: every target is ejected or unhealthy (answer 503), or every usable
// one was already tried by this request.
enum class PickFailure : std::uint8_t { no_available_target, all_tried };
const char* to_string(PickFailure f) noexcept;

// Counters for metrics (herald_proxy_upstream_*); monotonic.
struct UpstreamStats {
    std::atomic<std::uint64_t> picks{0};
    std::atomic<std::uint64_t> pick_failures{0};
    std::atomic<std::uint64_t> attempt_failures{0};  // attempts that counted against passive health
    std::atomic<std::uint64_t> ejections{0};
    std::atomic<std::uint64_t> ejections_prevented{0};  // by max_ejection_percent
    std::atomic<std::uint64_t> became_unhealthy{0};
    std::atomic<std::uint64_t> became_healthy{0};
};

// One target's state as the admin API and metrics show it.
struct TargetSnapshot {
    std::uint64_t in_flight = 0;
    bool ejected = false;
    bool healthy = true;
    std::uint32_t consecutive_failures = 0;
    std::uint64_t ejections = 0;
};

// The active health probe for one target.
struct ProbeRequest {
    std::string target;  // the request-target: the configured path
    std::string host;    // the Host header
    std::int64_t timeout_ms = 0;
};

class Upstream : private TargetSet {
public:
    // Validates what the pool relies on (at least one target, weights, ports, hash_on with
    // consistent_hash); errors name "upstreams.<name>...". `seed` feeds the least-request
    // balancer's randomness.
    static Result<std::unique_ptr<Upstream>> create(UpstreamSpec spec, const Clock& clock,
                                                    std::uint64_t seed);

    Upstream(const Upstream&) = delete;
    Upstream& operator=(const Upstream&) = delete;

    // Holds one request in flight on one target; reports the attempt's outcome. Move-only; ends the
    // in-flight count when destroyed.
    class Lease {
    public:
        Lease(Lease&& o) noexcept : u_(o.u_), i_(o.i_) { o.u_ = nullptr; }
        Lease& operator=(Lease&& o) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { release(); }

        std::size_t index() const noexcept { return i_; }
        const Target& target() const noexcept { return u_->targets_[i_].target; }
        // The status received, or nullopt when no answer came; feeds passive health (health.hpp).
        // Once.
        HealthEvent report(std::optional<unsigned> status);
        void release() noexcept;

    private:
        friend class Upstream;
        Lease(Upstream* u, std::size_t i) noexcept : u_(u), i_(i) {}
        Upstream* u_;
        std::size_t i_;
    };

    // A target for the next attempt, or why there is none. `key`: the request's hash key
    // (balancer.hpp's hash_key); `exclude`: targets this request already tried.
    Expected<Lease, PickFailure> pick(std::string_view key, Exclude exclude = {});

    // Passive health, for callers that do not use Lease::report.
    HealthEvent record_result(std::size_t target, std::optional<unsigned> status);
    // Active health: the probe's status, or nullopt on a connect error or timeout.
    HealthEvent record_probe(std::size_t target, std::optional<unsigned> status);
    // Whether a probe of `target` is due now; probe_started marks it begun (call both from the
    // prober only).
    bool probe_due(std::size_t target) const;
    void probe_started(std::size_t target);
    ProbeRequest probe_request(std::size_t target) const;

    // Admitted and healthy now.
    bool available(std::size_t target) const noexcept;
    TargetSnapshot snapshot(std::size_t target) const;

    const UpstreamSpec& spec() const noexcept { return spec_; }
    const std::string& name() const noexcept { return spec_.name; }
    std::size_t size() const noexcept override { return targets_.size(); }
    const Target& target(std::size_t i) const noexcept { return targets_[i].target; }
    // The Host header for a request to `target` when the route does not preserve the client's: the
    // authority, without the port when it is the scheme's default.
    std::string host_header(std::size_t target) const;
    RetryBudget& retry_budget() noexcept { return budget_; }
    const UpstreamStats& stats() const noexcept { return stats_; }

private:
    struct Slot {
        Target target;
        std::atomic<std::uint64_t> in_flight{0};
        std::atomic<std::int64_t> ejected_until_ms{0};  // steady-clock ms; mirror of PassiveHealth
        std::atomic<bool> healthy{true};                // mirror of ActiveHealth
        std::atomic<bool> failing{false};  // consecutive failures > 0: a success must take the lock
    };

    Upstream(UpstreamSpec spec, const Clock& clock, std::uint64_t seed);
    std::int64_t now_ms() const noexcept;
    bool eligible(std::size_t i) const noexcept override { return available(i); }
    std::uint64_t in_flight(std::size_t i) const noexcept override {
        return targets_[i].in_flight.load(std::memory_order_relaxed);
    }

    UpstreamSpec spec_;
    const Clock& clock_;
    std::vector<Slot> targets_;
    std::unique_ptr<Balancer> balancer_;
    RetryBudget budget_;
    UpstreamStats stats_;
    mutable std::mutex
        health_mutex_;  // guards passive_ and active_ (the transitions), not the mirrors
    PassiveHealthPool passive_;
    std::vector<ActiveHealth> active_;
};

}  // namespace herald::proxy
