#pragma once
// The answers the gateway itself gives when it cannot relay an upstream's: RFC 9457 problem+json
// (http/problem.hpp) whose detail says why, naming the route and upstream (never a target's
// address: that is internal topology).
//
//   no_route             404 not-found              no route matches the host and path
//   method_not_allowed   405 method-not-allowed     the path matches, not the method (with Allow)
//   invalid_path         400 bad-request            the path cannot be normalised
//   no_available_target  503 upstream-unavailable   every target ejected or unhealthy (Retry-After)
//   connect_failed       502 upstream-unreachable   no connection to any tried target
//   bad_response         502 bad-upstream-response  the upstream broke the exchange (reset, garbage)
//   timeout              504 upstream-timeout       the read, per-try or total timeout expired
// An upstream's own 502/503/504 answers are relayed as they are, not replaced by these.
//
// Pure; safe from any thread.

#include <cstdint>
#include <string_view>

#include "http/message.hpp"

namespace herald::proxy {

enum class ProxyError : std::uint8_t {
    no_route,
    method_not_allowed,
    invalid_path,
    no_available_target,
    connect_failed,
    bad_response,
    timeout,
};

unsigned status_of(ProxyError e) noexcept;
const char* kind_of(ProxyError e) noexcept;  // the problem kind: "upstream-timeout"

// `detail`: this occurrence ("upstream users: every target is ejected or unhealthy"). `allow`: the
// Allow header of a 405.
http::Response error_response(ProxyError e, std::string_view detail, std::string_view allow = {});

}  // namespace herald::proxy
