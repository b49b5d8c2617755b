#include "http/byte_stream.hpp"

#include <boost/asio/steady_timer.hpp>

namespace herald::http {

void ByteStream::shutdown_and_close(std::chrono::steady_clock::duration limit, std::shared_ptr<const void> owner) {
    auto* t = tls();
    if (!t || !socket().is_open()) {
        close();
        return;
    }
    // The bound is a timer of its own, not the TCP layer's deadline: a read of the owner's may already hold the
    // socket (SSE and WebSocket always keep one pending), and the shutdown's own read waits behind it, where no
    // deadline set now would reach it. Closing the socket ends both.
    auto timer = std::make_shared<boost::asio::steady_timer>(get_executor(), limit);
    timer->async_wait([this, owner](const boost::system::error_code& ec) {
        if (!ec) close();
    });
    t->async_shutdown([this, owner = std::move(owner), timer](const boost::system::error_code&) {
        timer->cancel();
        close();
    });
}

ByteStream ConnectionStream::release() && {
    if (auto* p = std::get_if<0>(&stream_)) {
        p->expires_never();
        return ByteStream(p->release_socket());
    }
    auto& tls = std::get<1>(stream_);
    tls.next_layer().expires_never();
    return ByteStream(std::move(tls), std::move(tls_context_));
}

}  // namespace herald::http
