#pragma once
// What the gateway does to a request's head on its way to the upstream, and to the answer's head on
// its way back: pure transformations of header lists and paths, no I/O (the forwarding I/O is built
// on top of these).
//
// On the way up (prepare_upstream_request applies them in this order):
//   1. hop-by-hop headers are removed (RFC 9110 §7.6.1): Connection and every header it names,
//      Keep-Alive, Proxy-* (Proxy-Connection, Proxy-Authorization...), TE, Trailer,
//      Transfer-Encoding, Upgrade — except that a WebSocket upgrade keeps `Upgrade: websocket` and
//      `Connection: Upgrade`. The I/O layer frames the body itself (Content-Length or chunked)
//      toward the upstream;
//   2. X-Forwarded-For gets the client address appended; X-Forwarded-Proto and X-Forwarded-Host are
//      set to what the client used; RFC 7239 Forwarded gets `for=...;host=...;proto=...` appended
//      (IPv6 quoted and bracketed: for="[2001:db8::1]"). Herald is assumed to be the edge: earlier
//      entries are the client's claims, passed on as such; upstreams should trust only the last
//      one;
//   3. X-Request-Id is kept when valid (1–128 characters of A-Z a-z 0-9 and -_.:+/=@~), otherwise
//      replaced by a new UUIDv7;
//   4. trace context (W3C, via the trace module): when the listener has given the request a server
//      span (http::Request::trace), traceparent becomes that span — so the upstream's span is its
//      child — and tracestate the caller's normalised one. Without one, a valid incoming
//      traceparent is kept (re-written in version 00 form) with its tracestate; an absent or
//      invalid one is replaced by a new root and tracestate dropped, as the spec requires;
//   5. the route's request_headers rules: remove, then set, then add (names case-insensitive);
//   6. the path is rewritten (strip_prefix, or the rewrite template with the captured parameters; a
//      prefix route's rewrite replaces the matched prefix and keeps the rest) and the query is kept
//      as received.
// Host is decided per attempt (host_for_attempt): a route rule setting Host wins, then
// preserve_host (the client's Host), else the target's authority.
//
// On the way back (prepare_downstream_response): hop-by-hop headers removed (the 101 of a WebSocket
// upgrade keeps Upgrade/Connection), the route's response_headers rules, and X-Request-Id set to
// the request's id.
//
// Pure functions; safe from any thread.

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "config/proxy_settings.hpp"
#include "http/message.hpp"
#include "proxy/route.hpp"
#include "trace/context.hpp"

namespace herald::proxy {

// The client side of the exchange, for the forwarding headers.
struct ClientInfo {
    std::string_view address;  // the peer's IP address, without port; IPv6 without brackets
    std::string_view proto;    // "http" or "https"
    std::string_view host;     // the Host header as the client sent it
    std::string_view by;       // this gateway's name for Forwarded `by=`; empty: left out
};

// Connection: upgrade and Upgrade: websocket (case-insensitive tokens).
bool is_websocket_upgrade(const http::HeaderList& headers) noexcept;
void remove_hop_by_hop(http::HeaderList& headers, bool keep_websocket_upgrade);

// A Forwarded `for=`/`by=` node: 192.0.2.7, "[2001:db8::1]" (quoted), or unknown.
std::string forwarded_node(std::string_view address);
// A Forwarded parameter value: a token as is, anything else as a quoted-string.
std::string forwarded_value(std::string_view value);
// for=...;host=...;proto=...(;by=...)
std::string forwarded_element(const ClientInfo& client);
void add_forwarding_headers(http::HeaderList& headers, const ClientInfo& client);

bool is_valid_request_id(std::string_view id) noexcept;
// Keeps one valid X-Request-Id or replaces them all with `generated` (a new UUIDv7 when empty);
// returns the id.
std::string ensure_request_id(http::HeaderList& headers, std::string_view generated = {});

// Sets traceparent (and tracestate) per rule 4 above; returns the context sent upstream.
// `server_span`: the request's span when the listener made one (null or invalid: none).
trace::SpanContext propagate_trace(http::HeaderList& headers, const trace::SpanContext* server_span,
                                   std::string_view server_tracestate);

void apply_header_rules(http::HeaderList& headers, const config::HeaderRuleSettings& rules);

// The path sent upstream for a matched `path` (normalised) and its captured parameters.
Result<std::string> rewrite_path(const Route& route, std::string_view path,
                                 const PathParams& params);

struct UpstreamRequest {
    std::string method;
    std::string target;         // rewritten path, then '?' and the query when there is one
    http::HeaderList headers;   // never holds Host: see host_for_attempt
    std::string host_override;  // a Host a route rule set; empty: none
    std::string client_host;    // the client's Host
    std::string request_id;
    trace::SpanContext trace;
    bool websocket_upgrade = false;
};

// Rules 1–6 for a request that matched `match` (whose params point into `path`, the normalised
// path).
Result<UpstreamRequest> prepare_upstream_request(const http::Request& request,
                                                 const RouteMatch& match, std::string_view path,
                                                 const ClientInfo& client);

// The Host for one attempt: a route rule's Host, else the client's when the route preserves it,
// else `target_host` (Upstream::host_header).
std::string host_for_attempt(const UpstreamRequest& request, const Route& route,
                             std::string_view target_host);

void prepare_downstream_response(http::HeaderList& headers, const Route& route,
                                 std::string_view request_id, bool websocket_upgrade);

}  // namespace herald::proxy
