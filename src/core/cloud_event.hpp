#pragma once
// The CloudEvents 1.0 model and its validation rules (CloudEvents spec v1.0.2, "Context Attributes").
//
// A CloudEvent is a plain value: copyable, no hidden state, safe to move across threads. Data is kept in the form
// the structured JSON encoding needs, so encoding an event once for storage is a straight serialisation.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.hpp"

namespace herald::core {

// Extension attribute values as the JSON event format carries them: Boolean, Integer (32-bit signed range) and
// String (which also carries URI, URI-reference, Timestamp and Binary in their string forms).
using AttributeValue = std::variant<bool, std::int64_t, std::string>;

enum class DataKind : std::uint8_t {
    none,    // the event has no data
    json,    // `data` holds serialised JSON text (one line, no insignificant whitespace)
    text,    // `data` holds a UTF-8 string (non-JSON media type); encoded as a JSON string member "data"
    binary,  // `data` holds raw bytes; encoded as "data_base64"
};

struct CloudEvent {
    // Required context attributes.
    std::string id;
    std::string source;  // URI-reference, non-empty
    std::string specversion = "1.0";
    std::string type;
    // Optional context attributes; absent when nullopt.
    std::optional<std::string> datacontenttype;  // RFC 2046 media type
    std::optional<std::string> dataschema;       // absolute URI
    std::optional<std::string> subject;          // non-empty when present
    std::optional<std::string> time;             // RFC 3339 timestamp, kept as given
    // Extension attributes, ordered by name so the encoding is canonical.
    std::map<std::string, AttributeValue> extensions;
    DataKind data_kind = DataKind::none;
    std::string data;
};

// Checks every MUST of the spec that applies to a decoded event: required attributes present and non-empty,
// specversion exactly "1.0", attribute names [a-z0-9]+, extension names not clashing with context attribute
// names or "data"/"data_base64", integer range, RFC 3339 `time`, URI-reference `source`, absolute-URI
// `dataschema`, media-type `datacontenttype`. On failure: Errc::invalid_argument, `attribute` = the offending
// attribute name, `message` = which rule it broke.
Result<void> validate(const CloudEvent& event);

// Individual rules, exposed for the binary-mode decoder and for tests.
bool is_valid_attribute_name(std::string_view name) noexcept;  // [a-z0-9]{1,} (spec: lower-case ASCII + digits)
bool is_rfc3339_timestamp(std::string_view s) noexcept;
bool is_uri_reference(std::string_view s) noexcept;
bool is_absolute_uri(std::string_view s) noexcept;
bool is_media_type(std::string_view s) noexcept;
// True for media types whose data is JSON: application/json, text/json, */*+json (parameters ignored).
bool is_json_media_type(std::string_view media_type) noexcept;

}  // namespace herald::core
