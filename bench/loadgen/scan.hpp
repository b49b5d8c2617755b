// In-place parsing for the load generator's receive path: HTTP/1.1 response heads (and request
// heads, for the webhook receiver), SSE frames and the two numeric fields the generator puts into
// every event. Nothing here allocates or copies; everything works on views into a connection's own
// buffer.
//
// Limits, on purpose: SSE frames must end with "\n\n" (Herald writes LF only; CRLF streams are not
// recognised), and fields are found by scanning for `"seq":` and `"t":`, which only works because
// the generator controls the payload and no CloudEvent attribute Herald adds has those names.
#pragma once

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
    std::optional<std::size_t> content_length;  // absent: body runs until close
    bool close = false;                         // "Connection: close"
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

// Finds the generator's `"seq":N,"t":T` in a message (an SSE data line, a WebSocket event message,
// a webhook body); leaves `seq` / `t` at -1 when absent. `"seq"` is found with memmem (fast for
// short needles), then `"t"` is expected right after it, with a search as the fallback.
inline void scan_seq_t(std::string_view text, std::int64_t& seq, std::int64_t& t) {
    static constexpr std::string_view seq_key = "\"seq\":";
    seq = -1;
    t = -1;
    const void* hit = ::memmem(text.data(), text.size(), seq_key.data(), seq_key.size());
    if (!hit) return;
    std::size_t at = static_cast<const char*>(hit) - text.data();
    std::size_t after = 0;
    auto s = scan_int_field(text.substr(at), seq_key, &after);
    if (!s) return;
    seq = *s;
    std::string_view rest = text.substr(at + after);
    if (rest.starts_with(",\"t\":")) {
        std::int64_t v = 0;
        auto [q, ec] = std::from_chars(rest.data() + 5, rest.data() + rest.size(), v);
        if (ec == std::errc()) t = v;
    } else if (auto v = scan_int_field(rest, "\"t\":")) {
        t = *v;
    }
}

// What one SSE frame (the text between blank lines) carried, as far as the generator cares.
struct SseFrame {
    enum class Kind { heartbeat, retry, event, control, other } kind = Kind::other;
    std::int64_t seq = -1;  // -1: the event did not carry a generator sequence number
    std::int64_t t = -1;
};

// Walks the frame line by line ("id:", "event:", "data:"), so only the data line is searched, and
// only once: this runs for every delivery, and a linear search of the whole frame for each field
// showed up in profiles.
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
        if (line.starts_with("event:")) {
            // Herald's own control events (reset, shutdown) are named herald.*.
            line.remove_prefix(6);
            if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
            if (line.starts_with("herald.")) {
                f.kind = SseFrame::Kind::control;
                return f;
            }
        } else if (line.starts_with("data:")) {
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
// many bytes were consumed; the caller moves the unconsumed tail to the front of its buffer.
template <typename F>
std::size_t scan_frames(const char* data, std::size_t size, F&& on_frame) {
    std::size_t pos = 0;
    for (;;) {
        const void* hit = nullptr;
        // Search for "\n\n" from pos: memchr for '\n', then check the next byte.
        std::size_t from = pos;
        for (;;) {
            if (from >= size) break;
            hit = std::memchr(data + from, '\n', size - from);
            if (!hit) break;
            auto i = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
            if (i + 1 >= size) {
                hit = nullptr;
                break;
            }
            if (data[i + 1] == '\n') {
                on_frame(std::string_view(data + pos, i - pos));
                pos = i + 2;
                break;
            }
            from = i + 1;
            hit = nullptr;
        }
        if (!hit) return pos;
    }
}

}  // namespace herald::bench
