#pragma once
// The REST gateway's shared state (docs/gateway.md): the compiled route table, the upstream pools with their
// health, TLS client contexts and per-route rate limiters — one immutable Snapshot, swapped whole when the
// configuration changes (SIGHUP, the admin API), so a request sees either the old routes or the new ones, never
// a mix. Requests in flight keep the snapshot they started with alive (shared_ptr).
//
// Threading: snapshot() and replace() from any thread. A Snapshot's contents are immutable except the Upstream
// objects' own atomics (in-flight counts, health), which are built for concurrent use (proxy/upstream.hpp).

#include <boost/asio/ssl/context.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/histogram.hpp"
#include "base/result.hpp"
#include "base/snapshot_cell.hpp"
#include "config/proxy_settings.hpp"
#include "proxy/errors.hpp"
#include "proxy/route.hpp"
#include "proxy/upstream.hpp"
#include "security/rate_limiter.hpp"

namespace herald::gateway {

// Counters for metrics (herald_proxy_*), shared by every worker; monotonic.
struct GatewayStats {
    std::atomic<std::uint64_t> requests{0};
    std::array<std::atomic<std::uint64_t>, 6> responses_by_class{};  // [1..5]: 1xx..5xx as sent to clients
    std::array<std::atomic<std::uint64_t>, 7> errors{};              // by proxy::ProxyError
    std::atomic<std::uint64_t> attempts{0};                          // upstream attempts, retries included
    std::atomic<std::uint64_t> retries{0};
    std::atomic<std::uint64_t> connections_opened{0};
    std::atomic<std::uint64_t> connections_reused{0};
    std::atomic<std::uint64_t> websocket_tunnels{0};
    // Upstream latency (request sent → response head received), a fixed-bucket histogram in seconds.
    static constexpr std::array<double, 12> latency_bounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,   0.5,   1,    2.5,   10};
    Histogram latency{latency_bounds};
    void observe_latency(std::int64_t ns) noexcept { latency.observe(std::chrono::nanoseconds(ns)); }
};

struct Snapshot {
    proxy::RouteTable routes;
    std::map<std::string, std::shared_ptr<proxy::Upstream>, std::less<>> upstreams;
    std::map<std::string, std::shared_ptr<boost::asio::ssl::context>, std::less<>> tls;  // upstreams with tls
    std::vector<std::shared_ptr<security::SharedRateLimiter>> route_limiters;  // by route index; null: none
    // As configured, for the config dump and the catalog.
    std::vector<config::RouteSettings> route_settings;
    std::map<std::string, config::UpstreamSettings> upstream_settings;
    std::uint64_t generation = 0;

    bool empty() const noexcept { return routes.size() == 0; }
    proxy::Upstream* upstream(std::string_view name) const;
    boost::asio::ssl::context* tls_context(std::string_view name) const;
};

class Gateway {
public:
    explicit Gateway(const Clock& clock);

    // Builds a snapshot from settings (validated by the config parser; re-checked here: unknown upstream,
    // unreadable CA file, bad route). Does not install it.
    Result<std::shared_ptr<const Snapshot>> build(std::vector<config::RouteSettings> routes,
                                                  std::map<std::string, config::UpstreamSettings> upstreams) const;
    // Installs a snapshot made by build().
    void install(std::shared_ptr<const Snapshot> snapshot) { state_.store(std::move(snapshot)); }
    // Builds and installs; on error nothing changes.
    Result<void> apply(std::vector<config::RouteSettings> routes,
                       std::map<std::string, config::UpstreamSettings> upstreams);

    std::shared_ptr<const Snapshot> snapshot() const { return state_.load(); }
    GatewayStats& stats() noexcept { return stats_; }

    // Whether a request-target belongs to Herald's own API (never proxied, whatever the routes say).
    static bool is_reserved(std::string_view target) noexcept;

private:
    const Clock& clock_;
    SnapshotCell<Snapshot> state_;
    mutable std::atomic<std::uint64_t> generation_{0};
    GatewayStats stats_;
};

}  // namespace herald::gateway
