#include "server/webhook_api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <charconv>

#include "http/problem.hpp"

namespace herald::server {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

Response problem(unsigned status, std::string kind, std::string title, std::string detail, std::string attr = {}) {
    return http::problem_response(http::Problem{status, std::move(kind), std::move(title), std::move(detail),
                                                std::move(attr)});
}

Response error_response(const Error& e) {
    switch (e.code) {
        case Errc::invalid_argument:
            return problem(400, "invalid-subscription", "Invalid subscription request", e.message, e.attribute);
        case Errc::not_found: return problem(404, "not-found", "Not found", e.message, e.attribute);
        case Errc::conflict: return problem(409, "conflict", "Conflict", e.message, e.attribute);
        case Errc::unavailable: {
            auto r = problem(503, "unavailable", "Service unavailable", e.message);
            r.set("Retry-After", "1");
            return r;
        }
        default: return problem(500, "internal", "Internal error", e.message);
    }
}

Response json_ok(unsigned status, const json::value& v) { return http::json_response(status, json::serialize(v)); }

Response method_not_allowed(std::string allow) {
    auto r = problem(405, "method-not-allowed", "Method not allowed", "allowed: " + allow);
    r.set("Allow", allow);
    return r;
}

// Parses a JSON body; an empty body is null (for endpoints whose body is optional).
Result<json::value> body_json(const Request& req) {
    if (req.body.empty()) return json::value(nullptr);
    boost::system::error_code ec;
    auto v = json::parse(req.body, ec);
    if (ec) return make_error(Errc::invalid_argument, "the body is not valid JSON: " + ec.message());
    return v;
}

template <class Int>
Result<Int> int_param(const Request& req, std::string_view name, Int fallback, Int min, Int max) {
    auto p = req.query_param(name);
    if (!p) return fallback;
    Int v{};
    auto [ptr, ec] = std::from_chars(p->data(), p->data() + p->size(), v);
    if (ec != std::errc() || ptr != p->data() + p->size() || v < min || v > max)
        return make_error(Errc::invalid_argument,
                          std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                              std::to_string(max),
                          std::string(name));
    return v;
}

asio::awaitable<Response> dispatch(webhook::Service& svc, Request& req, std::vector<std::string> seg,
                                   TopicPermission may) {
    const auto n = seg.size();
    if (n == 2) {
        if (req.method == "POST") {
            auto body = body_json(req);
            if (!body) co_return error_response(body.error());
            if (body->is_object()) {
                if (auto* t = body->as_object().if_contains("topic"); t && t->is_string() && !may(std::string(t->as_string())))
                    co_return problem(403, "forbidden", "Forbidden",
                                      "this principal has no subscribe scope for topic '" +
                                          std::string(t->as_string()) + "'",
                                      "topic");
            }
            auto r = co_await svc.create(std::move(*body));
            if (!r) co_return error_response(r.error());
            auto res = json_ok(201, *r);
            res.set("Location", "/v1/subscriptions/" + std::string(r->at("id").as_string()));
            co_return res;
        }
        if (req.method == "GET") {
            auto topic = req.query_param("topic").value_or("");
            json::array visible;
            for (auto& v : svc.list(topic))
                if (may(std::string(v.at("topic").as_string()))) visible.push_back(v);
            co_return json_ok(200, json::object{{"subscriptions", std::move(visible)}});
        }
        co_return method_not_allowed("GET, POST");
    }
    const std::string& id = seg[2];
    if (auto existing = svc.get(id); !existing || !may(std::string(existing->at("topic").as_string())))
        co_return problem(404, "not-found", "Not found", "no webhook subscription '" + id + "'");
    if (n == 3) {
        if (req.method == "GET") {
            auto r = svc.get(id);
            co_return r ? json_ok(200, *r) : error_response(r.error());
        }
        if (req.method == "DELETE") {
            auto r = svc.remove(id);
            if (!r) co_return error_response(r.error());
            Response res;
            res.status = 204;
            co_return res;
        }
        co_return method_not_allowed("GET, DELETE");
    }
    const std::string& action = seg[3];
    if (n == 4 && (action == "pause" || action == "resume")) {
        if (req.method != "POST") co_return method_not_allowed("POST");
        auto r = svc.set_paused(id, action == "pause");
        co_return r ? json_ok(200, *r) : error_response(r.error());
    }
    if (n == 4 && action == "rotate-secret") {
        if (req.method != "POST") co_return method_not_allowed("POST");
        auto body = body_json(req);
        if (!body) co_return error_response(body.error());
        auto r = svc.rotate_secret(id, *body);
        co_return r ? json_ok(200, *r) : error_response(r.error());
    }
    if (n == 4 && action == "attempts") {
        if (req.method != "GET") co_return method_not_allowed("GET");
        auto limit = int_param<unsigned>(req, "limit", 50, 1, 1000);
        if (!limit) co_return error_response(limit.error());
        auto r = svc.attempts(id, *limit);
        co_return r ? json_ok(200, *r) : error_response(r.error());
    }
    if (n == 4 && action == "dead-letters") {
        if (req.method != "GET") co_return method_not_allowed("GET");
        auto limit = int_param<unsigned>(req, "limit", 100, 1, 1000);
        if (!limit) co_return error_response(limit.error());
        auto after = int_param<std::int64_t>(req, "after", 0, 0, INT64_MAX);
        if (!after) co_return error_response(after.error());
        auto r = svc.dead_letters(id, *after, *limit);
        co_return r ? json_ok(200, *r) : error_response(r.error());
    }
    if (n == 5 && action == "dead-letters" && seg[4] == "replay") {
        if (req.method != "POST") co_return method_not_allowed("POST");
        auto body = body_json(req);
        if (!body) co_return error_response(body.error());
        auto r = svc.replay(id, *body);
        co_return r ? json_ok(202, *r) : error_response(r.error());
    }
    if (n == 5 && action == "dead-letters") {
        if (req.method != "DELETE") co_return method_not_allowed("DELETE");
        std::int64_t entry = 0;
        auto [p, ec] = std::from_chars(seg[4].data(), seg[4].data() + seg[4].size(), entry);
        if (ec != std::errc() || p != seg[4].data() + seg[4].size())
            co_return problem(404, "not-found", "Not found", "no dead-letter entry '" + seg[4] + "'");
        auto r = svc.delete_dead_letter(id, entry);
        if (!r) co_return error_response(r.error());
        Response res;
        res.status = 204;
        co_return res;
    }
    co_return problem(404, "not-found", "Not found", "no route for " + req.method + " " + req.path);
}

}  // namespace

asio::awaitable<Response> handle_subscriptions(webhook::Service& service, asio::io_context& webhook_io,
                                               Request& request, const std::vector<std::string_view>& segments,
                                               TopicPermission may_subscribe) {
    // Copy the path segments: they view the request, which stays alive (this coroutine waits), but owning them
    // keeps the other thread's work self-contained.
    std::vector<std::string> seg(segments.begin(), segments.end());
    // Named locals, not temporaries inside the co_await expression: GCC 12 mishandles the lifetime of
    // non-trivial temporaries there (double destruction).
    auto work = dispatch(service, request, std::move(seg), std::move(may_subscribe));
    auto op = asio::co_spawn(webhook_io, std::move(work), asio::use_awaitable);
    Response response = co_await std::move(op);
    co_return response;
}

}  // namespace herald::server
