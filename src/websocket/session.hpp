#pragma once
// One WebSocket connection after the 101 answer, in either of two modes:
//   multiplexed (/v1/ws, subprotocol herald.v1): many subscriptions, publishing, acks (docs/websocket.md);
//   single-topic (GET /v1/topics/{topic}/events with Upgrade): one implicit subscription, receive-only.
//
// Delivery is the same cursor mechanism as SSE (hub::Feed per subscription): live slices of the shared encoded
// batch with a per-subscription prefix and frame header, or catch-up reads from the log when the subscription
// is behind or its queue passed the high-water mark. With permessage-deflate the slices are of the batch's
// compressed frames, made once for every compressing subscriber (deflate.hpp). Every byte written goes through
// one writer: control messages (replies, pongs, close) first, then the subscriptions round-robin, gathered into
// one writev.
//
// Reading holds no buffer while idle: the session waits for readability, then reads into a per-thread scratch
// buffer and feeds the frame parser. Over TLS that is not possible (readiness of the socket says nothing about
// the TLS layer, which may hold decrypted bytes already), so a TLS session reads through it into a buffer of its
// own — small next to what the TLS layer itself holds per connection. A protocol violation is answered with a close frame carrying the RFC 6455
// code and a reason; a bad herald.v1 message with an `error` message (the connection continues).
//
// Ownership: kept alive by its own pending operations (shared_from_this). Threading: one worker thread.

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "http/byte_stream.hpp"
#include "hub/feed.hpp"
#include "hub/hub.hpp"
#include "publish/pipeline.hpp"
#include "websocket/deflate.hpp"
#include "websocket/frame.hpp"
#include "websocket/protocol.hpp"

namespace herald::websocket {

struct SessionOptions {
    std::chrono::milliseconds ping_interval{30'000};  // ping a peer that sent nothing for this long
    std::chrono::milliseconds pong_timeout{10'000};   // and close if it does not answer within this
    ParserLimits limits;                              // frame and message size (1009 beyond)
    std::size_t max_subscriptions = 100;              // per connection
    std::size_t max_inflight_publishes = 64;          // per connection; more are answered 429
    double publish_rate = 0;                          // publish messages per second per connection; 0 = no limit
    double publish_burst = 100;
    std::size_t high_water_bytes = 256 * 1024;        // per subscription, as for SSE
    std::size_t max_write_bytes = 256 * 1024;
    bool deflate = true;                              // negotiate permessage-deflate when a client offers it
};

struct SessionStats {
    std::atomic<std::int64_t> open{0};
    std::atomic<std::uint64_t> opened{0};
    std::atomic<std::int64_t> subscriptions{0};
    std::atomic<std::uint64_t> messages_received{0};
    std::atomic<std::uint64_t> protocol_errors{0};   // connections closed for a violation
    std::atomic<std::uint64_t> message_errors{0};    // `error` messages sent
    std::atomic<std::uint64_t> bytes_written{0};
    std::atomic<std::uint64_t> acks{0};
    std::atomic<std::uint64_t> compressed_messages_sent{0};      // permessage-deflate event messages
    std::atomic<std::uint64_t> compressed_messages_received{0};
    // Sum over subscriptions that ack of (events in the topic after the last acked one), refreshed every tick.
    std::atomic<std::int64_t> consumer_lag{0};
    // Live events: commit → the write that completed them (hub/delivery_queue.hpp).
    Histogram delivery_latency;
    // Sessions ended by the pong timeout while a write to them had been stalled for at least pong_timeout: a
    // consumer that stopped reading (or one that vanished with bytes in flight; TCP cannot tell them apart).
    std::atomic<std::uint64_t> slow_consumer_disconnects{0};
};

// What a session needs from the server; outlives every session.
struct SessionContext {
    engine::Engine& engine;
    publish::Pipeline& pipeline;
    const hub::Encoder& encoder;  // the WebSocket wire format (event message tail)
    const SessionOptions& options;
    SessionStats& stats;
    bool auto_create_topics = true;
};

// What the edge's access control decides for one connection: authorization per topic, rate limits, and when
// the credential expires. A session without a guard allows everything (authentication off, no limits).
struct Denial {
    unsigned status = 403;
    std::string kind;   // problem type suffix, e.g. "forbidden", "rate-limited"
    std::string title;
    std::string detail;
};

class SessionGuard {
public:
    virtual ~SessionGuard() = default;
    // Admits a new subscription to `topic`: a denial, or a lease held for as long as the subscription lives
    // (it counts against a per-principal stream limit; may be null when nothing is counted).
    struct Admission {
        std::optional<Denial> denial;
        std::shared_ptr<void> lease;
    };
    virtual Admission admit_subscription(std::string_view topic) = 0;
    virtual std::optional<Denial> may_publish(std::string_view topic, std::size_t events) = 0;
    // Called for every client message (per-principal message rate).
    virtual std::optional<Denial> on_message() = 0;
    virtual std::optional<std::chrono::system_clock::time_point> expires_at() const = 0;
    // A fresh token for the same principal (op `auth`); on success expires_at() moves.
    virtual std::optional<Denial> reauthenticate(std::string_view token) = 0;
};

struct SingleTopic {
    std::shared_ptr<engine::TopicReader> topic;
    std::shared_ptr<void> lease;  // counts the stream against its principal's limit while it lives
    std::uint64_t next_offset = 0;
    std::vector<std::string> types;
    std::string reset_reason;
    std::uint64_t missed = 0;
};

class Session final : public hub::Ticker, public hub::Writer, public std::enable_shared_from_this<Session> {
public:
    // `head` is the 101 response, written first. `single` selects single-topic mode.
    // `guard` may be null (everything allowed). A connection whose credential expires is closed with 1008.
    // `deflate` is what the handshake agreed for permessage-deflate (nullopt: not negotiated).
    static void start(http::ByteStream stream, std::shared_ptr<void> connection_slot,
                      hub::WorkerHub& hub, SessionContext& context, std::string head,
                      std::optional<SingleTopic> single, std::unique_ptr<SessionGuard> guard = nullptr,
                      std::optional<DeflateAgreement> deflate = std::nullopt);

    Session(http::ByteStream stream, std::shared_ptr<void> connection_slot, hub::WorkerHub& hub,
            SessionContext& context, bool single_topic);
    ~Session() override;

    void on_tick(std::chrono::steady_clock::time_point now) override;
    void on_shutdown() override;
    void flush() override { pump(); }

    struct Subscription;

private:
    boost::asio::awaitable<void> read_loop();
    boost::asio::awaitable<void> run_publish(Publish message);
    void handle_frame(const FrameEvent& ev);
    void handle_text(std::string_view text);
    void on_subscribe(Subscribe&& s);
    void on_unsubscribe(const Unsubscribe& u);
    void on_ack(const Ack& a);
    void on_auth(const Auth& a);
    std::shared_ptr<Subscription> add_subscription(std::string id, std::shared_ptr<engine::TopicReader> topic,
                                                   std::uint64_t next, std::vector<std::string> types);
    Subscription* find(std::string_view id);

    void send_control(std::string_view payload, Opcode opcode = Opcode::text);
    void send_error(std::string_view ref, std::string_view id, unsigned status, std::string kind,
                    std::string title, std::string detail, std::string member = {});
    void close(std::uint16_t code, std::string_view reason);
    // A subscription queued live events: write them on the worker's next flush slice (hub/hub.hpp).
    void request_flush();
    void pump();
    // `graceful`: the close handshake is done and nothing is being written (TLS then says close_notify);
    // otherwise the connection failed or the peer is gone, and it is only closed.
    void terminate(bool graceful = false);
    bool take_publish_token();

    http::ByteStream stream_;
    std::unique_ptr<char[]> tls_read_buffer_;  // TLS only (see the top of this file)
    std::shared_ptr<void> connection_slot_;
    hub::WorkerHub& hub_;
    SessionContext& ctx_;
    std::unique_ptr<SessionGuard> guard_;
    const bool single_topic_;
    bool deflate_ = false;  // permessage-deflate: event messages go out compressed
    FrameParser parser_;
    hub::DeliveryQueue control_;
    std::vector<std::shared_ptr<Subscription>> subs_;
    std::size_t rr_ = 0;  // round-robin start among subscriptions

    // The write in flight: which queues it took bytes from (subscriptions kept alive until it completes).
    struct Take {
        std::shared_ptr<Subscription> sub;  // null for the control queue
        std::size_t bytes;
    };
    std::vector<Take> takes_;
    std::vector<boost::asio::const_buffer> buffers_;
    bool writing_ = false;
    bool closing_ = false;     // a close frame is queued: send nothing else, stop reading
    bool terminated_ = false;
    bool shutting_down_close_ = false;  // close with 1001 once every subscription's final cursor is sent
    std::size_t inflight_publishes_ = 0;
    std::chrono::steady_clock::time_point last_received_;
    std::chrono::steady_clock::time_point ping_sent_{};
    bool ping_outstanding_ = false;
    // Stalled writes, seen from the tick: a write still in flight at a later tick has not completed since the
    // first tick that saw it (the peer is not draining its socket). Counting writes costs no clock read per write.
    std::uint64_t writes_started_ = 0;
    std::uint64_t write_seen_ = 0;
    std::chrono::steady_clock::time_point write_seen_at_{};
    double tokens_ = 0;
    std::chrono::steady_clock::time_point tokens_at_;
};

// The hub encoder for the WebSocket wire format: the shared tail of an `event` message.
void encode_event_tail(std::string& out, const hub::EventView& event);
// FeedOptions::frame_header for text frames, and for compressed text messages (RSV1 set).
std::size_t text_frame_header(unsigned char* out, std::uint64_t size);
std::size_t compressed_text_frame_header(unsigned char* out, std::uint64_t size);

}  // namespace herald::websocket
