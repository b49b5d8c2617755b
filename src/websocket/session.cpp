#include "websocket/session.hpp"

#include <ctime>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/codec.hpp"
#include "engine/start_position.hpp"
#include "engine/topic_name.hpp"

namespace herald::websocket {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// One subscription of a session: a hub subscriber for its topic with its own feed (cursor and queue).
struct Session::Subscription final : hub::Subscriber {
    Session* session;
    std::string id;
    hub::Feed feed;
    std::uint64_t acked = 0;
    bool acks = false;            // the client acks: its lag counts in the consumer-lag gauge
    std::int64_t reported_lag = 0;  // this subscription's share of SessionStats::consumer_lag
    std::shared_ptr<void> lease;    // the principal's stream count, released with the subscription
    bool draining = false;  // unsubscribed: deliver what is queued, then the `unsubscribed` reply, then drop

    Subscription(Session* s, std::string sub_id, std::shared_ptr<engine::TopicReader> topic, std::uint64_t next,
                 hub::FeedOptions options, const hub::Encoder& encoder)
        : session(s), id(std::move(sub_id)), feed(std::move(topic), next, std::move(options), encoder),
          acked(next) {}
    ~Subscription() override { session->ctx_.stats.consumer_lag.fetch_sub(reported_lag, std::memory_order_relaxed); }

    // Consumer lag as the client reports it: events in the topic after the last one it acked.
    void update_lag() {
        if (!acks) return;
        auto end = feed.topic().end_offset();
        std::int64_t lag = end > acked ? static_cast<std::int64_t>(end - acked) : 0;
        session->ctx_.stats.consumer_lag.fetch_add(lag - reported_lag, std::memory_order_relaxed);
        reported_lag = lag;
    }

    void on_batch(const hub::BatchPtr& batch) override {
        if (draining) return;
        feed.on_batch(batch);
        session->request_flush();
    }
};

void encode_event_tail(std::string& out, const hub::EventView& event) {
    std::string cursor;
    engine::append_cursor(cursor, event.cursor);
    append_event_tail(out, event.topic, cursor, event.json);
}

std::size_t text_frame_header(unsigned char* out, std::uint64_t size) {
    return write_frame_header(out, Opcode::text, size);
}

std::size_t compressed_text_frame_header(unsigned char* out, std::uint64_t size) {
    return write_frame_header(out, Opcode::text, size, Compression::deflate);
}

namespace {

std::string problem_json(unsigned status, std::string_view kind, std::string_view title, std::string_view detail,
                         std::string_view member) {
    boost::json::object o;
    o["type"] = "urn:herald:problem:" + std::string(kind);
    o["title"] = title;
    o["status"] = status;
    if (!detail.empty()) o["detail"] = detail;
    if (!member.empty()) o["attribute"] = member;
    return boost::json::serialize(o);
}

// A 16 KiB receive buffer per worker thread: sessions read into it and the parser keeps only what it needs,
// so an idle connection holds no receive buffer.
constexpr std::size_t kReadBuffer = 16 * 1024;
char* scratch_buffer() {
    thread_local char buffer[kReadBuffer];
    return buffer;
}

std::uint64_t cursor_gap(const hub::Feed& f) { return f.next_offset() - f.gap_from(); }

}  // namespace

void Session::start(http::ByteStream stream, std::shared_ptr<void> connection_slot, hub::WorkerHub& hub,
                    SessionContext& context, std::string head, std::optional<SingleTopic> single,
                    std::unique_ptr<SessionGuard> guard, std::optional<DeflateAgreement> deflate) {
    auto s = std::make_shared<Session>(std::move(stream), std::move(connection_slot), hub, context,
                                       single.has_value());
    s->guard_ = std::move(guard);
    if (deflate) {
        s->deflate_ = true;
        s->parser_.enable_deflate(deflate->client_no_context_takeover);
    }
    s->control_.push(std::move(head));
    hub.add_ticker(*s);
    if (single) {
        auto sub = s->add_subscription("", std::move(single->topic), single->next_offset, std::move(single->types));
        sub->lease = std::move(single->lease);
        if (!single->reset_reason.empty()) {
            // The one-topic stream has no `op` messages; a reset is an object with "reset" instead of "event".
            std::string msg = "{\"reset\":";
            append_json_string(msg, single->reset_reason);
            msg += ",\"cursor\":";
            append_json_string(msg, engine::format_cursor(sub->feed.position()));
            msg += ",\"missed\":" + std::to_string(single->missed) + "}";
            sub->feed.queue().push(encode_frame(Opcode::text, msg));
        }
    }
    asio::co_spawn(s->stream_.get_executor(), [s] { return s->read_loop(); }, asio::detached);
    s->pump();
}

Session::Session(http::ByteStream stream, std::shared_ptr<void> connection_slot, hub::WorkerHub& hub,
                 SessionContext& context, bool single_topic)
    : stream_(std::move(stream)),
      connection_slot_(std::move(connection_slot)),
      hub_(hub),
      ctx_(context),
      single_topic_(single_topic),
      parser_(context.options.limits),
      last_received_(std::chrono::steady_clock::now()),
      tokens_(context.options.publish_burst),
      tokens_at_(last_received_) {
    ctx_.stats.open.fetch_add(1, std::memory_order_relaxed);
    ctx_.stats.opened.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
    ctx_.stats.open.fetch_sub(1, std::memory_order_relaxed);
    ctx_.stats.subscriptions.fetch_sub(static_cast<std::int64_t>(subs_.size()), std::memory_order_relaxed);
}

std::shared_ptr<Session::Subscription> Session::add_subscription(std::string id,
                                                                 std::shared_ptr<engine::TopicReader> topic,
                                                                 std::uint64_t next, std::vector<std::string> types) {
    hub::FeedOptions fo;
    fo.format = hub::WireFormat::websocket;
    fo.types = std::move(types);
    fo.high_water_bytes = ctx_.options.high_water_bytes;
    fo.frame_prefix = std::make_shared<const std::string>(single_topic_ ? std::string("{") : event_prefix(id));
    fo.frame_header = &text_frame_header;
    if (deflate_) {
        // The prefix goes out as stored blocks ahead of the shared compressed tail (deflate.hpp); it is fixed
        // for the subscription, so it is encoded once here.
        std::string stored;
        append_stored_blocks(stored, *fo.frame_prefix);
        fo.frame_prefix = std::make_shared<const std::string>(std::move(stored));
        fo.frame_header = &compressed_text_frame_header;
        fo.compress = &append_compressed;
        fo.compressed_messages = &ctx_.stats.compressed_messages_sent;
    }
    auto topic_name = topic->name();
    auto sub = std::make_shared<Subscription>(this, std::move(id), std::move(topic), next, std::move(fo), ctx_.encoder);
    hub_.subscribe(topic_name, *sub);
    subs_.push_back(sub);
    ctx_.stats.subscriptions.fetch_add(1, std::memory_order_relaxed);
    return sub;
}

Session::Subscription* Session::find(std::string_view id) {
    for (auto& s : subs_)
        if (s->id == id && !s->draining) return s.get();
    return nullptr;
}

asio::awaitable<void> Session::read_loop() {
    auto self = shared_from_this();
    while (!terminated_ && !closing_) {
        const char* data = nullptr;
        std::size_t n = 0;
        if (stream_.tls()) {
            // Not the per-thread scratch buffer: the TLS layer may fill the buffer before this coroutine resumes,
            // while another session's read fills the same one.
            if (!tls_read_buffer_) tls_read_buffer_ = std::make_unique<char[]>(kReadBuffer);
            const auto into = asio::buffer(tls_read_buffer_.get(), kReadBuffer);
            auto [ec, got] = co_await stream_.async_read_some(into, use_tuple);
            if (ec || terminated_) break;  // the peer went away (or closed the TLS session) without a close handshake
            data = tls_read_buffer_.get();
            n = got;
        } else {
            auto& socket = stream_.socket();
            auto [ec] = co_await socket.async_wait(asio::ip::tcp::socket::wait_read, use_tuple);
            if (ec || terminated_) break;
            boost::system::error_code rec;
            socket.non_blocking(true, rec);
            n = socket.read_some(asio::buffer(scratch_buffer(), kReadBuffer), rec);
            if (rec == asio::error::would_block) continue;
            if (rec || n == 0) break;  // the peer went away without a close handshake
            data = scratch_buffer();
        }
        last_received_ = std::chrono::steady_clock::now();
        ping_outstanding_ = false;
        parser_.feed(data, n);
        for (;;) {
            auto ev = parser_.next();
            if (ev.kind == FrameEvent::Kind::need_more) break;
            handle_frame(ev);
            if (closing_ || terminated_) break;
        }
        if (parser_.buffered() == 0) parser_.shrink();
        pump();
    }
    if (!closing_) terminate();
}

void Session::handle_frame(const FrameEvent& ev) {
    switch (ev.kind) {
    case FrameEvent::Kind::message:
        ctx_.stats.messages_received.fetch_add(1, std::memory_order_relaxed);
        if (ev.compressed) ctx_.stats.compressed_messages_received.fetch_add(1, std::memory_order_relaxed);
        if (ev.opcode == Opcode::binary) {
            close(close_code::unsupported_data, "binary messages are not supported: herald.v1 is JSON text");
            return;
        }
        if (single_topic_) {
            close(close_code::unsupported_data, "this stream is receive-only; publish over /v1/ws or HTTP");
            return;
        }
        handle_text(ev.payload);
        return;
    case FrameEvent::Kind::ping: send_control(ev.payload, Opcode::pong); return;
    case FrameEvent::Kind::pong: return;
    case FrameEvent::Kind::close: {
        // Echo the close (RFC 6455 §5.5.1) and finish.
        std::uint16_t code = ev.code == 1005 ? close_code::normal : ev.code;
        close(code, "");
        return;
    }
    case FrameEvent::Kind::error:
        ctx_.stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        close(ev.code, ev.reason);
        return;
    case FrameEvent::Kind::need_more: return;
    }
}

void Session::handle_text(std::string_view text) {
    auto decoded = decode_client_message(text);
    if (auto* err = std::get_if<DecodeError>(&decoded)) {
        send_error(err->ref, err->id, 400, "invalid-message", "Invalid message", err->message, err->member);
        return;
    }
    auto& msg = std::get<ClientMessage>(decoded);
    if (guard_) {
        if (auto d = guard_->on_message()) {
            std::string ref, id;
            if (auto* p = std::get_if<Publish>(&msg)) ref = p->ref;
            if (auto* x = std::get_if<Subscribe>(&msg)) id = x->id;
            if (auto* x = std::get_if<Unsubscribe>(&msg)) id = x->id;
            if (auto* x = std::get_if<Ack>(&msg)) id = x->id;
            if (auto* x = std::get_if<Auth>(&msg)) ref = x->ref;
            send_error(ref, id, d->status, d->kind, d->title, d->detail);
            return;
        }
    }
    if (auto* s = std::get_if<Subscribe>(&msg)) return on_subscribe(std::move(*s));
    if (auto* a = std::get_if<Auth>(&msg)) return on_auth(*a);
    if (auto* u = std::get_if<Unsubscribe>(&msg)) return on_unsubscribe(*u);
    if (auto* a = std::get_if<Ack>(&msg)) return on_ack(*a);
    if (std::holds_alternative<Ping>(msg)) return send_control(encode_pong());
    auto& p = std::get<Publish>(msg);
    if (inflight_publishes_ >= ctx_.options.max_inflight_publishes) {
        send_error(p.ref, {}, 429, "too-many-requests", "Too many requests",
                   "too many publishes in flight on this connection; wait for `published` answers");
        return;
    }
    if (!take_publish_token()) {
        send_error(p.ref, {}, 429, "rate-limited", "Too many requests",
                   "this connection's publish rate limit is exceeded");
        return;
    }
    if (guard_) {
        if (auto d = guard_->may_publish(p.topic, p.events.size())) {
            send_error(p.ref, {}, d->status, d->kind, d->title, d->detail, "topic");
            return;
        }
    }
    ++inflight_publishes_;
    asio::co_spawn(stream_.get_executor(), run_publish(std::move(p)), asio::detached);
}

bool Session::take_publish_token() {
    if (ctx_.options.publish_rate <= 0) return true;
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    tokens_at_ = now;
    tokens_ = std::min(ctx_.options.publish_burst, tokens_ + elapsed * ctx_.options.publish_rate);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
}

asio::awaitable<void> Session::run_publish(Publish p) {
    auto self = shared_from_this();
    std::vector<core::CloudEvent> events;
    events.reserve(p.events.size());
    for (std::size_t i = 0; i < p.events.size(); ++i) {
        auto e = core::decode_structured(p.events[i]);
        if (!e) {
            --inflight_publishes_;
            ctx_.pipeline.count_rejected();
            auto attr = p.batch ? "events[" + std::to_string(i) + "]." + e.error().attribute
                                : "event." + e.error().attribute;
            send_error(p.ref, {}, 400, "invalid-event", "Invalid CloudEvent", e.error().message, attr);
            pump();
            co_return;
        }
        events.push_back(std::move(*e));
    }
    auto result = co_await ctx_.pipeline.publish(p.topic, std::move(events), std::move(p.idempotency_key));
    --inflight_publishes_;
    if (terminated_) co_return;
    if (!result) {
        auto& e = result.error();
        unsigned status = 400;
        std::string kind = "invalid-event";
        switch (e.code) {
        case Errc::not_found: status = 404; kind = "not-found"; break;
        case Errc::no_space: status = 507; kind = "storage-full"; break;
        case Errc::unavailable: status = 503; kind = "unavailable"; break;
        case Errc::io_error:
        case Errc::corrupt: status = 503; kind = "storage-error"; break;
        case Errc::conflict: status = 409; kind = "conflict"; break;
        case Errc::unprocessable: status = 422; kind = "contract-violation"; break;
        default:
            if (e.attribute == "topic") kind = "invalid-topic";
            break;
        }
        send_error(p.ref, {}, status, kind,
                   status == 400 ? "Bad request" : status == 422 ? "Event breaks its contract" : "Publish failed",
                   e.message, e.attribute);
    } else {
        send_control(encode_published(p.ref, publish::Pipeline::results_json(*result)));
    }
    pump();
}

void Session::on_subscribe(Subscribe&& s) {
    if (find(s.id)) {
        send_error({}, s.id, 409, "conflict", "Conflict", "a subscription with this id is open on this connection",
                   "id");
        return;
    }
    if (subs_.size() >= ctx_.options.max_subscriptions) {
        send_error({}, s.id, 429, "too-many-subscriptions", "Too many subscriptions",
                   "this connection has " + std::to_string(subs_.size()) + " subscriptions, the limit", "id");
        return;
    }
    if (!engine::is_valid_topic_name(s.topic)) {
        send_error({}, s.id, 400, "invalid-topic", "Invalid topic name",
                   "topic names must match [a-z0-9][a-z0-9._-]{0,199}", "topic");
        return;
    }
    std::shared_ptr<void> lease;
    if (guard_) {
        auto admission = guard_->admit_subscription(s.topic);
        if (auto& d = admission.denial) {
            send_error({}, s.id, d->status, d->kind, d->title, d->detail, "topic");
            return;
        }
        lease = std::move(admission.lease);
    }
    auto topic = ctx_.engine.topic(s.topic, ctx_.auto_create_topics);
    if (!topic) {
        send_error({}, s.id, topic.error().code == Errc::not_found ? 404 : 503, "not-found", "Not found",
                   topic.error().message, "topic");
        return;
    }
    auto start = engine::resolve_start(**topic, s.from, /*default_latest=*/true);
    if (!start) {
        send_error({}, s.id, 400, "invalid-parameter", "Invalid parameter", start.error().message, "from");
        return;
    }
    auto id = s.id;
    auto sub = add_subscription(std::move(s.id), std::move(*topic), start->next, std::move(s.types));
    sub->lease = std::move(lease);
    send_control(encode_subscribed(id, sub->feed.topic().name(), engine::format_cursor(sub->feed.position())));
    if (!start->reset_reason.empty())
        sub->feed.queue().push(encode_frame(
            Opcode::text, encode_reset(id, start->reset_reason, engine::format_cursor(sub->feed.position()),
                                       start->missed)));
}

void Session::on_unsubscribe(const Unsubscribe& u) {
    auto* sub = find(u.id);
    if (!sub) {
        send_error({}, u.id, 404, "not-found", "Not found", "no open subscription with this id", "id");
        return;
    }
    // Stop taking events; what is queued is still delivered, then the reply with the cursor after it.
    sub->draining = true;
    sub->unlink();
    sub->feed.queue().push(
        encode_frame(Opcode::text, encode_unsubscribed(sub->id, engine::format_cursor(sub->feed.position()))));
}

void Session::on_ack(const Ack& a) {
    auto* sub = find(a.id);
    if (!sub) {
        send_error({}, a.id, 404, "not-found", "Not found", "no open subscription with this id", "id");
        return;
    }
    auto c = engine::parse_cursor(a.cursor);
    if (!c || c->epoch != sub->feed.topic().epoch() || c->offset > sub->feed.next_offset()) {
        send_error({}, a.id, 400, "invalid-parameter", "Invalid parameter",
                   "the cursor is not one this subscription delivered", "cursor");
        return;
    }
    sub->acked = std::max(sub->acked, c->offset);
    sub->acks = true;
    ctx_.stats.acks.fetch_add(1, std::memory_order_relaxed);
    sub->update_lag();
}

void Session::on_auth(const Auth& a) {
    if (!guard_) {
        send_control(encode_authenticated(a.ref, {}));  // authentication is off: nothing to extend
        return;
    }
    if (auto d = guard_->reauthenticate(a.token)) {
        send_error(a.ref, {}, d->status, d->kind, d->title, d->detail, "token");
        return;
    }
    std::string expires;
    if (auto e = guard_->expires_at()) {
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(e->time_since_epoch()).count();
        std::time_t t = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        expires = buf;
    }
    send_control(encode_authenticated(a.ref, expires));
}

void Session::send_control(std::string_view payload, Opcode opcode) {
    if (closing_ || terminated_) return;
    control_.push(encode_frame(opcode, payload));
}

void Session::send_error(std::string_view ref, std::string_view id, unsigned status, std::string kind,
                         std::string title, std::string detail, std::string member) {
    ctx_.stats.message_errors.fetch_add(1, std::memory_order_relaxed);
    send_control(encode_error(ref, id, status, problem_json(status, kind, title, detail, member)));
}

void Session::close(std::uint16_t code, std::string_view reason) {
    if (closing_ || terminated_) return;
    // A close frame goes after what is already queued on the control queue, and no more events are sent.
    control_.push(encode_close(code, reason));
    closing_ = true;
    for (auto& s : subs_) s->unlink();
    pump();
}

void Session::on_tick(std::chrono::steady_clock::time_point now) {
    if (closing_ || terminated_) return;
    if (guard_) {
        if (auto e = guard_->expires_at(); e && std::chrono::system_clock::now() >= *e) {
            // RFC 6455 1008 (policy violation): the credential this connection was opened with has expired.
            close(close_code::policy_violation, "token expired");
            return;
        }
    }
    for (auto& sub : subs_) sub->update_lag();
    if (!writing_ || writes_started_ != write_seen_) {
        write_seen_ = writes_started_;
        write_seen_at_ = now;
    }
    if (ping_outstanding_) {
        if (now - ping_sent_ >= ctx_.options.pong_timeout) {
            // The peer is gone without closing (no FIN), or stopped reading: free the connection. With a write
            // stalled for as long as the pong was awaited, it is a consumer that does not keep up.
            const bool stalled = writing_ && now - write_seen_at_ >= ctx_.options.pong_timeout;
            asio::post(stream_.get_executor(), [self = shared_from_this(), stalled] {
                if (stalled && !self->terminated_)
                    self->ctx_.stats.slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
                self->terminate();
            });
        }
        return;
    }
    if (now - last_received_ >= ctx_.options.ping_interval) {
        control_.push(encode_frame(Opcode::ping, {}));
        ping_sent_ = now;
        ping_outstanding_ = true;
        pump();
    }
}

void Session::on_shutdown() {
    if (closing_ || terminated_) return;
    // Each subscription's final cursor, then a going-away close.
    for (auto& s : subs_) {
        if (s->draining) continue;
        s->unlink();
        std::string msg = single_topic_ ? "{\"shutdown\":true,\"cursor\":" : "{\"op\":\"unsubscribed\",\"id\":";
        if (!single_topic_) {
            append_json_string(msg, s->id);
            msg += ",\"reason\":\"shutdown\",\"cursor\":";
        }
        append_json_string(msg, engine::format_cursor(s->feed.position()));
        msg += "}";
        s->feed.queue().push(encode_frame(Opcode::text, msg));
        s->draining = true;
    }
    // Deliver those before the close frame: the close goes on the control queue once the subscriptions drain.
    shutting_down_close_ = true;
    pump();
}

void Session::request_flush() {
    // Written on the worker's next flush slice, with whatever else arrives before it (hub/hub.hpp).
    if (!writing_ && !terminated_) hub_.request_flush(*this);
}

void Session::pump() {
    if (writing_ || terminated_) return;
    buffers_.clear();
    takes_.clear();
    std::size_t budget = ctx_.options.max_write_bytes;
    if (auto n = control_.gather(buffers_, 64, budget)) {
        takes_.push_back(Take{nullptr, n});
        budget -= std::min(budget, n);
    }
    bool subs_pending = false;
    if (!closing_) {
        const std::size_t count = subs_.size();
        for (std::size_t k = 0; k < count && buffers_.size() < 64 && budget > 0; ++k) {
            auto& sub = subs_[(rr_ + k) % count];
            auto& feed = sub->feed;
            // Top up from the log while behind and below the low-water mark.
            while (!sub->draining && feed.low_water() && !feed.live()) {
                auto r = feed.refill();
                if (r == hub::Feed::Refill::gap) {
                    feed.queue().push(encode_frame(
                        Opcode::text, single_topic_
                                          ? "{\"reset\":\"retention\",\"cursor\":\"" +
                                                engine::format_cursor(feed.position()) +
                                                "\",\"missed\":" + std::to_string(cursor_gap(feed)) + "}"
                                          : encode_reset(sub->id, "retention", engine::format_cursor(feed.position()),
                                                         cursor_gap(feed))));
                    continue;
                }
                if (r == hub::Feed::Refill::idle) break;
            }
            if (auto n = feed.queue().gather(buffers_, 64 - buffers_.size(), budget)) {
                takes_.push_back(Take{sub, n});
                budget -= std::min(budget, n);
            }
            subs_pending |= !feed.queue().empty();
        }
        if (count) rr_ = (rr_ + 1) % count;
        // Drop drained subscriptions (unsubscribed or shut down) once nothing of theirs is queued or in flight.
        std::erase_if(subs_, [&](const std::shared_ptr<Subscription>& s) {
            bool gone = s->draining && s->feed.queue().empty() &&
                        std::none_of(takes_.begin(), takes_.end(), [&](const Take& t) { return t.sub == s; });
            if (gone) ctx_.stats.subscriptions.fetch_sub(1, std::memory_order_relaxed);
            return gone;
        });
        if (shutting_down_close_ && subs_.empty() && takes_.empty()) {
            shutting_down_close_ = false;
            close(close_code::going_away, "server shutting down");
            return;
        }
    }
    if (buffers_.empty()) {
        if (closing_ && control_.empty()) terminate(/*graceful=*/true);
        return;
    }
    writing_ = true;
    ++writes_started_;
    asio::async_write(stream_, buffers_, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->writing_ = false;
        if (ec) {
            self->terminate();
            return;
        }
        self->ctx_.stats.bytes_written.fetch_add(n, std::memory_order_relaxed);
        hub::LatencyRecorder latency{&self->ctx_.stats.delivery_latency};
        for (auto& t : self->takes_) (t.sub ? t.sub->feed.queue() : self->control_).consume(t.bytes, &latency);
        self->takes_.clear();
        self->pump();
    });
}

void Session::terminate(bool graceful) {
    if (terminated_) return;
    terminated_ = true;
    for (auto& s : subs_) s->unlink();
    hub::TickerHook::unlink();
    hub::WriterHook::unlink();
    if (graceful && !writing_)
        stream_.shutdown_and_close(http::kTlsCloseLimit, shared_from_this());
    else
        stream_.close();
}

}  // namespace herald::websocket
