#pragma once
// A client connection's byte stream, plain TCP or TLS, as one type that models Asio's AsyncReadStream and
// AsyncWriteStream: the code above it (HTTP parsing, SSE, WebSocket, the gateway's tunnel) is written once and
// does not know which it has. Two forms, one per phase of a connection:
//
//   ConnectionStream  while the listener serves HTTP on it (and the gateway relays through it): plain is a
//                     beast::tcp_stream, TLS a beast::ssl_stream over one; both carry the per-read and per-write
//                     deadlines (expires_after) the listener sets.
//   ByteStream        what a takeover gets (SSE stream, WebSocket session). Plain is the bare tcp::socket, so a
//                     subscriber's writes cost exactly what they cost before TLS existed: no deadline
//                     bookkeeping, no allocation beyond Asio's own. TLS keeps its beast::ssl_stream (the TLS
//                     state cannot move to another object) with the deadline off.
//
// Beast's ssl_stream rather than asio::ssl::stream: Asio's TLS stream writes only the first buffer of a gather
// write, one TLS record each; Beast's flattens a gather of small buffers (the fan-out writes up to 64 slices at
// once) into one record of up to 16 KiB.
//
// A TLS stream keeps a shared_ptr to the ssl::context it was accepted with: reloading the certificate swaps the
// context for new connections only, and an SSL object never outlives the callbacks its context holds.
//
// Ownership: one owner at a time (the listener's session, then the takeover). Threading: the connection's worker
// thread only; at most one read and one write in flight at once (Asio's rule for sockets and TLS streams alike).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>
#include <utility>
#include <variant>

namespace herald::http {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// How long closing a TLS connection waits for the peer's close_notify: long enough for any live client to answer,
// short enough that a gone one does not hold the connection (and a shutdown) up.
inline constexpr std::chrono::seconds kTlsCloseLimit{1};

namespace detail {

inline boost::asio::ip::tcp::socket& lowest_socket(boost::asio::ip::tcp::socket& s) noexcept { return s; }
inline boost::asio::ip::tcp::socket& lowest_socket(boost::beast::tcp_stream& s) noexcept { return s.socket(); }
inline boost::asio::ip::tcp::socket& lowest_socket(TlsStream& s) noexcept { return s.next_layer().socket(); }

// The shared part of both forms: `Plain` or TLS, and dispatch of the stream operations to whichever it holds.
// The handler goes to the active stream untouched, so its executor, allocator and cancellation slot apply as
// if the caller had called that stream directly.
template <class Plain>
class EitherStream {
public:
    using executor_type = boost::asio::any_io_executor;

    explicit EitherStream(Plain plain) : stream_(std::in_place_index<0>, std::move(plain)) {}
    EitherStream(TlsStream tls, std::shared_ptr<boost::asio::ssl::context> context)
        : tls_context_(std::move(context)), stream_(std::in_place_index<1>, std::move(tls)) {}
    // Either form, made by the caller (a client builds it in place); `context` is null for plain TCP.
    EitherStream(std::variant<Plain, TlsStream> stream, std::shared_ptr<boost::asio::ssl::context> context)
        : tls_context_(std::move(context)), stream_(std::move(stream)) {}

    executor_type get_executor() noexcept {
        if (auto* p = std::get_if<0>(&stream_)) return p->get_executor();
        return std::get<1>(stream_).get_executor();
    }

    bool is_tls() const noexcept { return stream_.index() == 1; }
    TlsStream* tls() noexcept { return std::get_if<1>(&stream_); }

    // The TCP socket under everything: for the peer's address, socket options, a half-close.
    boost::asio::ip::tcp::socket& socket() noexcept {
        return std::visit([](auto& s) -> boost::asio::ip::tcp::socket& { return lowest_socket(s); }, stream_);
    }

    // Closes at once, without TLS close_notify: pending operations complete with operation_aborted.
    void close() noexcept {
        boost::system::error_code ignored;
        auto& s = socket();
        s.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        s.close(ignored);
    }

    // The blocking forms (SyncReadStream, SyncWriteStream), for the command-line clients.
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
        return std::visit([&](auto& s) { return s.read_some(buffers, ec); }, stream_);
    }
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers) {
        return std::visit([&](auto& s) { return s.read_some(buffers); }, stream_);
    }
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
        return std::visit([&](auto& s) { return s.write_some(buffers, ec); }, stream_);
    }
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers) {
        return std::visit([&](auto& s) { return s.write_some(buffers); }, stream_);
    }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& b) {
                if (auto* p = std::get_if<0>(&stream_))
                    p->async_read_some(b, std::move(handler));
                else
                    std::get<1>(stream_).async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& b) {
                if (auto* p = std::get_if<0>(&stream_))
                    p->async_write_some(b, std::move(handler));
                else
                    std::get<1>(stream_).async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

protected:
    // Declared first, so destroyed last: the TLS stream's SSL object goes before the context it was made from.
    std::shared_ptr<boost::asio::ssl::context> tls_context_;  // null for plain TCP
    std::variant<Plain, TlsStream> stream_;
};

}  // namespace detail

// What a takeover owns (http::Takeover in message.hpp).
class ByteStream : public detail::EitherStream<boost::asio::ip::tcp::socket> {
public:
    using EitherStream::EitherStream;

    // Ends the connection. Plain TCP: shut down and closed at once. TLS: close_notify is sent and the peer's
    // awaited for at most `limit` (clients read a stream that ends without close_notify as truncated), then the
    // socket is closed; `owner` — the object holding this stream — is kept alive until then. Call it with no
    // write in flight; a read in flight is fine (it completes when the socket closes).
    void shutdown_and_close(std::chrono::steady_clock::duration limit, std::shared_ptr<const void> owner);
};

// The connection while the listener serves HTTP on it.
class ConnectionStream : public detail::EitherStream<boost::beast::tcp_stream> {
public:
    using EitherStream::EitherStream;

    // The deadline of the reads and writes that follow (beast::tcp_stream semantics: on expiry the socket is
    // closed and the operation fails with beast::error::timeout).
    void expires_after(std::chrono::steady_clock::duration d) { tcp().expires_after(d); }
    void expires_never() { tcp().expires_never(); }
    boost::beast::tcp_stream& tcp() noexcept {
        if (auto* p = std::get_if<0>(&stream_)) return *p;
        return std::get<1>(stream_).next_layer();
    }

    // Hands the connection over to a takeover, deadline off. Leaves this object empty: only destroy it after.
    ByteStream release() &&;
};

}  // namespace herald::http
