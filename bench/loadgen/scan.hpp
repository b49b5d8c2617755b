// In-place parsing for the load generator's receive path: HTTP/1.1 response heads (and request
// heads, for the webhook receiver), SSE frames, chunked transfer coding, and the two numeric fields
// the generator puts into every event. Nothing here allocates or copies (the chunked decoder moves
// payload bytes down within the connection's own buffer); everything works on views.
//
// Any server: the fields are found by scanning for the members `"seq"` and `"t"` wherever they sit
// in a message (Herald: inside the CloudEvent's data; nchan and Pushpin: the raw published body),
// with optional whitespace around the colon. That only works because the generator controls the
// payload and no envelope Herald, nchan or Pushpin adds has members with those names. SSE frames
// may end with LF or CRLF line ends.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace herald::bench {

// The head of an HTTP/1.1 response, once the blank line has arrived.
struct ResponseHead {
    int status = 0;
    std::size_t head_bytes = 0;                 // through "\r\n\r\n"
    std::optional<std::size_t> content_length;  // absent: body runs until close (or chunked)
    bool close = false;                         // "Connection: close"
    bool chunked = false;                       // Transfer-Encoding: chunked
};

inline char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower_ascii(text[i]) != prefix[i]) return false;
    return true;
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

enum class HeadResult { incomplete, ok, malformed };

// Parses the response head at the start of `data`; header names match case-insensitively, as
// HTTP requires.
inline HeadResult parse_response_head(std::string_view data, ResponseHead& out) {
    auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return HeadResult::incomplete;
    out = ResponseHead{};
    out.head_bytes = end + 4;
    std::string_view head = data.substr(0, end + 2);
    auto eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1.")
        return HeadResult::malformed;
    int status = 0;
    auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    if (ec != std::errc() || p != status_line.data() + 12) return HeadResult::malformed;
    out.status = status;
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
        eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim(line.substr(colon + 1));
        if (name.size() == 14 && iequals_prefix(name, "content-length")) {
            std::size_t n = 0;
            auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (e != std::errc() || q != value.data() + value.size()) return HeadResult::malformed;
            out.content_length = n;
        } else if (name.size() == 10 && iequals_prefix(name, "connection")) {
            out.close = iequals_prefix(value, "close");
        } else if (name.size() == 17 && iequals_prefix(name, "transfer-encoding")) {
            out.chunked = iequals_prefix(value, "chunked");
        }
    }
    return HeadResult::ok;
}

// The head of an HTTP/1.1 request (the webhook receiver's side), once the blank line has arrived.
struct RequestHead {
    std::string_view method;
    std::string_view target;
    std::size_t head_bytes = 0;      // through "\r\n\r\n"
    std::size_t content_length = 0;  // 0 when absent
    bool chunked = false;            // Transfer-Encoding other than identity: not supported
    bool close = false;              // "Connection: close"
};

inline HeadResult parse_request_head(std::string_view data, RequestHead& out) {
    auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return HeadResult::incomplete;
    out = RequestHead{};
    out.head_bytes = end + 4;
    std::string_view head = data.substr(0, end + 2);
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 <= sp1 || !line.substr(sp2 + 1).starts_with("HTTP/1."))
        return HeadResult::malformed;
    out.method = line.substr(0, sp1);
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
        eol = head.find("\r\n");
        std::string_view h = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        auto colon = h.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = h.substr(0, colon);
        std::string_view value = trim(h.substr(colon + 1));
        if (name.size() == 14 && iequals_prefix(name, "content-length")) {
            auto [q, e] =
                std::from_chars(value.data(), value.data() + value.size(), out.content_length);
            if (e != std::errc() || q != value.data() + value.size()) return HeadResult::malformed;
        } else if (name.size() == 17 && iequals_prefix(name, "transfer-encoding")) {
            out.chunked = !iequals_prefix(value, "identity");
        } else if (name.size() == 10 && iequals_prefix(name, "connection")) {
            out.close = iequals_prefix(value, "close");
        }
    }
    return HeadResult::ok;
}

// Finds `key` (e.g. `"seq":`) in `text` and parses the integer after it.
inline std::optional<std::int64_t> scan_int_field(std::string_view text, std::string_view key,
                                                  std::size_t* after = nullptr) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    const char* p = text.data() + at + key.size();
    const char* end = text.data() + text.size();
    while (p < end && *p == ' ') ++p;
    std::int64_t v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) return std::nullopt;
    if (after) *after = static_cast<std::size_t>(q - text.data());
    return v;
}

// Finds the member `quoted_key` (e.g. `"seq"`, quotes included) followed by optional whitespace,
// a colon, optional whitespace and an integer, anywhere in `text` (a quoted string followed by a
// colon is a member name in JSON; a value is followed by `,` `}` or `]`). Returns the integer and
// sets *after to the offset just past it.
inline std::optional<std::int64_t> find_member_int(std::string_view text,
                                                   std::string_view quoted_key,
                                                   std::size_t* after = nullptr) {
    const char* const begin = text.data();
    const char* const end = begin + text.size();
    const char* from = begin;
    while (from < end) {
        const void* hit = ::memmem(from, static_cast<std::size_t>(end - from), quoted_key.data(),
                                   quoted_key.size());
        if (!hit) return std::nullopt;
        const char* p = static_cast<const char*>(hit) + quoted_key.size();
        from = static_cast<const char*>(hit) + 1;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
        if (p >= end || *p != ':') continue;
        ++p;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
        std::int64_t v = 0;
        auto [q, ec] = std::from_chars(p, end, v);
        if (ec != std::errc()) continue;
        if (after) *after = static_cast<std::size_t>(q - begin);
        return v;
    }
    return std::nullopt;
}

// Finds the generator's `seq` and `t` members in a message (an SSE data line, a WebSocket message,
// a webhook body, a JSON page of events); leaves `seq` / `t` at -1 when absent. The fast path is
// the generator's own layout, `"seq":N,"t":T` (one memmem, then `"t"` right after the number);
// otherwise `"t"` is searched after the seq and then anywhere in the message.
inline void scan_seq_t(std::string_view text, std::int64_t& seq, std::int64_t& t) {
    seq = -1;
    t = -1;
    std::size_t after = 0;
    auto s = find_member_int(text, "\"seq\"", &after);
    if (!s) return;
    seq = *s;
    std::string_view rest = text.substr(after);
    if (rest.starts_with(",\"t\":")) {
        std::int64_t v = 0;
        auto [q, ec] = std::from_chars(rest.data() + 5, rest.data() + rest.size(), v);
        if (ec == std::errc()) {
            t = v;
            return;
        }
    }
    if (auto v = find_member_int(rest, "\"t\"")) {
        t = *v;
    } else if (auto w = find_member_int(text.substr(0, after), "\"t\"")) {
        t = *w;
    }
}

// The integer member `"t"` of the object a member ends in, searched from `p` (just after that
// member's value) to the end of the object: strings are skipped, nested values are not searched.
inline std::int64_t t_after_in_object(const char* p, const char* end) {
    int depth = 0;
    while (p < end) {
        const char c = *p;
        if (c == '"') {
            const char* k = p + 1;
            while (k < end && *k != '"') k += (*k == '\\') ? 2 : 1;
            if (k >= end) return -1;
            if (depth == 0 && k == p + 2 && p[1] == 't') {
                const char* q = k + 1;
                while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) ++q;
                if (q < end && *q == ':') {
                    ++q;
                    while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) ++q;
                    std::int64_t v = 0;
                    auto [r, ec] = std::from_chars(q, end, v);
                    if (ec == std::errc()) return v;
                }
            }
            p = k + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return -1;
            --depth;
        }
        ++p;
    }
    return -1;
}

// Calls on_event(seq, t) for every `"seq"` member in `text` (a JSON page holding several events),
// with the `"t"` member that follows it in the same object (-1 when there is none: in a page the
// generator's data object always has t after seq). Returns how many.
template <typename F>
std::size_t scan_all_seq_t(std::string_view text, F&& on_event) {
    std::size_t n = 0;
    while (!text.empty()) {
        std::size_t after = 0;
        auto s = find_member_int(text, "\"seq\"", &after);
        if (!s) break;
        const char* p = text.data() + after;
        on_event(*s, t_after_in_object(p, text.data() + text.size()));
        ++n;
        text = text.substr(after);
    }
    return n;
}

// The string value of member `quoted_key` (e.g. `"next"`) in `text`, without unescaping (cursors
// and SSE ids are plain ASCII); empty when absent.
inline std::string_view find_member_string(std::string_view text, std::string_view quoted_key) {
    const char* const end = text.data() + text.size();
    const char* from = text.data();
    while (from < end) {
        const void* hit = ::memmem(from, static_cast<std::size_t>(end - from), quoted_key.data(),
                                   quoted_key.size());
        if (!hit) return {};
        const char* p = static_cast<const char*>(hit) + quoted_key.size();
        from = static_cast<const char*>(hit) + 1;
        while (p < end && (*p == ' ' || *p == '\t')) ++p;
        if (p >= end || *p != ':') continue;
        ++p;
        while (p < end && (*p == ' ' || *p == '\t')) ++p;
        if (p >= end || *p != '"') continue;
        const char* q = ++p;
        while (q < end && *q != '"') q += (*q == '\\') ? 2 : 1;
        if (q >= end) return {};
        return std::string_view(p, static_cast<std::size_t>(q - p));
    }
    return {};
}

// What one SSE frame (the text between blank lines) carried, as far as the generator cares.
struct SseFrame {
    enum class Kind { heartbeat, retry, event, control, other } kind = Kind::other;
    std::int64_t seq = -1;  // -1: the event did not carry a generator sequence number
    std::int64_t t = -1;
    std::string_view id;  // the `id:` field (Herald: the cursor; nchan: its message id), if any
};

// Walks the frame line by line ("id:", "event:", "data:"), so only the data line is searched, and
// only once: this runs for every delivery, and a linear search of the whole frame for each field
// showed up in profiles. Lines may end with CR LF. Herald's own control events (reset, shutdown)
// are named herald.*; a frame whose first line is a comment is a heartbeat (nchan's ": hi",
// Herald's ":", Pushpin's origin ":ok").
inline SseFrame classify_frame(std::string_view frame) {
    SseFrame f;
    if (frame.empty()) return f;
    if (frame.front() == ':') {
        f.kind = SseFrame::Kind::heartbeat;
        return f;
    }
    const char* p = frame.data();
    const char* end = p + frame.size();
    while (p < end) {
        const char* eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (!eol) eol = end;
        std::string_view line(p, eol - p);
        p = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.starts_with("id:")) {
            line.remove_prefix(3);
            if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
            f.id = line;
        } else if (line.starts_with("event:")) {
            line.remove_prefix(6);
            if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
            if (line.starts_with("herald.")) {
                f.kind = SseFrame::Kind::control;
                return f;
            }
        } else if (line.starts_with("data:")) {
            // The data line comes after id and event in every server measured; one data line per
            // event (the generator's payload is one line of JSON).
            f.kind = SseFrame::Kind::event;
            scan_seq_t(line, f.seq, f.t);
            return f;
        } else if (line.starts_with("retry:")) {
            f.kind = SseFrame::Kind::retry;
        }
    }
    return f;
}

// Calls `on_frame(std::string_view)` for every complete frame in data[0, size) and returns how
// many bytes were consumed; the caller moves the unconsumed tail to the front of its buffer. A
// frame ends at a blank line: "\n\n" or "\n\r\n" (CRLF streams).
template <typename F>
std::size_t scan_frames(const char* data, std::size_t size, F&& on_frame) {
    std::size_t pos = 0;
    std::size_t from = 0;
    for (;;) {
        if (from >= size) return pos;
        const void* hit = std::memchr(data + from, '\n', size - from);
        if (!hit) return pos;
        auto i = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
        if (i + 1 >= size) return pos;
        std::size_t blank = 0;  // bytes of the blank line after this LF
        if (data[i + 1] == '\n') {
            blank = 1;
        } else if (data[i + 1] == '\r') {
            if (i + 2 >= size) return pos;
            if (data[i + 2] == '\n') blank = 2;
        }
        if (blank) {
            std::size_t len = i - pos;
            if (len > 0 && data[pos + len - 1] == '\r') --len;
            on_frame(std::string_view(data + pos, len));
            pos = i + 1 + blank;
            from = pos;
        } else {
            from = i + 1;
        }
    }
}

// Decodes HTTP/1.1 chunked transfer coding in place (Pushpin streams through Condure this way):
// the bytes in buf[decoded, decoded + raw) are coded; payload bytes are moved down to `decoded`,
// which grows. Whatever cannot be decoded yet (a chunk-size line cut by the read) stays right after
// the decoded bytes, so the caller reads the next bytes in after decoded + raw. No allocation.
struct ChunkedDecoder {
    std::uint64_t left = 0;  // payload bytes still to come in the current chunk
    int state = 0;           // 0 size line, 1 payload, 2 CRLF after payload, 3 finished (0 chunk)
    bool bad = false;

    // Returns the new raw (undecoded) byte count; `decoded` is advanced.
    std::size_t decode(char* buf, std::size_t& decoded, std::size_t raw) {
        char* r = buf + decoded;  // read position (>= write position)
        char* const end = r + raw;
        char* w = buf + decoded;
        while (r < end && !bad && state != 3) {
            if (state == 1) {
                const std::size_t n =
                    std::min<std::uint64_t>(left, static_cast<std::uint64_t>(end - r));
                if (w != r) std::memmove(w, r, n);
                w += n;
                r += n;
                left -= n;
                if (left == 0) state = 2;
            } else if (state == 2) {
                // CRLF (or a bare LF) after the payload.
                if (*r != '\r' && *r != '\n') {
                    bad = true;
                    break;
                }
                const char* lf = static_cast<const char*>(std::memchr(r, '\n', end - r));
                if (!lf) break;
                r = const_cast<char*>(lf) + 1;
                state = 0;
            } else {
                const char* lf = static_cast<const char*>(std::memchr(r, '\n', end - r));
                if (!lf) {
                    if (end - r > 256) bad = true;  // no size line is that long
                    break;
                }
                std::uint64_t n = 0;
                auto [q, ec] = std::from_chars(r, lf, n, 16);
                if (ec != std::errc() || q == r) {
                    bad = true;
                    break;
                }
                r = const_cast<char*>(lf) + 1;  // extensions (";…") up to the LF are ignored
                if (n == 0) {
                    state = 3;
                } else {
                    left = n;
                    state = 1;
                }
            }
        }
        // After the last chunk only trailers can follow: dropped.
        const std::size_t rest = state == 3 ? 0 : static_cast<std::size_t>(end - r);
        if (rest && w != r) std::memmove(w, r, rest);
        decoded = static_cast<std::size_t>(w - buf);
        return rest;
    }
};

}  // namespace herald::bench
