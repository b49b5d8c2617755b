#include "gateway/metrics.hpp"

#include <cstdio>

#include "proxy/errors.hpp"

namespace herald::gateway {

namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const char* name, const std::string& labels, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += buf;
    out += '\n';
}

std::string label(const char* key, const std::string& value) {
    // Label values are configuration names (letters, digits, '.', '-', '_'): nothing to escape.
    return std::string(key) + "=\"" + value + "\"";
}

}  // namespace

void append_metrics(std::string& out, Gateway& gateway) {
    auto& s = gateway.stats();
    header(out, "herald_proxy_requests_total", "counter", "Requests matched to a REST route.");
    sample(out, "herald_proxy_requests_total", "", double(s.requests.load()));
    header(out, "herald_proxy_responses_total", "counter", "Answers to proxied requests by status class.");
    for (unsigned c = 1; c <= 5; ++c)
        sample(out, "herald_proxy_responses_total", label("class", std::to_string(c) + "xx"),
               double(s.responses_by_class[c].load()));
    header(out, "herald_proxy_errors_total", "counter",
           "Answers Herald gave itself instead of an upstream's, by problem kind.");
    for (std::size_t k = 0; k < s.errors.size(); ++k)
        sample(out, "herald_proxy_errors_total", label("kind", proxy::kind_of(static_cast<proxy::ProxyError>(k))),
               double(s.errors[k].load()));
    header(out, "herald_proxy_upstream_attempts_total", "counter", "Attempts sent to upstream targets, retries included.");
    sample(out, "herald_proxy_upstream_attempts_total", "", double(s.attempts.load()));
    header(out, "herald_proxy_retries_total", "counter", "Attempts that were retries.");
    sample(out, "herald_proxy_retries_total", "", double(s.retries.load()));
    header(out, "herald_proxy_upstream_connections_opened_total", "counter", "New connections to upstream targets.");
    sample(out, "herald_proxy_upstream_connections_opened_total", "", double(s.connections_opened.load()));
    header(out, "herald_proxy_upstream_connections_reused_total", "counter", "Attempts on a pooled keep-alive connection.");
    sample(out, "herald_proxy_upstream_connections_reused_total", "", double(s.connections_reused.load()));
    header(out, "herald_proxy_websocket_tunnels_total", "counter", "WebSocket upgrades tunnelled to an upstream.");
    sample(out, "herald_proxy_websocket_tunnels_total", "", double(s.websocket_tunnels.load()));

    header(out, "herald_proxy_upstream_latency_seconds", "histogram",
           "Request sent to an upstream until its answer's head arrived.");
    prometheus::append_histogram(out, "herald_proxy_upstream_latency_seconds", {}, s.latency);

    auto snapshot = gateway.snapshot();
    header(out, "herald_proxy_upstream_targets", "gauge", "Targets of each upstream by state.");
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
        sample(out, "herald_proxy_upstream_targets", up + ",state=\"available\"", double(available));
        sample(out, "herald_proxy_upstream_targets", up + ",state=\"ejected\"", double(ejected));
        sample(out, "herald_proxy_upstream_targets", up + ",state=\"unhealthy\"", double(unhealthy));
    }
    header(out, "herald_proxy_upstream_ejections_total", "counter",
           "Passive-health ejections of an upstream's targets (since the upstream was last configured).");
    for (auto& [name, u] : snapshot->upstreams)
        sample(out, "herald_proxy_upstream_ejections_total", label("upstream", name), double(u->stats().ejections.load()));
    header(out, "herald_proxy_upstream_retry_budget_refused_total", "counter",
           "Retries the upstream's retry budget refused.");
    for (auto& [name, u] : snapshot->upstreams)
        sample(out, "herald_proxy_upstream_retry_budget_refused_total", label("upstream", name),
               double(u->retry_budget().retries_refused()));
}

}  // namespace herald::gateway
