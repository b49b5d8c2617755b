// Fuzz target: cursors and start positions (engine::parse_cursor, engine::parse_start), i.e. the
// SSE Last-Event-ID header, the `from` query parameter and the herald.v1 `from`/`cursor` members.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a parsed cursor formats back to exactly the text it came from (the text form is canonical:
//    lower-case hex, no leading zeros), and that text parses to the same cursor;
//  - parse_start agrees with parse_cursor on everything but "earliest" and "latest";
//  - any (epoch, offset) pair, taken from the first 16 input bytes, formats to a cursor that parses
//    back to the same pair, and append_cursor appends exactly format_cursor's text.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>

#include "engine/cursor.hpp"
#include "fuzz_check.hpp"

using namespace herald;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);

    auto cursor = engine::parse_cursor(text);
    if (cursor) {
        const std::string formatted = engine::format_cursor(*cursor);
        HERALD_FUZZ_CHECK(formatted == text);
        auto again = engine::parse_cursor(formatted);
        HERALD_FUZZ_CHECK(again.has_value());
        HERALD_FUZZ_CHECK(*again == *cursor);
    } else {
        HERALD_FUZZ_CHECK(cursor.error().code == Errc::invalid_argument);
    }

    auto start = engine::parse_start(text);
    if (text == "earliest") {
        HERALD_FUZZ_CHECK(start && std::holds_alternative<engine::StartEarliest>(*start));
    } else if (text == "latest") {
        HERALD_FUZZ_CHECK(start && std::holds_alternative<engine::StartLatest>(*start));
    } else if (cursor) {
        HERALD_FUZZ_CHECK(start && std::holds_alternative<engine::Cursor>(*start));
        HERALD_FUZZ_CHECK(std::get<engine::Cursor>(*start) == *cursor);
    } else {
        HERALD_FUZZ_CHECK(!start);
    }

    std::uint8_t raw[16] = {};
    std::memcpy(raw, data, size < sizeof raw ? size : sizeof raw);
    engine::Cursor c;
    std::memcpy(&c.epoch, raw, 8);
    std::memcpy(&c.offset, raw + 8, 8);
    const std::string formatted = engine::format_cursor(c);
    auto parsed = engine::parse_cursor(formatted);
    HERALD_FUZZ_CHECK(parsed.has_value());
    HERALD_FUZZ_CHECK(*parsed == c);
    std::string appended(text.substr(0, 8));
    const std::size_t prefix = appended.size();
    engine::append_cursor(appended, c);
    HERALD_FUZZ_CHECK(appended.compare(prefix, std::string::npos, formatted) == 0);
    return 0;
}
