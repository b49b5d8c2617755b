#include "server/observability.hpp"

#include "trace/span.hpp"

namespace herald::server {

RequestObserver::RequestObserver(log::Logger& logger, const trace::Tracer& tracer, std::string_view plane,
                                 RequestMetrics* metrics)
    : logger_(logger), tracer_(tracer), plane_(plane), metrics_(metrics) {}

void RequestObserver::on_request(http::Request& request) noexcept {
    request.received_unix_ns = trace::unix_nanos();
    trace::SpanContext parent;
    bool has_parent = false;
    if (auto tp = request.header("traceparent"); !tp.empty()) {
        if (auto parsed = trace::parse_traceparent(tp)) {
            parent = *parsed;
            has_parent = true;
        }
    }
    request.trace = tracer_.start(has_parent ? &parent : nullptr);
    if (!has_parent) return;
    request.trace_parent = parent.span_id;
    try {
        // Several tracestate fields are one list joined with commas (RFC 9110 §5.3).
        std::string combined;
        for (auto& [name, value] : request.headers) {
            if (!http::iequals(name, "tracestate")) continue;
            if (!combined.empty()) combined.push_back(',');
            combined += value;
        }
        if (!combined.empty()) request.tracestate = trace::normalize_tracestate(combined);
    } catch (...) {
        // Out of memory: the request goes on without the caller's tracestate.
    }
}

void RequestObserver::on_complete(const http::Request& request, const http::Exchange& exchange) noexcept {
    if (metrics_) metrics_->record(request.route, exchange.status, exchange.duration);
    const auto duration_us = std::chrono::duration_cast<std::chrono::microseconds>(exchange.duration).count();
    char trace_id[32], request_id[16];
    const bool traced = request.trace.valid();
    if (traced) {
        trace::to_hex(request.trace.trace_id.data(), request.trace.trace_id.size(), trace_id);
        trace::to_hex(request.trace.span_id.data(), request.trace.span_id.size(), request_id);
    }
    if (logger_.access_enabled()) {
        log::AccessRecord r;
        r.time_unix_us = log::unix_micros() - duration_us;
        r.request_id = traced ? std::string_view(request_id, sizeof request_id) : std::string_view();
        r.plane = plane_;
        r.method = request.method;
        r.target = request.target;
        r.remote = request.remote_address;
        r.principal = request.principal;
        r.route = request.route;
        r.status = exchange.status;
        r.bytes_in = exchange.bytes_in;
        r.bytes_out = exchange.bytes_out;
        r.duration_us = duration_us;
        r.trace_id = traced ? std::string_view(trace_id, sizeof trace_id) : std::string_view();
        r.takeover = exchange.takeover;
        logger_.access(r);
    }
    if (!traced || !tracer_.records(request.trace)) return;
    try {
        // HTTP server span per the OpenTelemetry conventions: named "{method} {route}", or "{method}" alone when
        // no route matched (the raw path would make every URL a span name of its own).
        std::string name = request.method;
        if (!request.route.empty()) {
            name.push_back(' ');
            name.append(request.route);
        }
        auto span = trace::make_span(request.trace, request.trace_parent, std::move(name), trace::SpanKind::server,
                                     request.received_unix_ns);
        span.end_unix_ns = trace::unix_nanos();
        span.tracestate = request.tracestate;
        std::string_view target = request.target;
        span.attr("http.request.method", std::string_view(request.method))
            .attr("url.path", target.substr(0, target.find('?')))
            .attr("http.response.status_code", exchange.status)
            .attr("client.address", std::string_view(request.remote_address))
            .attr("herald.plane", plane_);
        if (!request.route.empty()) span.attr("http.route", request.route);
        if (exchange.takeover) span.attr("herald.takeover", true);
        // 5xx is an error of the server; 4xx is the client's and leaves the server span's status unset.
        if (exchange.status >= 500) span.status = trace::StatusCode::error;
        tracer_.end(std::move(span));
    } catch (...) {
    }
}

std::string principal_label(const security::Principal& p) {
    switch (p.kind) {
        case security::PrincipalKind::api_key: return "api_key:" + p.subject;
        case security::PrincipalKind::jwt: return "jwt:" + p.subject;
        case security::PrincipalKind::anonymous: return "anonymous";
    }
    return "anonymous";
}

}  // namespace herald::server
