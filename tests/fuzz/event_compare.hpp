#pragma once
// Event equality for the CloudEvents fuzz targets (CloudEvent has no operator==: nothing in src/
// needs one).

#include <boost/json.hpp>
#include <string_view>

#include "core/cloud_event.hpp"

namespace herald::fuzz {

inline bool same_event(const core::CloudEvent& a, const core::CloudEvent& b) {
    return a.id == b.id && a.source == b.source && a.specversion == b.specversion &&
           a.type == b.type && a.datacontenttype == b.datacontenttype &&
           a.dataschema == b.dataschema && a.subject == b.subject && a.time == b.time &&
           a.extensions == b.extensions && a.data_kind == b.data_kind && a.data == b.data;
}

// JSON value equality by serialisation: Boost.JSON 1.81 parses some numbers to NaN (0e309 is 0
// times an overflowed power of ten), and NaN != NaN would make equal inputs compare unequal.
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
    return boost::json::serialize(a) == boost::json::serialize(b);
}

// For an event decoded from the JSON object `source`: JSON data must be the very value the object's
// "data" member holds. The decoder copies data as raw text (to keep number spellings), so this
// compares it, parsed, with the parse tree of the input; a round trip alone would not notice raw
// text taken from the wrong place.
inline bool data_matches_source(const core::CloudEvent& event, const boost::json::object& source) {
    if (event.data_kind != core::DataKind::json) return true;
    const boost::json::value* data = source.if_contains("data");
    if (data == nullptr) return false;
    boost::json::error_code ec;
    const boost::json::value parsed = boost::json::parse(event.data, ec);
    return !ec && same_json(parsed, *data);
}

// The parse tree of `text`, which a decoder has accepted as JSON.
inline boost::json::value parse_accepted(std::string_view text) {
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    return ec ? boost::json::value() : v;
}

}  // namespace herald::fuzz
