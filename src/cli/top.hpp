#pragma once
// `herald top`'s model: two scrapes of the admin listener's /metrics become one frame (totals from
// the newer, rates from the difference over the time between them), and a frame becomes the lines
// of the view. Both steps are pure functions of their arguments; fetching, timing and the terminal
// live in top_command.cpp.
//
// Only series Herald exports are read (docs/observability.md lists them). What the metrics do not
// carry is left out rather than estimated: there are no per-topic subscriber or dedup series, so
// those figures are global.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cli/prometheus_text.hpp"

namespace herald::cli::top {

// Per second, over the interval between the two scrapes; absent on the first frame of a live view.
using Rate = std::optional<double>;

struct Header {
    std::string version;  // herald_build_info's label
    std::optional<double> uptime_seconds;
    std::optional<double> resident_bytes;
    std::optional<double> open_fds;  // only when the server exports process_open_fds

    // Open connections by transport. `http` is what the data plane's connection count leaves after
    // the streams.
    std::optional<double> connections, sse, websocket, websocket_subscriptions;
    std::optional<double> webhooks_active, webhooks_paused, webhooks_disabled;

    Rate publish_events, publish_requests, http_requests;
    std::optional<double> duplicates, contract_rejections, rejected;  // totals since start
    Rate duplicates_rate, contract_rejections_rate, rejected_rate;
    Rate deliveries;  // events handed to live subscribers (SSE and WebSocket)
    Rate bytes_out;   // written to SSE streams and WebSocket connections
    std::optional<double> websocket_lag, catchup_switches;
    Rate webhook_delivered, webhook_retries, webhook_dead_letters;
};

struct TopicRow {
    std::string name;
    Rate events;  // end offset's growth
    // The log's growth on disk: framing included, and a retention cut counts as none rather than
    // negative.
    Rate bytes;
    double end_offset = 0;
    double start_offset = 0;
    std::optional<double> log_bytes;
    std::size_t webhooks = 0;           // subscriptions on the topic
    std::optional<double> webhook_lag;  // summed over them
};

struct WebhookRow {
    std::string id;
    std::string topic;
    double lag = 0;
    std::optional<double> dead_letters;
    Rate dead_letter_rate;
};

struct UpstreamRow {
    std::string name;
    double available = 0, ejected = 0, unhealthy = 0;
    std::optional<double> ejections;
};

struct Proxy {
    Rate requests, server_errors, errors, retries;
    std::optional<double> requests_total, server_errors_total;
    std::optional<double> latency_seconds;  // mean upstream latency over the interval
};

struct Frame {
    Header header;
    std::vector<TopicRow> topics;      // by events per second, then total, then name
    std::vector<WebhookRow> webhooks;  // by lag, then dead letters, then id
    std::optional<Proxy> proxy;        // when a route or an upstream is configured or was used
    std::vector<UpstreamRow> upstreams;
};

// `previous` is the older scrape (null on the first frame), `elapsed_seconds` the time between the
// two. A counter that went down was reset (a restart, a topic deleted and made again): its new
// value is the increase.
Frame make_frame(const prom::Exposition& current, const prom::Exposition* previous,
                 double elapsed_seconds);

struct Layout {
    std::size_t rows = 24;  // the frame never has more lines than this
    std::size_t cols = 0;   // lines are cut to this many characters; 0: not cut
    std::string source;     // the admin address, shown in the header
    double interval_seconds = 1;
};

std::vector<std::string> render(const Frame& frame, const Layout& layout);

// Cell formats, exposed for the tests: "-" for absent; rates with one decimal below 1000, then
// k/M/G.
std::string format_rate(const Rate& r);
std::string format_bytes(std::optional<double> bytes);  // 812B, 1.2KiB, 17.1MiB
std::string format_count(std::optional<double> n);      // an integer as is
std::string format_duration(double seconds);            // 42s, 3m07s, 2h03m, 4d05h

}  // namespace herald::cli::top
