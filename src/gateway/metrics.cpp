#include "gateway/metrics.hpp"

#include "base/histogram.hpp"
#include "proxy/errors.hpp"

namespace herald::gateway {

namespace {

std::string label(const char* key, const std::string& value) {
    // Label values are configuration names (letters, digits, '.', '-', '_'): nothing to escape.
    return std::string(key) + "=\"" + value + "\"";
}

}  // namespace

void append_metrics(std::string& out, Gateway& gateway) {
    auto& s = gateway.stats();
    prometheus::append_header(out, "herald_proxy_requests_total", "counter", "Requests matched to a REST route.");
    prometheus::append_sample(out, "herald_proxy_requests_total", "", std::uint64_t(s.requests.load()));
    prometheus::append_header(out, "herald_proxy_responses_total", "counter", "Answers to proxied requests by status class.");
    for (unsigned c = 1; c <= 5; ++c)
        prometheus::append_sample(out, "herald_proxy_responses_total", label("class", std::to_string(c) + "xx"),
               std::uint64_t(s.responses_by_class[c].load()));
    prometheus::append_header(out, "herald_proxy_errors_total", "counter",
           "Answers Herald gave itself instead of an upstream's, by problem kind.");
    for (std::size_t k = 0; k < s.errors.size(); ++k)
        prometheus::append_sample(out, "herald_proxy_errors_total", label("kind", proxy::kind_of(static_cast<proxy::ProxyError>(k))),
               std::uint64_t(s.errors[k].load()));
    prometheus::append_header(out, "herald_proxy_upstream_attempts_total", "counter", "Attempts sent to upstream targets, retries included.");
    prometheus::append_sample(out, "herald_proxy_upstream_attempts_total", "", std::uint64_t(s.attempts.load()));
    prometheus::append_header(out, "herald_proxy_retries_total", "counter", "Attempts that were retries.");
    prometheus::append_sample(out, "herald_proxy_retries_total", "", std::uint64_t(s.retries.load()));
    prometheus::append_header(out, "herald_proxy_upstream_connections_opened_total", "counter", "New connections to upstream targets.");
    prometheus::append_sample(out, "herald_proxy_upstream_connections_opened_total", "", std::uint64_t(s.connections_opened.load()));
    prometheus::append_header(out, "herald_proxy_upstream_connections_reused_total", "counter", "Attempts on a pooled keep-alive connection.");
    prometheus::append_sample(out, "herald_proxy_upstream_connections_reused_total", "", std::uint64_t(s.connections_reused.load()));
    prometheus::append_header(out, "herald_proxy_websocket_tunnels_total", "counter", "WebSocket upgrades tunnelled to an upstream.");
    prometheus::append_sample(out, "herald_proxy_websocket_tunnels_total", "", std::uint64_t(s.websocket_tunnels.load()));

    prometheus::append_header(out, "herald_proxy_upstream_latency_seconds", "histogram",
           "Request sent to an upstream until its answer's head arrived.");
    prometheus::append_histogram(out, "herald_proxy_upstream_latency_seconds", {}, s.latency);

    auto snapshot = gateway.snapshot();
    prometheus::append_header(out, "herald_proxy_upstream_targets", "gauge", "Targets of each upstream by state.");
    for (auto& [name, u] : snapshot->upstreams) {
        std::size_t available = 0, ejected = 0, unhealthy = 0;
        for (std::size_t i = 0; i < u->size(); ++i) {
            auto t = u->snapshot(i);
            if (t.ejected)
                ++ejected;
            else if (!t.healthy)
                ++unhealthy;
            else
                ++available;
        }
        const auto up = label("upstream", name);
        prometheus::append_sample(out, "herald_proxy_upstream_targets", up + ",state=\"available\"", std::uint64_t(available));
        prometheus::append_sample(out, "herald_proxy_upstream_targets", up + ",state=\"ejected\"", std::uint64_t(ejected));
        prometheus::append_sample(out, "herald_proxy_upstream_targets", up + ",state=\"unhealthy\"", std::uint64_t(unhealthy));
    }
    prometheus::append_header(out, "herald_proxy_upstream_ejections_total", "counter",
           "Passive-health ejections of an upstream's targets (since the upstream was last configured).");
    for (auto& [name, u] : snapshot->upstreams)
        prometheus::append_sample(out, "herald_proxy_upstream_ejections_total", label("upstream", name), std::uint64_t(u->stats().ejections.load()));
    prometheus::append_header(out, "herald_proxy_upstream_retry_budget_refused_total", "counter",
           "Retries the upstream's retry budget refused.");
    for (auto& [name, u] : snapshot->upstreams)
        prometheus::append_sample(out, "herald_proxy_upstream_retry_budget_refused_total", label("upstream", name),
               std::uint64_t(u->retry_budget().retries_refused()));
}

}  // namespace herald::gateway
