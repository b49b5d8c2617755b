// The gateway's one Beast translation unit for HTTP relaying (see forwarder.hpp for the behaviour).
#include "gateway/forwarder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <optional>

#include "base/clock.hpp"
#include "http/listener.hpp"
#include "http/problem.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/retry_budget.hpp"

namespace herald::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using beast::error_code;
using Clock_ = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t kReplayLimit = 64 * 1024;  // request bodies up to this are buffered and can be retried
constexpr std::size_t kChunk = 16 * 1024;        // relay buffer, each direction

bool is_timeout(const error_code& ec) {
    return ec == beast::error::timeout || ec == asio::error::timed_out;
}


// The deadline of one read or write: the phase's own timeout, never past the exchange's total deadline.
std::chrono::milliseconds bounded(std::int64_t timeout_ms, Clock_::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock_::now());
    if (left.count() < 1) left = std::chrono::milliseconds(1);
    if (timeout_ms <= 0) return left;
    return std::min(std::chrono::milliseconds(timeout_ms), left);
}

bool is_ip_literal(std::string_view host) {
    error_code ec;
    asio::ip::make_address(std::string(host), ec);
    return !ec;
}

// One attempt's state: the connection, the answer's parser once its head is in, and how it failed.
struct Attempt {
    std::unique_ptr<UpstreamConnection> conn;
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
    bool failed = false;
    bool stale = false;          // a reused connection died before any answer byte: retry without blame
    bool client_failed = false;  // the client stopped sending its body: nothing to answer
    bool body_too_large = false; // ... or sent more than the limit: answer 413 and close
    proxy::AttemptFailure failure;
    proxy::ProxyError error = proxy::ProxyError::bad_response;
    std::string detail;

    void fail(proxy::AttemptFailure::Kind kind, proxy::ProxyError e, std::string why) {
        failed = true;
        failure.kind = kind;
        error = e;
        detail = std::move(why);
    }
};

// What stays the same across the attempts of one exchange.
struct Exchange {
    http::RawExchange& x;
    const proxy::Route& route;
    proxy::Upstream& upstream;
    ssl::context* tls;
    proxy::UpstreamRequest request;
    proxy::CallSettings call;
    Clock_::time_point deadline;
    bool head_method = false;
    bool has_body = false;
    bool buffered = true;  // the body (if any) is in `body` and can be sent again
    std::string body;
    std::optional<bhttp::request_parser<bhttp::buffer_body>> streaming;  // the client's body, not yet read
};

template <class Stream>
asio::awaitable<void> write_buffered_request(Stream& s, Exchange& e, std::string_view host, Attempt& a) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(e.request.method);
    req.target(e.request.target);
    req.version(11);
    for (auto& [k, v] : e.request.headers) req.insert(k, v);
    req.set(bhttp::field::host, host);
    if (e.has_body || !e.body.empty()) {
        req.body() = e.body;
        req.content_length(e.body.size());
    }
    if (!e.request.websocket_upgrade) req.keep_alive(true);
    a.conn->tcp().expires_after(bounded(e.call.read_timeout_ms, e.deadline));
    auto [ec, n] = co_await bhttp::async_write(s, req, use_tuple);
    if (ec) {
        if (a.conn->reused()) a.stale = true;
        a.fail(proxy::AttemptFailure::Kind::transport,
               is_timeout(ec) ? proxy::ProxyError::timeout : proxy::ProxyError::bad_response,
               "sending the request failed: " + ec.message());
    }
}

// Streams the client's body to the upstream as it arrives (one attempt only: it cannot be sent again).
template <class Stream>
asio::awaitable<void> write_streamed_request(Stream& s, Exchange& e, std::string_view host, Attempt& a) {
    auto& bp = *e.streaming;
    bhttp::request<bhttp::buffer_body> req;
    req.method_string(e.request.method);
    req.target(e.request.target);
    req.version(11);
    for (auto& [k, v] : e.request.headers) req.insert(k, v);
    req.set(bhttp::field::host, host);
    if (auto len = bp.content_length())
        req.content_length(*len);
    else
        req.chunked(true);
    req.keep_alive(true);
    req.body().data = nullptr;
    req.body().more = true;
    bhttp::request_serializer<bhttp::buffer_body> sr{req};
    a.conn->tcp().expires_after(bounded(e.call.read_timeout_ms, e.deadline));
    auto [hec, hn] = co_await bhttp::async_write_header(s, sr, use_tuple);
    if (hec) {
        a.fail(proxy::AttemptFailure::Kind::transport, proxy::ProxyError::bad_response,
               "sending the request failed: " + hec.message());
        co_return;
    }
    std::array<char, kChunk> buf;
    for (;;) {
        if (!bp.is_done()) {
            bp.get().body().data = buf.data();
            bp.get().body().size = buf.size();
            e.x.stream.expires_after(e.x.options.body_timeout);
            auto [rec, rn] = co_await bhttp::async_read_some(e.x.stream, e.x.buffer, bp, use_tuple);
            if (rec == bhttp::error::need_buffer) rec = {};
            if (rec) {
                a.client_failed = true;
                a.body_too_large = rec == bhttp::error::body_limit;
                a.failed = true;
                a.detail = "the client's body did not arrive: " + rec.message();
                co_return;
            }
            req.body().data = buf.data();
            req.body().size = buf.size() - bp.get().body().size;
            req.body().more = !bp.is_done();
            e.x.bytes_in += req.body().size;
            if (req.body().size == 0) {
                if (req.body().more) continue;
                req.body().data = nullptr;  // see relay_response: no zero-length chunk before the last one
            }
        } else {
            req.body().data = nullptr;
            req.body().size = 0;
            req.body().more = false;
        }
        a.conn->tcp().expires_after(bounded(e.call.read_timeout_ms, e.deadline));
        auto [wec, wn] = co_await bhttp::async_write(s, sr, use_tuple);
        if (wec == bhttp::error::need_buffer) wec = {};
        if (wec) {
            a.fail(proxy::AttemptFailure::Kind::transport,
                   is_timeout(wec) ? proxy::ProxyError::timeout : proxy::ProxyError::bad_response,
                   "sending the request body failed: " + wec.message());
            co_return;
        }
        // The piece with more == false was the last: the serializer has written the end of the body with it.
        if (sr.is_done() || !req.body().more) break;
    }
}

template <class Stream>
asio::awaitable<void> read_response_head(Stream& s, Exchange& e, Attempt& a) {
    // Interim 1xx answers (100 Continue, 103 Early Hints) are skipped; 101 is the final answer of an upgrade.
    for (int interim = 0; interim < 8; ++interim) {
        a.parser.emplace();
        a.parser->body_limit(std::numeric_limits<std::uint64_t>::max());
        a.parser->header_limit(64 * 1024);
        if (e.head_method) a.parser->skip(true);
        const std::int64_t head_timeout = e.call.per_try_timeout_ms > 0 ? e.call.per_try_timeout_ms : e.call.read_timeout_ms;
        a.conn->tcp().expires_after(bounded(head_timeout, e.deadline));
        auto [ec, n] = co_await bhttp::async_read_header(s, a.conn->buffer, *a.parser, use_tuple);
        if (ec) {
            if (a.conn->reused() && n == 0 && !is_timeout(ec)) a.stale = true;
            a.fail(proxy::AttemptFailure::Kind::transport,
                   is_timeout(ec) ? proxy::ProxyError::timeout : proxy::ProxyError::bad_response,
                   is_timeout(ec) ? "no answer within the read timeout" : "reading the answer failed: " + ec.message());
            co_return;
        }
        const unsigned status = a.parser->get().result_int();
        if (status >= 200 || status == 101) co_return;
    }
    a.fail(proxy::AttemptFailure::Kind::transport, proxy::ProxyError::bad_response, "too many interim answers");
}

asio::awaitable<void> open_connection(Exchange& e, const proxy::Target& t, const std::string& key, Attempt& a) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(t.host, std::to_string(t.port), use_tuple);
    if (rec) {
        a.fail(proxy::AttemptFailure::Kind::connect, proxy::ProxyError::connect_failed,
               "cannot resolve a target: " + rec.message());
        co_return;
    }
    a.conn = e.tls ? std::make_unique<UpstreamConnection>(ex, *e.tls) : std::make_unique<UpstreamConnection>(ex);
    a.conn->key = key;
    const std::int64_t connect_timeout =
        e.call.per_try_timeout_ms > 0 ? std::min(e.call.connect_timeout_ms, e.call.per_try_timeout_ms)
                                      : e.call.connect_timeout_ms;
    a.conn->tcp().expires_after(bounded(connect_timeout, e.deadline));
    auto [cec, ep] = co_await a.conn->tcp().async_connect(results, use_tuple);
    if (cec) {
        a.fail(proxy::AttemptFailure::Kind::connect,
               is_timeout(cec) ? proxy::ProxyError::timeout : proxy::ProxyError::connect_failed,
               is_timeout(cec) ? "connecting to a target timed out" : "cannot connect to a target: " + cec.message());
        co_return;
    }
    error_code ignored;
    a.conn->tcp().socket().set_option(tcp::no_delay(true), ignored);
    if (!e.tls) co_return;
    const auto& spec = e.upstream.spec();
    const std::string name = spec.tls_server_name.empty() ? t.host : spec.tls_server_name;
    if (!is_ip_literal(name)) ::SSL_set_tlsext_host_name(a.conn->secure->native_handle(), name.c_str());
    if (spec.verify) a.conn->secure->set_verify_callback(ssl::host_name_verification(name));
    auto [hec] = co_await a.conn->secure->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
        a.fail(proxy::AttemptFailure::Kind::connect,
               is_timeout(hec) ? proxy::ProxyError::timeout : proxy::ProxyError::connect_failed,
               "TLS handshake with a target failed: " + hec.message());
    }
}

// Send the request and read the answer's head on an open connection.
asio::awaitable<void> exchange_head(Exchange& e, std::string_view host, Attempt& a) {
    if (a.conn->secure) {
        auto& s = *a.conn->secure;
        if (e.buffered)
            co_await write_buffered_request(s, e, host, a);
        else
            co_await write_streamed_request(s, e, host, a);
        if (!a.failed) co_await read_response_head(s, e, a);
    } else {
        auto& s = *a.conn->plain;
        if (e.buffered)
            co_await write_buffered_request(s, e, host, a);
        else
            co_await write_streamed_request(s, e, host, a);
        if (!a.failed) co_await read_response_head(s, e, a);
    }
}

// After the upstream's 101: bytes both ways until either side closes. Each direction closes both sockets when it
// ends, so the other direction's pending read ends too.
template <class Stream>
asio::awaitable<void> pump_to_upstream(http::RawExchange& x, Stream& up, UpstreamConnection& c) {
    std::array<char, kChunk> buf;
    bool open = true;
    // What the client sent after its upgrade request, already in the listener's buffer.
    if (x.buffer.size() > 0) {
        auto [ec, n] = co_await asio::async_write(up, x.buffer.data(), use_tuple);
        x.buffer.consume(x.buffer.size());
        open = !ec;
    }
    while (open) {
        auto [rec, rn] = co_await x.stream.async_read_some(asio::buffer(buf), use_tuple);
        if (rec) break;
        x.bytes_in += rn;
        auto [wec, wn] = co_await asio::async_write(up, asio::buffer(buf.data(), rn), use_tuple);
        open = !wec;
    }
    error_code ignored;
    x.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
}

template <class Stream>
asio::awaitable<void> pump_to_client(http::RawExchange& x, Stream& up, UpstreamConnection& c) {
    std::array<char, kChunk> buf;
    bool open = true;
    // What the upstream sent right after its 101, already read into the connection's buffer.
    if (c.buffer.size() > 0) {
        auto [ec, n] = co_await asio::async_write(x.stream, c.buffer.data(), use_tuple);
        x.bytes_out += n;
        c.buffer.consume(c.buffer.size());
        open = !ec;
    }
    while (open) {
        auto [rec, rn] = co_await up.async_read_some(asio::buffer(buf), use_tuple);
        if (rec) break;
        auto [wec, wn] = co_await asio::async_write(x.stream, asio::buffer(buf.data(), rn), use_tuple);
        x.bytes_out += wn;
        open = !wec;
    }
    error_code ignored;
    x.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
}

template <class Stream>
asio::awaitable<void> tunnel(http::RawExchange& x, Stream& up, UpstreamConnection& c) {
    using namespace asio::experimental::awaitable_operators;
    x.stream.expires_never();
    c.tcp().expires_never();
    co_await (pump_to_upstream(x, up, c) && pump_to_client(x, up, c));
}

// Streams the answer whose head is in `a.parser` to the client. Returns whether the upstream connection can be
// reused.
template <class Stream>
asio::awaitable<bool> relay_response(Stream& s, Exchange& e, Attempt& a, GatewayStats& stats) {
    auto& x = e.x;
    auto& p = *a.parser;
    const unsigned status = p.get().result_int();
    const bool upgrade = status == 101 && e.request.websocket_upgrade;

    http::HeaderList h;
    h.reserve(16);
    for (auto& f : p.get()) h.emplace_back(std::string(f.name_string()), std::string(f.value()));
    proxy::prepare_downstream_response(h, e.route, e.request.request_id, upgrade);

    bhttp::response<bhttp::buffer_body> res;
    res.version(x.head.version);
    res.result(status);
    for (auto& [k, v] : h)
        if (!http::iequals(k, "Content-Length")) res.insert(k, v);
    const bool body_expected = !e.head_method && status >= 200 && status != 204 && status != 304;
    const auto upstream_length = p.content_length();
    bool client_keep = x.head.keep_alive && !upgrade;
    if (body_expected) {
        if (upstream_length)
            res.content_length(*upstream_length);
        else if (x.head.version >= 11)
            res.chunked(true);
        else
            client_keep = false;  // HTTP/1.0 without a length: the end of the body is the end of the connection
    } else if (upstream_length && e.head_method) {
        res.set(bhttp::field::content_length, std::to_string(*upstream_length));
    }
    if (!upgrade) res.keep_alive(client_keep);
    x.status = status;
    stats.responses_by_class[std::min<unsigned>(status / 100, 5)].fetch_add(1, std::memory_order_relaxed);

    res.body().data = nullptr;
    res.body().more = body_expected;
    bhttp::response_serializer<bhttp::buffer_body> sr{res};
    // A body of known length goes out with the head in one write (the serializer writes both when the head is
    // still pending). An answer of unknown length may be a stream (SSE) whose first bytes come much later: its
    // head goes out at once, so the client sees the status without waiting for them.
    if (!body_expected || !upstream_length) {
        x.stream.expires_after(x.options.body_timeout);
        auto [hec, hn] = co_await bhttp::async_write_header(x.stream, sr, use_tuple);
        x.bytes_out += hn;
        if (hec) {
            x.keep_alive = false;
            co_return false;
        }
    }
    if (upgrade) {
        stats.websocket_tunnels.fetch_add(1, std::memory_order_relaxed);
        co_await tunnel(x, s, *a.conn);
        x.keep_alive = false;
        co_return false;
    }
    if (!body_expected) {
        x.keep_alive = client_keep;
        co_return p.is_done() && p.get().keep_alive();
    }
    std::array<char, kChunk> buf;
    for (;;) {
        if (!p.is_done()) {
            p.get().body().data = buf.data();
            p.get().body().size = buf.size();
            // A stream (SSE) may be quiet for long: the read timeout bounds silence only when the upstream's
            // settings say so; the total timeout, when set, bounds the whole exchange.
            if (e.call.read_timeout_ms > 0 || e.call.total_timeout_ms > 0)
                a.conn->tcp().expires_after(bounded(e.call.read_timeout_ms, e.deadline));
            else
                a.conn->tcp().expires_never();
            auto [rec, rn] = co_await bhttp::async_read_some(s, a.conn->buffer, p, use_tuple);
            if (rec == bhttp::error::need_buffer) rec = {};
            if (rec) {
                // Mid-body: the status is already sent, so the only honest signal left is to cut the connection
                // (a client sees a truncated length or a missing last chunk).
                x.keep_alive = false;
                co_return false;
            }
            res.body().data = buf.data();
            res.body().size = buf.size() - p.get().body().size;
            res.body().more = !p.is_done();
            if (res.body().size == 0) {
                if (res.body().more) continue;
                // An empty buffer would go out as a zero-length chunk, which is the terminating chunk: no data
                // pointer makes the serializer write only the real end of the body.
                res.body().data = nullptr;
            }
        } else {
            res.body().data = nullptr;
            res.body().size = 0;
            res.body().more = false;
        }
        x.stream.expires_after(x.options.body_timeout);
        auto [wec, wn] = co_await bhttp::async_write(x.stream, sr, use_tuple);
        x.bytes_out += wn;
        if (wec == bhttp::error::need_buffer) wec = {};
        if (wec) {
            x.keep_alive = false;
            co_return false;
        }
        if (sr.is_done() || !res.body().more) break;
    }
    x.keep_alive = client_keep;
    co_return p.is_done() && p.get().keep_alive();
}

std::string pool_key(const proxy::Upstream& u, const proxy::Target& t, bool tls) {
    std::string k = u.name();
    k += '|';
    k += t.authority;
    if (tls) k += "|tls";
    return k;
}

}  // namespace

asio::awaitable<void> Forwarder::answer(http::RawExchange& x, http::Response response) {
    bool keep = x.head.keep_alive;
    if (!x.parser.is_done()) {
        // Read and drop a small body so the connection can serve the next request; a large one is not worth it.
        auto len = x.parser.content_length();
        const bool expects_continue = http::iequals(x.head.header("Expect"), "100-continue");
        if (len && *len <= kReplayLimit && !expects_continue) {
            x.parser.body_limit(*len);
            x.stream.expires_after(x.options.body_timeout);
            auto [ec, n] = co_await bhttp::async_read(x.stream, x.buffer, x.parser, use_tuple);
            x.bytes_in += n;
            if (ec) keep = false;
        } else {
            keep = false;
        }
    }
    x.status = response.status;
    auto res = http::to_beast(std::move(response), x.head.version, keep, x.options.server_header);
    x.stream.expires_after(x.options.body_timeout);
    auto [wec, wn] = co_await bhttp::async_write(x.stream, res, use_tuple);
    x.bytes_out += wn;
    x.keep_alive = keep && !wec;
}

asio::awaitable<void> Forwarder::forward(http::RawExchange& x, const proxy::RouteMatch& match, std::string_view path,
                                         std::shared_ptr<const Snapshot> snapshot) {
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    const proxy::Route& route = *match.route;
    proxy::Upstream* upstream = snapshot->upstream(route.upstream());
    auto fail = [&](proxy::ProxyError err, std::string detail) {
        stats_.errors[static_cast<std::size_t>(err)].fetch_add(1, std::memory_order_relaxed);
        stats_.responses_by_class[std::min<unsigned>(proxy::status_of(err) / 100, 5)].fetch_add(
            1, std::memory_order_relaxed);
        return proxy::error_response(err, detail);
    };
    if (!upstream) {
        // Cannot happen with a compiled table (routes name existing upstreams); answered rather than asserted.
        auto r = fail(proxy::ProxyError::no_available_target, "route " + route.name() + ": no upstream");
        co_await answer(x, std::move(r));
        co_return;
    }
    const std::string_view client_host = x.head.header("Host");
    proxy::ClientInfo client{x.head.remote_address, x.stream.is_tls() ? "https" : "http", client_host, {}};
    auto prepared = proxy::prepare_upstream_request(x.head, match, path, client);
    if (!prepared) {
        auto r = fail(proxy::ProxyError::invalid_path, prepared.error().message);
        co_await answer(x, std::move(r));
        co_return;
    }
    Exchange e{x, route, *upstream, snapshot->tls_context(route.upstream()), std::move(*prepared), {}, {},
               false, false, true, {}, {}};
    e.call = proxy::call_settings(upstream->spec(), route.spec());
    e.deadline = e.call.total_timeout_ms > 0 ? Clock_::now() + std::chrono::milliseconds(e.call.total_timeout_ms)
                                             : Clock_::time_point::max();
    e.head_method = x.head.method == "HEAD";
    // Herald frames the body itself and answers Expect itself.
    std::erase_if(e.request.headers, [](const auto& h) {
        return http::iequals(h.first, "Content-Length") || http::iequals(h.first, "Expect");
    });

    // The body: buffered when small and of known length (retries possible), streamed otherwise.
    e.has_body = !x.parser.is_done();
    const std::uint64_t body_limit = route.policy().body_limit.value_or(x.options.body_limit);
    if (e.has_body) {
        const auto len = x.parser.content_length();
        if (len && *len > body_limit) {
            auto r = http::problem_response({413, "payload-too-large", "Payload too large",
                                             "the request body exceeds the route's limit", {}});
            co_await answer(x, std::move(r));
            co_return;
        }
        if (http::iequals(x.head.header("Expect"), "100-continue")) {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, x.head.version};
            x.stream.expires_after(x.options.body_timeout);
            auto [cec, cn] = co_await bhttp::async_write(x.stream, cont, use_tuple);
            if (cec) {
                x.keep_alive = false;
                co_return;
            }
        }
        if (len && *len <= kReplayLimit) {
            x.parser.body_limit(*len);
            x.stream.expires_after(x.options.body_timeout);
            auto [ec, n] = co_await bhttp::async_read(x.stream, x.buffer, x.parser, use_tuple);
            x.bytes_in += n;
            if (ec) {
                x.keep_alive = false;  // the client's body did not arrive: nobody to answer
                co_return;
            }
            e.body = std::move(x.parser.get().body());
        } else {
            e.buffered = false;
            e.streaming.emplace(std::move(x.parser));
            e.streaming->body_limit(body_limit);
        }
    }

    // An answer of Herald's own. With a streamed body partly unread the connection cannot serve another
    // request: the answer says so and the connection closes.
    auto refuse = [&](http::Response r) -> asio::awaitable<void> {
        if (e.buffered) {
            co_await answer(x, std::move(r));
            co_return;
        }
        x.keep_alive = false;
        x.status = r.status;
        auto res = http::to_beast(std::move(r), x.head.version, false, x.options.server_header);
        x.stream.expires_after(x.options.body_timeout);
        auto [wec, wn] = co_await bhttp::async_write(x.stream, res, use_tuple);
        x.bytes_out += wn;
    };

    std::vector<std::size_t> tried;
    unsigned retries = 0;
    [[maybe_unused]] auto request_token = upstream->retry_budget().begin_request();
    proxy::RetryBudget::RetryToken retry_token;
    const std::string_view key = proxy::hash_key(upstream->spec().hash_on, x.head.headers, x.head.remote_address);
    for (;;) {
        auto lease = upstream->pick(key, tried);
        // A retry prefers a target not tried yet; when every available one was, it goes to any (a one-target
        // pool can still retry a connection that broke).
        if (!lease && lease.error() == proxy::PickFailure::all_tried) lease = upstream->pick(key, {});
        if (!lease) {
            auto r = fail(proxy::ProxyError::no_available_target,
                          "upstream " + upstream->name() +
                              (tried.empty() ? ": every target is ejected or unhealthy"
                                             : ": no other available target to retry on"));
            r.set("Retry-After", "1");
            co_await refuse(std::move(r));
            co_return;
        }
        const proxy::Target& target = lease->target();
        const std::string key_for_pool = pool_key(*upstream, target, e.tls != nullptr);
        const std::string host = proxy::host_for_attempt(e.request, route, upstream->host_header(lease->index()));
        stats_.attempts.fetch_add(1, std::memory_order_relaxed);

        // A pooled connection first; one that turns out dead before answering is replaced by a fresh one once.
        std::optional<Attempt> attempt;
        for (int fresh = 0; fresh < 2; ++fresh) {
            attempt.emplace();
            Attempt& t = *attempt;
            if (fresh == 0) t.conn = pool_.take(key_for_pool, std::chrono::milliseconds(upstream->spec().idle_timeout_ms));
            if (t.conn) {
                stats_.connections_reused.fetch_add(1, std::memory_order_relaxed);
            } else {
                co_await open_connection(e, target, key_for_pool, t);
                if (t.failed) break;
                stats_.connections_opened.fetch_add(1, std::memory_order_relaxed);
            }
            const auto sent = Clock_::now();
            co_await exchange_head(e, host, t);
            if (!t.failed) {
                stats_.observe_latency(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock_::now() - sent).count());
                break;
            }
            if (!(t.stale && e.buffered)) break;
            t.conn->close();
        }
        Attempt& a = *attempt;
        if (a.client_failed) {
            lease->release();
            if (a.conn) a.conn->close();
            x.keep_alive = false;
            if (a.body_too_large)
                co_await refuse(http::problem_response({413, "payload-too-large", "Payload too large",
                                                        "the request body exceeds the route's limit", {}}));
            co_return;
        }
        if (!a.failed) {
            const unsigned status = a.parser->get().result_int();
            if (status == 502 || status == 503 || status == 504) a.failure = {proxy::AttemptFailure::Kind::status, status};
        }
        // Passive health hears every attempt's outcome.
        lease->report(a.failed ? std::nullopt : std::optional<unsigned>(a.parser->get().result_int()));
        const bool retryable_answer = !a.failed && a.failure.kind == proxy::AttemptFailure::Kind::status;
        if (a.failed || retryable_answer) {
            tried.push_back(lease->index());
            auto d = proxy::decide_retry({x.head.method, e.buffered, retries, e.call.retries}, a.failure,
                                         upstream->retry_budget());
            if (d.verdict == proxy::RetryVerdict::retry && Clock_::now() < e.deadline) {
                if (a.conn) a.conn->close();
                retry_token = std::move(d.token);
                ++retries;
                stats_.retries.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
        }
        if (a.failed) {
            if (a.conn) a.conn->close();
            auto r = fail(a.error, "upstream " + upstream->name() + ": " + a.detail);
            co_await refuse(std::move(r));
            co_return;
        }
        // The answer (any status, the upstream's own 5xx included) goes back as it is.
        bool reusable = false;
        if (a.conn->secure)
            reusable = co_await relay_response(*a.conn->secure, e, a, stats_);
        else
            reusable = co_await relay_response(*a.conn->plain, e, a, stats_);
        if (e.streaming && !e.streaming->is_done()) x.keep_alive = false;
        ++a.conn->requests;
        if (reusable)
            pool_.give_back(std::move(a.conn), upstream->spec().max_idle_connections);
        else
            a.conn->close();
        co_return;
    }
}

}  // namespace herald::gateway
