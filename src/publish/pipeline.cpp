#include "publish/pipeline.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/small_vector.hpp>

#include <charconv>

#include "base/json_text.hpp"
#include "core/codec.hpp"
#include "core/event_record.hpp"
#include "engine/topic_name.hpp"
#include "publish/outbox.hpp"
#include "trace/span.hpp"

namespace herald::publish {

namespace asio = boost::asio;

namespace {

// Bridges the engine's callback (engine thread) into the calling coroutine (its worker). Requests go through
// the worker's Outbox: one hand-over to the engine per turn of the worker's loop.
template <class Token>
auto async_publish(engine::Engine& e, engine::PublishRequest req, Token&& token) {
    using Shared = std::shared_ptr<Result<engine::PublishResult>>;
    return asio::async_initiate<Token, void(Shared)>(
        [&e](auto handler, engine::PublishRequest req) {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            auto worker = asio::get_associated_executor(*h);
            auto& outbox = asio::use_service<Outbox>(asio::query(worker, asio::execution::context));
            outbox.submit(e, std::move(req), [h](Result<engine::PublishResult> r) {
                auto ex = asio::get_associated_executor(*h);
                auto res = std::make_shared<Result<engine::PublishResult>>(std::move(r));
                asio::post(ex, [h, res]() mutable { std::move (*h)(res); });
            }, worker);
        },
        token, std::move(req));
}

}  // namespace

asio::awaitable<Result<engine::PublishResult>> Pipeline::publish(std::string topic,
                                                                std::vector<core::CloudEvent> events,
                                                                std::string idempotency_key,
                                                                const PublishTrace* context,
                                                                std::chrono::steady_clock::time_point received) {
    if (received == std::chrono::steady_clock::time_point{}) received = std::chrono::steady_clock::now();
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    auto reject = [&](Error e) -> Result<engine::PublishResult> {
        stats_.rejected.fetch_add(1, std::memory_order_relaxed);
        return e;
    };
    if (!engine::is_valid_topic_name(topic))
        co_return reject(make_error(Errc::invalid_argument, "topic names must match [a-z0-9][a-z0-9._-]{0,199}",
                                    "topic"));
    if (events.empty()) co_return reject(make_error(Errc::invalid_argument, "there are no events to publish"));
    if (idempotency_key.size() > 256)
        co_return reject(make_error(Errc::invalid_argument, "Idempotency-Key is limited to 256 characters",
                                    "Idempotency-Key"));
    if (contracts_) {
        auto contract_reject = [&](Error e) -> Result<engine::PublishResult> {
            stats_.contract_rejected.fetch_add(1, std::memory_order_relaxed);
            // Per topic only for a topic that exists: a refused publish must not create a series (or a topic).
            if (engine_.topic(topic, /*create=*/false))
                stats_.topics.for_topic(topic).validation_failures.fetch_add(1, std::memory_order_relaxed);
            return reject(std::move(e));
        };
        if (auto r = contracts_->check_topic(topic); !r) co_return contract_reject(std::move(r).error());
        auto snapshot = contracts_->registry().snapshot();
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (auto r = contracts_->check(topic, events[i], *snapshot); !r) {
                auto e = std::move(r).error();
                // In a batch, say which event: "[3].data".
                if (events.size() > 1) e.attribute = "[" + std::to_string(i) + "]." + e.attribute;
                co_return contract_reject(std::move(e));
            }
        }
    }
    if (auto topic_ok = engine_.topic(topic, true); !topic_ok) co_return reject(std::move(topic_ok).error());
    TopicCounters& per_topic = stats_.topics.for_topic(topic);

    // The producer span's context is what the events carry: a consumer's span then continues from the publish.
    const trace::Tracer default_tracer;  // without an exporter: ids only, never sampled
    const trace::Tracer& tracer = tracer_ ? *tracer_ : default_tracer;
    const trace::SpanContext producer = tracer.start(context ? &context->parent : nullptr);
    const std::string_view tracestate = context ? context->tracestate : std::string_view();
    {
        char traceparent[trace::kTraceparentSize];
        trace::format_traceparent(producer, traceparent);
        const std::string_view tp(traceparent, sizeof traceparent);
        for (auto& e : events) {
            if (e.extensions.count("traceparent")) continue;
            e.extensions.emplace("traceparent", std::string(tp));
            if (!tracestate.empty()) e.extensions.insert_or_assign("tracestate", std::string(tracestate));
        }
    }
    const bool record = tracer.records(producer);
    const std::int64_t started_ns = record ? trace::unix_nanos() : 0;
    const std::size_t n_events = events.size();
    std::string span_topic = record ? topic : std::string();

    engine::PublishRequest pr;
    pr.topic = std::move(topic);
    pr.idempotency_key = std::move(idempotency_key);
    pr.items.reserve(events.size());
    // Each event's record size, for the bytes appended: only the fresh ones count, known after the append.
    boost::container::small_vector<std::uint64_t, 8> record_bytes;
    for (auto& e : events) {
        auto json = core::encode_structured(e);
        record_bytes.push_back(core::event_record_size(e.id, e.type, pr.idempotency_key, json));
        pr.items.push_back(
            engine::PublishItem{std::move(e.id), std::move(e.source), std::move(e.type), std::move(json)});
    }
    auto shared = co_await async_publish(engine_, std::move(pr), asio::use_awaitable);
    auto result = std::move(*shared);
    if (record) {
        // OpenTelemetry messaging conventions: "{operation} {destination}", kind PRODUCER.
        auto span = trace::make_span(producer, context ? context->parent.span_id : trace::SpanId{},
                                     "send " + span_topic, trace::SpanKind::producer, started_ns);
        span.end_unix_ns = trace::unix_nanos();
        span.tracestate = std::string(tracestate);
        span.attr("messaging.system", "herald")
            .attr("messaging.operation.type", "send")
            .attr("messaging.destination.name", std::string_view(span_topic))
            .attr("messaging.batch.message_count", static_cast<std::uint64_t>(n_events));
        if (result) {
            span.attr("herald.offset", result->outcomes.empty() ? std::uint64_t{0} : result->outcomes.front().offset);
        } else {
            span.status = trace::StatusCode::error;
            span.status_message = result.error().message;
        }
        tracer.end(std::move(span));
    }
    if (!result) co_return reject(std::move(result).error());
    if (!result->replayed) {
        std::uint64_t fresh = 0, dups = 0, bytes = 0;
        for (std::size_t i = 0; i < result->outcomes.size(); ++i) {
            if (result->outcomes[i].duplicate) {
                ++dups;
            } else {
                ++fresh;
                if (i < record_bytes.size()) bytes += record_bytes[i];
            }
        }
        stats_.events.fetch_add(fresh, std::memory_order_relaxed);
        stats_.duplicates.fetch_add(dups, std::memory_order_relaxed);
        per_topic.events.fetch_add(fresh, std::memory_order_relaxed);
        per_topic.duplicates.fetch_add(dups, std::memory_order_relaxed);
        per_topic.bytes.fetch_add(bytes, std::memory_order_relaxed);
    }
    // What the producer waited for: every acknowledged request, a replayed Idempotency-Key included.
    per_topic.publish_duration.observe(std::chrono::steady_clock::now() - received);
    co_return result;
}

void Pipeline::append_outcome_json(std::string& out, const engine::PublishOutcome& o, std::uint64_t epoch) {
    // Written straight into the answer: a batch of 100 made some 500 temporary strings before.
    out += "{\"offset\":";
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, o.offset);
    out.append(digits, end);
    out += ",\"id\":";
    append_json_string(out, o.id);
    out += ",\"cursor\":\"";
    engine::append_cursor(out, {epoch, o.offset + 1});
    out += '"';
    if (o.duplicate) out += ",\"duplicate\":true";
    out += '}';
}

std::string Pipeline::outcome_json(const engine::PublishOutcome& o, std::uint64_t epoch) {
    std::string s;
    append_outcome_json(s, o, epoch);
    return s;
}

std::string Pipeline::results_json(const engine::PublishResult& r) {
    std::string s;
    s.reserve(2 + r.outcomes.size() * 96);
    s += '[';
    for (std::size_t i = 0; i < r.outcomes.size(); ++i) {
        if (i) s += ',';
        append_outcome_json(s, r.outcomes[i], r.epoch);
    }
    s += ']';
    return s;
}

}  // namespace herald::publish
