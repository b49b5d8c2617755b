#include "trace/otlp_exporter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "webhook/http_client.hpp"

namespace herald::trace {

namespace asio = boost::asio;

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::create(OtlpOptions options) {
    auto parsed = webhook::parse_url(options.endpoint);
    if (!parsed) {
        auto e = std::move(parsed).error();
        e.attribute = "otlp_endpoint";
        e.message = "otlp_endpoint: " + e.message;
        return e;
    }
    std::string url = parsed->to_string();
    // The OTLP/HTTP convention: a base URL gets the signal's path; a URL that already names it is kept.
    constexpr std::string_view kPath = "/v1/traces";
    std::string_view target = parsed->target;
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (!(target.size() >= kPath.size() && target.substr(target.size() - kPath.size()) == kPath)) {
        if (parsed->target.find('?') != std::string::npos)
            return make_error(Errc::invalid_argument, "otlp_endpoint: a base URL cannot have a query",
                              "otlp_endpoint");
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += kPath;
    }
    if (options.batch_size == 0) options.batch_size = 1;
    if (options.queue_size < options.batch_size) options.queue_size = options.batch_size;
    return std::make_unique<OtlpExporter>(Token{}, std::move(options), std::move(url));
}

OtlpExporter::OtlpExporter(Token, OtlpOptions options, std::string url)
    : options_(std::move(options)), url_(std::move(url)) {
    webhook::ClientOptions co;
    co.ssrf_protection = false;  // the operator's own collector, usually on loopback
    co.request_timeout = options_.timeout;
    co.connect_timeout = std::min(co.connect_timeout, options_.timeout);
    co.user_agent = "Herald-OTLP/1";
    co.max_idle_per_origin = 1;  // one export in flight at a time
    client_ = std::make_unique<webhook::Client>(io_, std::move(co));
    queue_.ends.reserve(options_.batch_size);
}

OtlpExporter::~OtlpExporter() { stop(); }

void OtlpExporter::start() {
    if (thread_.joinable()) return;
    asio::co_spawn(io_, [this]() -> asio::awaitable<void> { co_await run(); }, asio::detached);
    thread_ = std::thread([this] { io_.run(); });
}

void OtlpExporter::stop(std::chrono::milliseconds deadline) {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    asio::post(io_, [this] { wake_.cancel(); });
    if (finished_.get_future().wait_for(deadline) != std::future_status::ready) {
        // The collector is slow or gone: abort the request in flight; what is left is dropped.
        asio::post(io_, [this] { client_->shutdown(); });
    }
    guard_.reset();
    thread_.join();
    client_.reset();
}

void OtlpExporter::submit(Span span) noexcept {
    // The span is encoded here, on the thread that ended it, and only its bytes are queued. Queuing the Span
    // itself meant the export thread freed each span's strings and attribute vector: a dozen frees of memory
    // another thread allocated, which in glibc's allocator take that arena's lock once its per-thread cache
    // is full. Now the span dies where it was made, and the queue is one buffer.
    thread_local std::string scratch;
    try {
        scratch.clear();
        if (options_.protocol == OtlpProtocol::json) append_otlp_json_span(scratch, span);
        else append_otlp_protobuf_span(scratch, span);
    } catch (...) {
        stats_.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= options_.queue_size || stopping_.load(std::memory_order_relaxed)) {
            stats_.dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        try {
            queue_.bytes += scratch;
            queue_.ends.push_back(queue_.bytes.size());
        } catch (...) {
            queue_.bytes.resize(queue_.ends.empty() ? 0 : queue_.ends.back());
            stats_.dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (queue_.size() >= options_.batch_size && !wake_posted_) wake = wake_posted_ = true;
    }
    // A full batch is waiting: send it now rather than at the next interval.
    if (wake) asio::post(io_, [this] { wake_.cancel(); });
}

std::size_t OtlpExporter::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

OtlpExporter::Encoded OtlpExporter::take(std::size_t max) {
    std::lock_guard lock(mutex_);
    wake_posted_ = false;
    Encoded batch;
    if (queue_.size() <= max) {
        const auto capacity = queue_.bytes.capacity();
        batch = std::move(queue_);
        queue_ = Encoded{};
        queue_.bytes.reserve(capacity);
        queue_.ends.reserve(options_.batch_size);
        return batch;
    }
    const std::size_t cut = queue_.ends[max - 1];
    batch.bytes.assign(queue_.bytes, 0, cut);
    batch.ends.assign(queue_.ends.begin(), queue_.ends.begin() + max);
    queue_.bytes.erase(0, cut);
    queue_.ends.erase(queue_.ends.begin(), queue_.ends.begin() + max);
    for (auto& e : queue_.ends) e -= cut;
    return batch;
}

asio::awaitable<void> OtlpExporter::run() {
    for (;;) {
        if (!stopping_.load()) {
            wake_.expires_after(options_.flush_interval);
            co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        // Send full batches back to back; a partial one only when the interval is up (or at the end).
        for (;;) {
            auto batch = take(options_.batch_size);
            if (batch.empty()) break;
            const bool full = batch.size() == options_.batch_size;
            co_await send(std::move(batch));
            if (!full) break;
        }
        if (stopping_.load()) {
            // Drain: whatever arrived while the last batch was in flight.
            for (auto batch = take(options_.batch_size); !batch.empty(); batch = take(options_.batch_size))
                co_await send(std::move(batch));
            break;
        }
    }
    // Close the pooled connection and its idle sweeper, so the io_context runs out of work and the thread ends.
    client_->shutdown();
    finished_.set_value();
}

asio::awaitable<void> OtlpExporter::send(Encoded batch) {
    const auto n = batch.size();
    const bool json = options_.protocol == OtlpProtocol::json;
    std::string body;
    if (json) {
        std::string joined;
        joined.reserve(batch.bytes.size() + n);
        std::size_t begin = 0;
        for (auto end : batch.ends) {
            if (begin) joined.push_back(',');
            joined.append(batch.bytes, begin, end - begin);
            begin = end;
        }
        body = otlp_json_request(options_.resource, joined);
    } else {
        body = otlp_protobuf_request(options_.resource, batch.bytes);
    }
    batch = Encoded{};
    webhook::Headers headers{{"Content-Type", json ? "application/json" : "application/x-protobuf"}};
    std::string url = url_;
    stats_.batches.fetch_add(1, std::memory_order_relaxed);
    auto result = co_await client_->post(std::move(url), std::move(headers), std::move(body));
    std::string problem;
    if (!result) problem = result.error().message;
    else if (result->status < 200 || result->status > 299)
        problem = "the collector answered " + std::to_string(result->status);
    if (problem.empty()) {
        stats_.exported.fetch_add(n, std::memory_order_relaxed);
        if (failing_ && options_.on_state_change) options_.on_state_change(true, "exporting to " + url_ + " again");
        failing_ = false;
    } else {
        stats_.failed.fetch_add(n, std::memory_order_relaxed);
        stats_.failed_batches.fetch_add(1, std::memory_order_relaxed);
        if (!failing_ && options_.on_state_change) options_.on_state_change(false, url_ + ": " + problem);
        failing_ = true;
    }
}

}  // namespace herald::trace
