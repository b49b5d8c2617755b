#include "cli/top.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <string_view>

namespace herald::cli::top {

namespace {

// ---- One scrape, read once into what the frame needs
// ----------------------------------------------------------

struct TopicValues {
    std::optional<double> end, start, bytes;
};
struct WebhookValues {
    std::string topic;
    std::optional<double> lag, dead_letters;
};
struct UpstreamValues {
    double available = 0, ejected = 0, unhealthy = 0;
    std::optional<double> ejections;
};

// One pass over the samples: looking series up by name per topic would be quadratic in the number
// of topics.
struct Digest {
    std::map<std::string, double, std::less<>> sums;      // by sample name, over all its series
    std::map<std::string, double, std::less<>> by_label;  // "name{value}" for series with one label
    std::map<std::string, TopicValues> topics;
    std::map<std::string, WebhookValues> webhooks;
    std::map<std::string, UpstreamValues> upstreams;
    std::string version;

    std::optional<double> get(std::string_view name) const {
        auto it = sums.find(name);
        return it == sums.end() ? std::nullopt : std::optional<double>(it->second);
    }
    std::optional<double> get(std::string_view name, std::string_view label_value) const {
        std::string key(name);
        key += '{';
        key += label_value;
        key += '}';
        auto it = by_label.find(key);
        return it == by_label.end() ? std::nullopt : std::optional<double>(it->second);
    }
    // The first of several names that is present: the same figure may come from Herald or a
    // standard collector.
    std::optional<double> first_of(std::initializer_list<std::string_view> names) const {
        for (auto n : names)
            if (auto v = get(n)) return v;
        return std::nullopt;
    }
    // The sum of those present; absent when none is.
    std::optional<double> sum_of(std::initializer_list<std::string_view> names) const {
        std::optional<double> total;
        for (auto n : names)
            if (auto v = get(n)) total = total.value_or(0) + *v;
        return total;
    }
};

Digest digest(const prom::Exposition& e) {
    Digest d;
    for (auto& s : e.samples) {
        // A NaN says "no value"; summing it would poison every total it touches.
        if (std::isnan(s.value)) continue;
        const double v = s.value;
        d.sums[s.name] += v;
        if (s.labels.size() == 1) d.by_label[s.name + '{' + s.labels[0].second + '}'] += v;
        const std::string_view name = s.name;
        if (name == "herald_topic_end_offset") {
            d.topics[std::string(s.label("topic"))].end = v;
        } else if (name == "herald_topic_start_offset") {
            d.topics[std::string(s.label("topic"))].start = v;
        } else if (name == "herald_topic_log_bytes") {
            d.topics[std::string(s.label("topic"))].bytes = v;
        } else if (name == "herald_webhook_lag_events") {
            auto& w = d.webhooks[std::string(s.label("subscription"))];
            w.topic = std::string(s.label("topic"));
            w.lag = v;
        } else if (name == "herald_webhook_dead_letters_total") {
            auto& w = d.webhooks[std::string(s.label("subscription"))];
            w.topic = std::string(s.label("topic"));
            w.dead_letters = v;
        } else if (name == "herald_proxy_upstream_targets") {
            auto& u = d.upstreams[std::string(s.label("upstream"))];
            auto state = s.label("state");
            if (state == "available")
                u.available += v;
            else if (state == "ejected")
                u.ejected += v;
            else if (state == "unhealthy")
                u.unhealthy += v;
        } else if (name == "herald_proxy_upstream_ejections_total") {
            d.upstreams[std::string(s.label("upstream"))].ejections = v;
        } else if (name == "herald_build_info") {
            d.version = std::string(s.label("version"));
        }
    }
    return d;
}

// A counter's increase: one that went down was reset and counts from zero.
double increase(double current, double previous) {
    return current >= previous ? current - previous : current;
}

Rate rate_of(std::optional<double> current, std::optional<double> previous, double elapsed) {
    if (!current || !previous || !(elapsed > 0)) return std::nullopt;
    return increase(*current, *previous) / elapsed;
}

// ---- Text
// ----------------------------------------------------------------------------------------------------

std::string printf_string(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// Characters as a terminal shows them: UTF-8 continuation bytes take no column.
std::size_t columns(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string fit(std::string line, std::size_t cols) {
    if (cols == 0 || columns(line) <= cols) return line;
    std::size_t seen = 0, i = 0;
    for (; i < line.size(); ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) {
            if (seen == cols) break;
            ++seen;
        }
    }
    line.resize(i);
    return line;
}

struct Table {
    std::vector<std::string> head;
    std::vector<bool> right;  // per column: numbers are right-aligned
    std::vector<std::vector<std::string>> rows;

    std::vector<std::string> lines() const {
        std::vector<std::size_t> width(head.size());
        for (std::size_t c = 0; c < head.size(); ++c) width[c] = columns(head[c]);
        for (auto& r : rows)
            for (std::size_t c = 0; c < r.size() && c < width.size(); ++c)
                width[c] = std::max(width[c], columns(r[c]));
        auto line = [&](const std::vector<std::string>& cells) {
            std::string out;
            for (std::size_t c = 0; c < cells.size(); ++c) {
                std::size_t pad = width[c] - columns(cells[c]);
                if (c) out += "  ";
                if (right[c]) out.append(pad, ' ');
                out += cells[c];
                if (!right[c] && c + 1 < cells.size()) out.append(pad, ' ');
            }
            return out;
        };
        std::vector<std::string> out;
        out.push_back(line(head));
        for (auto& r : rows) out.push_back(line(r));
        return out;
    }
};

std::string format_interval(double seconds) {
    if (seconds >= 1 && std::fabs(seconds - std::round(seconds)) < 1e-9)
        return printf_string("%.0fs", seconds);
    return printf_string("%.0fms", seconds * 1000);
}

std::string format_latency(std::optional<double> seconds) {
    if (!seconds) return "-";
    if (*seconds < 1) return printf_string("%.1fms", *seconds * 1000);
    return printf_string("%.2fs", *seconds);
}

// "label value" pairs joined by three spaces, skipping absent values.
struct Pairs {
    std::string text;
    Pairs& add(std::string_view item) {
        if (!text.empty()) text += "   ";
        text += item;
        return *this;
    }
    Pairs& add_if(bool present, const std::string& item) {
        if (present) add(item);
        return *this;
    }
};

std::string count_with_rate(std::optional<double> total, const Rate& r) {
    std::string s = format_count(total);
    if (r) s += " (" + format_rate(r) + "/s)";
    return s;
}

}  // namespace

// ---- Formats
// -----------------------------------------------------------------------------------------------------

std::string format_rate(const Rate& r) {
    if (!r || std::isnan(*r)) return "-";
    double v = *r;
    if (v < 1000) return printf_string("%.1f", v);
    if (v < 1e6) return printf_string("%.1fk", v / 1e3);
    if (v < 1e9) return printf_string("%.1fM", v / 1e6);
    return printf_string("%.1fG", v / 1e9);
}

std::string format_bytes(std::optional<double> bytes) {
    if (!bytes || std::isnan(*bytes)) return "-";
    double v = *bytes;
    if (v < 1024) return printf_string("%.0fB", v);
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    for (auto* unit : kUnits) {
        v /= 1024;
        if (v < 1024 || unit == kUnits[3]) return printf_string("%.1f", v) + unit;
    }
    return "-";
}

std::string format_count(std::optional<double> n) {
    if (!n || std::isnan(*n)) return "-";
    return printf_string("%.0f", *n);
}

std::string format_duration(double seconds) {
    auto s = static_cast<long long>(seconds < 0 ? 0 : seconds);
    char buf[32];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llds", s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

// ---- Frame
// -------------------------------------------------------------------------------------------------------

Frame make_frame(const prom::Exposition& current, const prom::Exposition* previous,
                 double elapsed) {
    const Digest now = digest(current);
    const Digest before = previous ? digest(*previous) : Digest{};
    const bool have_before = previous != nullptr;
    auto rate = [&](std::string_view name) {
        return have_before ? rate_of(now.get(name), before.get(name), elapsed) : std::nullopt;
    };
    auto rate_labelled = [&](std::string_view name, std::string_view value) {
        return have_before ? rate_of(now.get(name, value), before.get(name, value), elapsed)
                           : std::nullopt;
    };

    Frame f;
    auto& h = f.header;
    h.version = now.version;
    h.uptime_seconds = now.get("herald_process_uptime_seconds");
    h.resident_bytes =
        now.first_of({"herald_process_resident_memory_bytes", "process_resident_memory_bytes"});
    h.open_fds = now.first_of({"herald_process_open_fds", "process_open_fds"});
    h.connections = now.get("herald_http_connections_open");
    h.sse = now.get("herald_sse_streams_open");
    h.websocket = now.get("herald_websocket_sessions_open");
    h.websocket_subscriptions = now.get("herald_websocket_subscriptions_open");
    h.webhooks_active = now.get("herald_webhook_subscriptions", "active");
    h.webhooks_paused = now.get("herald_webhook_subscriptions", "paused");
    h.webhooks_disabled = now.get("herald_webhook_subscriptions", "disabled");
    h.publish_events = rate("herald_publish_events_total");
    h.publish_requests = rate("herald_publish_requests_total");
    h.http_requests = rate("herald_http_requests_total");
    h.duplicates = now.get("herald_publish_duplicates_total");
    h.duplicates_rate = rate("herald_publish_duplicates_total");
    h.contract_rejections = now.get("herald_publish_contract_rejections_total");
    h.contract_rejections_rate = rate("herald_publish_contract_rejections_total");
    h.rejected = now.get("herald_publish_rejected_total");
    h.rejected_rate = rate("herald_publish_rejected_total");
    h.deliveries = rate("herald_hub_deliveries_total");
    if (have_before) {
        static constexpr std::string_view kOut[] = {"herald_sse_bytes_written_total",
                                                    "herald_websocket_bytes_written_total"};
        std::optional<double> out;
        for (auto n : kOut)
            if (auto r = rate_of(now.get(n), before.get(n), elapsed)) out = out.value_or(0) + *r;
        h.bytes_out = out;
    }
    h.websocket_lag = now.get("herald_websocket_consumer_lag_events");
    h.catchup_switches = now.get("herald_sse_catchup_switches_total");
    h.webhook_delivered = rate_labelled("herald_webhook_attempts_total", "delivered");
    h.webhook_retries = rate_labelled("herald_webhook_attempts_total", "retry");
    h.webhook_dead_letters = rate_labelled("herald_webhook_attempts_total", "dead_letter");

    for (auto& [name, t] : now.topics) {
        TopicRow row;
        row.name = name;
        row.end_offset = t.end.value_or(0);
        row.start_offset = t.start.value_or(0);
        row.log_bytes = t.bytes;
        if (have_before) {
            // A topic the older scrape did not have was created in between: all its events are new.
            auto it = before.topics.find(name);
            TopicValues old = it == before.topics.end() ? TopicValues{0.0, 0.0, 0.0} : it->second;
            row.events = rate_of(t.end, old.end, elapsed);
            if (t.bytes && old.bytes && elapsed > 0)
                row.bytes = std::max(0.0, *t.bytes - *old.bytes) / elapsed;
        }
        f.topics.push_back(std::move(row));
    }
    std::map<std::string, std::size_t> topic_index;
    for (std::size_t i = 0; i < f.topics.size(); ++i) topic_index[f.topics[i].name] = i;

    for (auto& [id, w] : now.webhooks) {
        WebhookRow row;
        row.id = id;
        row.topic = w.topic;
        row.lag = w.lag.value_or(0);
        row.dead_letters = w.dead_letters;
        if (have_before) {
            auto it = before.webhooks.find(id);
            std::optional<double> old =
                it == before.webhooks.end() ? std::optional<double>(0) : it->second.dead_letters;
            row.dead_letter_rate = rate_of(w.dead_letters, old, elapsed);
        }
        if (auto t = topic_index.find(w.topic); t != topic_index.end()) {
            auto& topic = f.topics[t->second];
            ++topic.webhooks;
            topic.webhook_lag = topic.webhook_lag.value_or(0) + row.lag;
        }
        f.webhooks.push_back(std::move(row));
    }

    for (auto& [name, u] : now.upstreams)
        f.upstreams.push_back(UpstreamRow{name, u.available, u.ejected, u.unhealthy, u.ejections});

    if (auto total = now.get("herald_proxy_requests_total");
        total && (*total > 0 || !f.upstreams.empty())) {
        Proxy p;
        p.requests_total = total;
        p.requests = rate("herald_proxy_requests_total");
        p.server_errors_total = now.get("herald_proxy_responses_total", "5xx");
        p.server_errors = rate_labelled("herald_proxy_responses_total", "5xx");
        p.errors = rate("herald_proxy_errors_total");
        p.retries = rate("herald_proxy_retries_total");
        if (have_before) {
            auto count_now = now.get("herald_proxy_upstream_latency_seconds_count");
            auto count_before = before.get("herald_proxy_upstream_latency_seconds_count");
            auto sum_now = now.get("herald_proxy_upstream_latency_seconds_sum");
            auto sum_before = before.get("herald_proxy_upstream_latency_seconds_sum");
            if (count_now && count_before && sum_now && sum_before) {
                double n = increase(*count_now, *count_before);
                if (n > 0) p.latency_seconds = increase(*sum_now, *sum_before) / n;
            }
        }
        f.proxy = p;
    }

    std::sort(f.topics.begin(), f.topics.end(), [](const TopicRow& a, const TopicRow& b) {
        double ra = a.events.value_or(-1), rb = b.events.value_or(-1);
        if (ra != rb) return ra > rb;
        if (a.end_offset != b.end_offset) return a.end_offset > b.end_offset;
        return a.name < b.name;
    });
    std::sort(f.webhooks.begin(), f.webhooks.end(), [](const WebhookRow& a, const WebhookRow& b) {
        if (a.lag != b.lag) return a.lag > b.lag;
        double da = a.dead_letters.value_or(0), db = b.dead_letters.value_or(0);
        if (da != db) return da > db;
        return a.id < b.id;
    });
    return f;
}

// ---- Rendering
// ---------------------------------------------------------------------------------------------------

std::vector<std::string> render(const Frame& f, const Layout& layout) {
    const auto& h = f.header;
    std::vector<std::string> head;
    {
        Pairs p;
        p.add("herald " + (h.version.empty() ? std::string("?") : h.version));
        p.add_if(h.uptime_seconds.has_value(),
                 "up " + format_duration(h.uptime_seconds.value_or(0)));
        p.add_if(h.resident_bytes.has_value(), "rss " + format_bytes(h.resident_bytes));
        p.add_if(h.open_fds.has_value(), "fds " + format_count(h.open_fds));
        p.add_if(!layout.source.empty(), "admin " + layout.source);
        p.add("every " + format_interval(layout.interval_seconds));
        head.push_back(p.text);
    }
    {
        Pairs p;
        if (h.connections) {
            double streams = h.sse.value_or(0) + h.websocket.value_or(0);
            p.add("http " + format_count(std::max(0.0, *h.connections - streams)));
        }
        p.add_if(h.sse.has_value(), "sse " + format_count(h.sse));
        if (h.websocket) {
            std::string ws = "websocket " + format_count(h.websocket);
            if (h.websocket_subscriptions)
                ws += " (" + format_count(h.websocket_subscriptions) + " subscriptions)";
            p.add(ws);
        }
        if (h.webhooks_active) {
            std::string wh = "webhooks " + format_count(h.webhooks_active) + " active";
            if (h.webhooks_paused.value_or(0) > 0)
                wh += ", " + format_count(h.webhooks_paused) + " paused";
            if (h.webhooks_disabled.value_or(0) > 0)
                wh += ", " + format_count(h.webhooks_disabled) + " disabled";
            p.add(wh);
        }
        head.push_back("connections  " + p.text);
    }
    {
        Pairs p;
        p.add(format_rate(h.publish_events) + " ev/s");
        p.add(format_rate(h.publish_requests) + " req/s");
        p.add_if(h.duplicates.has_value(),
                 "dedup hits " + count_with_rate(h.duplicates, h.duplicates_rate));
        p.add_if(h.contract_rejections.has_value(),
                 "validation failures " +
                     count_with_rate(h.contract_rejections, h.contract_rejections_rate));
        p.add_if(h.rejected.has_value(),
                 "rejected " + count_with_rate(h.rejected, h.rejected_rate));
        head.push_back("publish      " + p.text);
    }
    {
        Pairs p;
        p.add(format_rate(h.deliveries) + " ev/s to live subscribers");
        p.add(format_bytes(h.bytes_out ? std::optional<double>(*h.bytes_out) : std::nullopt) +
              "/s out");
        p.add(format_rate(h.http_requests) + " http req/s");
        p.add_if(h.websocket_lag.has_value(), "websocket lag " + format_count(h.websocket_lag));
        p.add_if(h.catchup_switches.has_value(),
                 "sse catch-ups " + format_count(h.catchup_switches));
        head.push_back("fan-out      " + p.text);
    }

    // Sections in order of importance; each is a fixed part (blank line, summary, table head) and
    // rows.
    struct Section {
        std::vector<std::string> fixed;
        std::vector<std::string> rows;
        std::string noun;         // for "+N more topics"
        std::size_t minimum = 0;  // rows kept before a later section is dropped
    };
    std::vector<Section> sections;

    {
        Section s;
        s.noun = "topics";
        s.fixed.push_back("");
        if (f.topics.empty()) {
            s.fixed.push_back("no topics yet");
        } else {
            const bool webhooks = std::any_of(f.topics.begin(), f.topics.end(),
                                              [](auto& t) { return t.webhooks > 0; });
            Table t;
            t.head = {"TOPIC", "EV/S", "BYTES/S", "EVENTS", "LAST", "RETAINED", "LOG"};
            t.right = {false, true, true, true, true, true, true};
            if (webhooks) {
                t.head.insert(t.head.end(), {"WEBHOOKS", "WH-LAG"});
                t.right.insert(t.right.end(), {true, true});
            }
            for (auto& r : f.topics) {
                std::vector<std::string> cells{
                    r.name,
                    format_rate(r.events),
                    r.bytes ? format_bytes(r.bytes) : "-",
                    format_count(r.end_offset),
                    r.end_offset > 0 ? format_count(r.end_offset - 1) : "-",
                    format_count(std::max(0.0, r.end_offset - r.start_offset)),
                    format_bytes(r.log_bytes)};
                if (webhooks) {
                    cells.push_back(r.webhooks ? std::to_string(r.webhooks) : "-");
                    cells.push_back(format_count(r.webhook_lag));
                }
                t.rows.push_back(std::move(cells));
            }
            auto lines = t.lines();
            s.fixed.push_back(lines.front());
            s.rows.assign(lines.begin() + 1, lines.end());
        }
        s.minimum = std::min<std::size_t>(s.rows.size(), 3);
        sections.push_back(std::move(s));
    }
    if (!f.webhooks.empty()) {
        Section s;
        s.noun = "webhook subscriptions";
        s.fixed.push_back("");
        Pairs p;
        p.add("delivered " + format_rate(h.webhook_delivered) + "/s");
        p.add("retries " + format_rate(h.webhook_retries) + "/s");
        p.add("dead-lettered " + format_rate(h.webhook_dead_letters) + "/s");
        s.fixed.push_back("webhooks     " + p.text);
        Table t;
        t.head = {"SUBSCRIPTION", "TOPIC", "LAG", "DLQ", "DLQ/S"};
        t.right = {false, false, true, true, true};
        for (auto& w : f.webhooks)
            t.rows.push_back({w.id, w.topic, format_count(w.lag), format_count(w.dead_letters),
                              format_rate(w.dead_letter_rate)});
        auto lines = t.lines();
        s.fixed.push_back(lines.front());
        s.rows.assign(lines.begin() + 1, lines.end());
        s.minimum = std::min<std::size_t>(s.rows.size(), 3);
        sections.push_back(std::move(s));
    }
    if (f.proxy) {
        auto& px = *f.proxy;
        Section s;
        s.noun = "upstreams";
        s.fixed.push_back("");
        Pairs p;
        p.add(format_rate(px.requests) + " req/s");
        p.add("5xx " + format_rate(px.server_errors) + "/s (" +
              format_count(px.server_errors_total) + " total)");
        p.add("own errors " + format_rate(px.errors) + "/s");
        p.add("retries " + format_rate(px.retries) + "/s");
        p.add("upstream latency " + format_latency(px.latency_seconds));
        s.fixed.push_back("proxy        " + p.text);
        if (!f.upstreams.empty()) {
            Table t;
            t.head = {"UPSTREAM", "AVAILABLE", "EJECTED", "UNHEALTHY", "EJECTIONS"};
            t.right = {false, true, true, true, true};
            for (auto& u : f.upstreams)
                t.rows.push_back({u.name, format_count(u.available), format_count(u.ejected),
                                  format_count(u.unhealthy), format_count(u.ejections)});
            auto lines = t.lines();
            s.fixed.push_back(lines.front());
            s.rows.assign(lines.begin() + 1, lines.end());
        }
        s.minimum = std::min<std::size_t>(s.rows.size(), 2);
        sections.push_back(std::move(s));
    }

    // Fit the height: drop whole sections from the end while even their minimums do not fit, then
    // hand the rows left over to the sections in order. A section showing fewer rows than it has
    // ends with a "+N more" line.
    const std::size_t budget = layout.rows > head.size() ? layout.rows - head.size() : 0;
    auto needed = [&] {
        std::size_t n = 0;
        for (auto& s : sections) n += s.fixed.size() + s.minimum;
        return n;
    };
    while (sections.size() > 1 && needed() > budget) sections.pop_back();
    std::size_t spare = budget > needed() ? budget - needed() : 0;
    std::vector<std::size_t> allowed;
    for (auto& s : sections) {
        std::size_t extra = std::min(spare, s.rows.size() - s.minimum);
        spare -= extra;
        allowed.push_back(s.minimum + extra);
    }

    std::vector<std::string> out = std::move(head);
    for (std::size_t i = 0; i < sections.size(); ++i) {
        auto& s = sections[i];
        out.insert(out.end(), s.fixed.begin(), s.fixed.end());
        std::size_t shown = s.rows.size();
        if (allowed[i] < s.rows.size()) shown = allowed[i] ? allowed[i] - 1 : 0;
        out.insert(out.end(), s.rows.begin(), s.rows.begin() + static_cast<std::ptrdiff_t>(shown));
        if (shown < s.rows.size() && allowed[i] > 0)
            out.push_back("+" + std::to_string(s.rows.size() - shown) + " more " + s.noun);
    }
    if (out.size() > layout.rows) out.resize(layout.rows);
    for (auto& line : out) line = fit(std::move(line), layout.cols);
    return out;
}

}  // namespace herald::cli::top
