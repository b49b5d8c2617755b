// The client side of RFC 6455 framing, for the load generator: server frames are split in place in
// a connection's buffer (no copy, no allocation), client frames are written masked (§5.3) into a
// caller's buffer. Nothing here does I/O.
//
// Limits, on purpose: fragmented server messages (FIN = 0, continuation frames) are reported to the
// caller, which treats them as unsupported — Herald sends every message in one frame; extensions
// are never negotiated, so reserved bits must be 0; the handshake's Sec-WebSocket-Accept is not
// checked (that needs SHA-1, and the generator links nothing but Asio), only the 101 status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace herald::bench {

enum class WsOpcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// xorshift64*: masking keys and handshake keys. RFC 6455 asks for unpredictable masks to protect
// intermediaries; on loopback against a server we start ourselves a fast PRNG is enough.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
    std::uint64_t next() {
        s_ ^= s_ >> 12;
        s_ ^= s_ << 25;
        s_ ^= s_ >> 27;
        return s_ * 0x2545F4914F6CDD1Dull;
    }

private:
    std::uint64_t s_;
};

// Sec-WebSocket-Key: the base64 of 16 random bytes (24 characters ending in "==").
inline void ws_random_key(Rng& rng, char out[24]) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[16];
    const std::uint64_t a = rng.next(), b = rng.next();
    std::memcpy(raw, &a, 8);
    std::memcpy(raw + 8, &b, 8);
    std::size_t o = 0;
    for (std::size_t i = 0; i < 15; i += 3) {
        const unsigned v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
        out[o++] = kAlphabet[(v >> 18) & 63];
        out[o++] = kAlphabet[(v >> 12) & 63];
        out[o++] = kAlphabet[(v >> 6) & 63];
        out[o++] = kAlphabet[v & 63];
    }
    const unsigned v = raw[15] << 16;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = '=';
    out[o++] = '=';
}

// The length of a masked client frame's header for a payload of `n` bytes.
constexpr std::size_t ws_masked_header_size(std::uint64_t n) {
    return (n < 126 ? 2 : n < 65536 ? 4 : 10) + 4;
}

// Writes one final, masked client frame (header, then `payload` XOR the key) to `out`, which has
// room for ws_masked_header_size(n) + n bytes; returns the bytes written. `payload` may not
// overlap `out`.
inline std::size_t ws_write_masked_frame(char* out, WsOpcode opcode, const char* payload,
                                         std::size_t n, std::uint32_t mask) {
    auto* o = reinterpret_cast<unsigned char*>(out);
    std::size_t h = 0;
    o[h++] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(opcode));
    if (n < 126) {
        o[h++] = static_cast<unsigned char>(0x80 | n);
    } else if (n < 65536) {
        o[h++] = 0x80 | 126;
        o[h++] = static_cast<unsigned char>(n >> 8);
        o[h++] = static_cast<unsigned char>(n);
    } else {
        o[h++] = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            o[h++] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> shift);
    }
    unsigned char key[4];
    std::memcpy(key, &mask, 4);
    std::memcpy(o + h, key, 4);
    h += 4;
    // Eight bytes at a time with the key repeated; the key's phase is the same at every multiple
    // of 8, so no rotation is needed.
    std::uint64_t key8;
    std::memcpy(&key8, key, 4);
    std::memcpy(reinterpret_cast<unsigned char*>(&key8) + 4, key, 4);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, payload + i, 8);
        v ^= key8;
        std::memcpy(o + h + i, &v, 8);
    }
    for (; i < n; ++i) o[h + i] = static_cast<unsigned char>(payload[i]) ^ key[i & 3];
    return h + n;
}

// Appends a masked frame to `out` without reallocating when its capacity suffices.
inline void ws_append_masked_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                                   std::uint32_t mask) {
    const std::size_t at = out.size();
    out.resize(at + ws_masked_header_size(payload.size()) + payload.size());
    const std::size_t n =
        ws_write_masked_frame(out.data() + at, opcode, payload.data(), payload.size(), mask);
    out.resize(at + n);
}

// One server frame, viewed in place.
struct WsFrame {
    WsOpcode opcode = WsOpcode::text;
    bool fin = true;
    std::string_view payload;
};

// Calls `on_frame(const WsFrame&) -> bool` (false: stop) for every complete frame in
// data[0, size) and returns how many bytes were consumed. Sets `error` (and stops) on a frame no
// server may send: reserved bits, a masked frame, a control frame over 125 bytes or fragmented, a
// 64-bit length with the top bit set. A frame longer than the caller's buffer is left unconsumed;
// the caller notices that its buffer is full.
template <typename F>
std::size_t scan_ws_frames(const char* data, std::size_t size, const char*& error, F&& on_frame) {
    const auto* d = reinterpret_cast<const unsigned char*>(data);
    std::size_t pos = 0;
    error = nullptr;
    while (size - pos >= 2) {
        const unsigned b0 = d[pos], b1 = d[pos + 1];
        if (b0 & 0x70) {
            error = "reserved bits set in a server frame";
            return pos;
        }
        if (b1 & 0x80) {
            error = "masked server frame";
            return pos;
        }
        const auto opcode = static_cast<WsOpcode>(b0 & 0x0F);
        std::uint64_t len = b1 & 0x7F;
        std::size_t header = 2;
        if (len == 126) {
            if (size - pos < 4) break;
            len = (std::uint64_t{d[pos + 2]} << 8) | d[pos + 3];
            header = 4;
        } else if (len == 127) {
            if (size - pos < 10) break;
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | d[pos + 2 + i];
            if (len >> 63) {
                error = "frame length with the top bit set";
                return pos;
            }
            header = 10;
        }
        const bool control = (b0 & 0x08) != 0;
        if (control && (len > 125 || !(b0 & 0x80))) {
            error = "control frame too long or fragmented";
            return pos;
        }
        if (len > size - pos - header) break;
        WsFrame f;
        f.opcode = opcode;
        f.fin = (b0 & 0x80) != 0;
        f.payload = std::string_view(data + pos + header, static_cast<std::size_t>(len));
        pos += header + static_cast<std::size_t>(len);
        if (!on_frame(f)) return pos;
    }
    return pos;
}

// Whether a herald.v1 message has the given op. Herald writes `op` first (`{"op":"event",…`), so a
// prefix comparison is enough; anything else does not match.
inline bool ws_op_is(std::string_view message, std::string_view op) {
    static constexpr std::string_view prefix = "{\"op\":\"";
    if (!message.starts_with(prefix)) return false;
    message.remove_prefix(prefix.size());
    return message.size() > op.size() && message.starts_with(op) && message[op.size()] == '"';
}

}  // namespace herald::bench
