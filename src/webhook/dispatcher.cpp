#include "webhook/dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

#include "base/glob.hpp"
#include "core/codec.hpp"
#include "core/event_record.hpp"
#include "trace/span.hpp"
#include "webhook/signature.hpp"

namespace herald::webhook {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A string extension attribute of a structured event as Herald encodes it (without decoding the whole event):
// context attributes and extensions come before `data` / `data_base64`, and a quote inside a JSON string is
// always escaped, so the first `"<name>":"` before the data member is the attribute. Unescapes \" and \\ (the
// only escapes a valid traceparent or tracestate can need); anything else is returned as is, for the caller's
// validation to refuse.
std::string find_string_attribute(std::string_view json, std::string_view name) {
    auto head = json;
    for (std::string_view data : {",\"data\":", ",\"data_base64\":"})
        if (auto at = head.find(data); at != std::string_view::npos) head = head.substr(0, at);
    std::string key = "\"" + std::string(name) + "\":\"";
    auto at = head.find(key);
    if (at == std::string_view::npos) return {};
    std::string out;
    for (auto i = at + key.size(); i < head.size(); ++i) {
        char c = head[i];
        if (c == '"') return out;
        if (c == '\\' && i + 1 < head.size() && (head[i + 1] == '"' || head[i + 1] == '\\')) c = head[++i];
        out.push_back(c);
    }
    return {};  // unterminated: not an attribute
}

// The event's trace context (CloudEvents distributed-tracing extension), when it carries a valid one.
std::optional<trace::SpanContext> event_trace(std::string_view json) {
    auto tp = find_string_attribute(json, "traceparent");
    if (tp.empty()) return std::nullopt;
    auto parsed = trace::parse_traceparent(tp);
    if (!parsed) return std::nullopt;
    return *parsed;
}

// The URL without its query: receivers' URLs may carry a token in the query, and spans are not secret-safe.
std::string_view url_without_query(std::string_view url) { return url.substr(0, url.find_first_of("?#")); }

std::string attribute_text(const core::AttributeValue& v) {
    if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
}

}  // namespace

Dispatcher::Dispatcher(Env env, Subscription subscription)
    : env_(env),
      sub_(std::move(subscription)),
      policy_(env.defaults.retry),
      wake_timer_(env.io),
      sleep_timer_(env.io),
      replay_wake_(env.io) {
    if (!sub_.spec.retry_schedule.empty()) policy_.schedule = sub_.spec.retry_schedule;
    if (sub_.spec.disable_after.count() > 0) policy_.disable_after = sub_.spec.disable_after;
    read_pos_ = sub_.status.next_offset;
    tokens_ = std::max(1.0, sub_.spec.rate_limit);
    tokens_at_ = std::chrono::steady_clock::now();
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::start() {
    if (started_) return;
    started_ = true;
    auto self = shared_from_this();
    asio::co_spawn(env_.io, [self]() -> asio::awaitable<void> { co_await self->run(); }, asio::detached);
    asio::co_spawn(env_.io, [self]() -> asio::awaitable<void> { co_await self->run_replays(); }, asio::detached);
}

bool Dispatcher::adopt(Subscription s) {
    if (started_ || s.id != sub_.id) return false;
    sub_ = std::move(s);
    read_pos_ = sub_.status.next_offset;
    dirty_ = true;
    return true;
}

void Dispatcher::stop() {
    stopped_ = true;
    unlink();  // no more hub wake-ups
    wake();
    replay_wake_.cancel();
    sleep_timer_.cancel();
}

void Dispatcher::pause() {
    if (sub_.status.state != SubscriptionState::active) return;
    sub_.status.state = SubscriptionState::paused;
    dirty_ = true;
    sleep_timer_.cancel();  // a retry wait ends now; the event stays at the cursor
    wake();
}

void Dispatcher::resume() {
    if (sub_.status.state == SubscriptionState::active) return;
    sub_.status.state = SubscriptionState::active;
    sub_.status.disabled_reason.clear();
    sub_.status.failing_since_ms.reset();  // a fresh start: the disable-after span counts from now
    dirty_ = true;
    wake();
    replay_wake_.cancel();
}

void Dispatcher::disable(std::string reason) {
    log::emit(env_.logger, log::Level::warn, "webhook", "subscription disabled",
              {{"subscription", sub_.id}, {"topic", sub_.spec.topic}, {"reason", reason}});
    sub_.status.state = SubscriptionState::disabled;
    sub_.status.disabled_reason = std::move(reason);
    dirty_ = true;
    env_.stats.disabled_total.fetch_add(1, std::memory_order_relaxed);
    sleep_timer_.cancel();
    wake();
}

void Dispatcher::replay(std::vector<DeadLetter> entries) {
    for (auto& e : entries) replay_queue_.push_back(std::move(e));
    replay_wake_.cancel();
}

void Dispatcher::rotate_secret(SigningSecret fresh, std::chrono::milliseconds overlap) {
    const auto now = now_ms();
    std::vector<SigningSecret> kept;
    kept.push_back(std::move(fresh));
    for (auto& s : sub_.secrets) {
        // The previous current secret keeps signing until the overlap ends; older ones keep their own expiry.
        if (!s.expires_at_ms) s.expires_at_ms = now + overlap.count();
        if (*s.expires_at_ms > now) kept.push_back(s);
    }
    sub_.secrets = std::move(kept);
}

std::uint64_t Dispatcher::lag() const {
    if (!reader_) return 0;
    auto end = reader_->end_offset();
    return end > sub_.status.next_offset ? end - sub_.status.next_offset : 0;
}

void Dispatcher::on_batch(const hub::BatchPtr&) { wake(); }

void Dispatcher::wake() {
    wake_pending_ = true;
    wake_timer_.cancel();
}

asio::awaitable<void> Dispatcher::wait_wake(std::chrono::milliseconds max) {
    if (wake_pending_) {
        wake_pending_ = false;
        co_return;
    }
    wake_timer_.expires_after(max);
    co_await wake_timer_.async_wait(use_tuple);
    wake_pending_ = false;
}

asio::awaitable<void> Dispatcher::sleep(std::chrono::milliseconds d) {
    // One sleeper at a time uses the shared timer (ordered mode, replays); concurrent deliveries use their own so
    // that pause/stop can still end every wait: they poll `running()` at least every 100 ms.
    if (sub_.spec.mode == DeliveryMode::ordered) {
        sleep_timer_.expires_after(d);
        co_await sleep_timer_.async_wait(use_tuple);
        co_return;
    }
    asio::steady_timer t(env_.io);
    auto until = std::chrono::steady_clock::now() + d;
    while (running() && std::chrono::steady_clock::now() < until) {
        t.expires_at(std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
        co_await t.async_wait(use_tuple);
    }
}

asio::awaitable<bool> Dispatcher::take_rate_token() {
    const double rate = sub_.spec.rate_limit;
    if (rate <= 0) co_return true;
    const double burst = std::max(1.0, rate);
    for (;;) {
        auto now = std::chrono::steady_clock::now();
        tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * rate);
        tokens_at_ = now;
        if (tokens_ >= 1.0) {
            tokens_ -= 1.0;
            co_return true;
        }
        if (stopped_) co_return false;
        auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate);
        asio::steady_timer t(env_.io, std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
        co_await t.async_wait(use_tuple);
    }
}

bool Dispatcher::accepts_type(std::string_view type) const {
    if (sub_.spec.types.empty()) return true;
    for (auto& g : sub_.spec.types)
        if (glob_match(g, type)) return true;
    return false;
}

OutgoingRequest Dispatcher::build_request(const Event& e, const trace::SpanContext* traceparent) const {
    OutgoingRequest r;
    r.url = sub_.spec.url;
    r.timeout = sub_.spec.timeout;
    r.headers.reserve(12);
    if (sub_.spec.content_mode == ContentMode::binary) {
        if (auto ce = core::decode_structured(e.json)) {
            r.headers.emplace_back("ce-specversion", ce->specversion);
            r.headers.emplace_back("ce-id", core::percent_encode_header(ce->id));
            r.headers.emplace_back("ce-source", core::percent_encode_header(ce->source));
            r.headers.emplace_back("ce-type", core::percent_encode_header(ce->type));
            if (ce->dataschema) r.headers.emplace_back("ce-dataschema", core::percent_encode_header(*ce->dataschema));
            if (ce->subject) r.headers.emplace_back("ce-subject", core::percent_encode_header(*ce->subject));
            if (ce->time) r.headers.emplace_back("ce-time", core::percent_encode_header(*ce->time));
            for (auto& [name, value] : ce->extensions)
                r.headers.emplace_back("ce-" + name, core::percent_encode_header(attribute_text(value)));
            std::string ct = ce->datacontenttype.value_or(ce->data_kind == core::DataKind::binary
                                                               ? "application/octet-stream"
                                                               : "application/json");
            r.headers.emplace_back("Content-Type", std::move(ct));
            r.body = std::move(ce->data);
        } else {
            // Not expected (the log holds validated events); fall back to the structured form.
            r.headers.emplace_back("Content-Type", "application/cloudevents+json");
            r.body = e.json;
        }
    } else {
        r.headers.emplace_back("Content-Type", "application/cloudevents+json");
        r.body = e.json;
    }
    const auto ts = now_ms() / 1000;
    std::vector<std::string> secrets;
    const auto now = now_ms();
    for (auto& s : sub_.secrets)
        if (!s.expires_at_ms || *s.expires_at_ms > now) secrets.push_back(s.secret);
    r.headers.emplace_back("webhook-id", e.id);
    r.headers.emplace_back("webhook-timestamp", std::to_string(ts));
    if (auto sig = signature_header(secrets, e.id, ts, r.body)) r.headers.emplace_back("webhook-signature", *sig);
    // W3C Trace Context on the delivery: the receiver continues the publisher's trace. The values are
    // re-validated here: an event's extension is publisher input, and a bad header would fail every attempt.
    if (traceparent && traceparent->valid()) {
        r.headers.emplace_back("traceparent", trace::format_traceparent(*traceparent));
        if (auto ts = find_string_attribute(e.json, "tracestate"); !ts.empty())
            if (auto normalized = trace::normalize_tracestate(ts); !normalized.empty())
                r.headers.emplace_back("tracestate", std::move(normalized));
    }
    r.headers.emplace_back("User-Agent", env_.defaults.user_agent);
    return r;
}

void Dispatcher::record(Attempt a) {
    sub_.status.last_attempt_ms = a.at_ms;
    sub_.status.last_status = a.status;
    sub_.status.last_error = a.error;
    attempts_.push_back(std::move(a));
    dirty_ = true;
}

Result<void> Dispatcher::dead_letter(const Event& e, unsigned attempts, int status, std::string error) {
    DeadLetter d;
    d.subscription_id = sub_.id;
    d.offset = e.offset;
    d.event_id = e.id;
    d.event_json = e.json;
    d.attempts = attempts;
    d.last_status = status;
    d.last_error = std::move(error);
    d.created_at_ms = now_ms();
    // Written now, before the cursor can be saved past the event: the durability contract of the store.
    auto r = env_.store.add_dead_letter(d);
    if (!r) return std::move(r).error();
    sub_.status.dead_lettered++;
    dirty_ = true;
    return ok();
}

asio::awaitable<Dispatcher::Finish> Dispatcher::deliver(const Event& e, bool replay, unsigned prior_attempts,
                                                        std::int64_t dead_letter_id) {
    unsigned attempt = prior_attempts;
    for (;;) {
        if (stopped_ || (!replay && sub_.status.state != SubscriptionState::active)) co_return Finish::interrupted;
        if (!co_await take_rate_token()) co_return Finish::interrupted;
        ++attempt;
        // One client span per attempt, a child of the event's traceparent (the publisher's producer span),
        // when the trace is sampled and tracing is on; otherwise the event's own context is forwarded as is.
        const auto event_ctx = event_trace(e.json);
        const bool traced = event_ctx && env_.tracer && env_.tracer->records(*event_ctx);
        const trace::SpanContext outgoing = traced ? env_.tracer->start(&*event_ctx) : event_ctx.value_or(trace::SpanContext{});
        const std::int64_t started_ns = traced ? trace::unix_nanos() : 0;
        auto request = build_request(e, event_ctx ? &outgoing : nullptr);
        auto result = co_await env_.transport.send(std::move(request));
        const auto now = now_ms();

        AttemptResult ar;
        ar.status = result.status;
        ar.transport_error = result.error != TransportError::none;
        ar.timeout = result.error == TransportError::timeout;
        ar.blocked = result.error == TransportError::blocked;
        const Outcome outcome = classify(ar);

        Attempt a;
        a.subscription_id = sub_.id;
        a.offset = e.offset;
        a.event_id = e.id;
        a.attempt = attempt;
        a.at_ms = now;
        a.status = result.status;
        a.duration_us = result.duration.count();
        a.replay = replay;
        if (result.error != TransportError::none)
            a.error = std::string(to_string(result.error)) + ": " + result.message;
        else if (outcome != Outcome::success)
            a.error = "receiver answered " + std::to_string(result.status);
        if (traced) {
            auto span = trace::make_span(outgoing, event_ctx->span_id, "webhook.deliver", trace::SpanKind::client,
                                         started_ns);
            span.end_unix_ns = trace::unix_nanos();
            span.attr("http.request.method", "POST")
                .attr("url.full", url_without_query(sub_.spec.url))
                .attr("messaging.destination.name", std::string_view(sub_.spec.topic))
                .attr("herald.webhook.subscription", std::string_view(sub_.id))
                .attr("herald.webhook.attempt", attempt)
                .attr("herald.offset", e.offset)
                .attr("herald.replay", replay);
            if (result.status > 0) span.attr("http.response.status_code", result.status);
            if (result.error != TransportError::none) span.attr("error.type", to_string(result.error));
            if (outcome != Outcome::success) {
                span.status = trace::StatusCode::error;
                span.status_message = a.error;
            }
            env_.tracer->end(std::move(span));
        }
        if (env_.logger && env_.logger->enabled(log::Level::debug))
            env_.logger->debug("webhook", "delivery attempt",
                               {{"subscription", sub_.id},
                                {"offset", e.offset},
                                {"attempt", attempt},
                                {"status", result.status},
                                {"duration_us", static_cast<std::int64_t>(result.duration.count())},
                                {"error", a.error}});

        switch (outcome) {
            case Outcome::success:
                a.outcome = AttemptOutcome::delivered;
                record(std::move(a));
                sub_.status.failing_since_ms.reset();
                sub_.status.delivered++;
                env_.stats.attempts_delivered.fetch_add(1, std::memory_order_relaxed);
                env_.stats.observe_latency(now - e.appended_ms);
                if (replay) {
                    if (auto r = env_.store.remove_dead_letter(sub_.id, dead_letter_id); !r)
                        log::emit(env_.logger, log::Level::error, "webhook", "cannot remove a replayed dead letter",
                                  {{"subscription", sub_.id}, {"error", r.error().message}});
                }
                co_return Finish::delivered;
            case Outcome::gone:
                a.outcome = AttemptOutcome::gone;
                record(std::move(a));
                env_.stats.attempts_gone.fetch_add(1, std::memory_order_relaxed);
                disable("the receiver answered 410 Gone");
                co_return Finish::interrupted;
            case Outcome::dead_letter: {
                a.outcome = result.error == TransportError::blocked ? AttemptOutcome::blocked
                                                                    : AttemptOutcome::dead_letter;
                auto err = a.error;
                record(std::move(a));
                (result.error == TransportError::blocked ? env_.stats.attempts_blocked
                                                         : env_.stats.attempts_dead_letter)
                    .fetch_add(1, std::memory_order_relaxed);
                if (replay) {
                    (void)env_.store.update_dead_letter(sub_.id, dead_letter_id, attempt, result.status, err);
                    co_return Finish::interrupted;
                }
                if (auto r = dead_letter(e, attempt, result.status, err); !r) {
                    sub_.status.last_error = r.error().message;
                    co_return Finish::interrupted;  // not recorded: the event stays at the cursor
                }
                co_return Finish::dead_lettered;
            }
            case Outcome::retry: {
                a.outcome = AttemptOutcome::retry;
                auto err = a.error;
                record(std::move(a));
                env_.stats.attempts_retry.fetch_add(1, std::memory_order_relaxed);
                if (replay) {
                    (void)env_.store.update_dead_letter(sub_.id, dead_letter_id, attempt, result.status, err);
                    co_return Finish::interrupted;
                }
                if (!sub_.status.failing_since_ms) sub_.status.failing_since_ms = now;
                if (now - *sub_.status.failing_since_ms >= policy().disable_after.count()) {
                    disable("failing for longer than " + std::to_string(policy().disable_after.count() / 1000) +
                            " s; last error: " + err);
                    co_return Finish::interrupted;
                }
                std::optional<std::chrono::milliseconds> hint;
                if (result.retry_after) {
                    if (auto ra = parse_retry_after(*result.retry_after, std::chrono::system_clock::now()))
                        hint = *ra;
                }
                auto delay = next_delay(policy(), attempt, hint, env_.rng);
                if (!delay) {
                    if (auto r = dead_letter(e, attempt, result.status, "retries exhausted; last error: " + err); !r) {
                        sub_.status.last_error = r.error().message;
                        co_return Finish::interrupted;
                    }
                    env_.stats.attempts_dead_letter.fetch_add(1, std::memory_order_relaxed);
                    co_return Finish::dead_lettered;
                }
                co_await sleep(*delay);
                continue;
            }
        }
    }
}

void Dispatcher::commit_position() {
    std::uint64_t pos = read_pos_;
    if (!in_flight_.empty()) pos = std::min(pos, *in_flight_.begin());
    if (pos != sub_.status.next_offset) {
        sub_.status.next_offset = pos;
        dirty_ = true;
    }
}

asio::awaitable<void> Dispatcher::deliver_concurrent(Event e) {
    auto f = co_await deliver(e, false, 0, 0);
    if (f != Finish::interrupted) in_flight_.erase(e.offset);
    // An interrupted offset stays in `in_flight_`, holding the cursor at it until the loop rewinds.
    commit_position();
    wake();
}

asio::awaitable<void> Dispatcher::run() {
    auto self = shared_from_this();
    while (!stopped_) {
        if (sub_.status.state != SubscriptionState::active) {
            co_await wait_wake(std::chrono::minutes(10));
            continue;
        }
        if (!reader_) {
            auto r = env_.engine.topic(sub_.spec.topic, true);
            if (!r) {
                sub_.status.last_error = "topic unavailable: " + r.error().message;
                co_await wait_wake(env_.defaults.poll);
                continue;
            }
            reader_ = *r;
        }
        if (sub_.status.epoch == 0) {
            sub_.status.epoch = reader_->epoch();
            dirty_ = true;
        } else if (sub_.status.epoch != reader_->epoch()) {
            // The topic was deleted and recreated (or the data directory replaced): the old cursor means nothing
            // here. Start at the new beginning and leave a note in the DLQ saying so.
            Event note{sub_.status.next_offset, now_ms(), "herald.reset", "herald.reset",
                       "{\"reason\":\"topic epoch changed; cursor reset to the start of the new log\"}"};
            (void)dead_letter(note, 0, 0, "cursor reset: topic epoch changed");
            sub_.status.epoch = reader_->epoch();
            read_pos_ = reader_->start_offset();
            in_flight_.clear();
            commit_position();
        }
        if (read_pos_ < reader_->start_offset() && in_flight_.empty()) {
            Event note{read_pos_, now_ms(), "herald.gap", "herald.gap",
                       "{\"reason\":\"events removed by retention before delivery\",\"from\":" +
                           std::to_string(read_pos_) + ",\"to\":" + std::to_string(reader_->start_offset()) + "}"};
            (void)dead_letter(note, 0, 0, "events " + std::to_string(read_pos_) + ".." +
                                              std::to_string(reader_->start_offset() - 1) +
                                              " were removed by retention before delivery");
            read_pos_ = reader_->start_offset();
            commit_position();
        }
        auto events = reader_->read(read_pos_, env_.defaults.read_batch, 4u << 20);
        if (!events) {
            if (events.error().code == Errc::gone) {
                read_pos_ = std::min(read_pos_, reader_->start_offset());  // handled above next round
                if (read_pos_ < reader_->start_offset()) continue;
            }
            sub_.status.last_error = "cannot read the topic: " + events.error().message;
            co_await wait_wake(env_.defaults.poll);
            continue;
        }
        if (events->empty()) {
            co_await wait_wake(env_.defaults.poll);
            continue;
        }
        for (auto& stored : *events) {
            if (!running()) break;
            auto rec = core::decode_event_record(stored.payload);
            Event e;
            e.offset = stored.offset;
            e.appended_ms = stored.timestamp_ms;
            if (rec) {
                e.id = std::string(rec->id);
                e.type = std::string(rec->type);
                e.json = std::string(rec->json);
            }
            if (!rec || !accepts_type(e.type)) {
                read_pos_ = stored.offset + 1;
                commit_position();
                continue;
            }
            if (sub_.spec.mode == DeliveryMode::ordered) {
                auto f = co_await deliver(e, false, 0, 0);
                if (f == Finish::interrupted) break;  // the cursor stays at this event
                read_pos_ = e.offset + 1;
                commit_position();
            } else {
                while (running() && in_flight_.size() >= std::max(1u, sub_.spec.max_in_flight))
                    co_await wait_wake(env_.defaults.poll);
                if (!running()) break;
                in_flight_.insert(e.offset);
                read_pos_ = e.offset + 1;
                asio::co_spawn(env_.io, [self, e = std::move(e)]() mutable { return self->deliver_concurrent(std::move(e)); },
                               asio::detached);
            }
        }
        if (!running() && sub_.spec.mode == DeliveryMode::concurrent) {
            // Let deliveries in flight finish (each ends at its next check), then rewind to the oldest
            // unfinished event so that resuming re-reads it.
            co_await wait_wake(std::chrono::milliseconds(200));
            if (!in_flight_.empty()) read_pos_ = *in_flight_.begin();
            in_flight_.clear();
            commit_position();
        } else if (sub_.spec.mode == DeliveryMode::ordered && !running()) {
            read_pos_ = sub_.status.next_offset;
        }
    }
}

asio::awaitable<void> Dispatcher::run_replays() {
    auto self = shared_from_this();
    while (!stopped_) {
        if (replay_queue_.empty() || sub_.status.state == SubscriptionState::disabled) {
            replay_wake_.expires_after(std::chrono::minutes(10));
            co_await replay_wake_.async_wait(use_tuple);
            continue;
        }
        auto d = std::move(replay_queue_.front());
        replay_queue_.pop_front();
        if (d.event_id == "herald.reset" || d.event_id == "herald.gap") {
            // Notes, not events: nothing to deliver; replaying acknowledges them.
            (void)env_.store.remove_dead_letter(sub_.id, d.id);
            continue;
        }
        auto rec = core::decode_structured(d.event_json);
        Event e{d.offset, now_ms(), d.event_id, rec ? rec->type : std::string(), d.event_json};
        co_await deliver(e, true, d.attempts, d.id);
    }
}

}  // namespace herald::webhook
