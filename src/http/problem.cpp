#include "http/problem.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>

#include "base/json_text.hpp"

namespace herald::http {

// Written by hand rather than through boost::json::serialize, which copies a string's bytes as they are: a detail
// often quotes what the client sent (a path, a header, a parameter), and bytes that are not UTF-8 there would make
// the body invalid JSON. append_json_string turns them into U+FFFD.
Response problem_response(const Problem& p) {
    std::string body;
    body.reserve(96 + p.kind.size() + p.title.size() + p.detail.size() + p.attribute.size() + p.violations.size());
    body += "{\"type\":";
    append_json_string(body, "urn:herald:problem:" + p.kind);
    body += ",\"title\":";
    append_json_string(body, p.title);
    body += ",\"status\":";
    body += std::to_string(p.status);
    if (!p.detail.empty()) {
        body += ",\"detail\":";
        append_json_string(body, p.detail);
    }
    if (!p.attribute.empty()) {
        body += ",\"attribute\":";
        append_json_string(body, p.attribute);
    }
    if (!p.violations.empty()) {
        // Re-serialised from its parse, so that only a well-formed array is ever embedded.
        boost::system::error_code ec;
        auto v = boost::json::parse(p.violations, ec);
        if (!ec) {
            body += ",\"violations\":";
            body += boost::json::serialize(v);
        }
    }
    body += '}';
    Response r;
    r.status = p.status;
    r.body = std::move(body);
    r.set("Content-Type", "application/problem+json");
    return r;
}

Problem problem_from_error(const Error& e, std::string kind_for_invalid) {
    switch (e.code) {
    case Errc::invalid_argument:
        return {400, std::move(kind_for_invalid), "Bad request", e.message, e.attribute};
    case Errc::not_found: return {404, "not-found", "Not found", e.message, e.attribute};
    case Errc::conflict: return {409, "conflict", "Conflict", e.message, e.attribute};
    case Errc::payload_too_large:
        return {413, "payload-too-large", "Payload too large", e.message, e.attribute};
    case Errc::unsupported_media_type:
        return {415, "unsupported-media-type", "Unsupported media type", e.message, e.attribute};
    case Errc::no_space: return {507, "storage-full", "Insufficient storage", e.message, e.attribute};
    case Errc::gone: return {410, "gone", "Gone", e.message, e.attribute};
    case Errc::unprocessable:
        return {422, "contract-violation", "Event breaks its contract", e.message, e.attribute, e.details};
    case Errc::unavailable: return {503, "unavailable", "Service unavailable", e.message, e.attribute};
    case Errc::io_error:
    case Errc::corrupt: return {503, "storage-error", "Storage error", e.message, e.attribute};
    }
    return {500, "internal", "Internal error", e.message, e.attribute};
}

}  // namespace herald::http
