#include "engine/cursor.hpp"

#include <charconv>

namespace herald::engine {

void append_cursor(std::string& out, Cursor c) {
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[2 + 16 + 1 + 20];
    char* p = buf;
    *p++ = '1';
    *p++ = '.';
    for (int shift = 60; shift >= 0; shift -= 4) *p++ = kHex[(c.epoch >> shift) & 0xF];
    *p++ = '.';
    p = std::to_chars(p, buf + sizeof buf, c.offset).ptr;
    out.append(buf, p);
}

std::string format_cursor(Cursor c) {
    std::string s;
    append_cursor(s, c);
    return s;
}

Result<Cursor> parse_cursor(std::string_view text) {
    auto bad = [&] {
        return make_error(Errc::invalid_argument,
                          "cursor is malformed: expected a value previously returned by Herald "
                          "(or 'earliest' / 'latest')",
                          "cursor");
    };
    if (text.size() < 2 + 16 + 2 || text.substr(0, 2) != "1." || text[18] != '.') return bad();
    Cursor c;
    for (std::size_t i = 2; i < 18; ++i) {
        char ch = text[i];
        int v = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
        if (v < 0) return bad();
        c.epoch = (c.epoch << 4) | static_cast<std::uint64_t>(v);
    }
    auto digits = text.substr(19);
    if (digits.empty() || digits.size() > 20 || (digits.size() > 1 && digits[0] == '0')) return bad();
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), c.offset);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return bad();
    return c;
}

Result<StartPosition> parse_start(std::string_view text) {
    if (text == "earliest") return StartPosition{StartEarliest{}};
    if (text == "latest") return StartPosition{StartLatest{}};
    auto c = parse_cursor(text);
    if (!c) return std::move(c).error();
    return StartPosition{*c};
}

}  // namespace herald::engine
