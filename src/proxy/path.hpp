#pragma once
// The request path and host in the canonical form routes are matched against (and that is then
// forwarded).
//
// Why normalise before matching: a gateway that matches one spelling of a path and forwards another
// lets a client reach what a route was meant to protect. "/public/%2e%2e/admin" must not match
// `prefix: /public/` and then be resolved to "/admin" by the upstream; "//admin" must not miss
// `prefix: /admin/` and fall through to a catch-all route. So Herald matches and forwards the same
// normalised path:
//   - percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded; other escapes are
//     kept, with upper-case hex ("%2f" → "%2F": an encoded slash stays one segment, as RFC 3986
//     says it is);
//   - dot segments are removed (RFC 3986 §5.2.4), never climbing above the root;
//   - runs of '/' are merged into one;
//   - anything that is not a path character (RFC 3986 pchar or '/') is an error, as is a broken
//     escape.
// The query is not part of the path and is forwarded untouched.
//
// Pure functions; safe from any thread.

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::proxy {

// `raw` is the path of the request target as received (before '?'). Errc::invalid_argument (answer
// 400).
Result<std::string> normalize_path(std::string_view raw);

// A Host header value as routes match it: lower case, without the port and without a trailing dot.
// "API.Example.com:8443" → "api.example.com"; "[2001:DB8::1]:80" → "[2001:db8::1]".
std::string normalize_host(std::string_view host);

}  // namespace herald::proxy
