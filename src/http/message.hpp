#pragma once
// Herald's own view of an HTTP exchange, free of Beast so that handlers and most of the code base compile fast
// (PLATFORM.md: one Beast translation unit costs ~18 s). The listener converts to and from the wire.

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/context.hpp"

namespace herald::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool iequals(std::string_view a, std::string_view b) noexcept;

struct Request {
    std::string method;
    std::string target;  // as received: path and query
    std::string path;    // percent-decoded path
    std::string query;   // raw query string, without '?'
    HeaderList headers;
    std::string body;
    std::string remote_address;
    unsigned version = 11;
    bool keep_alive = true;
    // Holds this connection's slot in the listener's connection count. A takeover keeps it for as long as it
    // keeps the socket, so streams count against the connection limit.
    std::shared_ptr<void> connection_slot;

    // Observability, filled before the handler runs (the listener's ExchangeObserver) and by the handler.
    // `trace` is this request's server span: a child of the caller's traceparent, or the root of a new trace; its
    // span id doubles as the request id in the access log. `trace_parent` is the caller's span (zero when no
    // valid traceparent came in) and `tracestate` the caller's normalised tracestate, forwarded as is.
    trace::SpanContext trace;
    trace::SpanId trace_parent{};
    std::string tracestate;
    std::int64_t received_unix_ns = 0;  // when the request head had arrived
    // Set by the handler for the access log and the span: who (a name, never a credential) and which endpoint
    // (a template in static storage, e.g. "/v1/topics/{topic}/events"; empty when no route matched).
    std::string principal;
    std::string_view route;

    // First header with this name (case-insensitive), or empty.
    std::string_view header(std::string_view name) const noexcept;
    bool has_header(std::string_view name) const noexcept;
    // A query parameter, percent-decoded ('+' as space); nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const;
};

class ByteStream;  // http/byte_stream.hpp: plain TCP or TLS; only code that makes a takeover includes it

// What a handler does with the connection once the headers are written. Used by streams (SSE) and upgrades
// (WebSocket): the handler takes the stream over and the listener forgets it.
using Takeover = std::function<void(ByteStream stream, Request request)>;

struct Response {
    unsigned status = 200;
    HeaderList headers;
    std::string body;
    Takeover takeover;  // when set, status/headers/body are ignored: the takeover writes everything

    Response& set(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

Response json_response(unsigned status, std::string body);

// Splits "a/b/c" path segments; used by the router.
std::vector<std::string_view> split_path(std::string_view path);
std::string percent_decode(std::string_view s, bool plus_as_space);

}  // namespace herald::http
