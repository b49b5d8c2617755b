#pragma once
// One SSE subscriber connection after the HTTP request was accepted: writes the response head, then the feed
// (catch-up from the log, then live), heartbeat comments while idle, and a final shutdown event. Detects a
// client that went away by waiting for the socket to become readable (an SSE client never sends anything); over
// TLS by a read through the TLS layer instead, which alone knows whether bytes are application data.
//
// Ownership: kept alive by its own pending asynchronous operations (shared_from_this); linked into the worker's
// hub while open. Threading: lives entirely on one worker thread.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/byte_stream.hpp"
#include "hub/feed.hpp"
#include "hub/hub.hpp"

namespace herald::sse {

struct StreamOptions {
    std::chrono::milliseconds heartbeat{15'000};
    std::chrono::milliseconds retry{3'000};      // the `retry:` hint for EventSource reconnects
    std::size_t max_write_bytes = 256 * 1024;    // per writev
};

struct StreamStats {
    std::atomic<std::int64_t> open{0};
    std::atomic<std::uint64_t> opened{0};
    std::atomic<std::uint64_t> catchup_switches{0};
    std::atomic<std::uint64_t> bytes_written{0};
    // Sum over open streams of (events in the topic after the stream's position), refreshed every hub tick.
    std::atomic<std::int64_t> consumer_lag{0};
    // Live events: commit → the write that completed them (hub/delivery_queue.hpp).
    Histogram delivery_latency;
};

struct StreamStart {
    std::shared_ptr<engine::TopicReader> topic;
    std::uint64_t next_offset = 0;
    std::string notice;             // an initial control event (e.g. herald.reset) or empty
    std::string extra_headers;      // preformatted "Name: value\r\n" lines (CORS, ...)
    hub::FeedOptions feed;
    // When the subscriber's credential expires: the stream then ends with a `herald.auth-expired` event carrying
    // the cursor to resume from (with a fresh token).
    std::optional<std::chrono::system_clock::time_point> expires_at;
    std::shared_ptr<void> lease;  // counts the stream against its principal's limit while it lives
};

class Stream final : public hub::Subscriber, public hub::Writer, public std::enable_shared_from_this<Stream> {
public:
    static void start(http::ByteStream stream, std::shared_ptr<void> connection_slot,
                      hub::WorkerHub& hub, const hub::Encoder& encoder, StreamStart start,
                      const StreamOptions& options, StreamStats& stats);

    Stream(http::ByteStream stream, std::shared_ptr<void> connection_slot, hub::WorkerHub& hub,
           const hub::Encoder& encoder, StreamStart start, const StreamOptions& options, StreamStats& stats);
    ~Stream() override;

    void on_batch(const hub::BatchPtr& batch) override;
    void on_tick(std::chrono::steady_clock::time_point now) override;
    void on_shutdown() override;
    void flush() override { pump(); }

private:
    void pump();
    void watch_peer();
    void watch_peer_tls();
    // `graceful`: everything queued was written and Herald ends the stream (TLS then says close_notify);
    // otherwise the connection failed and is only closed.
    void close(bool graceful = false);
    void finish(const char* event, const char* reason);

    http::ByteStream stream_;
    std::optional<std::chrono::system_clock::time_point> expires_at_;
    std::shared_ptr<void> lease_;
    std::shared_ptr<void> connection_slot_;
    hub::WorkerHub& hub_;
    hub::Feed feed_;
    const StreamOptions& options_;
    StreamStats& stats_;
    std::vector<boost::asio::const_buffer> buffers_;
    std::chrono::steady_clock::time_point last_write_;
    std::int64_t reported_lag_ = 0;  // this stream's share of StreamStats::consumer_lag
    bool writing_ = false;
    bool closing_ = false;   // after shutdown: close once the queue is flushed
    bool closed_ = false;
};

}  // namespace herald::sse
