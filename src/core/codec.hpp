#pragma once
// The CloudEvents HTTP protocol binding and JSON event format (structured, batch, binary), plus Herald's wrapping
// of plain JSON bodies. Every decoder validates (core::validate) before it returns, so a returned event is
// always a valid CloudEvents 1.0 event. Decoders never throw on bad input; they return Errc::invalid_argument
// (naming the attribute and the rule) or Errc::unsupported_media_type.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "core/cloud_event.hpp"

namespace herald::core {

// One HTTP header (name as received; matching is case-insensitive).
using Header = std::pair<std::string, std::string>;

// Structured mode: `body` is one event in the JSON format (application/cloudevents+json).
Result<CloudEvent> decode_structured(std::string_view body);

// Batch mode: `body` is a JSON array of events (application/cloudevents-batch+json). An empty array is valid and
// yields no events. On failure `attribute` is prefixed with the index, e.g. "[3].type".
Result<std::vector<CloudEvent>> decode_batch(std::string_view body);

// Binary mode: context attributes from `ce-*` headers (values percent-decoded per the HTTP binding), data is the
// body, `content_type` (may be empty) becomes datacontenttype. JSON media types require a valid JSON body.
Result<CloudEvent> decode_binary(const std::vector<Header>& headers, std::string_view content_type,
                                 std::string_view body);

// Herald's plain-JSON mode: `body` must be valid JSON; it becomes `data` of a new event with the given type,
// source, a generated UUIDv7 id, datacontenttype application/json and the current time.
Result<CloudEvent> wrap_json(std::string_view body, std::string type, std::string source);

// The JSON event format of `event` on one line (no newline anywhere: JSON string escapes keep \n out), the form
// stored in the log and sent as SSE `data:` and WebSocket text frames.
std::string encode_structured(const CloudEvent& event);

// Percent-decoding and -encoding of binary-mode header values (HTTP binding §3.1.3.2).
Result<std::string> percent_decode_header(std::string_view value);
std::string percent_encode_header(std::string_view value);

}  // namespace herald::core
