#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate` headers, parsed,
// validated and formatted. The same text is what the CloudEvents distributed-tracing extension stores on an event
// (extension attributes `traceparent` and `tracestate`), so one parser serves HTTP requests and stored events.
//
// traceparent, version 00 (55 characters):  00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>
//   - lower-case hex only; an upper-case digit makes the header invalid;
//   - an all-zero trace-id or parent-id is invalid; version ff is invalid;
//   - a higher version is parsed by its first four fields when it is at least 55 characters long and the 56th,
//     if present, is '-' (the spec's forward-compatibility rule); Herald always writes version 00 back.
// tracestate: a comma-separated list of key=value list-members; Herald keeps at most 32 valid members and drops
//   the invalid ones and later duplicates of a key, rather than refusing the whole header.
//
// All of this is value types and pure functions: no state, no allocation except the formatted strings.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::trace {

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

inline constexpr std::uint8_t kSampled = 0x01;  // the only trace flag version 00 defines

// One span's identity as it travels: trace-id, span-id (the `parent-id` field when sent) and flags.
struct SpanContext {
    TraceId trace_id{};
    SpanId span_id{};
    std::uint8_t flags = 0;

    // Both ids non-zero: a context that may be propagated.
    bool valid() const noexcept;
    bool sampled() const noexcept { return (flags & kSampled) != 0; }
};

bool is_zero(const TraceId& id) noexcept;
bool is_zero(const SpanId& id) noexcept;

// Lower-case hex of an id: 32 and 16 characters.
std::string to_hex(const TraceId& id);
std::string to_hex(const SpanId& id);
// Writes the hex into `out` (2 × N characters, no terminator): the allocation-free form.
void to_hex(const std::uint8_t* bytes, std::size_t n, char* out) noexcept;
// Parses exactly 2 × N lower-case hex digits; false on anything else.
bool from_hex(std::string_view hex, std::uint8_t* bytes, std::size_t n) noexcept;

inline constexpr std::size_t kTraceparentSize = 55;

// Parses a traceparent header value (surrounding spaces and tabs are ignored, as HTTP allows). The result's
// span_id is the caller's span (the header's parent-id). Errc::invalid_argument naming the broken rule.
Result<SpanContext> parse_traceparent(std::string_view value);
// "00-<trace-id>-<span-id>-<flags>"; only the sampled flag is written (version 00 defines no other).
std::string format_traceparent(const SpanContext& context);
void format_traceparent(const SpanContext& context, char (&out)[kTraceparentSize]) noexcept;

inline constexpr std::size_t kMaxTracestateMembers = 32;
inline constexpr std::size_t kMaxTracestateSize = 512;  // what the spec asks every vendor to propagate at least

// The list-member grammar: key = simple-key / tenant-id "@" system-id; value = 0*255 chr nblk-chr.
bool is_tracestate_key(std::string_view key) noexcept;
bool is_tracestate_value(std::string_view value) noexcept;
// Keeps the valid list-members of `value` (one header or several joined with ','), at most 32, the first
// occurrence of a key only, joined with ',' without spaces; members are dropped from the right while the
// result is longer than 512 characters. Empty when nothing valid remains.
std::string normalize_tracestate(std::string_view value);

}  // namespace herald::trace
