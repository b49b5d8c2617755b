#pragma once
// An HTTP/1.1 listener on one worker's io_context. Each worker opens its own acceptor on the same address with
// SO_REUSEPORT, so the kernel spreads connections across workers and a connection stays on one worker for life.
//
// Per connection: one coroutine reads requests (header limit, body limit, a deadline on every read, keep-alive
// idle timeout, Expect: 100-continue), calls the handler and writes the response, until the peer closes, an
// error, or a handler takes the stream over.
//
// With TLS (ListenerOptions::tls) the connection first completes a TLS handshake; http.header_timeout bounds the
// handshake and the first request head together, so a client that never finishes either holds its connection
// slot for no longer than a slow plain-HTTP client would. A client speaking plain HTTP to a TLS listener gets a
// plain-text 400 telling it to use https, then the connection is closed.
//
// Threading: construct, start and stop on the worker's thread (or before it runs).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>
#include <mutex>

#include "base/result.hpp"
#include "http/message.hpp"

namespace herald::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

// What the listener knows about one finished exchange.
struct Exchange {
    unsigned status = 0;             // as written; for a takeover, what the handler's Response said (101, 200)
    std::uint64_t bytes_in = 0;      // request head and body as read
    std::uint64_t bytes_out = 0;     // response as written; 0 for a takeover (the stream writes its own head)
    std::chrono::nanoseconds duration{0};  // request head read → response written (or handed to the takeover)
    bool takeover = false;
};

// The hook where tracing and access logging attach: the listener calls on_request() once the head (and body)
// of a request have arrived, before the handler, and on_complete() once the response has been written, when a
// handler takes the connection over (before the takeover runs), or when the listener itself answers a request
// it could not parse (400, 413, 431; on_request was not called for those). Both run on the connection's worker
// thread and must not block or throw.
class ExchangeObserver {
public:
    virtual ~ExchangeObserver() = default;
    virtual void on_request(Request& request) noexcept = 0;
    virtual void on_complete(const Request& request, const Exchange& exchange) noexcept = 0;
};

struct RawExchange;     // http/raw_exchange.hpp
class TlsCredentials;   // http/tls.hpp

// Requests answered without the listener reading their body first (the REST gateway's proxied routes). The
// listener asks claims() with the request-target once a request's head is in — a cheap test, on every request —
// and a claimed request goes to handle(), which reads the body from the stream itself, writes the whole response
// (including refusals: it answers for every target it claims) and sets whether the connection stays usable.
// Per worker: both run on the connection's worker thread.
class Interceptor {
public:
    virtual ~Interceptor() = default;
    virtual bool claims(std::string_view target) const noexcept = 0;
    virtual boost::asio::awaitable<void> handle(RawExchange& exchange) = 0;
};

struct ListenerOptions {
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 4 * 1024 * 1024;
    std::chrono::milliseconds header_timeout{10'000};  // whole request head must arrive within this
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};    // between keep-alive requests
    std::size_t max_connections = 10'000;              // shared by all workers' listeners of one address
    std::size_t max_connections_per_address = 0;       // per client IP address; 0: unlimited
    std::string server_header = "herald";
    std::shared_ptr<ExchangeObserver> observer;        // null: no tracing, no access log
    Interceptor* interceptor = nullptr;                // per worker; null: every request is read whole
    std::shared_ptr<TlsCredentials> tls;               // shared by the listeners of one address; null: plain TCP
};

// Connection counts shared by the listeners of one address.
struct ConnectionStats {
    std::atomic<std::int64_t> open{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> refused{0};               // at the total limit
    std::atomic<std::uint64_t> refused_per_address{0};   // at the per-address limit
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> tls_handshakes{0};          // completed
    std::atomic<std::uint64_t> tls_handshake_failures{0};  // failed, timed out, or plain HTTP on the TLS port

    // Open connections per client address, kept only when a per-address limit is set. Taken on accept and
    // released when the connection ends, from any worker: a mutex, held for a hash-map update.
    bool try_acquire_address(const std::string& address, std::size_t limit);
    void release_address(const std::string& address);

private:
    std::mutex per_address_mutex_;
    std::unordered_map<std::string, std::size_t> per_address_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    // Binds (SO_REUSEPORT) and listens; port 0 picks a free port (pass the chosen port to the other workers).
    static Result<std::shared_ptr<Listener>> create(boost::asio::io_context& io,
                                                    const boost::asio::ip::tcp::endpoint& endpoint,
                                                    ListenerOptions options, Handler handler,
                                                    std::shared_ptr<ConnectionStats> stats);
    void start();
    void stop();
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    Listener(boost::asio::io_context& io, ListenerOptions options, Handler handler,
             std::shared_ptr<ConnectionStats> stats);

private:
    boost::asio::awaitable<void> accept_loop();

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    ListenerOptions options_;
    Handler handler_;
    std::shared_ptr<ConnectionStats> stats_;
};

// Whether another process already listens on `endpoint` (port 0: always free). The workers' listeners set
// SO_REUSEPORT so that each gets its own accept queue, and the kernel lets any process of the same user join such
// a group: a second Herald started by mistake on the same address would silently take a share of the
// connections. A bind without SO_REUSEPORT cannot join it, so it tells. Errc::unavailable naming `what` when taken.
Result<void> check_address_free(const boost::asio::ip::tcp::endpoint& endpoint, std::string_view what);

// Parses "host:port" (IPv4, [IPv6] or "localhost"). Errc::invalid_argument naming `what`.
Result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text, std::string_view what);

}  // namespace herald::http
