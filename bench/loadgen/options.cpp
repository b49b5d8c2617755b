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

Herald by default (--url); any server with --publish-url and --subscribe-url / --ws-subscribe-url.

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

other servers (bench/compare.sh):
  --publish-url URL    POST each event to this URL (http://127.0.0.1:PORT/path, {topic} is
                       replaced); any 2xx answer counts as acknowledged
  --publish-body B     herald (default: the data object as application/json with ?type=, or a
                       CloudEvents batch with --batch), raw (the data object
                       {"seq":N,"t":T,"pad":"…"} itself), cloudevent (a structured CloudEvent),
                       template (see --publish-template)
  --publish-template T the request body, with {data} replaced by the data object, {data_json} by
                       the data object escaped as the contents of a JSON string and {topic} by the
                       topic; @FILE reads it from FILE. Implies --publish-body template
  --publish-content-type CT  the publish Content-Type (default by body: application/json, or
                       application/cloudevents+json for cloudevent)
  --subscribe-url URL  subscribers are SSE streams from GET URL ({topic} is replaced); chunked
                       responses and CRLF line ends are accepted
  --subscribe-ports P1,P2,...  spread the subscribers over these ports of the subscribe host, in
                       turn (several nodes of one cluster); the path stays the same
  --ws-subscribe-url URL  subscribers are plain WebSocket streams (ws://127.0.0.1:PORT/path, no
                       subprotocol, nothing sent after the upgrade); each text message carries one
                       event
  the receive side finds the members "seq" and "t" wherever they are in a message

reconnect storm and polling:
  --reconnect-storm N  (SSE, --rate) at --storm-at S every subscriber closes its stream; once N
                       more events were acknowledged all reconnect with Last-Event-ID = the id of
                       the last event each processed; reports the time until all are live again
                       (have every event acknowledged before they reconnected)
  --storm-at S         seconds into the window (default a third of --duration)
  --poll long|interval Herald's JSON pages instead of streams: --subscribers N clients each loop
                       GET /v1/topics/{topic}/events?from=<next>, with &wait=--poll-wait S (long,
                       default 30) or every --poll-every S (interval, default 1; clients spread
                       over the period); the first request of each is from=latest
  --poll-limit N       events per page asked for (default 1000)

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
  --server-pid PID[,PID…]  sample the server's CPU time and RSS from /proc/PID (several: summed;
                       the first one's CPU affinity names the server's cores)
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
// `scheme` is "http://" or "ws://"; with `allow_path`, a path (and query) may follow the port.
bool parse_target(std::string_view url, std::string_view scheme, bool allow_path,
                  Options::Target& t, std::string& why) {
    if (!url.starts_with(scheme)) {
        why = "only " + std::string(scheme) + " URLs are supported";
        return false;
    }
    url.remove_prefix(scheme.size());
    std::string_view path;
    if (auto slash = url.find('/'); slash != std::string_view::npos) {
        path = url.substr(slash);
        url = url.substr(0, slash);
    }
    if (!allow_path) {
        while (!path.empty() && path.back() == '/') path.remove_suffix(1);
        if (!path.empty()) {
            why = "the URL must have no path (http://HOST:PORT)";
            return false;
        }
    } else if (path.empty()) {
        path = "/";
    }
    for (char c : path)
        if (c <= ' ' || c > '~') {
            why = "the path must be printable ASCII without spaces";
            return false;
        }
    auto colon = url.rfind(':');
    if (colon == std::string_view::npos) {
        why = "the URL needs an explicit port";
        return false;
    }
    std::string_view host = url.substr(0, colon);
    if (!parse_integer(url.substr(colon + 1), t.port) || t.port == 0) {
        why = "bad port";
        return false;
    }
    t.host_header = std::string(url);
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
    t.host = addr.to_string();
    t.path = std::string(path);
    t.set = true;
    return true;
}

bool parse_url(std::string_view url, Options& o, std::string& why) {
    Options::Target t;
    if (!parse_target(url, "http://", false, t, why)) return false;
    o.host = t.host;
    o.port = t.port;
    o.host_header = t.host_header;
    return true;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
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
        } else if (a == "--subscribe-ports") {
            if (!value(v)) return fail("--subscribe-ports needs a value");
            while (!v.empty()) {
                auto comma = v.find(',');
                std::uint64_t port = 0;
                auto item = v.substr(0, comma);
                auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), port);
                if (ec != std::errc{} || p != item.data() + item.size() || port == 0 || port > 65535)
                    return fail("bad --subscribe-ports");
                o.subscribe_ports.push_back(static_cast<std::uint16_t>(port));
                v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
            }
        } else if (a == "--server-pid") {
            if (!value(v)) return fail("--server-pid needs a value");
            while (!v.empty()) {
                auto comma = v.find(',');
                pid_t pid = 0;
                if (!as_pid(v.substr(0, comma), pid)) return fail("bad --server-pid");
                o.server_pids.push_back(pid);
                v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
            }
            if (o.server_pids.empty()) return fail("bad --server-pid");
            o.server_pid = o.server_pids.front();
        } else if (a == "--publish-url" || a == "--subscribe-url" || a == "--ws-subscribe-url") {
            if (!value(v)) return fail(std::string(a) + " needs a value");
            std::string why;
            auto& target = a == "--publish-url" ? o.publish_target : o.subscribe_target;
            if (!parse_target(v, a == "--ws-subscribe-url" ? "ws://" : "http://", true, target,
                              why))
                return fail(std::string(a) + ": " + why);
            if (a != "--publish-url") o.ws_plain = a == "--ws-subscribe-url";
        } else if (a == "--publish-body") {
            if (!value(v)) return fail("--publish-body needs a value");
            if (v == "herald")
                o.publish_body = Options::PublishBody::herald;
            else if (v == "raw")
                o.publish_body = Options::PublishBody::raw;
            else if (v == "cloudevent")
                o.publish_body = Options::PublishBody::cloudevent;
            else if (v == "template")
                o.publish_body = Options::PublishBody::templated;
            else
                return fail("--publish-body must be herald, raw, cloudevent or template");
        } else if (a == "--publish-template") {
            if (!value(v)) return fail("--publish-template needs a value");
            if (v.starts_with("@")) {
                std::ifstream in(std::string(v.substr(1)), std::ios::binary);
                if (!in) return fail("cannot read " + std::string(v.substr(1)));
                o.publish_template.assign(std::istreambuf_iterator<char>(in),
                                          std::istreambuf_iterator<char>());
            } else {
                o.publish_template = std::string(v);
            }
            o.publish_body = Options::PublishBody::templated;
        } else if (a == "--publish-content-type") {
            if (!need(o.publish_content_type, as_text)) return false;
        } else if (a == "--reconnect-storm") {
            if (!need(o.storm_behind, as_u64)) return false;
        } else if (a == "--storm-at") {
            if (!need(o.storm_at, as_double)) return false;
        } else if (a == "--poll") {
            if (!value(v)) return fail("--poll needs long or interval");
            if (v == "long")
                o.poll = Options::Poll::long_poll;
            else if (v == "interval")
                o.poll = Options::Poll::interval;
            else
                return fail("--poll must be long or interval");
        } else if (a == "--poll-wait") {
            if (!need(o.poll_wait, as_double)) return false;
        } else if (a == "--poll-every") {
            if (!need(o.poll_every, as_double)) return false;
        } else if (a == "--poll-limit") {
            if (!need(o.poll_limit, as_size)) return false;
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
    if (!valid_topic(o.topic)) return fail("--topic must match [a-z0-9][a-z0-9._-]{0,199}");
    // Templates: {topic} is fixed for the run. Without a template, Herald's paths under --url.
    for (auto* t : {&o.publish_target, &o.subscribe_target})
        replace_all(t->path, "{topic}", o.topic);
    replace_all(o.publish_template, "{topic}", o.topic);
    if (o.publish_target.set && !have_url && o.publish_body == Options::PublishBody::herald)
        o.publish_body = Options::PublishBody::raw;
    const bool need_url = !o.publish_target.set || (o.subscribers > 0 && !o.subscribe_target.set) ||
                          o.ws_publish || o.webhook_receiver || o.poll != Options::Poll::none ||
                          o.transport == Options::Transport::ws;
    if (need_url && !have_url)
        return fail(o.publish_target.set ? "this mode needs --url (Herald's own API)"
                                         : "--url (or --publish-url) is required");
    if (!have_url) {  // the base the report and the fd checks use: the publish target's
        o.host = o.publish_target.host;
        o.port = o.publish_target.port;
        o.host_header = o.publish_target.host_header;
    }
    if (o.publish_body == Options::PublishBody::templated) {
        if (o.publish_template.find("{data") == std::string::npos)
            return fail("--publish-template needs {data} or {data_json}");
    } else if (!o.publish_template.empty()) {
        return fail("--publish-template needs --publish-body template");
    }
    if (o.publish_body != Options::PublishBody::herald && o.batch != 1)
        return fail("--batch needs --publish-body herald (CloudEvents batches)");
    if (o.publish_body != Options::PublishBody::herald && o.ws_publish)
        return fail("--ws-publish sends herald.v1 publish ops; drop --publish-body");
    if (o.ws_publish && o.subscribe_target.set)
        return fail("--ws-publish goes with Herald's own subscribers; drop --subscribe-url");
    if (o.ws_plain && o.transport == Options::Transport::ws)
        return fail("--ws-subscribe-url replaces --transport ws (herald.v1)");
    if (o.subscribe_target.set && o.subscribers == 0)
        return fail("--subscribe-url / --ws-subscribe-url need --subscribers N");
    if (o.storm_behind > 0) {
        if (o.rate <= 0) return fail("--reconnect-storm needs --rate (a paced schedule)");
        if (o.subscribers == 0 || o.transport != Options::Transport::sse || o.ws_plain ||
            o.poll != Options::Poll::none)
            return fail("--reconnect-storm needs SSE --subscribers");
        if (o.storm_at == 0) o.storm_at = o.duration / 3;
        if (o.storm_at >= o.duration) return fail("--storm-at must be inside --duration");
    }
    if (o.poll != Options::Poll::none) {
        if (o.subscribers == 0) return fail("--poll needs --subscribers N (the polling clients)");
        if (o.idle || o.transport != Options::Transport::sse || o.subscribe_target.set)
            return fail(
                "--poll replaces the SSE subscribers; drop --idle/--transport/--subscribe-url");
        if (o.poll_wait <= 0 || o.poll_wait > 300) return fail("--poll-wait must be in (0, 300]");
        if (o.poll_every < 0.01 || o.poll_every > 60)
            return fail("--poll-every must be in [0.01, 60]");
        if (o.poll_limit == 0 || o.poll_limit > 100'000)
            return fail("--poll-limit must be 1..100000");
    }
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
        if (o.transport != Options::Transport::sse || o.ws_plain)
            return fail("--idle measures SSE streams");
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
