#pragma once
// The HTTP/1.1 client that webhook deliveries go out on. Beast and OpenSSL stay in http_client.cpp;
// this header is cheap to include.
//
// What one request does, in order:
//   1. Resolve the URL's host (an IP literal is not resolved), bounded by the request deadline.
//   2. Check every resolved address with the SSRF guard. If any address is blocked the request is
//      refused — a name that resolves to a mix of public and internal addresses is an attack or a
//      misconfiguration either way — and the error names the address and the range. The socket then
//      connects only to the addresses that were checked (no second resolution, so DNS rebinding
//      cannot slip an internal address in between).
//   3. Take an idle kept-alive connection to the same origin (scheme, host, port) from the pool, or
//      connect (bounded by connect_timeout) and, for https, do the TLS handshake: SNI, certificate
//      verification against the system store or the configured CA file, and a host name (or IP
//      address) check.
//   4. Write the request, read the response head and its body. The body is kept up to max_kept_body
//      bytes (for the delivery log) and read on, discarded, up to max_drained_body so the
//      connection can be reused.
//   5. Return the connection to the pool only if the response was complete and both sides keep the
//      connection alive. Redirects are never followed: a 3xx is returned like any other response.
// A request that fails on a pooled connection before any byte of the response arrived (the server
// closed an idle connection as we reused it) is sent once more on a fresh connection. Deliveries
// are at-least-once and identified by webhook-id, so the rare duplicate this can cause is what
// receivers already handle.
//
// The whole request, steps 1 to 4, is bounded by one deadline (request_timeout, or the per-request
// timeout). Failures are values, classified by ClientErrc for the retry policy (see
// retry_policy.hpp).
//
// Threading: a Client belongs to one io_context and must be used from the one thread that runs it
// (or a strand of it). Requests may run concurrently as coroutines on that thread. stats() may be
// read from any thread. Lifetime: the io_context must outlive the Client. Destroying the Client (or
// calling shutdown()) closes idle connections and aborts requests in flight; their coroutines
// finish with ClientErrc::cancelled.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/expected.hpp"
#include "base/result.hpp"
#include "webhook/ssrf_guard.hpp"

namespace herald::webhook {

// ---- URLs ---------------------------------------------------------------------------------------

// A delivery URL, validated and split into what the client needs.
struct ParsedUrl {
    bool tls = false;    // https
    std::string scheme;  // "http" or "https"
    std::string host;    // lower-case name, or an IP literal without brackets
    bool host_is_ip = false;
    std::uint16_t port = 0;  // explicit, or 80 / 443
    std::string
        target;  // origin-form request target: path and query, at least "/" (fragment dropped)

    std::string origin() const;       // "https://example.com:443": the connection pool key
    std::string host_header() const;  // "example.com", "example.com:8443", "[2001:db8::1]:8080"
    std::string to_string() const;    // origin() + target, default port omitted
};

// Accepts absolute http and https URLs with a host. Refuses other schemes, userinfo ("user:pass@"
// would be sent nowhere and usually hides a phishing-style host), an empty host, port 0, IPvFuture
// literals, percent-encoded or non-ASCII host names (use the punycode form). Errc::invalid_argument
// with attribute "url".
Result<ParsedUrl> parse_url(std::string_view url);

// ---- Errors -------------------------------------------------------------------------------------

enum class ClientErrc {
    invalid_request,  // bad URL, method or header: a caller bug or a bad subscription; no retry
    dns,              // the host name did not resolve (or resolved to nothing)
    ssrf_blocked,     // a resolved address is in a blocked range (message names address and range)
    connect_refused,  // the receiver's host answered the connection attempt with a reset
    connect_failed,   // no route, host unreachable, and other connect errors
    timeout,          // the connect timeout or the request deadline passed
    tls,              // handshake failed: untrusted certificate, wrong name, not TLS, version
    protocol,         // not valid HTTP/1.1, or the connection broke before a response arrived
    cancelled,        // the client was shut down or the operation was cancelled
};
const char* to_string(ClientErrc e) noexcept;

struct ClientError {
    ClientErrc code;
    std::string
        message;  // one sentence for the delivery log: what failed, where, and the system's reason
};

// The generic form for API layers: invalid_request and ssrf_blocked become Errc::invalid_argument
// (attribute "url"), cancelled becomes Errc::unavailable, the rest Errc::unavailable too.
Error to_error(const ClientError& e);

// A value or a ClientError; the same shape as herald::Result.
template <class T>
using ClientResult = Expected<T, ClientError>;

// ---- Requests and responses ---------------------------------------------------------------------

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "POST";  // POST, PUT, PATCH, GET, DELETE, OPTIONS or HEAD
    ParsedUrl url;
    // Sent as given. Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive, TE, Upgrade
    // and Proxy-Connection are the client's business and refused (invalid_request), as is any name
    // or value with CR, LF or NUL. User-Agent defaults to ClientOptions::user_agent when absent.
    Headers headers;
    std::string body;
    std::optional<std::chrono::milliseconds>
        timeout;  // whole request; default ClientOptions::request_timeout
};

struct HttpResponse {
    unsigned status = 0;
    // Every response header, names lower-cased, in arrival order (bounded by
    // ClientOptions::max_header_bytes).
    Headers headers;
    std::string body;             // the first max_kept_body bytes
    bool body_truncated = false;  // more body arrived (or was announced) than was kept
    // False when the connection broke or the deadline passed after the head arrived: the receiver
    // answered with `status` but the body is incomplete. The status still counts (the receiver has
    // decided).
    bool complete = true;
    bool reused_connection = false;  // sent on a pooled connection
    std::chrono::microseconds duration{
        0};  // from the call to the end of the response (or its failure)

    // First value of a header (name in lower case), or nullptr.
    const std::string* header(std::string_view lower_name) const noexcept;
};

// ---- The client ---------------------------------------------------------------------------------

struct ClientOptions {
    std::chrono::milliseconds connect_timeout{
        5'000};  // per connection attempt sequence, within the deadline
    std::chrono::milliseconds request_timeout{10'000};  // default deadline of a whole request
    std::size_t max_idle_per_origin = 8;                // pooled idle connections per origin
    std::size_t max_idle_total = 1024;                  // pooled idle connections overall
    std::chrono::milliseconds idle_timeout{
        30'000};                  // an idle pooled connection older than this is closed
    bool verify_tls = true;       // false only for development against self-signed receivers
    std::string ca_file;          // PEM bundle; empty: the system's default trust store
    bool ssrf_protection = true;  // false disables the guard entirely (tests, trusted setups)
    SsrfGuard guard;              // built-in ranges plus allow/deny lists from the config
    std::string user_agent = "Herald-Webhooks/1";
    std::size_t max_kept_body = 4096;  // response body bytes kept for the delivery log
    std::size_t max_drained_body =
        1 << 20;  // read and discard up to this much to keep the connection
    std::size_t max_header_bytes = 16 * 1024;  // response head limit
};

// Start-time validation of options that can only fail at run time otherwise (the CA file loads and
// parses). Errc::invalid_argument naming the key ("ca_file").
Result<void> check_options(const ClientOptions& options);

// Counters for metrics; monotonic except `idle`.
struct ClientStats {
    std::uint64_t requests = 0;            // requests that reached the network (resolution started)
    std::uint64_t connections_opened = 0;  // TCP connections established (TLS or not)
    std::uint64_t connections_reused = 0;  // requests sent on a pooled connection
    std::uint64_t ssrf_refused = 0;        // requests refused by the guard
    std::uint64_t idle = 0;                // connections in the pool now
};

class Client {
public:
    // Never fails: if the CA file cannot be loaded, https requests fail with ClientErrc::tls and a
    // message saying so (call check_options at start to fail fast instead).
    Client(boost::asio::io_context& io, ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    boost::asio::awaitable<ClientResult<HttpResponse>> send(HttpRequest request);
    boost::asio::awaitable<ClientResult<HttpResponse>> post(
        ParsedUrl url, Headers headers, std::string body,
        std::optional<std::chrono::milliseconds> timeout = {});
    // Parses `url` first; a bad URL is ClientErrc::invalid_request.
    boost::asio::awaitable<ClientResult<HttpResponse>> post(
        std::string url, Headers headers, std::string body,
        std::optional<std::chrono::milliseconds> timeout = {});

    // The creation-time check of a destination: resolves `host` (an IP literal is taken as is;
    // resolution is bounded by connect_timeout) and runs every address through the guard. Returns
    // the addresses, or dns / timeout / ssrf_blocked. `port` is only passed to the resolver: the
    // guard judges addresses, not ports.
    boost::asio::awaitable<ClientResult<std::vector<boost::asio::ip::address>>> resolve_and_check(
        std::string host, std::uint16_t port);
    // parse_url + resolve_and_check: what an API validating a subscription's URL calls.
    boost::asio::awaitable<ClientResult<ParsedUrl>> check_destination(std::string url);

    // Closes pooled idle connections (requests in flight are not affected).
    void close_idle();
    // Closes idle connections, aborts requests in flight and refuses new ones
    // (ClientErrc::cancelled).
    void shutdown();

    ClientStats stats() const noexcept;
    const ClientOptions& options() const noexcept;

private:
    struct Impl;
    std::shared_ptr<Impl>
        impl_;  // shared with requests in flight, so a request outliving the Client is safe
};

}  // namespace herald::webhook
