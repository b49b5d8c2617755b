#include "proxy/errors.hpp"

#include <string>

#include "http/problem.hpp"

namespace herald::proxy {

unsigned status_of(ProxyError e) noexcept {
    switch (e) {
        case ProxyError::no_route:
            return 404;
        case ProxyError::method_not_allowed:
            return 405;
        case ProxyError::invalid_path:
            return 400;
        case ProxyError::no_available_target:
            return 503;
        case ProxyError::connect_failed:
            return 502;
        case ProxyError::bad_response:
            return 502;
        case ProxyError::timeout:
            return 504;
    }
    return 500;
}

const char* kind_of(ProxyError e) noexcept {
    switch (e) {
        case ProxyError::no_route:
            return "not-found";
        case ProxyError::method_not_allowed:
            return "method-not-allowed";
        case ProxyError::invalid_path:
            return "bad-request";
        case ProxyError::no_available_target:
            return "upstream-unavailable";
        case ProxyError::connect_failed:
            return "upstream-unreachable";
        case ProxyError::bad_response:
            return "bad-upstream-response";
        case ProxyError::timeout:
            return "upstream-timeout";
    }
    return "internal";
}

namespace {
const char* title_of(ProxyError e) noexcept {
    switch (e) {
        case ProxyError::no_route:
            return "Not found";
        case ProxyError::method_not_allowed:
            return "Method not allowed";
        case ProxyError::invalid_path:
            return "Bad request";
        case ProxyError::no_available_target:
            return "Upstream unavailable";
        case ProxyError::connect_failed:
            return "Upstream unreachable";
        case ProxyError::bad_response:
            return "Bad upstream response";
        case ProxyError::timeout:
            return "Upstream timeout";
    }
    return "Internal error";
}
}  // namespace

http::Response error_response(ProxyError e, std::string_view detail, std::string_view allow) {
    auto r = http::problem_response(
        http::Problem{status_of(e), kind_of(e), title_of(e), std::string(detail)});
    if (e == ProxyError::method_not_allowed && !allow.empty()) r.set("Allow", std::string(allow));
    // A pool with nothing available usually recovers within a cool-down: hint a short back-off.
    if (e == ProxyError::no_available_target) r.set("Retry-After", "1");
    return r;
}

}  // namespace herald::proxy
