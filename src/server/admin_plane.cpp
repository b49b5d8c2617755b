#include "server/admin_plane.hpp"

#include <boost/json.hpp>

#include "gateway/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "base/histogram.hpp"

#include "http/problem.hpp"

namespace herald::server {

namespace json = boost::json;

namespace {

void metric(std::ostringstream& out, const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

long process_rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, rss = 0;
    statm >> pages >> rss;
    return rss * sysconf(_SC_PAGESIZE);
}

// Open file descriptors: the entries of /proc/self/fd, less the one this listing holds; -1 when unreadable.
std::int64_t process_open_fds() {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    std::int64_t n = 0;
    while (const dirent* entry = readdir(dir))
        if (entry->d_name[0] != '.') ++n;
    closedir(dir);
    return n > 0 ? n - 1 : 0;
}

// The soft limit on open descriptors (what accept() runs into); RLIM_INFINITY as the largest integer.
std::uint64_t process_max_fds() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    return static_cast<std::uint64_t>(limit.rlim_cur);
}

// The "Threads:" line of /proc/self/status; -1 when unreadable.
std::int64_t process_threads() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0) return std::strtoll(line.c_str() + 8, nullptr, 10);
    return -1;
}

// User and system CPU time of every thread, in nanoseconds.
std::uint64_t process_cpu_ns() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    auto ns = [](const timeval& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_usec) * 1000u;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

std::string label(std::string_view key, std::string_view value) {
    std::string l(key);
    l += "=\"";
    prometheus::append_label_value(l, value);
    l += '"';
    return l;
}

// Publishing per topic (publish/topic_metrics.hpp), for the topics that exist now.
void topic_publish_metrics(std::ostringstream& o, const std::vector<engine::TopicInfo>& topics,
                           publish::TopicMetrics& registry) {
    std::vector<std::pair<std::string, const publish::TopicCounters*>> rows;
    rows.reserve(topics.size());
    for (auto& t : topics) rows.emplace_back(label("topic", t.name), &registry.for_topic(t.name));
    std::string out;
    auto counter = [&](const char* name, const char* help, auto field) {
        prometheus::append_header(out, name, "counter", help);
        for (auto& [labels, c] : rows) prometheus::append_sample(out, name, labels, (c->*field).load());
    };
    counter("herald_topic_events_published_total", "Events appended to the topic (dedup hits excluded).",
            &publish::TopicCounters::events);
    counter("herald_topic_bytes_published_total",
            "Bytes of the event records appended to the topic (the CloudEvent JSON and its record header).",
            &publish::TopicCounters::bytes);
    counter("herald_topic_duplicates_total", "Published events answered from the topic's dedup window.",
            &publish::TopicCounters::duplicates);
    counter("herald_topic_validation_failures_total",
            "Publish requests to the topic refused by a contract (schema, naming rule, accepted types).",
            &publish::TopicCounters::validation_failures);
    prometheus::append_header(out, "herald_publish_duration_seconds", "histogram",
                              "Acknowledged publish requests: request read until the answer is ready (events durable).");
    for (auto& [labels, c] : rows)
        prometheus::append_histogram(out, "herald_publish_duration_seconds", labels, c->publish_duration);
    o << out;
}

// Webhook deliveries. Per-subscription series are bounded by webhooks.max_subscriptions.
void webhook_metrics(std::ostringstream& o, webhook::Service& svc) {
    auto& st = svc.stats();
    metric(o, "herald_webhook_attempts_total", "counter", "Webhook delivery attempts by outcome.");
    o << "herald_webhook_attempts_total{outcome=\"delivered\"} " << st.attempts_delivered.load() << '\n';
    o << "herald_webhook_attempts_total{outcome=\"retry\"} " << st.attempts_retry.load() << '\n';
    o << "herald_webhook_attempts_total{outcome=\"dead_letter\"} " << st.attempts_dead_letter.load() << '\n';
    o << "herald_webhook_attempts_total{outcome=\"gone\"} " << st.attempts_gone.load() << '\n';
    o << "herald_webhook_attempts_total{outcome=\"blocked\"} " << st.attempts_blocked.load() << '\n';
    metric(o, "herald_webhook_dispatching", "gauge",
           "1 when this node delivers the webhook subscriptions: always on one node, the lease holder among several.");
    o << "herald_webhook_dispatching " << (svc.dispatching() ? 1 : 0) << '\n';
    metric(o, "herald_webhook_subscriptions_disabled_total", "counter", "Subscriptions disabled (410 Gone or failing too long).");
    o << "herald_webhook_subscriptions_disabled_total " << st.disabled_total.load() << '\n';
    metric(o, "herald_webhook_delivery_latency_seconds", "histogram", "Time from append to the receiver's 2xx.");
    {
        std::string h;
        prometheus::append_histogram(h, "herald_webhook_delivery_latency_seconds", {}, st.latency);
        o << h;
    }
    auto gauges = svc.gauges();
    std::map<std::string, int> by_state{{"active", 0}, {"paused", 0}, {"disabled", 0}};
    for (auto& g : gauges) by_state[g.state]++;
    metric(o, "herald_webhook_subscriptions", "gauge", "Webhook subscriptions by state.");
    for (auto& [state, n] : by_state) o << "herald_webhook_subscriptions{state=\"" << state << "\"} " << n << '\n';
    metric(o, "herald_webhook_lag_events", "gauge", "Events between a subscription's cursor and the end of its topic.");
    for (auto& g : gauges)
        o << "herald_webhook_lag_events{subscription=\"" << g.id << "\",topic=\"" << g.topic << "\"} " << g.lag << '\n';
    metric(o, "herald_webhook_dead_letters_total", "counter", "Events dead-lettered, per subscription.");
    for (auto& g : gauges)
        o << "herald_webhook_dead_letters_total{subscription=\"" << g.id << "\",topic=\"" << g.topic << "\"} " << g.dead_letters << '\n';
    metric(o, "herald_webhook_dead_letter_queue_size", "gauge",
           "Entries in the subscription's dead-letter queue now (replay and delete remove them).");
    for (auto& g : gauges)
        o << "herald_webhook_dead_letter_queue_size{subscription=\"" << g.id << "\",topic=\"" << g.topic << "\"} "
          << g.dead_letter_queue << '\n';
}

void security_metrics(std::ostringstream& o, SecurityContext& sc) {
    auto& st = sc.stats;
    metric(o, "herald_security_authentications_total", "counter", "Requests authenticated (credential or anonymous).");
    o << "herald_security_authentications_total " << st.authenticated.load() << '\n';
    metric(o, "herald_security_authn_failures_total", "counter", "Authentication failures by reason.");
    for (std::size_t i = 0; i <= static_cast<std::size_t>(security::Reason::insufficient_scope); ++i) {
        auto n = st.authn_failures[i].load();
        if (n) o << "herald_security_authn_failures_total{reason=\"" << security::to_string(static_cast<security::Reason>(i)) << "\"} " << n << '\n';
    }
    metric(o, "herald_security_authz_denied_total", "counter", "Operations refused for a missing scope.");
    o << "herald_security_authz_denied_total " << st.authz_denied.load() << '\n';
    metric(o, "herald_security_rate_limited_total", "counter", "Requests and messages refused by a rate limit.");
    for (std::size_t i = 0; i < kLimitKinds; ++i)
        o << "herald_security_rate_limited_total{limit=\"" << to_string(static_cast<LimitKind>(i)) << "\"} " << st.rate_limited[i].load() << '\n';
}

// The admin endpoints' names in access lines and spans: literals, so the request can hold a view of them.
std::string_view admin_route(std::string_view path) {
    static constexpr std::string_view kRoutes[] = {"/healthz", "/readyz",          "/metrics",
                                                   "/config",  "/admin/log/level", "/admin/log/reopen"};
    for (auto r : kRoutes)
        if (path == r) return r;
    if (path == "/schemas" || path.rfind("/schemas/", 0) == 0) return "/schemas";
    return {};
}

}  // namespace

std::string AdminPlane::metrics_text() const {
    std::ostringstream o;
    auto topics = ctx_.engine.topics();
    metric(o, "herald_topic_end_offset", "gauge", "Next offset to be assigned in the topic's log.");
    for (auto& t : topics) o << "herald_topic_end_offset{topic=\"" << t.name << "\"} " << t.end_offset << '\n';
    metric(o, "herald_topic_start_offset", "gauge", "First retained offset of the topic's log.");
    for (auto& t : topics) o << "herald_topic_start_offset{topic=\"" << t.name << "\"} " << t.start_offset << '\n';
    metric(o, "herald_topic_log_bytes", "gauge", "Bytes of the topic's log on disk.");
    for (auto& t : topics) o << "herald_topic_log_bytes{topic=\"" << t.name << "\"} " << t.size_bytes << '\n';
    topic_publish_metrics(o, topics, ctx_.data.publish.topics);
    {
        std::string out;
        std::string last;
        for (auto& st : ctx_.engine.stats()) {
            const std::string name = "herald_engine_" + st.name;
            if (name != last) prometheus::append_header(out, name.c_str(), st.type, st.help);
            last = name;
            prometheus::append_sample(out, name.c_str(), st.topic.empty() ? std::string() : label("topic", st.topic), st.value);
        }
        o << out;
    }

    auto& d = ctx_.data;
    metric(o, "herald_publish_requests_total", "counter", "Publish requests received.");
    o << "herald_publish_requests_total " << d.publish.requests.load() << '\n';
    metric(o, "herald_publish_events_total", "counter", "Events appended by publish requests.");
    o << "herald_publish_events_total " << d.publish.events.load() << '\n';
    metric(o, "herald_publish_duplicates_total", "counter", "Published events answered from the dedup window.");
    o << "herald_publish_duplicates_total " << d.publish.duplicates.load() << '\n';
    metric(o, "herald_publish_rejected_total", "counter", "Publish requests answered with an error.");
    o << "herald_publish_rejected_total " << d.publish.rejected.load() << '\n';
    metric(o, "herald_pages_served_total", "counter", "JSON pages (including long-polls) answered.");
    o << "herald_pages_served_total " << d.pages_served.load() << '\n';

    metric(o, "herald_sse_streams_open", "gauge", "Open SSE streams.");
    o << "herald_sse_streams_open " << d.sse.open.load() << '\n';
    metric(o, "herald_sse_streams_opened_total", "counter", "SSE streams opened.");
    o << "herald_sse_streams_opened_total " << d.sse.opened.load() << '\n';
    metric(o, "herald_sse_bytes_written_total", "counter", "Bytes written to SSE streams.");
    o << "herald_sse_bytes_written_total " << d.sse.bytes_written.load() << '\n';
    metric(o, "herald_sse_catchup_switches_total", "counter",
           "Times a closed SSE stream had switched from live to catch-up (slow consumer or gap).");
    o << "herald_sse_catchup_switches_total " << d.sse.catchup_switches.load() << '\n';

    auto& ws = d.websocket;
    metric(o, "herald_publish_contract_rejections_total", "counter", "Publish requests refused by a contract (schema, naming, accepted types).");
    o << "herald_publish_contract_rejections_total " << d.publish.contract_rejected.load() << '\n';
    metric(o, "herald_websocket_sessions_open", "gauge", "Open WebSocket sessions.");
    o << "herald_websocket_sessions_open " << ws.open.load() << '\n';
    metric(o, "herald_websocket_sessions_opened_total", "counter", "WebSocket sessions opened.");
    o << "herald_websocket_sessions_opened_total " << ws.opened.load() << '\n';
    metric(o, "herald_websocket_subscriptions_open", "gauge", "Open WebSocket subscriptions.");
    o << "herald_websocket_subscriptions_open " << ws.subscriptions.load() << '\n';
    metric(o, "herald_websocket_messages_received_total", "counter", "WebSocket data messages received.");
    o << "herald_websocket_messages_received_total " << ws.messages_received.load() << '\n';
    metric(o, "herald_websocket_protocol_errors_total", "counter", "WebSocket connections closed for a protocol violation.");
    o << "herald_websocket_protocol_errors_total " << ws.protocol_errors.load() << '\n';
    metric(o, "herald_websocket_error_messages_total", "counter", "herald.v1 error messages sent.");
    o << "herald_websocket_error_messages_total " << ws.message_errors.load() << '\n';
    metric(o, "herald_websocket_bytes_written_total", "counter", "Bytes written to WebSocket connections.");
    o << "herald_websocket_bytes_written_total " << ws.bytes_written.load() << '\n';
    metric(o, "herald_websocket_acks_total", "counter", "herald.v1 ack messages accepted.");
    o << "herald_websocket_acks_total " << ws.acks.load() << '\n';
    metric(o, "herald_websocket_compressed_messages_sent_total", "counter", "Event messages sent permessage-deflate compressed.");
    o << "herald_websocket_compressed_messages_sent_total " << ws.compressed_messages_sent.load() << '\n';
    metric(o, "herald_websocket_compressed_messages_received_total", "counter", "Client messages received permessage-deflate compressed.");
    o << "herald_websocket_compressed_messages_received_total " << ws.compressed_messages_received.load() << '\n';
    metric(o, "herald_websocket_consumer_lag_events", "gauge", "Events published after the last acked one, summed over acking subscriptions.");
    o << "herald_websocket_consumer_lag_events " << ws.consumer_lag.load() << '\n';
    metric(o, "herald_sse_consumer_lag_events", "gauge",
           "Events in the topic after each SSE stream's position, summed over open streams.");
    o << "herald_sse_consumer_lag_events " << d.sse.consumer_lag.load() << '\n';
    {
        std::string out;
        prometheus::append_header(out, "herald_delivery_latency_seconds", "histogram",
                                  "Live events: commit until the write carrying them to the subscriber completed.");
        prometheus::append_histogram(out, "herald_delivery_latency_seconds", "transport=\"sse\"",
                                     d.sse.delivery_latency);
        prometheus::append_histogram(out, "herald_delivery_latency_seconds", "transport=\"websocket\"",
                                     ws.delivery_latency);
        prometheus::append_header(out, "herald_slow_consumer_disconnects_total", "counter",
                                  "Connections closed because the consumer did not drain what Herald wrote to it.");
        prometheus::append_sample(out, "herald_slow_consumer_disconnects_total", "transport=\"websocket\"",
                                  ws.slow_consumer_disconnects.load());
        o << out;
    }

    std::uint64_t batches = 0, deliveries = 0, flushes = 0;
    for (auto* w : ctx_.worker_hubs) {
        batches += w->stats().batches.load(std::memory_order_relaxed);
        deliveries += w->stats().deliveries.load(std::memory_order_relaxed);
        flushes += w->stats().flushes.load(std::memory_order_relaxed);
    }
    metric(o, "herald_hub_batches_total", "counter", "Committed batches dispatched to workers.");
    o << "herald_hub_batches_total " << batches << '\n';
    metric(o, "herald_hub_deliveries_total", "counter", "Events handed to live subscribers.");
    o << "herald_hub_deliveries_total " << deliveries << '\n';
    metric(o, "herald_hub_flushes_total", "counter",
           "Connections the write scheduler flushed; deliveries per flush is the events per write under load.");
    o << "herald_hub_flushes_total " << flushes << '\n';
    if (ctx_.fanout) {
        metric(o, "herald_hub_unwatched_batches_total", "counter",
               "Committed batches no worker had a subscriber for: neither encoded nor dispatched.");
        o << "herald_hub_unwatched_batches_total " << ctx_.fanout->unwatched_batches() << '\n';
    }

    if (ctx_.webhooks) webhook_metrics(o, *ctx_.webhooks);
    if (ctx_.security) security_metrics(o, *ctx_.security);
    if (ctx_.logger) {
        auto& ls = ctx_.logger->stats();
        metric(o, "herald_log_lines_total", "counter", "Log lines written, by kind.");
        o << "herald_log_lines_total{kind=\"app\"} " << ls.lines.load() << '\n';
        o << "herald_log_lines_total{kind=\"access\"} " << ls.access_lines.load() << '\n';
        metric(o, "herald_log_write_errors_total", "counter", "Log lines the output refused (disk full, closed pipe).");
        o << "herald_log_write_errors_total " << ctx_.logger->sink().write_errors() << '\n';
    }
    if (ctx_.exporter) {
        auto& ts = ctx_.exporter->stats();
        metric(o, "herald_trace_spans_total", "counter", "Spans by export outcome.");
        o << "herald_trace_spans_total{outcome=\"exported\"} " << ts.exported.load() << '\n';
        o << "herald_trace_spans_total{outcome=\"dropped\"} " << ts.dropped.load() << '\n';
        o << "herald_trace_spans_total{outcome=\"failed\"} " << ts.failed.load() << '\n';
        metric(o, "herald_trace_export_requests_total", "counter", "OTLP export requests, by result.");
        o << "herald_trace_export_requests_total{result=\"ok\"} " << ts.batches.load() - ts.failed_batches.load() << '\n';
        o << "herald_trace_export_requests_total{result=\"failed\"} " << ts.failed_batches.load() << '\n';
        metric(o, "herald_trace_queue_spans", "gauge", "Spans waiting to be exported.");
        o << "herald_trace_queue_spans " << ctx_.exporter->queued() << '\n';
    }

    auto& c = ctx_.connections;
    metric(o, "herald_http_connections_open", "gauge", "Open data-plane connections (streams included).");
    o << "herald_http_connections_open " << c.open.load() << '\n';
    metric(o, "herald_http_connections_accepted_total", "counter", "Data-plane connections accepted.");
    o << "herald_http_connections_accepted_total " << c.accepted.load() << '\n';
    metric(o, "herald_http_connections_refused_total", "counter", "Connections refused at the connection limit.");
    o << "herald_http_connections_refused_total " << c.refused.load() << '\n';
    metric(o, "herald_http_connections_refused_per_address_total", "counter", "Connections refused at the per-address limit.");
    o << "herald_http_connections_refused_per_address_total " << c.refused_per_address.load() << '\n';
    metric(o, "herald_http_requests_total", "counter", "Data-plane HTTP requests.");
    o << "herald_http_requests_total " << c.requests.load() << '\n';
    {
        std::string out;
        prometheus::append_header(out, "herald_http_requests_by_route_total", "counter",
                                  "HTTP exchanges by listener, route template and status class (streams once, at takeover).");
        d.http_data.append_requests(out, "data");
        d.http_admin.append_requests(out, "admin");
        prometheus::append_header(out, "herald_http_request_duration_seconds", "histogram",
                                  "HTTP exchanges: request head read until the response was written (streams: until takeover).");
        d.http_data.append_durations(out, "data");
        d.http_admin.append_durations(out, "admin");
        o << out;
    }
    metric(o, "herald_http_tls_handshakes_total", "counter",
           "Data-plane TLS handshakes, by result (failed: refused, timed out, or plain HTTP on the TLS port).");
    o << "herald_http_tls_handshakes_total{result=\"ok\"} " << c.tls_handshakes.load() << '\n';
    o << "herald_http_tls_handshakes_total{result=\"failed\"} " << c.tls_handshake_failures.load() << '\n';

    metric(o, "herald_process_resident_memory_bytes", "gauge", "Resident set size.");
    o << "herald_process_resident_memory_bytes " << process_rss_bytes() << '\n';
    metric(o, "herald_process_open_fds", "gauge", "Open file descriptors.");
    if (auto fds = process_open_fds(); fds >= 0) o << "herald_process_open_fds " << fds << '\n';
    metric(o, "herald_process_max_fds", "gauge", "Limit on open file descriptors (RLIMIT_NOFILE, soft).");
    o << "herald_process_max_fds " << process_max_fds() << '\n';
    metric(o, "herald_process_threads", "gauge", "Threads of the process.");
    if (auto threads = process_threads(); threads >= 0) o << "herald_process_threads " << threads << '\n';
    {
        std::string out;
        prometheus::append_header(out, "herald_process_cpu_seconds_total", "counter",
                                  "User and system CPU time spent by the process.");
        out += "herald_process_cpu_seconds_total ";
        prometheus::append_seconds(out, process_cpu_ns());
        out += '\n';
        o << out;
    }
    metric(o, "herald_process_uptime_seconds", "gauge", "Seconds since start.");
    o << "herald_process_uptime_seconds "
      << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - ctx_.started).count()
      << '\n';
    metric(o, "herald_build_info", "gauge", "Build information.");
    o << "herald_build_info{version=\"" << HERALD_VERSION << "\"} 1\n";
    return o.str();
}

AdminPlane::AdminPlane(AdminContext context) : ctx_(std::move(context)) {
    if (ctx_.security) access_ = std::make_unique<Access>(*ctx_.security, SystemClock::instance());
}

http::Response AdminPlane::log_level(http::Request& req) {
    auto& logger = *ctx_.logger;
    auto view = [&] {
        json::object o;
        o["level"] = log::to_string(logger.level());
        o["format"] = log::to_string(logger.format());
        o["output"] = logger.sink().description();
        o["access"] = logger.access_enabled();
        return o;
    };
    if (req.method == "GET") return http::json_response(200, json::serialize(view()));
    if (req.method != "PUT") {
        auto r = http::problem_response({405, "method-not-allowed", "Method not allowed", "allowed: GET, PUT", {}, {}});
        r.set("Allow", "GET, PUT");
        return r;
    }
    auto bad = [](std::string detail, std::string attribute) {
        return http::problem_response({400, "invalid-parameter", "Invalid parameter", std::move(detail),
                                       std::move(attribute), {}});
    };
    boost::system::error_code ec;
    auto body = json::parse(req.body, ec);
    if (ec || !body.is_object()) return bad("expected a JSON object such as {\"level\":\"debug\"}", "level");
    auto& o = body.as_object();
    for (auto& [k, v] : o)
        if (k != "level" && k != "access") return bad("unknown member '" + std::string(k) + "'", std::string(k));
    std::optional<log::Level> level;
    if (auto* l = o.if_contains("level")) {
        if (!l->is_string()) return bad("level: expected debug, info, warn or error", "level");
        auto parsed = log::parse_level(l->as_string());
        if (!parsed) return bad("level: " + parsed.error().message, "level");
        level = *parsed;
    }
    std::optional<bool> access;
    if (auto* a = o.if_contains("access")) {
        if (!a->is_bool()) return bad("access: expected true or false", "access");
        access = a->as_bool();
    }
    if (!level && !access) return bad("give level, access or both", "level");
    const auto previous = logger.level();
    if (level) logger.set_level(*level);
    if (access) logger.set_access(*access);
    logger.info("admin", "log settings changed",
                {{"level", log::to_string(logger.level())},
                 {"previous_level", log::to_string(previous)},
                 {"access", logger.access_enabled()}});
    return http::json_response(200, json::serialize(view()));
}

boost::asio::awaitable<http::Response> AdminPlane::handle(http::Request& req) {
    req.route = admin_route(req.path);
    for (auto* r : resources_)
        if (req.route.empty()) req.route = r->route(req.path);
    if (req.path == "/healthz" && (req.method == "GET" || req.method == "HEAD"))
        co_return http::json_response(200, "{\"status\":\"ok\"}");
    // Probes stay open; everything else on the admin listener needs the admin token or the `admin` scope.
    if (req.path != "/readyz" && access_) {
        if (auto denied = access_->authorize_admin(req)) co_return std::move(*denied);
        // The admin token (or a principal with the `admin` scope): the access log names the role, never the token.
        req.principal = access_->enabled() ? "admin" : "anonymous";
    }
    if (ctx_.schemas) {
        if (auto r = ctx_.schemas->handle(req)) co_return std::move(*r);
    }
    for (auto* resource : resources_) {
        auto answer = co_await resource->handle(req);
        if (answer) co_return std::move(*answer);
    }
    if (ctx_.gateway) {
        if (auto r = ctx_.gateway->handle(req)) co_return std::move(*r);
    }
    if (ctx_.reload && req.path == "/admin/reload") {
        if (req.method != "POST")
            co_return http::problem_response({405, "method-not-allowed", "Method not allowed", "allowed: POST", {}, {}});
        auto r = ctx_.reload();
        if (!r)
            co_return http::problem_response(
                {r.error().code == Errc::conflict ? 409u : 400u, "reload-refused", "Reload refused",
                 r.error().message + " (the running configuration is unchanged)", r.error().attribute, {}});
        co_return http::json_response(200, "{\"reloaded\":true,\"detail\":" + json::serialize(json::value(*r)) + "}");
    }
    if (ctx_.logger && req.path == "/admin/log/level") {
        co_return log_level(req);
    }
    if (ctx_.logger && req.path == "/admin/log/reopen") {
        if (req.method != "POST")
            co_return http::problem_response({405, "method-not-allowed", "Method not allowed", "allowed: POST", {}, {}});
        if (auto r = ctx_.logger->reopen(); !r)
            co_return http::problem_response({503, "unavailable", "Cannot reopen the log", r.error().message, "log.output", {}});
        ctx_.logger->info("admin", "log output reopened", {{"output", ctx_.logger->sink().description()}});
        co_return http::json_response(200, "{\"reopened\":true}");
    }
    if (req.method != "GET" && !(req.method == "HEAD" && req.path == "/readyz"))
        co_return http::problem_response({405, "method-not-allowed", "Method not allowed", "allowed: GET", {}, {}});
    if (req.path == "/readyz") {
        if (ctx_.readiness) {
            auto checks = ctx_.readiness->checks();
            co_return http::json_response(Readiness::ready(checks) ? 200 : 503, Readiness::to_json(checks, true));
        }
        auto health = ctx_.engine.health();
        json::object o;
        o["status"] = health.empty() ? "ready" : "not-ready";
        if (!health.empty()) o["reason"] = health;
        co_return http::json_response(health.empty() ? 200 : 503, json::serialize(o));
    }
    if (req.path == "/metrics") {
        http::Response r;
        r.body = metrics_text();
        if (ctx_.gateway_state) gateway::append_metrics(r.body, *ctx_.gateway_state);
        r.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        co_return r;
    }
    if (req.path == "/config") {
        auto& c = ctx_.config;
        json::object o;
        o["source"] = c.source_file.empty() ? "built-in defaults" : c.source_file;
        o["listen"] = c.listen;
        o["admin_listen"] = c.admin_listen;
        o["data_dir"] = c.data_dir.string();
        o["threads"] = c.threads;
        o["auto_create_topics"] = c.auto_create_topics;
        json::array topics;
        for (auto& [name, t] : c.topics) topics.push_back(json::value(name));
        o["declared_topics"] = std::move(topics);
        // Security settings without secrets: names and switches only (keys, tokens and hashes never leave).
        json::object auth;
        auth["enabled"] = c.auth.enabled;
        auth["allow_query_token"] = c.auth.allow_query_token;
        json::array anon;
        for (auto& sc : c.auth.anonymous_scopes) anon.emplace_back(sc);
        auth["anonymous_scopes"] = std::move(anon);
        json::array issuers;
        for (auto& is : c.auth.issuers)
            issuers.emplace_back(json::object{{"issuer", is.issuer},
                                              {"keys", is.keys.size()},
                                              {"jwks_url", is.jwks_url},
                                              {"jwks_file", is.jwks_file}});
        auth["jwt"] = std::move(issuers);
        json::array keys;
        for (auto& k : c.auth.api_keys) keys.emplace_back(k.name);
        auth["api_keys"] = std::move(keys);
        auth["admin_token"] = !c.auth.admin_token.empty() || !c.auth.admin_token_sha256.empty();
        o["auth"] = std::move(auth);
        json::object wh;
        wh["allow_destinations"] = json::value_from(c.webhooks.allow_destinations);
        wh["max_subscriptions"] = c.webhooks.max_subscriptions;
        o["webhooks"] = std::move(wh);
        json::object lg;
        lg["level"] = ctx_.logger ? std::string(log::to_string(ctx_.logger->level())) : c.log.level;
        lg["format"] = c.log.format;
        lg["output"] = c.log.output;
        lg["access"] = ctx_.logger ? ctx_.logger->access_enabled() : c.log.access;
        lg["access_buffer"] = c.log.access_buffer;
        lg["access_flush_interval_ms"] = c.log.access_flush_interval_ms;
        o["log"] = std::move(lg);
        json::object en;
        en["kind"] = c.engine.kind;
        if (c.engine.kind == "jetstream") {
            json::array servers;
            for (auto& url : c.engine.jetstream.servers) {
                // nats://user:password@host: the credentials stay out of the dump.
                auto at = url.find('@');
                auto scheme = url.find("://");
                servers.emplace_back(at == std::string::npos || scheme == std::string::npos
                                         ? url
                                         : url.substr(0, scheme + 3) + "***@" + url.substr(at + 1));
            }
            json::object js;
            js["servers"] = std::move(servers);
            js["stream_prefix"] = c.engine.jetstream.stream_prefix;
            js["subject_prefix"] = c.engine.jetstream.subject_prefix;
            js["streams"] = c.engine.jetstream.streams;
            js["replicas"] = c.engine.jetstream.replicas;
            js["ack_timeout_ms"] = c.engine.jetstream.ack_timeout_ms;
            js["publish_timeout_ms"] = c.engine.jetstream.publish_timeout_ms;
            en["jetstream"] = std::move(js);
        }
        if (c.engine.kind == "kafka") {
            const auto& k = c.engine.kafka;
            json::object ko;
            json::array brokers;
            for (auto& b : k.brokers) brokers.emplace_back(b);
            ko["brokers"] = std::move(brokers);
            ko["topic_prefix"] = k.topic_prefix;
            ko["replication_factor"] = k.replication_factor;
            ko["create_topics"] = k.create_topics;
            ko["publish_timeout_ms"] = k.publish_timeout_ms;
            ko["request_timeout_ms"] = k.request_timeout_ms;
            json::object props;
            for (auto& [name, value] : k.properties) {
                // sasl.password, ssl.key.password, ...: secrets stay out of the dump.
                bool secret = name.find("password") != std::string::npos || name.find("secret") != std::string::npos ||
                              name.find("key") != std::string::npos;
                props[name] = secret ? std::string("***") : value;
            }
            ko["properties"] = std::move(props);
            json::array bridges;
            for (auto& b : k.bridges) {
                json::object bo;
                bo["topic"] = b.topic;
                bo["kafka_topic"] = b.kafka_topic;
                bo["partition"] = b.partition;
                bo["write_format"] = b.write_format;
                bo["wrap_type"] = b.wrap_type;
                bridges.emplace_back(std::move(bo));
            }
            ko["bridges"] = std::move(bridges);
            en["kafka"] = std::move(ko);
        }
        o["engine"] = std::move(en);
        json::object tr;
        tr["otlp_endpoint"] = c.tracing.otlp_endpoint;
        tr["service_name"] = c.tracing.service_name;
        tr["protocol"] = c.tracing.protocol;
        tr["sample_ratio"] = c.tracing.sample_ratio;
        o["tracing"] = std::move(tr);
        for (auto* resource : resources_) resource->dump(o);  // effective topics, API keys (with their source)
        // Routes and upstreams as running: the file's and the admin API's, each with its source.
        if (ctx_.gateway) o["gateway"] = json::parse(ctx_.gateway->dump_json());
        co_return http::json_response(200, json::serialize(o));
    }
    co_return http::problem_response({404, "not-found", "Not found", "no admin route for " + req.path, {}});
}

}  // namespace herald::server
