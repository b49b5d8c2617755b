#include "http/problem.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace herald::http {

Response problem_response(const Problem& p) {
    boost::json::object o;
    o["type"] = "urn:herald:problem:" + p.kind;
    o["title"] = p.title;
    o["status"] = p.status;
    if (!p.detail.empty()) o["detail"] = p.detail;
    if (!p.attribute.empty()) o["attribute"] = p.attribute;
    if (!p.violations.empty()) {
        boost::system::error_code ec;
        auto v = boost::json::parse(p.violations, ec);
        if (!ec) o["violations"] = std::move(v);
    }
    Response r;
    r.status = p.status;
    r.body = boost::json::serialize(o);
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
