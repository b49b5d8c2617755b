#include "cli/ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "cli/client_stream.hpp"

namespace herald::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = boost::beast::websocket;
using tcp = asio::ip::tcp;

// How long close() may take, the closing handshake and TLS's close_notify included.
constexpr std::chrono::seconds kCloseLimit{2};

struct WsClient::Impl {
    Impl(const Url& base, std::shared_ptr<TlsTrust::Context> context)
        : stream(io, base, std::move(context)) {}

    asio::io_context io;
    ws::stream<ClientStream> stream;  // ws:// or wss://, as the base URL's scheme says
    beast::flat_buffer buffer;
    // A read that outlived its caller's timeout stays outstanding; the next read() waits for it.
    bool reading = false;
    std::optional<beast::error_code> result;
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsClient::~WsClient() = default;

Result<std::unique_ptr<WsClient>> WsClient::connect(const Url& base, const TlsTrust& trust) {
    auto context = tls_context_for(base, trust);
    if (!context) return std::move(context).error();
    auto impl = std::make_unique<Impl>(base, std::move(*context));
    auto& transport = impl->stream.next_layer();
    beast::error_code ec;
    tcp::resolver resolver(impl->io);
    auto results = resolver.resolve(base.host, base.port, ec);
    if (ec)
        return make_error(Errc::unavailable, "cannot resolve " + base.host + ": " + ec.message());
    transport.tcp().connect(results, ec);
    if (ec) return make_error(Errc::unavailable, "cannot connect: " + ec.message());
    ec = transport.handshake(kTlsHandshakeLimit);
    if (ec) return transport.handshake_failure(ec);
    impl->stream.set_option(ws::stream_base::decorator([](ws::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "herald.v1");
        req.set(beast::http::field::user_agent, "herald-cli");
    }));
    ws::response_type res;
    impl->stream.handshake(res, base.authority(), base.path_prefix + "/v1/ws", ec);
    if (ec) return make_error(Errc::unavailable, "WebSocket handshake failed: " + ec.message());
    if (res[beast::http::field::sec_websocket_protocol] != "herald.v1")
        return make_error(Errc::unavailable, "the server did not accept the herald.v1 subprotocol");
    impl->stream.text(true);
    return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

Result<void> WsClient::send(const std::string& text) {
    beast::error_code ec;
    impl_->stream.write(asio::buffer(text), ec);
    if (ec) return make_error(Errc::unavailable, "send failed: " + ec.message());
    return ok();
}

Result<std::optional<std::string>> WsClient::read(std::chrono::milliseconds timeout) {
    // A blocking read with a deadline: the async read runs on our own io_context for at most
    // `timeout`. A read that is not done by then is left outstanding (cancelling a WebSocket read
    // would end the stream) and picked up by the next call.
    auto& im = *impl_;
    if (!im.reading) {
        im.reading = true;
        im.result.reset();
        im.stream.async_read(im.buffer,
                             [&im](beast::error_code ec, std::size_t) { im.result = ec; });
    }
    im.io.restart();
    im.io.run_for(timeout);
    if (!im.result) return std::optional<std::string>{};
    im.reading = false;
    if (*im.result) {
        if (*im.result == ws::error::closed) {
            auto reason = im.stream.reason();
            return make_error(Errc::unavailable,
                              "the server closed the connection (" +
                                  std::to_string(static_cast<unsigned>(reason.code)) + " " +
                                  std::string(reason.reason.c_str()) + ")");
        }
        return make_error(Errc::unavailable, "connection lost: " + im.result->message());
    }
    std::string text = beast::buffers_to_string(im.buffer.data());
    im.buffer.consume(im.buffer.size());
    return std::optional<std::string>(std::move(text));
}

void WsClient::close() {
    auto& im = *impl_;
    if (im.reading) {  // a read is outstanding: no clean close handshake possible, just hang up
        im.stream.next_layer().close();
        return;
    }
    // The deadline bounds the closing handshake and close_notify; the run_for bound also covers the
    // TCP teardown that follows them (a read on the bare socket, which the deadline does not
    // reach).
    im.stream.next_layer().tcp().expires_after(kCloseLimit);
    bool closed = false;
    im.stream.async_close(ws::close_code::normal,
                          [&closed](const beast::error_code&) { closed = true; });
    im.io.restart();
    im.io.run_for(kCloseLimit + std::chrono::milliseconds(500));
    if (!closed) {
        im.stream.next_layer().close();
        im.io.restart();
        im.io.run();  // the close operation sees the socket closed before `closed` goes away
    }
}

}  // namespace herald::cli
