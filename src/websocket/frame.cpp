#include "websocket/frame.hpp"

#include <cstring>
#include <utility>

#include "websocket/deflate.hpp"

// Wire format of one frame (RFC 6455 §5.2), as parsed below:
//
//   byte 0      FIN(1) RSV1(1) RSV2(1) RSV3(1) opcode(4)
//   byte 1      MASK(1) length(7)       0..125 = the length; 126 = a 16-bit length follows;
//                                       127 = a 64-bit length follows (most significant bit 0)
//   [2 or 8]    extended length, big-endian
//   [4]         masking key, present when MASK = 1 (always for client frames, never for server
//               frames)
//   payload     payload byte i is XORed with key[i % 4]
//
// The parser keeps no state between calls about a partially received frame: a frame is consumed
// only once it is wholly buffered, and its header is re-read on every call until then. A header is
// at most 14 bytes, so re-reading is cheap, and the size limits are checked on the declared length
// as soon as the header is complete, before the payload arrives, so a peer cannot make the buffer
// grow past one frame's limit.

namespace herald::websocket {

namespace {

constexpr unsigned char kFin = 0x80;
// RSV1 is the "Per-Message Compressed" bit when permessage-deflate is negotiated (RFC 7692 §6).
constexpr unsigned char kRsv1 = 0x40;
constexpr unsigned char kRsv23 = 0x30;
constexpr unsigned char kOpcodeBits = 0x0F;
constexpr unsigned char kMask = 0x80;
constexpr unsigned char kLength7 = 0x7F;
constexpr std::size_t kMaxControlPayload = 125;
constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;
constexpr std::uint64_t kHighBit = 0x8080808080808080ull;

bool is_known_opcode(unsigned op) noexcept {
    return op <= 0x2 || (op >= 0x8 && op <= 0xA);  // 0x3-0x7 and 0xB-0xF are reserved
}

bool is_control(unsigned op) noexcept { return (op & 0x8) != 0; }

// Close codes a peer may send (§7.4.1, §7.4.2): the defined codes except those reserved for local
// use (1004, 1005, 1006, 1015), and the library/application range. Other codes below 3000 are
// unassigned or registered for uses Herald does not know, and are treated as a protocol error.
bool is_valid_received_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

enum class Utf8 { valid, incomplete, invalid };

// Checks `n` bytes as UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
// `incomplete` means every complete sequence is valid and the input ends inside a sequence whose
// bytes so far could still be completed into a valid character; this lets fragments be checked as
// they arrive.
Utf8 check_utf8(const unsigned char* s, std::size_t n) noexcept {
    std::size_t i = 0;
    while (i < n) {
        // ASCII runs dominate JSON, so skip them a word at a time.
        while (i + 8 <= n) {
            std::uint64_t word;
            std::memcpy(&word, s + i, 8);
            if (word & kHighBit) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        // The allowed range of the second byte depends on the first; it rules out overlong forms
        // (E0, F0), surrogates (ED) and code points above U+10FFFF (F4). Later bytes are
        // always 80..BF.
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return Utf8::invalid;  // a continuation byte, C0/C1 (always overlong), or F5..FF
        }
        std::size_t avail = n - i;
        if (avail >= 2 && (s[i + 1] < lo || s[i + 1] > hi)) return Utf8::invalid;
        for (std::size_t k = 2; k < len && k < avail; ++k)
            if ((s[i + k] & 0xC0) != 0x80) return Utf8::invalid;
        if (avail < len) return Utf8::incomplete;
        i += len;
    }
    return Utf8::valid;
}

// Where the last, possibly incomplete, character of already-checked UTF-8 text starts: the point
// from which the text must be re-checked once more bytes are appended. Returns `n` when the text
// ends on a boundary.
std::size_t utf8_resume_point(const unsigned char* s, std::size_t n) noexcept {
    // A sequence is at most 4 bytes, so an unfinished one starts within the last 3 bytes.
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        unsigned char c = s[n - back];
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte: the lead byte is further back
        std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return len > back ? n - back : n;
    }
    return n;
}

// Copies `n` payload bytes from `src` to `dst` (which may be the same address), removing the mask.
// The mask starts at key[0] because every call covers a whole frame's payload from its first byte.
void unmask(char* dst, const char* src, std::size_t n, const unsigned char* key) noexcept {
    // Eight copies of the key laid out in memory order, so the XOR is correct on any endianness.
    unsigned char key8[8];
    std::memcpy(key8, key, 4);
    std::memcpy(key8 + 4, key, 4);
    std::uint64_t k;
    std::memcpy(&k, key8, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, src + i, 8);
        w ^= k;
        std::memcpy(dst + i, &w, 8);
    }
    for (; i < n; ++i) dst[i] = static_cast<char>(src[i] ^ key[i % 4]);
}

std::uint64_t read_be(const unsigned char* p, std::size_t bytes) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | p[i];
    return v;
}

// Releases a string's memory (clear() keeps the capacity).
void release(std::string& s) { std::string().swap(s); }

}  // namespace

std::size_t write_frame_header(unsigned char* out, Opcode opcode, std::uint64_t payload_size,
                               Compression compression) noexcept {
    out[0] = static_cast<unsigned char>(kFin | static_cast<unsigned char>(opcode) |
                                        (compression == Compression::deflate ? kRsv1 : 0));
    if (payload_size < 126) {
        out[1] = static_cast<unsigned char>(payload_size);
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        out[1] = 126;
        out[2] = static_cast<unsigned char>(payload_size >> 8);
        out[3] = static_cast<unsigned char>(payload_size);
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i)
        out[2 + i] = static_cast<unsigned char>(payload_size >> (56 - 8 * i));
    return 10;
}

std::string encode_frame(Opcode opcode, std::string_view payload) {
    unsigned char header[kMaxFrameHeader];
    std::size_t n = write_frame_header(header, opcode, payload.size());
    std::string out;
    out.reserve(n + payload.size());
    out.append(reinterpret_cast<const char*>(header), n);
    out.append(payload);
    return out;
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
    if (reason.size() > kMaxCloseReason) {
        // Cut before the character that straddles the limit: back up over continuation bytes.
        std::size_t cut = kMaxCloseReason;
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
        reason = reason.substr(0, cut);
    }
    std::string payload;
    payload.reserve(2 + reason.size());
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason);
    return encode_frame(Opcode::close, payload);
}

bool is_valid_utf8(std::string_view s) noexcept {
    return check_utf8(reinterpret_cast<const unsigned char*>(s.data()), s.size()) == Utf8::valid;
}

FrameParser::FrameParser(ParserLimits limits) : limits_(limits) {}
FrameParser::~FrameParser() = default;
FrameParser::FrameParser(FrameParser&&) noexcept = default;
FrameParser& FrameParser::operator=(FrameParser&&) noexcept = default;

void FrameParser::enable_deflate(bool client_no_context_takeover) {
    deflate_ = true;
    context_takeover_ = !client_no_context_takeover;
}

void FrameParser::feed(const char* data, std::size_t size) {
    // After a violation the connection is being closed; whatever else arrives is dropped, not
    // buffered.
    if (failed_) return;
    // Compact before appending so consumed frames never accumulate. Only the unparsed tail (at most
    // one partial frame, since next() is called until need_more) is moved. Events never view into
    // buffer_, so moving it does not invalidate a payload the caller still holds.
    if (consumed_ == buffer_.size()) {
        buffer_.clear();
        consumed_ = 0;
    } else if (consumed_ > 0) {
        buffer_.erase(0, consumed_);
        consumed_ = 0;
    }
    buffer_.append(data, size);
}

void FrameParser::shrink() {
    // Everything is released, not just large buffers: the next read then costs one allocation,
    // which is small next to the syscall, and an idle connection holds no parser memory at all.
    if (buffered() != 0) return;
    release(buffer_);
    consumed_ = 0;
    release(single_);
    release(inflated_);
    // After a failure control_ holds the error that next() keeps returning.
    if (!failed_) release(control_);
    if (!in_message_) release(message_);
}

// The error of a failed parser lives in control_ as a close payload: big-endian code, then the
// reason. (control_ is otherwise unused once the parser has failed.)
FrameEvent FrameParser::stored_error() const {
    FrameEvent ev;
    ev.kind = FrameEvent::Kind::error;
    ev.code = static_cast<std::uint16_t>(
        read_be(reinterpret_cast<const unsigned char*>(control_.data()), 2));
    ev.reason = control_.substr(2);
    return ev;
}

FrameEvent FrameParser::fail(std::uint16_t code, std::string_view reason) {
    failed_ = true;
    control_.clear();
    control_.push_back(static_cast<char>(code >> 8));
    control_.push_back(static_cast<char>(code & 0xFF));
    control_.append(reason);
    // Nothing buffered will be parsed again; free it now.
    release(buffer_);
    consumed_ = 0;
    release(message_);
    release(single_);
    release(inflated_);
    inflater_.reset();
    in_message_ = false;
    return stored_error();
}

FrameEvent FrameParser::inflate_message(std::string_view compressed, bool text) {
    if (!inflater_) inflater_ = std::make_unique<Inflater>(context_takeover_);
    switch (inflater_->inflate(compressed, limits_.max_message_bytes, inflated_)) {
    case Inflater::Status::ok: break;
    case Inflater::Status::too_big:
        return fail(close_code::message_too_big, "message exceeds the size limit once inflated");
    case Inflater::Status::corrupt:
        // RFC 7692 names no close code for data that does not inflate; 1007 (RFC 6455 §7.4.1: data
        // inconsistent with the type of the message) is what the `ws` library sends too.
        return fail(close_code::invalid_payload, "compressed message is not valid DEFLATE data");
    case Inflater::Status::no_memory:
        return fail(close_code::internal_error, "out of memory inflating a message");
    }
    if (text && !is_valid_utf8(inflated_))
        return fail(close_code::invalid_payload, "text message is not valid UTF-8");
    FrameEvent ev;
    ev.kind = FrameEvent::Kind::message;
    ev.opcode = text ? Opcode::text : Opcode::binary;
    ev.payload = inflated_;
    ev.compressed = true;
    return ev;
}

FrameEvent FrameParser::next() {
    if (failed_) return stored_error();

    for (;;) {
        const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data()) + consumed_;
        const std::size_t avail = buffer_.size() - consumed_;
        if (avail < 2) return {};

        const bool fin = (p[0] & kFin) != 0;
        const unsigned op = p[0] & kOpcodeBits;
        const bool rsv1 = (p[0] & kRsv1) != 0;
        if ((p[0] & kRsv23) || (rsv1 && !deflate_))
            return fail(close_code::protocol_error, "reserved bits set without an extension");
        if (!is_known_opcode(op)) return fail(close_code::protocol_error, "unknown opcode");
        if (!(p[1] & kMask))
            return fail(close_code::protocol_error, "client frames must be masked");
        const bool control = is_control(op);
        // RFC 7692 §6: the bit is set on the first frame of a compressed data message only; on a
        // control frame or a continuation it is a violation (the connection fails: 1002).
        if (rsv1 && control)
            return fail(close_code::protocol_error, "RSV1 set on a control frame");
        if (rsv1 && op == 0x0)
            return fail(close_code::protocol_error, "RSV1 set on a continuation frame");
        std::uint64_t length = p[1] & kLength7;
        if (control) {
            if (!fin) return fail(close_code::protocol_error, "fragmented control frame");
            if (length > kMaxControlPayload)
                return fail(close_code::protocol_error, "control frame payload over 125 bytes");
        }
        std::size_t header = 2;
        if (length == 126) {
            if (avail < 4) return {};
            length = read_be(p + 2, 2);
            header = 4;
        } else if (length == 127) {
            if (avail < 10) return {};
            length = read_be(p + 2, 8);
            header = 10;
            if (length >> 63)
                return fail(close_code::protocol_error,
                            "64-bit payload length with the high bit set");
        }
        // Non-minimal length encodings (e.g. 5 in the 16-bit form) are accepted: §5.2 says "the
        // minimal number of bytes MUST be used", but rejecting them protects nothing, and common
        // clients never send them.

        if (!control) {
            if (op == 0x0 && !in_message_)
                return fail(close_code::protocol_error,
                            "continuation frame without a message in progress");
            if (op != 0x0 && in_message_)
                return fail(close_code::protocol_error,
                            "new data message before the previous one finished");
        }
        // Both limits are checked on the declared length, before any of the payload is buffered or
        // allocated.
        if (length > limits_.max_frame_bytes)
            return fail(close_code::message_too_big, "frame exceeds the size limit");
        if (!control) {
            const std::size_t so_far =
                in_message_ ? message_.size() : 0;  // never above max_message_bytes
            if (so_far > limits_.max_message_bytes || length > limits_.max_message_bytes - so_far)
                return fail(close_code::message_too_big, "message exceeds the size limit");
        }

        header += 4;  // the masking key
        if (avail < header || avail - header < length) return {};
        const auto* key = p + header - 4;
        const std::size_t size = static_cast<std::size_t>(length);
        const std::size_t payload_at = consumed_ + header;
        consumed_ += header + size;

        FrameEvent ev;
        if (control) {
            control_.resize(size);
            unmask(control_.data(), buffer_.data() + payload_at, size, key);
            if (op == static_cast<unsigned>(Opcode::ping)) {
                ev.kind = FrameEvent::Kind::ping;
                ev.opcode = Opcode::ping;
                ev.payload = control_;
                return ev;
            }
            if (op == static_cast<unsigned>(Opcode::pong)) {
                ev.kind = FrameEvent::Kind::pong;
                ev.opcode = Opcode::pong;
                ev.payload = control_;
                return ev;
            }
            ev.kind = FrameEvent::Kind::close;
            ev.opcode = Opcode::close;
            if (size == 0) {
                ev.code = 1005;  // §7.1.5: no status code was present
                return ev;
            }
            if (size == 1)
                return fail(close_code::protocol_error, "close frame with a 1-byte payload");
            const auto code = static_cast<std::uint16_t>(
                read_be(reinterpret_cast<const unsigned char*>(control_.data()), 2));
            if (!is_valid_received_close_code(code))
                return fail(close_code::protocol_error, "invalid close code");
            std::string_view reason = std::string_view(control_).substr(2);
            if (!is_valid_utf8(reason))
                return fail(close_code::invalid_payload, "close reason is not UTF-8");
            ev.code = code;
            ev.payload = reason;
            return ev;
        }

        const bool text = op == static_cast<unsigned>(Opcode::text) ||
                          (op == 0x0 && message_opcode_ == Opcode::text);
        const bool compressed = op == 0x0 ? message_compressed_ : rsv1;
        if (fin && !in_message_) {
            // An unfragmented message (the usual case) never goes through message_. When the frame
            // is the last thing buffered it is unmasked in place and the buffers are swapped, so
            // there is no copy at all; otherwise it is unmasked into single_ in one pass. Either
            // way the payload lives in single_, which feed() does not touch, so the view stays
            // valid until the next call to next().
            std::string_view payload;
            if (consumed_ == buffer_.size()) {
                unmask(buffer_.data() + payload_at, buffer_.data() + payload_at, size, key);
                single_.swap(buffer_);
                buffer_.clear();
                consumed_ = 0;
                payload = std::string_view(single_).substr(payload_at, size);
            } else {
                single_.resize(size);
                unmask(single_.data(), buffer_.data() + payload_at, size, key);
                payload = single_;
            }
            if (compressed) return inflate_message(payload, text);
            if (text && !is_valid_utf8(payload))
                return fail(close_code::invalid_payload, "text message is not valid UTF-8");
            ev.kind = FrameEvent::Kind::message;
            ev.opcode = text ? Opcode::text : Opcode::binary;
            ev.payload = payload;
            return ev;
        }

        if (!in_message_) {
            // The first fragment. The previous message's bytes may still be in message_ (its view
            // was valid until this call), so it is cleared only now.
            message_.clear();
            message_opcode_ = static_cast<Opcode>(op);
            message_compressed_ = compressed;
            in_message_ = true;
        }
        const std::size_t old_size = message_.size();
        message_.resize(old_size + size);
        unmask(message_.data() + old_size, buffer_.data() + payload_at, size, key);
        if (text && !compressed) {
            // Check only the new bytes, plus the unfinished character the previous fragment ended
            // in: the text before it was checked already. Fails fast on a bad fragment instead of
            // waiting for the last one.
            const auto* m = reinterpret_cast<const unsigned char*>(message_.data());
            const std::size_t from = utf8_resume_point(m, old_size);
            const Utf8 state = check_utf8(m + from, message_.size() - from);
            if (state == Utf8::invalid || (fin && state != Utf8::valid))
                return fail(close_code::invalid_payload, "text message is not valid UTF-8");
        }
        // A middle fragment is not an event: go on with what is buffered. (A loop, not recursion,
        // because a peer can send any number of fragments in one read.)
        if (!fin) continue;
        in_message_ = false;
        if (compressed) return inflate_message(message_, text);
        ev.kind = FrameEvent::Kind::message;
        ev.opcode = message_opcode_;
        ev.payload = message_;
        return ev;
    }
}

}  // namespace herald::websocket
