#pragma once
// The command-line clients' connection, plain TCP for http:// or TLS over TCP for https:// and
// wss://, as one type that models Asio's sync and async read and write stream concepts: HttpClient,
// fetch() and read_sse() (http_client.cpp) and the WebSocket client (ws_client.cpp) each have one
// code path for both schemes.
//
// Private to src/cli: only the two client translation units include it (it brings Beast and
// OpenSSL, which the public headers keep out).
//
// TLS is Beast's ssl_stream over a beast::tcp_stream, like the server's (http/byte_stream.hpp): the
// tcp_stream's deadline (expires_after) bounds every asynchronous operation, the TLS handshake and
// shutdown included. The certificate is always verified (TlsTrust::load); the name checked is the
// URL's host — a DNS name against the certificate's DNS names (and sent as SNI), an IP address
// against its IP addresses (no SNI: RFC 6066 allows names only).
//
// Ownership: one owner (a client object or one call). Threading: the thread that runs the
// io_context given at construction; the blocking members run that io_context themselves, so nothing
// else may be running it then.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "cli/http_client.hpp"
#include "http/byte_stream.hpp"

namespace herald::cli {

// The OpenSSL client context behind a TlsTrust (http_client.hpp).
struct TlsTrust::Context {
    boost::asio::ssl::context ssl{boost::asio::ssl::context::tls_client};
};

// How long the blocking clients (HttpClient, read_sse, WsClient) wait for a TLS handshake.
inline constexpr std::chrono::seconds kTlsHandshakeLimit{10};
// How long closing a TLS connection ourselves waits for the server's close_notify after sending
// ours.
inline constexpr std::chrono::seconds kTlsCloseLimit{1};

// The context a connection to `url` is made with: null for http://; the trust's for https://, or
// one with the system trust store only when the trust was never loaded.
Result<std::shared_ptr<TlsTrust::Context>> tls_context_for(const Url& url, const TlsTrust& trust);

// The server's plain-or-TLS stream (http/byte_stream.hpp) with what a client adds: connecting to a URL with its
// name checked, the handshake and the shutdown as a client, blocking forms of both.
class ClientStream : public http::detail::EitherStream<boost::beast::tcp_stream> {
public:
    using TlsStream = http::TlsStream;

    // Plain TCP when `context` is null; TLS otherwise, verifying the certificate for `url.host`.
    ClientStream(boost::asio::io_context& io, const Url& url,
                 std::shared_ptr<TlsTrust::Context> context);

    boost::beast::tcp_stream& tcp() noexcept {
        if (auto* p = std::get_if<0>(&stream_)) return *p;
        return std::get<1>(stream_).next_layer();
    }
    // The TLS handshake after the TCP connect; a plain stream completes at once. The handler gets
    // the error of the handshake (described by handshake_failure()).
    template <class Handler>
    void async_handshake(Handler&& handler) {
        auto* t = tls();
        if (!t || setup_error_) {
            boost::asio::post(get_executor(), boost::beast::bind_front_handler(
                                                  std::forward<Handler>(handler), setup_error_));
            return;
        }
        t->async_handshake(boost::asio::ssl::stream_base::client, std::forward<Handler>(handler));
    }

    // TLS: sends close_notify and waits for the server's (bounded by the tcp_stream's deadline);
    // plain: completes at once. Either way the caller closes the socket after.
    template <class Handler>
    void async_shutdown(Handler&& handler) {
        if (auto* t = tls()) {
            t->async_shutdown(std::forward<Handler>(handler));
            return;
        }
        boost::asio::post(get_executor(),
                          boost::beast::bind_front_handler(std::forward<Handler>(handler),
                                                           boost::system::error_code{}));
    }

    // Blocking: the TLS handshake within `limit` (nothing for a plain stream).
    boost::system::error_code handshake(std::chrono::steady_clock::duration limit);
    // Blocking: ends a connection we close. TLS: close_notify both ways within `limit`, then the
    // socket is closed; plain: closed at once.
    void shutdown_and_close(std::chrono::steady_clock::duration limit);
    // Closes the socket at once, without close_notify: pending operations complete with
    // operation_aborted.
    void close();

    // A failed handshake as the clients report it: "TLS handshake with HOST:PORT failed: " and the
    // certificate verification's reason when that is what failed (with a hint when the issuer is
    // unknown), else the error's message. A certificate that was not accepted will not be on a
    // retry either: Errc::invalid_argument, so a command can stop rather than reconnect; anything
    // else is Errc::unavailable.
    Error handshake_failure(const boost::system::error_code& ec);

private:
    boost::asio::io_context& io_;
    std::string authority_;  // HOST:PORT, for messages
    // Set when the verification parameters could not be set: the handshake fails with it rather
    // than connect without checking the name.
    boost::system::error_code setup_error_;
};

// Beast's customization point for closing "the socket" of a stream it was given (a WebSocket that
// fails).
inline void beast_close_socket(ClientStream& stream) { stream.close(); }

// How a WebSocket over a ClientStream ends its connection after the closing handshake (found by ADL
// from websocket::stream): TLS sends close_notify and awaits the server's, then both forms close as
// Beast does for a TCP stream.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, ClientStream& stream, TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    if (auto* t = stream.tls())
        async_teardown(role, *t, std::forward<TeardownHandler>(handler));
    else
        async_teardown(role, stream.tcp(), std::forward<TeardownHandler>(handler));
}

}  // namespace herald::cli
