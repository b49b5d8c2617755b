// The only translation unit of the http module that includes Beast.
#include "http/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <charconv>

#include "http/byte_stream.hpp"
#include "http/problem.hpp"
#include "http/raw_exchange.hpp"
#include "http/tls.hpp"

namespace herald::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Decrements the open-connection count when the last owner of the connection lets go.
// Non-copyable: exactly one decrement per accepted connection (and one release of its address, when counted).
class ConnectionSlot {
public:
    ConnectionSlot(std::shared_ptr<ConnectionStats> stats, std::string counted_address)
        : stats_(std::move(stats)), address_(std::move(counted_address)) {}
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    ~ConnectionSlot() {
        stats_->open.fetch_sub(1, std::memory_order_relaxed);
        if (!address_.empty()) stats_->release_address(address_);
    }

private:
    std::shared_ptr<ConnectionStats> stats_;
    std::string address_;
};


// Only a malformed or oversized request is answered; any other read error (the peer went away, a timeout, a
// broken TLS record) means there is no one to answer.
bool is_request_error(const beast::error_code& ec) {
    static const auto& http_category = beast::error_code(bhttp::error::end_of_stream).category();
    return ec.category() == http_category && ec != bhttp::error::end_of_stream;
}

Response parse_error_response(const beast::error_code& ec) {
    if (ec == bhttp::error::body_limit)
        return problem_response({413, "payload-too-large", "Payload too large",
                                 "the request body exceeds the configured limit", {}});
    if (ec == bhttp::error::header_limit)
        return problem_response({431, "headers-too-large", "Request header fields too large",
                                 "the request head exceeds the configured limit", {}});
    return problem_response({400, "bad-request", "Bad request", "malformed HTTP request: " + ec.message(), {}});
}

// The head only, leaving the parser untouched (its body is still to be read by an interceptor).
Request head_request(const bhttp::request<bhttp::string_body>& req, const std::string& remote) {
    Request out;
    out.method = std::string(req.method_string());
    out.target = std::string(req.target());
    std::string_view target = out.target;
    auto q = target.find('?');
    out.path = percent_decode(target.substr(0, q), false);
    if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
    out.headers.reserve(16);
    for (auto& f : req) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.remote_address = remote;
    out.version = req.version();
    out.keep_alive = req.keep_alive();
    return out;
}

Request to_request(bhttp::request<bhttp::string_body>&& req, const std::string& remote) {
    Request out = head_request(req, remote);
    out.body = std::move(req.body());
    return out;
}

// Reports a request the listener answered itself (it could not be parsed, or its body was too large).
void observe_refusal(const ListenerOptions& options, const bhttp::request_parser<bhttp::string_body>& parser,
                     const std::string& remote, unsigned status, std::uint64_t bytes_in, std::uint64_t bytes_out,
                     std::chrono::steady_clock::time_point started) {
    if (!options.observer) return;
    Request r;
    r.remote_address = remote;
    if (parser.is_header_done()) {
        r.method = std::string(parser.get().method_string());
        r.target = std::string(parser.get().target());
    }
    Exchange x;
    x.status = status;
    x.bytes_in = bytes_in;
    x.bytes_out = bytes_out;
    x.duration = std::chrono::steady_clock::now() - started;
    options.observer->on_complete(r, x);
}

// How a connection's HTTP exchanges ended: a takeover owns the stream now, or the listener closes it — with TLS
// close_notify when Herald chose to end it after a complete answer, abruptly when the peer went away or broke.
enum class Ending { taken_over, graceful, abrupt };

// Beast reads a body through the connection's buffer, at most its free capacity per read; the buffer of a
// connection that has only read heads holds about 1 KiB, so a 100 KiB batch took some 200 recvmsg calls. Before
// a body, the buffer grows to the body's length (up to kMaxBodyRead, the most Beast asks one read for), so it
// comes in a few large reads; after the exchange it shrinks back, so idle connections cost what they did.
constexpr std::size_t kMaxBodyRead = 64 * 1024;
constexpr std::size_t kChunkedBodyRead = 64 * 1024;
constexpr std::size_t kIdleReadCapacity = 16 * 1024;

void grow_for_body(beast::flat_buffer& buffer, boost::optional<std::uint64_t> content_length) {
    const std::size_t want =
        content_length ? static_cast<std::size_t>(std::min<std::uint64_t>(*content_length, kMaxBodyRead))
                       : kChunkedBodyRead;
    if (buffer.capacity() - buffer.size() < want) buffer.reserve(buffer.size() + want);
}

// Serves HTTP/1.1 requests on an established stream (plain, or TLS after its handshake) until the connection
// ends. `deadline_running`: a deadline already bounds the first request head (the TLS handshake's), so the
// handshake and the head share http.header_timeout instead of getting one each.
asio::awaitable<Ending> serve_http(ConnectionStream& stream, beast::flat_buffer& buffer, const std::string& remote,
                                   const std::shared_ptr<ConnectionSlot>& slot, ListenerOptions const& options,
                                   Handler const& handler, const std::shared_ptr<ConnectionStats>& stats,
                                   bool deadline_running) {
    bool first = true;
    bool close_notify = false;
    ExchangeObserver* const observer = options.observer.get();
    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
        // With an interceptor the body limit is decided after the head (a route may allow more than
        // http.body_limit): Beast checks a Content-Length against the limit while parsing the head.
        if (options.interceptor)
            parser.body_limit(boost::none);
        else
            parser.body_limit(options.body_limit);
        if (!first)
            stream.expires_after(options.idle_timeout);
        else if (!deadline_running)
            stream.expires_after(options.header_timeout);
        first = false;
        auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
        // Timing starts when the head is in: the keep-alive wait before it is the client's, not the request's.
        const auto started = std::chrono::steady_clock::now();
        std::uint64_t bytes_in = n;
        if (ec) {
            if (!is_request_error(ec)) break;
            auto res = to_beast(parse_error_response(ec), 11, false, options.server_header);
            const unsigned status = res.result_int();
            stream.expires_after(std::chrono::seconds(5));
            auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
            observe_refusal(options, parser, remote, status, bytes_in, wn, started);
            close_notify = !wec;
            break;
        }
        if (options.interceptor && options.interceptor->claims(parser.get().target())) {
            Request head = head_request(parser.get(), remote);
            {
                stats->requests.fetch_add(1, std::memory_order_relaxed);
                if (observer) observer->on_request(head);
                head.connection_slot = slot;
                RawExchange x{stream, buffer, parser, head, options};
                try {
                    co_await options.interceptor->handle(x);
                } catch (const std::exception&) {
                    x.keep_alive = false;  // the exchange is in an unknown state: only closing is safe
                }
                if (observer) {
                    Exchange e;
                    e.status = x.status;
                    e.bytes_in = bytes_in + x.bytes_in;
                    e.bytes_out = x.bytes_out;
                    e.duration = std::chrono::steady_clock::now() - started;
                    observer->on_complete(head, e);
                }
                if (!x.keep_alive) {
                    close_notify = true;
                    break;
                }
                continue;
            }
        }
        if (options.interceptor) {
            const auto length = parser.content_length();
            if (length && *length > options.body_limit) {
                auto res = to_beast(parse_error_response(bhttp::error::body_limit), 11, false, options.server_header);
                stream.expires_after(std::chrono::seconds(5));
                auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
                observe_refusal(options, parser, remote, 413, bytes_in, wn, started);
                close_notify = !wec;
                break;
            }
            parser.body_limit(options.body_limit);  // counts down over a chunked body
        }
        if (!parser.is_done()) {
            if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
                bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, parser.get().version()};
                stream.expires_after(options.body_timeout);
                auto [wec, wn] = co_await bhttp::async_write(stream, cont, use_tuple);
                if (wec) break;
            }
            grow_for_body(buffer, parser.content_length());
            stream.expires_after(options.body_timeout);
            auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
            bytes_in += bn;
            if (bec) {
                if (bec == bhttp::error::body_limit) {
                    auto res = to_beast(parse_error_response(bec), 11, false, options.server_header);
                    stream.expires_after(std::chrono::seconds(5));
                    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
                    observe_refusal(options, parser, remote, 413, bytes_in, wn, started);
                    close_notify = !wec;
                }
                break;
            }
        }
        stats->requests.fetch_add(1, std::memory_order_relaxed);
        auto request = to_request(parser.release(), remote);
        const unsigned version = request.version;
        const bool keep_alive = request.keep_alive;
        if (observer) observer->on_request(request);
        Response response;
        try {
            response = co_await handler(request);
        } catch (const std::exception& e) {
            response = problem_response({500, "internal", "Internal error", e.what(), {}});
        }
        if (response.takeover) {
            if (observer) {
                Exchange x;
                x.status = response.status;
                x.bytes_in = bytes_in;
                x.duration = std::chrono::steady_clock::now() - started;
                x.takeover = true;
                observer->on_complete(request, x);
            }
            request.connection_slot = slot;
            response.takeover(std::move(stream).release(), std::move(request));
            co_return Ending::taken_over;
        }
        const unsigned status = response.status;
        auto res = to_beast(std::move(response), version, keep_alive, options.server_header);
        if (request.method == "HEAD") {
            // The headers a GET would get, Content-Length included, and no body (RFC 9110 §9.3.2).
            const auto length = res.body().size();
            res.body().clear();
            if (length != 0) res.content_length(length);
        }
        stream.expires_after(options.body_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
        if (observer) {
            Exchange x;
            x.status = status;
            x.bytes_in = bytes_in;
            x.bytes_out = wn;
            x.duration = std::chrono::steady_clock::now() - started;
            observer->on_complete(request, x);
        }
        if (wec || !keep_alive) {
            close_notify = !wec;
            break;
        }
        // A connection waiting for its next request keeps a small buffer, whatever its last body needed.
        if (buffer.capacity() > kIdleReadCapacity && buffer.size() <= kIdleReadCapacity) buffer.shrink_to_fit();
    }
    co_return close_notify ? Ending::graceful : Ending::abrupt;
}

// A whole answer for places that write straight to a socket, where no HTTP session exists to write one (a refusal
// at accept, plain HTTP on a TLS port): problem+json, then the connection ends.
std::string canned_problem(unsigned status, std::string_view reason, std::string_view kind, std::string_view title,
                           std::string_view detail, bool retry_after) {
    const std::string body = "{\"type\":\"urn:herald:problem:" + std::string(kind) + "\",\"title\":\"" +
                             std::string(title) + "\",\"status\":" + std::to_string(status) + ",\"detail\":\"" +
                             std::string(detail) + "\"}";
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: application/problem+json\r\n" + (retry_after ? "Retry-After: 1\r\n" : "") +
           "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A client speaking plain HTTP to the TLS port: an answer it can read, in plain text, then the connection ends.
asio::awaitable<void> refuse_plain_http(beast::tcp_stream& tcp, const std::string& remote,
                                        const ListenerOptions& options) {
    static const std::string kAnswer =
        canned_problem(400, "Bad Request", "tls-required", "TLS required",
                       "this port serves HTTPS: use an https:// or wss:// URL", false);
    const auto started = std::chrono::steady_clock::now();
    const auto answer = asio::buffer(kAnswer);
    tcp.expires_after(std::chrono::seconds(5));
    auto [wec, wn] = co_await asio::async_write(tcp, answer, use_tuple);
    beast::error_code ignored;
    tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (options.observer) {
        Request r;
        r.remote_address = remote;
        Exchange x;
        x.status = 400;
        x.bytes_out = wn;
        x.duration = std::chrono::steady_clock::now() - started;
        options.observer->on_complete(r, x);
    }
}

// One accepted connection, from its first byte to its close. `tls`: the context it was accepted with (null for a
// plain listener), held for the connection's life.
asio::awaitable<void> run_session(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
                                  ListenerOptions const& options, Handler const& handler,
                                  std::shared_ptr<ConnectionStats> stats) {
    std::string remote;
    {
        beast::error_code ec;
        auto ep = socket.remote_endpoint(ec);
        if (!ec) remote = ep.address().to_string();
    }
    auto slot = std::make_shared<ConnectionSlot>(stats, options.max_connections_per_address ? remote : std::string());
    beast::flat_buffer buffer;
    if (!tls) {
        ConnectionStream stream{beast::tcp_stream(std::move(socket))};
        const Ending end = co_await serve_http(stream, buffer, remote, slot, options, handler, stats, false);
        if (end == Ending::taken_over) co_return;
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
    }
    // The handshake runs under the first request's deadline: a client that connects and never completes it is
    // cut off like one that never sends its request head.
    beast::tcp_stream tcp(std::move(socket));
    tcp.expires_after(options.header_timeout);
    // Peek at the first bytes: a TLS ClientHello goes on to the handshake (with those bytes), anything else is a
    // plain-HTTP client, told in words it can read.
    auto [dec, client_hello] = co_await beast::async_detect_ssl(tcp, buffer, use_tuple);
    if (dec || !client_hello) {
        stats->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
        if (!dec && buffer.size() > 0) co_await refuse_plain_http(tcp, remote, options);
        co_return;
    }
    ConnectionStream stream(TlsStream(std::move(tcp), *tls), tls);
    const auto received = buffer.data();
    auto [hec, used] = co_await stream.tls()->async_handshake(asio::ssl::stream_base::server, received, use_tuple);
    if (hec) {
        stats->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    stats->tls_handshakes.fetch_add(1, std::memory_order_relaxed);
    buffer.consume(used);
    const Ending end = co_await serve_http(stream, buffer, remote, slot, options, handler, stats, true);
    if (end != Ending::graceful || !stream.socket().is_open()) co_return;
    stream.expires_after(kTlsCloseLimit);
    // The outcome does not matter: the connection ends either way (a peer that never answers is cut by the deadline).
    (void)co_await stream.tls()->async_shutdown(use_tuple);
}

}  // namespace

Listener::Listener(asio::io_context& io, ListenerOptions options, Handler handler,
                   std::shared_ptr<ConnectionStats> stats)
    : io_(io), acceptor_(io), options_(std::move(options)), handler_(std::move(handler)), stats_(std::move(stats)) {}

Result<std::shared_ptr<Listener>> Listener::create(asio::io_context& io, const tcp::endpoint& endpoint,
                                                   ListenerOptions options, Handler handler,
                                                   std::shared_ptr<ConnectionStats> stats) {
    auto l = std::make_shared<Listener>(io, std::move(options), std::move(handler), std::move(stats));
    beast::error_code ec;
    l->acceptor_.open(endpoint.protocol(), ec);
    if (!ec) l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
        int one = 1;
        if (::setsockopt(l->acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            ec = beast::error_code(errno, boost::system::system_category());
    }
    if (!ec) l->acceptor_.bind(endpoint, ec);
    if (!ec) l->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(Errc::unavailable, "cannot listen on " + endpoint.address().to_string() + ":" +
                                                 std::to_string(endpoint.port()) + ": " + ec.message());
    return l;
}

Result<void> check_address_free(const tcp::endpoint& endpoint, std::string_view what) {
    if (endpoint.port() == 0) return {};
    asio::io_context io;
    tcp::acceptor probe(io);
    beast::error_code ec;
    probe.open(endpoint.protocol(), ec);
    // SO_REUSEADDR: connections of an earlier run still in TIME_WAIT do not count as taken.
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(endpoint, ec);
    if (ec == asio::error::address_in_use)
        return make_error(Errc::unavailable, std::string(what) + ": " + endpoint.address().to_string() + ":" +
                                                 std::to_string(endpoint.port()) +
                                                 " is already in use (another Herald, or another server, listens there)",
                          std::string(what));
    // Any other failure (a missing address, a privileged port) is reported by the listener's own bind.
    return {};
}

void Listener::start() {
    asio::co_spawn(io_, [self = shared_from_this()] { return self->accept_loop(); }, asio::detached);
}

void Listener::stop() {
    beast::error_code ec;
    acceptor_.close(ec);
}

tcp::endpoint Listener::local_endpoint() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec);
}

asio::awaitable<void> Listener::accept_loop() {
    auto self = shared_from_this();  // the listener outlives its accept loop
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            // EMFILE and friends: back off briefly instead of spinning.
            asio::steady_timer t(io_, std::chrono::milliseconds(50));
            co_await t.async_wait(use_tuple);
            continue;
        }
        stats_->accepted.fetch_add(1, std::memory_order_relaxed);
        if (stats_->open.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(options_.max_connections)) {
            // Full: refuse the newcomer cleanly; established connections are untouched.
            stats_->refused.fetch_add(1, std::memory_order_relaxed);
            static const std::string kFull =
                canned_problem(503, "Service Unavailable", "too-many-connections", "Too many connections",
                               "connection limit reached", true);
            // On a TLS listener the newcomer is only closed: plain text would be garbage to a TLS client, and
            // a handshake is the expensive work the limit is there to avoid.
            beast::error_code wec;
            if (!options_.tls) {
                socket.non_blocking(true, wec);
                socket.write_some(asio::buffer(kFull.data(), kFull.size()), wec);
            }
            socket.close(wec);
            continue;
        }
        if (options_.max_connections_per_address) {
            beast::error_code aec;
            auto ep = socket.remote_endpoint(aec);
            if (aec || !stats_->try_acquire_address(ep.address().to_string(), options_.max_connections_per_address)) {
                // One client holding too many connections: refuse it, not everyone else.
                stats_->refused_per_address.fetch_add(1, std::memory_order_relaxed);
                static const std::string kBusy =
                    canned_problem(429, "Too Many Requests", "too-many-connections", "Too many connections",
                                   "this client address has too many open connections", true);
                beast::error_code wec;
                if (!options_.tls) {  // as above: a TLS client could not read a plain-text answer
                    socket.non_blocking(true, wec);
                    socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), wec);
                }
                socket.close(wec);
                continue;
            }
        }
        stats_->open.fetch_add(1, std::memory_order_relaxed);
        socket.set_option(tcp::no_delay(true), ec);
        auto tls = options_.tls ? options_.tls->context() : nullptr;
        asio::co_spawn(io_, run_session(std::move(socket), std::move(tls), options_, handler_, stats_), asio::detached);
    }
}

bool ConnectionStats::try_acquire_address(const std::string& address, std::size_t limit) {
    std::lock_guard lock(per_address_mutex_);
    auto& n = per_address_[address];
    if (n >= limit) {
        if (n == 0) per_address_.erase(address);
        return false;
    }
    ++n;
    return true;
}

void ConnectionStats::release_address(const std::string& address) {
    std::lock_guard lock(per_address_mutex_);
    auto it = per_address_.find(address);
    if (it == per_address_.end()) return;
    if (--it->second == 0) per_address_.erase(it);
}

Result<tcp::endpoint> parse_endpoint(std::string_view text, std::string_view what) {
    auto bad = [&](std::string why) {
        return make_error(Errc::invalid_argument, std::string(what) + " '" + std::string(text) + "': " + why,
                          std::string(what));
    };
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("expected HOST:PORT");
    auto host = text.substr(0, colon);
    auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535)
        return bad("the port must be a number from 0 to 65535");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    if (host.empty() || host == "*") host = "0.0.0.0";
    beast::error_code aec;
    auto addr = asio::ip::make_address(std::string(host), aec);
    if (aec) return bad("the host must be an IP address or localhost");
    return tcp::endpoint(addr, static_cast<unsigned short>(port));
}

}  // namespace herald::http
