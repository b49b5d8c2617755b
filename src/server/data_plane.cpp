#include "server/data_plane.hpp"

#include "proxy/route.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>

#include "catalog/catalog.hpp"
#include "catalog/yaml.hpp"
#include "core/codec.hpp"
#include "core/event_record.hpp"
#include "engine/start_position.hpp"
#include "engine/topic_name.hpp"
#include "http/problem.hpp"
#include "sse/frame.hpp"
#include "server/observability.hpp"
#include "server/webhook_api.hpp"
#include "trace/span.hpp"
#include "websocket/handshake.hpp"

namespace herald::server {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Problem;
using http::Request;
using http::Response;

namespace {

Response problem(unsigned status, std::string kind, std::string title, std::string detail,
                 std::string attribute = {}) {
    return http::problem_response(Problem{status, std::move(kind), std::move(title), std::move(detail),
                                          std::move(attribute)});
}

// An engine's answer as a problem; 503 (the engine cannot take or serve events right now: stopping, a JetStream
// cluster without a leader) tells the client when to try again.
Response engine_problem(const Error& e, std::string kind_for_invalid = "bad-request") {
    auto r = http::problem_response(http::problem_from_error(e, std::move(kind_for_invalid)));
    if (r.status == 503) r.set("Retry-After", "1");
    return r;
}

Response invalid_event(const Error& e) {
    if (e.code == Errc::unsupported_media_type)
        return problem(415, "unsupported-media-type", "Unsupported media type", e.message, e.attribute);
    return problem(400, "invalid-event", "Invalid CloudEvent", e.message, e.attribute);
}

Response bad_parameter(std::string detail, std::string parameter) {
    return problem(400, "invalid-parameter", "Invalid parameter", std::move(detail), std::move(parameter));
}

std::string media_type_of(std::string_view content_type) {
    auto semi = content_type.find(';');
    auto mt = content_type.substr(0, semi);
    while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
    while (!mt.empty() && mt.front() == ' ') mt.remove_prefix(1);
    std::string out(mt);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto item = s.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

using engine::resolve_start;

// When the request had been read, on the steady clock (the publish-duration histogram starts there). The
// listener's observer stamps it on the wall clock; without an observer, now.
std::chrono::steady_clock::time_point received_at(const Request& req) {
    const auto now = std::chrono::steady_clock::now();
    if (req.received_unix_ns == 0) return now;
    const auto ago = std::chrono::nanoseconds(std::max<std::int64_t>(0, trace::unix_nanos() - req.received_unix_ns));
    return now - ago;
}

std::string cursor_text(std::uint64_t epoch, std::uint64_t offset) {
    return engine::format_cursor(engine::Cursor{epoch, offset});
}

// Long-poll: a one-shot hub subscriber that wakes the waiting request when its topic commits.
struct Waiter final : hub::Subscriber {
    explicit Waiter(asio::steady_timer& t) : timer(t) {}
    void on_batch(const hub::BatchPtr&) override { timer.cancel(); }
    asio::steady_timer& timer;
};

}  // namespace

DataPlane::DataPlane(DataPlaneContext context, hub::WorkerHub& worker_hub)
    : ctx_(std::move(context)), worker_hub_(worker_hub), access_(ctx_.security, SystemClock::instance()) {
    cors_.allowed_origins = ctx_.config.cors.allowed_origins;
    cors_.allow_credentials = ctx_.config.cors.allow_credentials;
    cors_.max_age_seconds = ctx_.config.cors.max_age_ms / 1000;
}

asio::awaitable<Response> DataPlane::handle(Request& req) {
    if (http::CorsPolicy::is_preflight(req)) co_return cors_.preflight(req, "GET, POST, DELETE, OPTIONS");
    auto response = co_await route(req);
    if (!response.takeover) cors_.apply(req, response);
    // The status a takeover's head will carry, for the access log and the span (SSE keeps the default 200).
    else if (websocket::is_upgrade_request(req)) response.status = 101;
    co_return response;
}

asio::awaitable<Response> DataPlane::route(Request& req) {
    auto seg = http::split_path(req.path);
    auto method_not_allowed = [](std::string allow) {
        auto r = problem(405, "method-not-allowed", "Method not allowed", "allowed: " + allow);
        r.set("Allow", allow);
        return r;
    };
    const bool catalog = seg.size() == 1 && (seg[0] == "asyncapi.json" || seg[0] == "asyncapi.yaml" ||
                                             seg[0] == "openapi.json");
    // The portal's files are public (it fetches everything else with the viewer's credential): served before
    // authentication, so a browser can load the page that asks for the token.
    if (ctx_.config.portal.enabled && portal::is_portal_path(req.path)) {
        req.route = "/portal/";
        co_return portal_.serve(req);
    }
    // Probes answer before authentication (load balancers carry no credentials). With auth on, /readyz says
    // only ready or not: the reasons (paths, disk space) are for the admin listener.
    if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "readyz")) {
        if (req.method != "GET" && req.method != "HEAD") co_return method_not_allowed("GET");
        if (seg[0] == "healthz") {
            req.route = "/healthz";
            co_return http::json_response(200, "{\"status\":\"ok\"}");
        }
        req.route = "/readyz";
        if (!ctx_.readiness) co_return http::json_response(200, "{\"status\":\"ready\"}");
        auto checks = ctx_.readiness->checks();
        co_return http::json_response(Readiness::ready(checks) ? 200 : 503,
                                      Readiness::to_json(checks, !access_.enabled()));
    }
    if (!catalog && (seg.empty() || seg[0] != "v1"))
        co_return problem(404, "not-found", "Not found", "no route for " + req.method + " " + req.path);
    // Who is asking. Browsers' EventSource and WebSocket cannot set headers: on those endpoints a query token or
    // cookie is accepted when the configuration allows it.
    const bool browser = req.method == "GET" &&
                         ((seg.size() == 4 && seg[1] == "topics" && seg[3] == "events") ||
                          (seg.size() == 2 && seg[1] == "ws"));
    auto who = access_.authenticate(req, browser);
    if (auto* refused = std::get_if<Response>(&who)) co_return std::move(*refused);
    const security::PrincipalPtr principal = std::get<security::PrincipalPtr>(who);
    if (ctx_.logger && ctx_.logger->access_enabled()) req.principal = principal_label(*principal);
    if (auto limited = access_.limit(LimitKind::requests, *principal, req.remote_address, ""))
        co_return std::move(*limited);
    if (catalog) {
        if (req.method != "GET" && req.method != "HEAD") co_return method_not_allowed("GET");
        req.route = seg[0] == "asyncapi.json"   ? "/asyncapi.json"
                    : seg[0] == "asyncapi.yaml" ? "/asyncapi.yaml"
                                                : "/openapi.json";
        co_return catalog_document(req, *principal, seg[0]);
    }

    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "topics") {
        if (seg.size() == 2) {
            req.route = "/v1/topics";
            if (req.method != "GET") co_return method_not_allowed("GET");
            co_return list_topics(*principal);
        }
        std::string topic(seg[2]);
        if (!engine::is_valid_topic_name(topic))
            co_return problem(400, "invalid-topic", "Invalid topic name",
                              "topic names must match [a-z0-9][a-z0-9._-]{0,199}", "topic");
        if (seg.size() == 3) {
            req.route = "/v1/topics/{topic}";
            if (req.method != "GET") co_return method_not_allowed("GET");
            if (auto denied = access_.authorize(*principal, security::Action::subscribe, topic))
                co_return std::move(*denied);
            co_return topic_info(topic);
        }
        if (seg.size() == 4 && seg[3] == "events") {
            req.route = "/v1/topics/{topic}/events";
            if (req.method == "POST") {
                if (auto denied = access_.authorize(*principal, security::Action::publish, topic))
                    co_return std::move(*denied);
                co_return co_await publish(req, topic, *principal);
            }
            if (req.method == "GET" || req.method == "HEAD") {
                if (auto denied = access_.authorize(*principal, security::Action::subscribe, topic))
                    co_return std::move(*denied);
                const bool streaming = websocket::is_upgrade_request(req) ||
                                       req.header("Accept").find("text/event-stream") != std::string_view::npos;
                if (streaming) {
                    if (auto limited = access_.limit(LimitKind::subscribe, *principal, req.remote_address, topic))
                        co_return std::move(*limited);
                }
                if (websocket::is_upgrade_request(req)) co_return open_websocket(req, &topic, principal);
                if (req.header("Accept").find("text/event-stream") != std::string_view::npos)
                    co_return open_stream(req, topic, principal);
                co_return co_await read_page(req, topic);
            }
            co_return method_not_allowed("GET, POST");
        }
    }
    if (seg.size() >= 2 && seg.size() <= 5 && seg[0] == "v1" && seg[1] == "subscriptions") {
        // A webhook subscription is a subscriber of its topic: creating, seeing and managing one needs the
        // subscribe scope on that topic.
        static constexpr std::string_view kSubscriptionRoutes[] = {
            "/v1/subscriptions", "/v1/subscriptions/{id}", "/v1/subscriptions/{id}/{action}",
            "/v1/subscriptions/{id}/{action}/{item}"};
        req.route = kSubscriptionRoutes[seg.size() - 2];
        auto may = [this, principal](const std::string& topic) {
            return access_.allows(*principal, security::Action::subscribe, topic);
        };
        co_return co_await handle_subscriptions(ctx_.webhooks, ctx_.webhook_io, req, seg, may);
    }
    if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "ws") {
        req.route = "/v1/ws";
        if (req.method != "GET") co_return method_not_allowed("GET");
        if (!websocket::is_upgrade_request(req)) {
            auto r = problem(426, "upgrade-required", "Upgrade required",
                             "/v1/ws is a WebSocket endpoint (subprotocol herald.v1)");
            r.set("Upgrade", "websocket");
            co_return r;
        }
        co_return open_websocket(req, nullptr, principal);
    }
    co_return problem(404, "not-found", "Not found", "no route for " + req.method + " " + req.path);
}


Response DataPlane::open_websocket(Request& req, const std::string* topic, security::PrincipalPtr principal) {
    // Browsers send Origin on every WebSocket handshake and do not apply CORS to it: check it here, against
    // the same allow-list, so a page on another origin cannot ride a user's network position.
    if (!http::same_origin(req) && !cors_.allows(req.header("Origin")))
        return problem(403, "cors-origin-not-allowed", "Origin not allowed",
                       "this origin is not in the gateway's CORS allow-list", "Origin");
    auto up = websocket::check_upgrade(req);
    if (!up) {
        auto r = problem(400, "bad-handshake", "Bad WebSocket handshake", up.error().message, up.error().attribute);
        if (up.error().attribute == "Sec-WebSocket-Version") r.set("Sec-WebSocket-Version", "13");
        return r;
    }
    std::string protocol;
    if (!topic) {
        // herald.v1 is the only subprotocol; a client that offers others but not it would misread our messages.
        bool offered = std::find(up->protocols.begin(), up->protocols.end(), "herald.v1") != up->protocols.end();
        if (!up->protocols.empty() && !offered)
            return problem(400, "bad-handshake", "Bad WebSocket handshake",
                           "this endpoint speaks the herald.v1 subprotocol only", "Sec-WebSocket-Protocol");
        if (offered) protocol = "herald.v1";
    }
    std::optional<websocket::SingleTopic> single;
    if (topic) {
        auto reader = ctx_.engine.topic(*topic, ctx_.engine.auto_create());
        if (!reader) return engine_problem(reader.error(), "invalid-topic");
        auto start = resolve_start(**reader, req.query_param("from").value_or(""), /*default_latest=*/true);
        if (!start) return bad_parameter(start.error().message, "from");
        std::shared_ptr<void> lease;
        if (auto refused = access_.open_stream_response(*principal, req.remote_address, lease))
            return std::move(*refused);
        single = websocket::SingleTopic{*reader, std::move(lease), start->next,
                                        split_list(req.query_param("types").value_or("")), start->reset_reason,
                                        start->missed};
    }
    // permessage-deflate (RFC 7692) when the client offers an acceptable configuration; otherwise declined.
    std::optional<websocket::DeflateAgreement> deflate;
    if (ctx_.websocket.options.deflate) deflate = websocket::negotiate_deflate(up->extensions);
    const std::string extensions = deflate ? "Sec-WebSocket-Extensions: " + deflate->response + "\r\n" : "";
    Response r;
    r.takeover = [this, head = websocket::switching_protocols(up->key, protocol, extensions), single = std::move(single),
                  principal = std::move(principal), deflate = std::move(deflate)](http::ByteStream stream,
                                                                                   Request request) mutable {
        auto guard = access_.session_guard(std::move(principal), request.remote_address);
        websocket::Session::start(std::move(stream), std::move(request.connection_slot), worker_hub_,
                                  ctx_.websocket, std::move(head), std::move(single), std::move(guard),
                                  std::move(deflate));
    };
    return r;
}

asio::awaitable<Response> DataPlane::publish(Request& req, const std::string& topic,
                                             const security::Principal& principal) {
    auto reject = [&](Response r) {
        ctx_.pipeline.count_rejected();
        return r;
    };
    const auto media = media_type_of(req.header("Content-Type"));
    std::vector<core::CloudEvent> events;
    bool batch = false;
    if (media == "application/cloudevents+json") {
        auto e = core::decode_structured(req.body);
        if (!e) co_return reject(invalid_event(e.error()));
        events.push_back(std::move(*e));
    } else if (media == "application/cloudevents-batch+json") {
        batch = true;
        auto b = core::decode_batch(req.body);
        if (!b) co_return reject(invalid_event(b.error()));
        events = std::move(*b);
        if (events.empty())
            co_return reject(problem(400, "invalid-event", "Invalid CloudEvent", "the batch is empty", "[]"));
    } else if (req.has_header("ce-specversion")) {
        std::vector<core::Header> headers(req.headers.begin(), req.headers.end());
        auto e = core::decode_binary(headers, req.header("Content-Type"), req.body);
        if (!e) co_return reject(invalid_event(e.error()));
        events.push_back(std::move(*e));
    } else if (media == "application/json" || media.empty()) {
        std::string type = req.query_param("type").value_or("");
        if (type.empty()) {
            // The contracts hold the current default (the admin API may have changed it since the start).
            if (ctx_.contracts) {
                type = ctx_.contracts->default_type(topic);
            } else {
                auto it = ctx_.config.topics.find(topic);
                type = it != ctx_.config.topics.end() ? it->second.default_type
                                                      : ctx_.config.topic_defaults.default_type;
            }
        }
        if (type.empty())
            co_return reject(problem(400, "invalid-event", "Invalid CloudEvent",
                                     "a plain JSON body needs an event type: pass ?type= or configure the topic's "
                                     "default_type (or send a CloudEvent)",
                                     "type"));
        auto e = core::wrap_json(req.body, type, ctx_.config.event_source);
        if (!e) co_return reject(invalid_event(e.error()));
        events.push_back(std::move(*e));
    } else {
        co_return reject(problem(415, "unsupported-media-type", "Unsupported media type",
                                 "send application/cloudevents+json, application/cloudevents-batch+json, "
                                 "binary-mode ce-* headers, or application/json",
                                 "Content-Type"));
    }

    if (auto limited = access_.limit(LimitKind::publish, principal, req.remote_address, topic,
                                     static_cast<std::uint32_t>(events.size())))
        co_return reject(std::move(*limited));
    // The events carry this request's trace: the pipeline stamps traceparent/tracestate on those without one.
    const publish::PublishTrace trace_context{req.trace, req.tracestate};
    std::string idempotency_key(req.header("Idempotency-Key"));
    const auto received = received_at(req);
    auto result = co_await ctx_.pipeline.publish(topic, std::move(events), std::move(idempotency_key),
                                                 &trace_context, received);
    if (!result) {
        auto kind = result.error().attribute == "topic" ? "invalid-topic"
                    : result.error().attribute == "Idempotency-Key" ? "invalid-parameter" : "invalid-event";
        co_return engine_problem(result.error(), kind);
    }
    std::size_t fresh = 0;
    for (auto& o : result->outcomes) fresh += o.duplicate ? 0 : 1;
    const unsigned status = (result->replayed || fresh == 0) ? 200 : 201;
    Response res = batch ? http::json_response(status, "{\"results\":" + publish::Pipeline::results_json(*result) + "}")
                         : http::json_response(status, publish::Pipeline::outcome_json(result->outcomes.front(),
                                                                                       result->epoch));
    if (result->replayed) res.set("Idempotent-Replayed", "true");
    if (ctx_.logger && ctx_.logger->enabled(log::Level::debug))
        ctx_.logger->debug("publish", "published",
                           {{"topic", topic},
                            {"events", result->outcomes.size()},
                            {"fresh", fresh},
                            {"first_offset", result->outcomes.front().offset},
                            {"trace_id", trace::to_hex(req.trace.trace_id)}});
    co_return res;
}

Response DataPlane::open_stream(Request& req, const std::string& topic, const security::PrincipalPtr& principal) {
    auto reader = ctx_.engine.topic(topic, ctx_.engine.auto_create());
    if (!reader) return engine_problem(reader.error(), "invalid-topic");
    // A reconnecting EventSource repeats the URL and adds Last-Event-ID: the header wins over ?from=.
    std::string from(req.header("Last-Event-ID"));
    if (from.empty()) from = req.query_param("from").value_or("");
    auto start = resolve_start(**reader, from, /*default_latest=*/true);
    if (!start) return bad_parameter(start.error().message, req.has_header("Last-Event-ID") ? "Last-Event-ID" : "from");

    sse::StreamStart s;
    s.extra_headers = cors_.response_headers(req.header("Origin"));
    s.topic = *reader;
    s.next_offset = start->next;
    s.feed.format = hub::WireFormat::sse;
    s.feed.types = split_list(req.query_param("types").value_or(""));
    s.feed.high_water_bytes = ctx_.config.sse.high_water_bytes;
    if (access_.enabled()) s.expires_at = principal->expires_at;
    if (auto refused = access_.open_stream_response(*principal, req.remote_address, s.lease)) return std::move(*refused);
    if (!start->reset_reason.empty()) {
        auto cursor = cursor_text((*reader)->epoch(), start->next);
        s.notice = sse::control_event("herald.reset",
                                      "{\"reason\":\"" + start->reset_reason + "\",\"cursor\":\"" + cursor +
                                          "\",\"missed\":" + std::to_string(start->missed) + "}",
                                      cursor);
    }
    Response r;
    r.takeover = [this, s = std::move(s)](http::ByteStream stream, Request request) mutable {
        sse::Stream::start(std::move(stream), std::move(request.connection_slot), worker_hub_,
                           ctx_.hub.encoder(hub::WireFormat::sse), std::move(s), ctx_.sse_options, ctx_.stats.sse);
    };
    return r;
}

asio::awaitable<Response> DataPlane::read_page(Request& req, const std::string& topic) {
    auto reader_r = ctx_.engine.topic(topic, false);
    if (!reader_r) co_return engine_problem(reader_r.error(), "invalid-topic");
    auto reader = std::move(*reader_r);

    std::size_t limit = 100;
    if (auto l = req.query_param("limit")) {
        auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
        if (ec != std::errc() || p != l->data() + l->size() || limit == 0 || limit > ctx_.config.page_max_events)
            co_return bad_parameter("limit must be a number from 1 to " + std::to_string(ctx_.config.page_max_events),
                                    "limit");
    }
    std::int64_t wait_ms = 0;
    if (auto w = req.query_param("wait")) {
        double seconds = -1;
        auto [p, ec] = std::from_chars(w->data(), w->data() + w->size(), seconds);
        if (ec != std::errc() || p != w->data() + w->size() || seconds < 0 ||
            seconds * 1000 > static_cast<double>(ctx_.config.long_poll_max_ms))
            co_return bad_parameter("wait must be a number of seconds from 0 to " +
                                        std::to_string(ctx_.config.long_poll_max_ms / 1000),
                                    "wait");
        wait_ms = static_cast<std::int64_t>(seconds * 1000);
    }
    auto types = split_list(req.query_param("types").value_or(""));
    auto start = resolve_start(*reader, req.query_param("from").value_or(""), /*default_latest=*/false);
    if (!start) co_return bad_parameter(start.error().message, "from");

    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    std::uint64_t next = start->next;
    json::array events;
    for (;;) {
        auto records = reader->read(next, limit, 1u << 20);
        if (!records) {
            if (records.error().code == Errc::gone) {
                // Retention ran while we were waiting: restart at the first retained event and say so.
                start->missed += reader->start_offset() - next;
                start->reset_reason = "retention";
                next = reader->start_offset();
                continue;
            }
            co_return engine_problem(records.error());
        }
        for (auto& r : *records) {
            next = r.offset + 1;
            auto rec = core::decode_event_record(r.payload);
            if (!rec) continue;
            if (!types.empty() && std::find(types.begin(), types.end(), rec->type) == types.end()) continue;
            events.push_back(json::parse(rec->json));
        }
        if (!events.empty() || records->size() == limit) break;  // a full page of filtered-out events: return
        if (std::chrono::steady_clock::now() >= deadline) break;
        // Nothing yet: wait for the topic's next commit on this worker, or the deadline.
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_at(deadline);
        Waiter waiter(timer);
        worker_hub_.subscribe(topic, waiter);
        if (reader->end_offset() > next) {
            waiter.unlink();
            continue;
        }
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ctx_.stats.pages_served.fetch_add(1, std::memory_order_relaxed);
    json::object body;
    body["events"] = std::move(events);
    body["next"] = cursor_text(reader->epoch(), next);
    if (!start->reset_reason.empty()) {
        json::object gap;
        gap["reason"] = start->reset_reason;
        gap["missed"] = start->missed;
        body["gap"] = std::move(gap);
    }
    co_return http::json_response(200, json::serialize(body));
}

Response DataPlane::list_topics(const security::Principal& principal) {
    json::array arr;
    for (auto& t : ctx_.engine.topics()) {
        // The catalog shows a consumer only what it may subscribe to.
        if (!access_.allows(principal, security::Action::subscribe, t.name)) continue;
        json::object o;
        o["name"] = t.name;
        o["start_offset"] = t.start_offset;
        o["end_offset"] = t.end_offset;
        o["size_bytes"] = t.size_bytes;
        arr.push_back(std::move(o));
    }
    json::object body;
    body["topics"] = std::move(arr);
    return http::json_response(200, json::serialize(body));
}

Response DataPlane::catalog_document(const Request& req, const security::Principal& principal,
                                     std::string_view which) {
    catalog::CatalogInput in;
    in.version = HERALD_VERSION;
    in.http_host = std::string(req.header("Host"));
    if (in.http_host.empty()) in.http_host = ctx_.config.listen;
    in.tls = ctx_.config.tls.enabled();
    const auto& a = ctx_.config.auth;
    in.auth.enabled = a.enabled;
    in.auth.jwt = !a.issuers.empty();
    in.auth.api_keys = !a.api_keys.empty();
    in.auth.query_token = a.allow_query_token;
    // Topics: the ones that exist and the declared ones, each with its contract; only those the caller may
    // subscribe to.
    std::map<std::string, catalog::CatalogTopic> topics;
    auto contract_of = [&](const std::string& name, catalog::CatalogTopic& t) {
        if (!ctx_.contracts) return;
        const auto& c = ctx_.contracts->contract(name);
        t.types = c.accepted_types;
        t.allow_unknown_types = c.allow_unknown_types;
    };
    for (auto& info : ctx_.engine.topics()) {
        if (!access_.allows(principal, security::Action::subscribe, info.name)) continue;
        auto& t = topics[info.name];
        t.name = info.name;
        t.start_offset = info.start_offset;
        t.end_offset = info.end_offset;
        contract_of(info.name, t);
    }
    for (auto& [name, cfg] : ctx_.config.topics) {
        if (topics.count(name) || !access_.allows(principal, security::Action::subscribe, name)) continue;
        auto& t = topics[name];
        t.name = name;
        contract_of(name, t);
    }
    for (auto& [name, t] : topics) in.topics.push_back(std::move(t));
    if (ctx_.contracts) {
        auto snap = ctx_.contracts->registry().snapshot();
        for (auto& type : snap->types()) {
            auto v = snap->get(type);
            if (!v) continue;
            catalog::CatalogMessage m;
            m.type = type;
            m.schema = v->bundled;
            m.schema_uri = v->uri;
            in.messages.push_back(std::move(m));
        }
    }
    if (ctx_.gateway) {
        // The REST routes the caller could use: with auth on, a route whose scopes the caller lacks is left out,
        // as topics it may not subscribe to are.
        auto snapshot = ctx_.gateway->snapshot();
        for (std::size_t i = 0; i < snapshot->routes.size(); ++i) {
            const auto& route = snapshot->routes.route(i);
            if (proxy::check_policy(route.policy(), access_.enabled(), principal) == proxy::PolicyDecision::forbidden)
                continue;
            const auto& spec = route.spec();
            catalog::CatalogRoute r;
            r.name = spec.name;
            r.prefix = spec.path_kind == config::PathMatchKind::prefix;
            r.path = r.prefix ? route.prefix() : spec.path;
            r.methods = spec.methods;
            r.description = spec.description;
            r.public_route = spec.policy.auth == config::RouteAuth::none;
            r.scopes = spec.policy.scopes;
            r.rate_limited = spec.policy.rate_limit.enabled();
            in.routes.push_back(std::move(r));
        }
    }
    if (which == "openapi.json") return http::json_response(200, json::serialize(catalog::openapi_document(in)));
    auto doc = catalog::asyncapi_document(in);
    if (which == "asyncapi.yaml") {
        Response r;
        r.body = catalog::to_yaml(doc);
        r.set("Content-Type", "application/yaml");
        return r;
    }
    return http::json_response(200, json::serialize(doc));
}

Response DataPlane::topic_info(const std::string& topic) {
    for (auto& t : ctx_.engine.topics()) {
        if (t.name != topic) continue;
        json::object o;
        o["name"] = t.name;
        o["start_offset"] = t.start_offset;
        o["end_offset"] = t.end_offset;
        o["earliest"] = cursor_text(t.epoch, t.start_offset);
        o["latest"] = cursor_text(t.epoch, t.end_offset);
        o["size_bytes"] = t.size_bytes;
        const char* fsync = t.settings.fsync == engine::FsyncPolicy::always ? "always"
                            : t.settings.fsync == engine::FsyncPolicy::interval ? "interval" : "never";
        o["fsync"] = fsync;
        json::object retention;
        if (t.settings.retention_ms) retention["max_age_ms"] = *t.settings.retention_ms;
        if (t.settings.retention_bytes) retention["max_bytes"] = *t.settings.retention_bytes;
        o["retention"] = std::move(retention);
        return http::json_response(200, json::serialize(o));
    }
    return problem(404, "not-found", "Not found", "topic '" + topic + "' does not exist", "topic");
}

}  // namespace herald::server
