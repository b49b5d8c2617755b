#include "portal/site.hpp"

#include "http/problem.hpp"

namespace herald::portal {

namespace {

constexpr std::string_view kPrefix = "/portal";

// The page talks only to its own origin (fetch and EventSource): connect-src 'self'. No inline script or style,
// no framing (clickjacking of the publish and replay buttons), no plugins, no <base> tricks.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept {
    if (if_none_match == "*") return true;
    // A comma-separated list of (possibly weak) tags; weak comparison is right for GET (RFC 9110 §13.1.2).
    while (!if_none_match.empty()) {
        auto comma = if_none_match.find(',');
        auto tag = if_none_match.substr(0, comma);
        while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
        while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == etag) return true;
        if (comma == std::string_view::npos) break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

void security_headers(http::Response& r) {
    r.set("Content-Security-Policy", std::string(kContentSecurityPolicy));
    r.set("X-Content-Type-Options", "nosniff");
    r.set("Referrer-Policy", "no-referrer");
    r.set("X-Frame-Options", "DENY");
}

}  // namespace

bool is_portal_path(std::string_view path) noexcept {
    return path == kPrefix || (path.starts_with(kPrefix) && path.size() > kPrefix.size() &&
                               path[kPrefix.size()] == '/');
}

std::string_view media_type_for(std::string_view name) noexcept {
    auto dot = name.rfind('.');
    auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "json") return "application/json";
    return "application/octet-stream";
}

const Asset* Site::find(std::string_view name) const noexcept {
    for (const auto& a : assets_)
        if (a.name == name) return &a;
    return nullptr;
}

http::Response Site::serve(const http::Request& req) const {
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = http::problem_response(
            http::Problem{405, "method-not-allowed", "Method not allowed", "allowed: GET, HEAD"});
        r.set("Allow", "GET, HEAD");
        return r;
    }
    if (req.path == kPrefix) {
        http::Response r;
        r.status = 308;
        r.set("Location", req.query.empty() ? "/portal/" : "/portal/?" + req.query);
        return r;
    }
    auto name = std::string_view(req.path).substr(kPrefix.size() + 1);
    if (name.empty()) name = "index.html";
    // Names are looked up in a fixed table: "..", encoded slashes and the like simply do not match anything.
    const Asset* asset = find(name);
    if (!asset)
        return http::problem_response(
            http::Problem{404, "not-found", "Not found", "the portal has no file '" + std::string(name) + "'"});
    http::Response r;
    r.set("ETag", std::string(asset->etag));
    // Revalidate every time: the files change with the binary, and a 304 costs one small round trip.
    r.set("Cache-Control", "no-cache");
    security_headers(r);
    if (etag_matches(req.header("If-None-Match"), asset->etag)) {
        r.status = 304;
        return r;
    }
    r.set("Content-Type", std::string(media_type_for(asset->name)));
    // HEAD: the listener sends the headers a GET would get (Content-Length included) and no body.
    r.body.assign(asset->body);
    return r;
}

}  // namespace herald::portal
