#include "sse/stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "sse/frame.hpp"

namespace herald::sse {

namespace asio = boost::asio;

void Stream::start(http::ByteStream stream, std::shared_ptr<void> connection_slot, hub::WorkerHub& hub,
                   const hub::Encoder& encoder, StreamStart start, const StreamOptions& options,
                   StreamStats& stats) {
    auto s = std::make_shared<Stream>(std::move(stream), std::move(connection_slot), hub, encoder, std::move(start),
                                      options, stats);
    hub.subscribe(s->feed_.topic().name(), *s);
    s->watch_peer();
    s->pump();
}

Stream::Stream(http::ByteStream stream, std::shared_ptr<void> connection_slot, hub::WorkerHub& hub,
               const hub::Encoder& encoder, StreamStart start, const StreamOptions& options, StreamStats& stats)
    : stream_(std::move(stream)),
      expires_at_(start.expires_at),
      lease_(std::move(start.lease)),
      connection_slot_(std::move(connection_slot)),
      hub_(hub),
      feed_(std::move(start.topic), start.next_offset, std::move(start.feed), encoder),
      options_(options),
      stats_(stats),
      last_write_(std::chrono::steady_clock::now()) {
    stats_.open.fetch_add(1, std::memory_order_relaxed);
    stats_.opened.fetch_add(1, std::memory_order_relaxed);
    std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\n"
        "Connection: close\r\n";
    head += start.extra_headers;
    head += "\r\nretry: " + std::to_string(options_.retry.count()) + "\n\n";
    head += start.notice;
    feed_.queue().push(std::move(head));
}

Stream::~Stream() {
    stats_.open.fetch_sub(1, std::memory_order_relaxed);
    stats_.catchup_switches.fetch_add(feed_.catchup_switches(), std::memory_order_relaxed);
    stats_.consumer_lag.fetch_sub(reported_lag_, std::memory_order_relaxed);
}

void Stream::on_batch(const hub::BatchPtr& batch) {
    if (closed_ || closing_) return;
    feed_.on_batch(batch);
    // Written on the worker's next flush slice, with whatever else arrives before it (hub/hub.hpp).
    if (!writing_) hub_.request_flush(*this);
}

void Stream::on_tick(std::chrono::steady_clock::time_point now) {
    if (closed_ || closing_) return;
    if (expires_at_ && std::chrono::system_clock::now() >= *expires_at_) {
        finish("herald.auth-expired", "token expired");
        return;
    }
    // Consumer lag: events in the topic after what this stream has queued (one atomic load; the shared gauge
    // is touched only when the figure moved).
    const auto end = feed_.topic().end_offset();
    const std::int64_t lag = end > feed_.next_offset() ? static_cast<std::int64_t>(end - feed_.next_offset()) : 0;
    if (lag != reported_lag_) {
        stats_.consumer_lag.fetch_add(lag - reported_lag_, std::memory_order_relaxed);
        reported_lag_ = lag;
    }
    if (writing_ || now - last_write_ < options_.heartbeat) return;
    feed_.queue().push(std::string(":\n\n"));
    pump();
}

void Stream::on_shutdown() { finish("herald.shutdown", "shutdown"); }

// A last event naming why the stream ends and where to resume, then close once it is written.
void Stream::finish(const char* event, const char* reason) {
    if (closed_ || closing_) return;
    closing_ = true;
    std::optional<std::string> cursor = engine::format_cursor(feed_.position());
    std::string data = std::string("{\"reason\":\"") + reason + "\",\"cursor\":\"" + *cursor + "\"}";
    feed_.queue().push(control_event(event, data, cursor));
    pump();
}

void Stream::pump() {
    if (writing_ || closed_) return;
    // Top up from the log while we are behind and the queue has room.
    while (feed_.low_water() && !feed_.live() && !closing_) {
        auto r = feed_.refill();
        if (r == hub::Feed::Refill::gap) {
            // Events were removed by retention before this subscriber read them: say so, with the cursor the
            // stream continues from, instead of skipping silently.
            auto cursor = engine::format_cursor(feed_.position());
            feed_.queue().push(control_event("herald.reset",
                                             "{\"reason\":\"retention\",\"cursor\":\"" + cursor +
                                                 "\",\"missed\":" +
                                                 std::to_string(feed_.next_offset() - feed_.gap_from()) + "}",
                                             cursor));
            continue;
        }
        if (r == hub::Feed::Refill::idle) break;
    }
    if (feed_.queue().empty()) {
        if (closing_) close(/*graceful=*/true);
        return;
    }
    buffers_.clear();
    feed_.queue().gather(buffers_, 64, options_.max_write_bytes);
    writing_ = true;
    asio::async_write(stream_, buffers_, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->writing_ = false;
        if (ec) {
            self->close();
            return;
        }
        self->stats_.bytes_written.fetch_add(n, std::memory_order_relaxed);
        self->last_write_ = std::chrono::steady_clock::now();
        hub::LatencyRecorder latency{&self->stats_.delivery_latency};
        self->feed_.queue().consume(n, &latency);
        self->pump();
    });
}

void Stream::watch_peer() {
    if (stream_.is_tls()) {
        watch_peer_tls();
        return;
    }
    auto& socket = stream_.socket();
    socket.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
        if (self->closed_) return;
        if (ec) {
            self->close();
            return;
        }
        // An SSE client sends nothing after its request: readable means it closed (or sent junk we ignore).
        char scratch[256];
        boost::system::error_code rec;
        auto& socket = self->stream_.socket();
        socket.non_blocking(true, rec);
        auto n = socket.read_some(asio::buffer(scratch), rec);
        if (rec == asio::error::would_block) {
            self->watch_peer();
            return;
        }
        if (rec || n == 0) {
            self->close();
            return;
        }
        self->watch_peer();
    });
}

// Readiness of the socket says nothing over TLS: the TLS layer may already hold decrypted bytes, and bytes on the
// socket may be only a TLS record of its own (a key update). So a read through it, kept pending like the wait
// above. The bytes are thrown away, which is why every stream of the thread may share one small buffer even
// though the TLS layer may fill it before the completion runs.
void Stream::watch_peer_tls() {
    thread_local char scratch[256];
    stream_.async_read_some(asio::buffer(scratch), [self = shared_from_this()](boost::system::error_code ec,
                                                                               std::size_t) {
        if (self->closed_) return;
        if (ec) {
            self->close();
            return;
        }
        self->watch_peer_tls();
    });
}

void Stream::close(bool graceful) {
    if (closed_) return;
    closed_ = true;
    hub::SubscriberHook::unlink();
    hub::WriterHook::unlink();
    feed_.queue().clear();
    if (graceful)
        stream_.shutdown_and_close(http::kTlsCloseLimit, shared_from_this());
    else
        stream_.close();
}

}  // namespace herald::sse
