#include "cli/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace herald::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = boost::beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
    asio::io_context io;
    ws::stream<beast::tcp_stream> stream{io};
    beast::flat_buffer buffer;
    // A read that outlived its caller's timeout stays outstanding; the next read() waits for it.
    bool reading = false;
    std::optional<beast::error_code> result;
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsClient::~WsClient() = default;

Result<std::unique_ptr<WsClient>> WsClient::connect(const Url& base) {
    auto impl = std::make_unique<Impl>();
    beast::error_code ec;
    tcp::resolver resolver(impl->io);
    auto results = resolver.resolve(base.host, base.port, ec);
    if (ec) return make_error(Errc::unavailable, "cannot resolve " + base.host + ": " + ec.message());
    beast::get_lowest_layer(impl->stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(impl->stream).connect(results, ec);
    if (ec) return make_error(Errc::unavailable, "cannot connect: " + ec.message());
    impl->stream.set_option(ws::stream_base::decorator([](ws::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "herald.v1");
        req.set(beast::http::field::user_agent, "herald-cli");
    }));
    ws::response_type res;
    impl->stream.handshake(res, base.host + ":" + base.port, base.path_prefix + "/v1/ws", ec);
    if (ec) return make_error(Errc::unavailable, "WebSocket handshake failed: " + ec.message());
    if (res[beast::http::field::sec_websocket_protocol] != "herald.v1")
        return make_error(Errc::unavailable, "the server did not accept the herald.v1 subprotocol");
    beast::get_lowest_layer(impl->stream).expires_never();
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
    // A blocking read with a deadline: the async read runs on our own io_context for at most `timeout`. A read
    // that is not done by then is left outstanding (cancelling a WebSocket read would end the stream) and picked
    // up by the next call.
    auto& im = *impl_;
    if (!im.reading) {
        im.reading = true;
        im.result.reset();
        im.stream.async_read(im.buffer, [&im](beast::error_code ec, std::size_t) { im.result = ec; });
    }
    im.io.restart();
    im.io.run_for(timeout);
    if (!im.result) return std::optional<std::string>{};
    im.reading = false;
    if (*im.result) {
        if (*im.result == ws::error::closed) {
            auto reason = im.stream.reason();
            return make_error(Errc::unavailable, "the server closed the connection (" +
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
    beast::error_code ec;
    if (impl_->reading) {  // a read is outstanding: no clean close handshake possible, just hang up
        beast::get_lowest_layer(impl_->stream).close();
        return;
    }
    beast::get_lowest_layer(impl_->stream).expires_after(std::chrono::seconds(2));
    impl_->stream.close(ws::close_code::normal, ec);
}

}  // namespace herald::cli
