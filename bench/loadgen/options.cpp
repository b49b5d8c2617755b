#include "loadgen/options.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace herald::bench {

namespace {

constexpr const char* kUsage =
    R"(usage: herald-loadgen --url http://127.0.0.1:PORT [mode] [options]

modes (one of):
  --rate R             publish R events/s, paced (default 1 publisher connection)
  --max                publish as fast as the server answers (needs --publishers C)
  --idle               hold --subscribers N connections, sample server RSS, then publish one
                       event and time its delivery to all of them
  with --rate or --max, events go to --subscribers N (SSE or WebSocket, see --transport)
  and/or to webhooks:
  --webhook-receiver   run an HTTP receiver on 127.0.0.1 (answers 204 to every POST) and create
                       --webhooks K subscriptions to it (POST /v1/subscriptions); needs the
                       server's webhooks.allow_destinations to include 127.0.0.1/32

options:
  --topic NAME         topic (default bench)
  --type TYPE          CloudEvents type (default bench.tick.v1)
  --subscribers N      subscriber connections on the topic (opened 200 at a time)
  --transport sse|ws   subscribers as SSE streams (default) or WebSocket connections to /v1/ws
                       (subprotocol herald.v1), each with one `subscribe`
  --publishers C       keep-alive publishing connections
  --ws-publish         publish over ONE WebSocket connection to /v1/ws (`publish` ops) instead
                       of HTTP requests; ops are pipelined
  --ws-inflight N      publish ops in flight on that connection (default 32; Herald refuses more
                       than websocket.max_inflight_publishes, 64 by default)
  --webhooks K         webhook subscriptions, to paths /hook/0 .. /hook/K-1 (default 1)
  --webhook-mode M     concurrent (default) or ordered
  --webhook-max-in-flight N  max_in_flight of concurrent subscriptions (default 32)
  --receiver-connections N   connections the receiver accepts at once (default 1024)
  --receiver-ports N   the receiver listens on N ports and hook i uses port i % N, so the server
                       sees N receiver origins, each with its own connection pool (default 1)
  --webhook-backlog    pause the subscriptions while publishing, resume them when publishing
                       ends: measures delivering a backlog with the server doing nothing else
  --header "N: V"      add this header to every publish, subscribe and subscription request
                       (repeatable), e.g. "Authorization: Bearer <JWT>"
  --batch K            K events per request, as application/cloudevents-batch+json
  --size BYTES         each event's data member is padded to about BYTES (default 256)
  --data-fields FILE   a JSON object whose members are added to every event's data after seq
                       and t (e.g. to satisfy a schema registered for --type)
  --duration S         seconds of publishing (default 5)
  --drain S            seconds to wait for outstanding deliveries afterwards (default 5)
  --settle S           after the subscribers are open, wait S s before sampling RSS and
                       publishing (default 1)
  --connect-timeout S  bound on opening all subscribers (default 60)
  --connect-concurrency N  subscribers being opened at once (default 200)
  --max-connections N  refuse to open more connections than this (default 19000)
  --max-events N       stop publishing after N events
  --server-pid PID     sample the server's CPU time and RSS from /proc/PID
  --label TEXT         copied into the JSON report
  --json               print one JSON line on stdout (the table goes to stderr)
  --self-test          check the parsers and the histogram, then exit
  --baseline           no Herald: 1 KiB/64 B ping-pong over loopback TCP for --duration S
                       (default 1) with the echo side on --baseline-core N (default 0), and a
                       fixed CPU loop there; for comparing runs on a noisy machine
)";

bool parse_number(std::string_view text, double& out) {
    // from_chars for double is in libstdc++ 11+, but strtod keeps forms like "1e3" simple.
    std::string copy(text);
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return end && *end == '\0' && !copy.empty() && std::isfinite(out);
}

template <typename T>
bool parse_integer(std::string_view text, T& out) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

bool valid_topic(std::string_view t) {
    if (t.empty() || t.size() > 200) return false;
    auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!ok_first(t[0])) return false;
    for (char c : t)
        if (!ok_first(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

// Only loopback targets are allowed (the platform rule): the host must be a literal loopback
// address or "localhost"; names are never resolved, so nothing can redirect the traffic.
bool parse_url(std::string_view url, Options& o, std::string& why) {
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) {
        why = "only http:// URLs are supported";
        return false;
    }
    url.remove_prefix(scheme.size());
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    if (url.find('/') != std::string_view::npos) {
        why = "the URL must have no path (http://HOST:PORT)";
        return false;
    }
    auto colon = url.rfind(':');
    if (colon == std::string_view::npos) {
        why = "the URL needs an explicit port";
        return false;
    }
    std::string_view host = url.substr(0, colon);
    if (!parse_integer(url.substr(colon + 1), o.port) || o.port == 0) {
        why = "bad port";
        return false;
    }
    o.host_header = std::string(url);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) {
        why = "the host must be an IP literal or localhost";
        return false;
    }
    if (!addr.is_loopback()) {
        why =
            "refusing a non-loopback target (" + std::string(host) + "): only 127.0.0.0/8 and ::1";
        return false;
    }
    o.host = addr.to_string();
    return true;
}

// The members of the one JSON object in `path`, as text without the outer braces. Checked with
// Boost.JSON so that a typo fails here rather than as a server-side 400 on every publish.
bool read_object_members(const std::string& path, std::string& out, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = "cannot read " + path;
        return false;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object() || v.as_object().empty()) {
        why = path + " must hold a non-empty JSON object";
        return false;
    }
    for (auto& [k, unused] : v.as_object())
        if (k == "seq" || k == "t" || k == "pad") {
            why = path + ": seq, t and pad are the generator's own members";
            return false;
        }
    std::string s = boost::json::serialize(v);
    out = s.substr(1, s.size() - 2);
    return true;
}

}  // namespace

bool parse_options(int argc, char** argv, Options& o, bool& exit_ok) {
    exit_ok = false;
    bool have_url = false;
    auto fail = [](const std::string& msg) {
        std::fprintf(stderr, "herald-loadgen: %s\n\n%s", msg.c_str(), kUsage);
        return false;
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view& v) {
            if (i + 1 >= argc) return false;
            v = argv[++i];
            return true;
        };
        std::string_view v;
        auto need = [&](auto& target, auto parser) {
            if (!value(v) || !parser(v, target)) {
                fail("bad or missing value for " + std::string(a));
                return false;
            }
            return true;
        };
        auto as_double = [](std::string_view t, double& x) { return parse_number(t, x) && x >= 0; };
        auto as_size = [](std::string_view t, std::size_t& x) { return parse_integer(t, x); };
        auto as_u64 = [](std::string_view t, std::uint64_t& x) { return parse_integer(t, x); };
        auto as_pid = [](std::string_view t, pid_t& x) { return parse_integer(t, x) && x > 0; };
        auto as_text = [](std::string_view t, std::string& x) {
            x = std::string(t);
            return true;
        };

        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            exit_ok = true;
            return false;
        } else if (a == "--url") {
            if (!value(v)) return fail("--url needs a value");
            std::string why;
            if (!parse_url(v, o, why)) return fail("--url: " + why);
            have_url = true;
        } else if (a == "--topic") {
            if (!need(o.topic, as_text)) return false;
        } else if (a == "--type") {
            if (!need(o.type, as_text)) return false;
        } else if (a == "--label") {
            if (!need(o.label, as_text)) return false;
        } else if (a == "--subscribers") {
            if (!need(o.subscribers, as_size)) return false;
        } else if (a == "--rate") {
            if (!need(o.rate, as_double)) return false;
        } else if (a == "--max") {
            o.max = true;
        } else if (a == "--idle") {
            o.idle = true;
        } else if (a == "--publishers") {
            if (!need(o.publishers, as_size)) return false;
        } else if (a == "--batch") {
            if (!need(o.batch, as_size)) return false;
        } else if (a == "--size") {
            if (!need(o.size, as_size)) return false;
        } else if (a == "--duration") {
            if (!need(o.duration, as_double)) return false;
        } else if (a == "--drain") {
            if (!need(o.drain, as_double)) return false;
        } else if (a == "--settle") {
            if (!need(o.settle, as_double)) return false;
        } else if (a == "--connect-timeout") {
            if (!need(o.connect_timeout, as_double)) return false;
        } else if (a == "--connect-concurrency") {
            if (!need(o.connect_concurrency, as_size)) return false;
        } else if (a == "--max-connections") {
            if (!need(o.max_connections, as_size)) return false;
        } else if (a == "--max-events") {
            if (!need(o.max_events, as_u64)) return false;
        } else if (a == "--server-pid") {
            if (!need(o.server_pid, as_pid)) return false;
        } else if (a == "--transport") {
            if (!value(v)) return fail("--transport needs sse or ws");
            if (v == "sse")
                o.transport = Options::Transport::sse;
            else if (v == "ws")
                o.transport = Options::Transport::ws;
            else
                return fail("--transport must be sse or ws");
        } else if (a == "--ws-publish") {
            o.ws_publish = true;
        } else if (a == "--ws-inflight") {
            if (!need(o.ws_inflight, as_size)) return false;
        } else if (a == "--webhook-receiver") {
            o.webhook_receiver = true;
        } else if (a == "--webhooks") {
            if (!need(o.webhooks, as_size)) return false;
        } else if (a == "--webhook-mode") {
            if (!need(o.webhook_mode, as_text)) return false;
        } else if (a == "--webhook-max-in-flight") {
            if (!need(o.webhook_max_in_flight, as_size)) return false;
        } else if (a == "--webhook-backlog") {
            o.webhook_backlog = true;
        } else if (a == "--data-fields") {
            if (!value(v)) return fail("--data-fields needs a file");
            std::string why;
            if (!read_object_members(std::string(v), o.data_fields, why)) return fail("--data-fields: " + why);
        } else if (a == "--receiver-ports") {
            if (!need(o.receiver_ports, as_size)) return false;
        } else if (a == "--receiver-connections") {
            if (!need(o.receiver_connections, as_size)) return false;
        } else if (a == "--header") {
            if (!value(v)) return fail("--header needs \"Name: value\"");
            auto colon = v.find(':');
            bool ok = colon != std::string_view::npos && colon > 0;
            for (char c : v)
                if (c == '\r' || c == '\n' || c == '\0') ok = false;
            for (char c : v.substr(0, colon == std::string_view::npos ? 0 : colon))
                if (c <= ' ' || c > '~') ok = false;
            if (!ok) return fail("--header must be \"Name: value\" on one line");
            o.headers.emplace_back(v);
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--self-test") {
            o.self_test = true;
        } else if (a == "--baseline") {
            o.baseline = true;
        } else if (a == "--baseline-core") {
            auto as_core = [](std::string_view t, int& x) { return parse_integer(t, x) && x >= 0; };
            if (!need(o.baseline_core, as_core)) return false;
        } else {
            return fail("unknown option " + std::string(a));
        }
    }
    if (o.self_test) return true;
    if (o.baseline) {
        if (o.duration == 0) o.duration = 1;
        if (o.duration > 60) return fail("--baseline --duration is limited to 60 s");
        return true;
    }
    if (o.duration == 0) o.duration = 5;
    if (!have_url) return fail("--url is required");
    if (!valid_topic(o.topic)) return fail("--topic must match [a-z0-9][a-z0-9._-]{0,199}");
    for (char c : o.type)
        if (c <= ' ' || c == '"' || c == '\\' || c == '&' || c == '#' || c == '%' || c > '~')
            return fail("--type has a character the generator does not escape");
    int modes = (o.rate > 0) + o.max + o.idle;
    if (modes != 1) return fail("choose exactly one of --rate R, --max, --idle");
    if (o.batch == 0 || o.batch > 10'000) return fail("--batch must be 1..10000");
    if (o.size > 4 * 1024 * 1024) return fail("--size is limited to 4 MiB");
    if (o.duration <= 0 || o.duration > 3600) return fail("--duration must be in (0, 3600]");
    if (o.drain > 600 || o.settle > 600 || o.connect_timeout > 600)
        return fail("--drain, --settle and --connect-timeout are limited to 600 s");
    if (o.connect_concurrency == 0) return fail("--connect-concurrency must be at least 1");
    if (o.ws_publish) {
        if (o.idle) return fail("--ws-publish does not apply to --idle");
        if (o.publishers > 1) return fail("--ws-publish uses one connection; drop --publishers");
        o.publishers = 1;
        if (o.ws_inflight == 0 || o.ws_inflight > 4096)
            return fail("--ws-inflight must be 1..4096");
    }
    if (o.idle) {
        if (o.subscribers == 0) return fail("--idle needs --subscribers N");
        if (o.transport != Options::Transport::sse) return fail("--idle measures SSE streams");
        if (o.publishers > 1) return fail("--idle publishes one event from one connection");
        o.publishers = 1;
        o.batch = 1;
        o.max_events = 1;
    } else if (o.max) {
        if (o.publishers == 0) return fail("--max needs --publishers C");
    } else if (o.publishers == 0) {
        o.publishers = 1;
    }
    if (o.webhook_backlog && !o.webhook_receiver)
        return fail("--webhook-backlog needs --webhook-receiver");
    if (o.webhook_receiver) {
        if (o.idle) return fail("--webhook-receiver does not apply to --idle");
        if (o.webhooks == 0 || o.webhooks > 10'000) return fail("--webhooks must be 1..10000");
        if (o.webhook_mode != "concurrent" && o.webhook_mode != "ordered")
            return fail("--webhook-mode must be concurrent or ordered");
        if (o.webhook_max_in_flight == 0 || o.webhook_max_in_flight > 1000)
            return fail("--webhook-max-in-flight must be 1..1000");
        if (o.receiver_ports == 0 || o.receiver_ports > 1000)
            return fail("--receiver-ports must be 1..1000");
        if (o.receiver_connections == 0 || o.receiver_connections > 10'000)
            return fail("--receiver-connections must be 1..10000");
    }
    if (o.publishers > 1024) return fail("--publishers is limited to 1024");
    const std::size_t receiver = o.webhook_receiver ? o.receiver_connections : 0;
    if (o.subscribers + o.publishers + receiver > o.max_connections)
        return fail("subscribers + publishers + receiver connections exceed --max-connections (" +
                    std::to_string(o.max_connections) + ")");
    return true;
}

}  // namespace herald::bench
