#pragma once
// Active health checks (docs/gateway.md "Health"): for every upstream with a `health_check`, each target is sent
// `GET <path>` every interval; the answers feed the upstream's ActiveHealth thresholds (proxy/health.hpp), which
// take a target out of balancing after `unhealthy_threshold` failed probes and put it back after
// `healthy_threshold` good ones. A probe is a fresh connection (TLS when the upstream says so), never a pooled
// one: it checks that the target accepts new connections, which is what a request may need.
//
// The prober follows the gateway's current snapshot: a reload that adds, removes or changes upstreams is picked
// up on the next tick. Threading: runs on one io_context; start() and stop() on its thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>

#include "gateway/gateway.hpp"

namespace herald::gateway {

class HealthProber : public std::enable_shared_from_this<HealthProber> {
public:
    HealthProber(boost::asio::io_context& io, Gateway& gateway) : io_(io), gateway_(gateway), timer_(io) {}
    void start();
    void stop();
    std::uint64_t probes_sent() const noexcept { return sent_.load(std::memory_order_relaxed); }

private:
    boost::asio::awaitable<void> loop();
    boost::asio::awaitable<void> probe(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<proxy::Upstream> upstream,
                                       std::size_t target);

    boost::asio::io_context& io_;
    Gateway& gateway_;
    boost::asio::steady_timer timer_;
    bool stopped_ = false;
    std::atomic<std::uint64_t> sent_{0};
};

}  // namespace herald::gateway
