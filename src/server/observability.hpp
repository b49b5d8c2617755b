#pragma once
// Where tracing and access logging meet the HTTP listeners: one RequestObserver per plane (data, admin),
// installed as the listener's ExchangeObserver.
//
// Per request it (1) reads the caller's `traceparent`/`tracestate` (an invalid traceparent is ignored, and its
// tracestate with it, as the W3C spec says) and gives the request its server span context — a child of the
// caller's span or the root of a new trace; (2) when the response is written (or a stream takes the connection
// over) it writes the access line and, when the trace is sampled and tracing is on, exports the server span.
// With tracing off and access logging off the cost is one header scan and two random ids per request.
//
// Responses do not carry a traceparent back: W3C Trace Context defines none (traceresponse is a draft), and a
// caller that wants to correlate sends its own traceparent — the access line's trace_id is that trace-id.
//
// It also counts the exchange in the listener's RequestMetrics (by route and status class, and its duration):
// lock-free and allocation-free, see request_metrics.hpp. A stream or upgrade counts once, at takeover.
//
// Threading: immutable after construction; on_request/on_complete run on the connection's worker.

#include <string>
#include <string_view>

#include "http/listener.hpp"
#include "log/logger.hpp"
#include "security/principal.hpp"
#include "server/request_metrics.hpp"
#include "trace/tracer.hpp"

namespace herald::server {

class RequestObserver final : public http::ExchangeObserver {
public:
    // `plane` names the listener in access lines and span attributes ("data", "admin"); a literal. `metrics`:
    // where exchanges are counted (outlives the observer); null: not counted.
    RequestObserver(log::Logger& logger, const trace::Tracer& tracer, std::string_view plane,
                    RequestMetrics* metrics = nullptr);
    void on_request(http::Request& request) noexcept override;
    void on_complete(const http::Request& request, const http::Exchange& exchange) noexcept override;

private:
    log::Logger& logger_;
    const trace::Tracer& tracer_;
    std::string_view plane_;
    RequestMetrics* metrics_;
};

// The access log's name for a principal: "api_key:<name>", "jwt:<subject>" or "anonymous". Never a credential.
std::string principal_label(const security::Principal& principal);

}  // namespace herald::server
