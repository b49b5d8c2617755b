#pragma once
// A small blocking HTTP/1.1 client for the command-line tools (publish, tail, top), over plain TCP
// for http:// URLs and TLS for https:// ones. The server's certificate is always verified
// (TlsTrust); there is no way to turn that off.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace herald::cli {

struct Url {
    bool tls = false;  // https:// (the WebSocket client then speaks wss://)
    std::string host;  // a DNS name or an IP address (IPv6 without brackets)
    std::string port;
    std::string path_prefix;  // without trailing slash

    std::string_view scheme() const noexcept { return tls ? "https" : "http"; }
    // The host as a Host header names it (an IPv6 address in brackets), and "host:port".
    std::string host_for_header() const;
    std::string authority() const { return host_for_header() + ":" + port; }
};
// http://HOST[:PORT][/PREFIX] (port 80) or https://HOST[:PORT][/PREFIX] (port 443); any other
// scheme is refused.
Result<Url> parse_base_url(std::string_view text);

// Whom the clients trust for https:// and wss://: the system's trust store (OpenSSL's default
// paths, which honour SSL_CERT_FILE and SSL_CERT_DIR) plus, when given, the CA certificates of a
// PEM file. Certificates are verified always, with the URL's host checked against the certificate's
// names; TLS 1.2 at least.
//
// Copies share one OpenSSL context. Threading: use from one thread at a time.
class TlsTrust {
public:
    struct Context;  // cli/client_stream.hpp

    // Nothing loaded: an https:// connection made with it trusts the system store only.
    TlsTrust() = default;
    // The system store plus the certificates of `ca_file` (none when empty). Errc::invalid_argument
    // when the file cannot be read or holds no PEM certificate (the message names the file).
    static Result<TlsTrust> load(const std::string& ca_file);

    const std::shared_ptr<Context>& context() const noexcept { return context_; }

private:
    std::shared_ptr<Context> context_;
};

struct HttpResult {
    unsigned status = 0;
    std::string content_type;
    std::string body;
};

class HttpClient {
public:
    explicit HttpClient(Url base, TlsTrust trust = {});
    // A connection still open is closed; over TLS with close_notify (waiting at most a second).
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // One request on a kept-alive connection (reconnects when the server closed it). Errors as for
    // fetch(), without the cancellation.
    Result<HttpResult> request(const std::string& method, const std::string& target,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body);

private:
    struct Impl;
    Url base_;
    TlsTrust trust_;
    Impl* impl_;
};

// One GET on a connection of its own with a deadline on the whole exchange, for tools that poll.
// `cancelled` is asked every 50 ms: a quit key must not wait for a server that does not answer.
// Errc::unavailable for a failure to connect, a failed TLS handshake or a timeout (the message says
// which), Errc::invalid_argument when the server's certificate was not accepted (the message gives
// the verification's reason; retrying will not help), Errc::conflict when `cancelled` answered true.
Result<HttpResult> fetch(const Url& base, const TlsTrust& trust, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::chrono::milliseconds timeout, const std::function<bool()>& cancelled);

// Follows an SSE stream: calls on_event(id, event, data) per event; returns when the stream ends
// (error or close) or on_event returns false. `status` receives the HTTP status (0 when no
// response). Errc::invalid_argument when the server's certificate was not accepted.
Result<void> read_sse(const Url& base, const TlsTrust& trust, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      unsigned& status,
                      const std::function<bool(const std::string& id, const std::string& event,
                                               const std::string& data)>& on_event,
                      const std::function<void(long retry_ms)>& on_retry);

}  // namespace herald::cli
