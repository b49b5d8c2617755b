#pragma once
// Cursors: the opaque position strings clients hold (`id:` in SSE, `cursor` in WebSocket and JSON pages). A
// cursor is a position between events: the epoch of the topic and the offset of the next event to read. The
// cursor sent with an event is the position just after it, so resuming from it means "everything after that
// event", and every position (an empty topic included) has a cursor. The epoch makes a cursor from a recreated
// topic, a wiped data directory or another deployment detectable instead of silently pointing at other events.
//
// Text form, version 1: "1." + 16 lower-case hex digits of the epoch + "." + decimal offset, e.g.
// "1.9f86d081884c7d65.42". Clients must treat it as opaque; the version prefix lets other engines (Kafka's
// partition vectors) use their own forms.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.hpp"

namespace herald::engine {

struct Cursor {
    std::uint64_t epoch = 0;
    std::uint64_t offset = 0;  // the next offset to read
    friend bool operator==(const Cursor&, const Cursor&) = default;
};

std::string format_cursor(Cursor c);
// Appends the cursor text to `out` without a temporary (used when encoding frames).
void append_cursor(std::string& out, Cursor c);
// Errc::invalid_argument when `text` is not a well-formed version-1 cursor.
Result<Cursor> parse_cursor(std::string_view text);

// Where a reader starts: the first retained event, the next event to be appended, or just after a cursor.
struct StartEarliest {};
struct StartLatest {};
using StartPosition = std::variant<StartEarliest, StartLatest, Cursor>;

// Parses a `from` parameter or Last-Event-ID: "earliest", "latest" or a cursor.
Result<StartPosition> parse_start(std::string_view text);

}  // namespace herald::engine
