#include "http/cors.hpp"

#include <algorithm>

#include "http/problem.hpp"

namespace herald::http {

bool CorsPolicy::allows(std::string_view origin) const noexcept {
    if (origin.empty()) return false;
    return std::any_of(allowed_origins.begin(), allowed_origins.end(),
                       [&](const std::string& o) { return o == "*" || iequals(o, origin); });
}

std::string CorsPolicy::response_headers(std::string_view origin) const {
    if (!allows(origin)) return {};
    bool wildcard = !allow_credentials &&
                    std::find(allowed_origins.begin(), allowed_origins.end(), "*") != allowed_origins.end();
    std::string h = "Access-Control-Allow-Origin: ";
    h += wildcard ? std::string("*") : std::string(origin);
    h += "\r\n";
    if (!wildcard) h += "Vary: Origin\r\n";
    if (allow_credentials) h += "Access-Control-Allow-Credentials: true\r\n";
    if (!exposed_headers.empty()) {
        h += "Access-Control-Expose-Headers: ";
        for (std::size_t i = 0; i < exposed_headers.size(); ++i) h += (i ? ", " : "") + exposed_headers[i];
        h += "\r\n";
    }
    return h;
}

void CorsPolicy::apply(const Request& request, Response& response) const {
    auto lines = response_headers(request.header("Origin"));
    std::string_view rest = lines;
    while (!rest.empty()) {
        auto eol = rest.find("\r\n");
        auto line = rest.substr(0, eol);
        auto colon = line.find(": ");
        response.set(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
        rest.remove_prefix(eol + 2);
    }
}

bool CorsPolicy::is_preflight(const Request& request) noexcept {
    return request.method == "OPTIONS" && request.has_header("Access-Control-Request-Method");
}

Response CorsPolicy::preflight(const Request& request, std::string_view allowed_methods) const {
    auto origin = request.header("Origin");
    if (!allows(origin))
        return problem_response({403, "cors-origin-not-allowed", "Origin not allowed",
                                 "this origin is not in the gateway's CORS allow-list", "Origin"});
    Response r;
    r.status = 204;
    apply(request, r);
    r.set("Access-Control-Allow-Methods", std::string(allowed_methods));
    std::string headers;
    for (std::size_t i = 0; i < allowed_headers.size(); ++i) headers += (i ? ", " : "") + allowed_headers[i];
    r.set("Access-Control-Allow-Headers", headers);
    r.set("Access-Control-Max-Age", std::to_string(max_age_seconds));
    return r;
}

bool same_origin(const Request& request) noexcept {
    auto origin = request.header("Origin");
    if (origin.empty()) return true;
    auto scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos) return false;
    auto authority = origin.substr(scheme_end + 3);
    return iequals(authority, request.header("Host"));
}

}  // namespace herald::http
