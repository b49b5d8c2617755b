#pragma once
// CORS for browser apps served from other origins (DESIGN.md §6): which origins may call the data plane
// (fetch, EventSource) and open WebSockets. The default allows no other origin — same-origin only.

#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace herald::http {

struct CorsPolicy {
    std::vector<std::string> allowed_origins;  // exact origins ("https://app.example.com") or "*"
    bool allow_credentials = false;            // never combined with "*": the origin is echoed instead
    std::vector<std::string> allowed_headers{"Content-Type", "Last-Event-ID", "Idempotency-Key", "Authorization",
                                             "X-API-Key", "traceparent", "tracestate"};
    std::vector<std::string> exposed_headers{"Idempotent-Replayed", "Retry-After", "Location"};
    std::int64_t max_age_seconds = 600;

    bool allows(std::string_view origin) const noexcept;
    // "Name: value\r\n" lines to add to a response for a request from `origin` (empty when not allowed or when
    // the request has no Origin).
    std::string response_headers(std::string_view origin) const;
    void apply(const Request& request, Response& response) const;
    // True for a CORS preflight (OPTIONS with Access-Control-Request-Method).
    static bool is_preflight(const Request& request) noexcept;
    // The answer to a preflight: 204 with the allowed methods and headers, or 403 problem+json.
    Response preflight(const Request& request, std::string_view allowed_methods) const;
};

// True when the request's Origin names the same host and port as its Host header (scheme ignored: the
// listener knows its own), or when there is no Origin at all (not a browser).
bool same_origin(const Request& request) noexcept;

}  // namespace herald::http
