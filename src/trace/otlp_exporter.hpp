#pragma once
// Exports spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding (POST {endpoint}/v1/traces,
// Content-Type: application/json), batched and bounded like the OpenTelemetry SDKs' batch span processor:
//
//   - submit() (any thread) appends to a queue of at most queue_size spans; when it is full the span is dropped
//     and counted, never waited for: a slow or absent collector must not slow requests down;
//   - the export thread sends a batch of up to batch_size spans every flush_interval, or as soon as a full
//     batch is waiting; one request in flight at a time;
//   - a batch the collector refuses (non-2xx) or that cannot be sent is dropped and counted, not retried:
//     traces are diagnostics, and a retry queue would only hold memory while the collector is down.
//
// The HTTP client is the webhook client (keep-alive pool, TLS verification, timeouts) with the SSRF guard off:
// the collector's address is the operator's own configuration, typically on loopback or a private network.
//
// Threading: the exporter owns one thread running its own io_context; the queue is shared under a mutex held
// only to push or to take a batch. stats() may be read from any thread. Lifetime: stop() (or the destructor)
// sends what is queued within a deadline and joins the thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "trace/otlp.hpp"
#include "trace/tracer.hpp"

namespace herald::webhook {
class Client;
}

namespace herald::trace {

struct OtlpOptions {
    // The collector's base URL, e.g. http://127.0.0.1:4318; "/v1/traces" is appended unless the path already
    // ends with it.
    std::string endpoint;
    Resource resource;
    OtlpProtocol protocol = OtlpProtocol::protobuf;
    std::size_t batch_size = 512;
    std::size_t queue_size = 2048;
    std::chrono::milliseconds flush_interval{5'000};
    std::chrono::milliseconds timeout{10'000};  // one export request
    // Told (on the export thread) when exporting starts failing and when it works again, not on every batch,
    // so a collector outage makes two log lines rather than one per batch.
    std::function<void(bool ok, const std::string& detail)> on_state_change;
};

struct OtlpStats {
    std::atomic<std::uint64_t> exported{0};       // spans the collector accepted
    std::atomic<std::uint64_t> dropped{0};        // spans refused because the queue was full
    std::atomic<std::uint64_t> failed{0};         // spans in batches that could not be delivered
    std::atomic<std::uint64_t> batches{0};        // export requests sent
    std::atomic<std::uint64_t> failed_batches{0};
};

class OtlpExporter final : public SpanExporter {
public:
    // Checks the endpoint (an http or https URL); Errc::invalid_argument naming "otlp_endpoint".
    static Result<std::unique_ptr<OtlpExporter>> create(OtlpOptions options);
    ~OtlpExporter() override;

    void start();
    // Sends what is queued, for at most `deadline`, then stops the thread. Idempotent.
    void stop(std::chrono::milliseconds deadline = std::chrono::milliseconds(2'000));

    void submit(Span span) noexcept override;

    const OtlpStats& stats() const noexcept { return stats_; }
    std::size_t queued() const;
    const std::string& url() const noexcept { return url_; }

    struct Token {};  // construction goes through create()
    OtlpExporter(Token, OtlpOptions options, std::string url);

private:
    // Spans already encoded (see submit): their bytes back to back, and where each one ends.
    struct Encoded {
        std::string bytes;
        std::vector<std::size_t> ends;
        std::size_t size() const noexcept { return ends.size(); }
        bool empty() const noexcept { return ends.empty(); }
    };

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> send(Encoded batch);
    Encoded take(std::size_t max);

    OtlpOptions options_;
    std::string url_;
    boost::asio::io_context io_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{io_.get_executor()};
    boost::asio::steady_timer wake_{io_};
    std::unique_ptr<webhook::Client> client_;
    std::thread thread_;
    std::promise<void> finished_;

    mutable std::mutex mutex_;
    Encoded queue_;
    bool wake_posted_ = false;
    std::atomic<bool> stopping_{false};
    bool failing_ = false;  // export thread only
    OtlpStats stats_;
};

}  // namespace herald::trace
