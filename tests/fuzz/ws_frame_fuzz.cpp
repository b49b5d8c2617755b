// Fuzz target: the RFC 6455 frame parser (websocket::FrameParser), which reads every byte a
// WebSocket client sends.
//
// Input layout, so seeds can be written by hand:
//   byte 0   max_frame_bytes   = byte * 8   (0 .. 2040)
//   byte 1   max_message_bytes = byte * 16  (0 .. 4080)
//   byte 2   delivery: low 6 bits = largest chunk (0: the whole stream in one feed), bit 6 = call
//            shrink() whenever the parser is idle, as the session does; bit 7 = permessage-deflate
//            was negotiated (RSV1 marks compressed messages), with client_no_context_takeover when
//            byte 0 is odd
//   rest     the bytes the client sends (client frames, masked)
// The small limits make the size checks reachable with short inputs (and a short deflate stream
// inflates past them easily).
//
// Invariants beyond "no crash, no sanitizer report":
//  - the events are the same whether the stream arrives in one piece or in chunks, with or without
//    shrink() in between (the parser is incremental);
//  - text messages and close reasons are valid UTF-8 (checked against a reference validator),
//    messages respect max_message_bytes, control payloads 125 bytes;
//  - when the parser asks for more, it holds less than one frame header plus one frame
//    (a peer cannot make it buffer more);
//  - errors carry a close code the RFC prescribes and a reason;
//  - a frame built by encode_frame/encode_close and masked like a client would parses back to its
//    payload (the close reason cut on a character boundary);
//  - a message built like the server's compressed events (stored-block prefix + compressed tail,
//    RSV1) parses back, through the inflater, to prefix + tail.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "websocket/deflate.hpp"
#include "websocket/frame.hpp"

using namespace herald;
using websocket::FrameEvent;
using websocket::FrameParser;
using websocket::Opcode;

namespace {

struct Seen {
    FrameEvent::Kind kind;
    Opcode opcode;
    std::uint16_t code;
    std::string payload;
    bool operator==(const Seen&) const = default;
};

constexpr std::size_t kMaxClientHeader = 14;  // 2 + 8 length bytes + 4 mask bytes

void check_event(const FrameEvent& ev, const websocket::ParserLimits& limits) {
    switch (ev.kind) {
        case FrameEvent::Kind::message:
            HERALD_FUZZ_CHECK(ev.opcode == Opcode::text || ev.opcode == Opcode::binary);
            HERALD_FUZZ_CHECK(ev.payload.size() <= limits.max_message_bytes);
            if (ev.opcode == Opcode::text) HERALD_FUZZ_CHECK(fuzz::reference_utf8(ev.payload));
            break;
        case FrameEvent::Kind::ping:
        case FrameEvent::Kind::pong:
            HERALD_FUZZ_CHECK(ev.payload.size() <= 125);
            break;
        case FrameEvent::Kind::close:
            HERALD_FUZZ_CHECK(ev.payload.size() <= 123);
            HERALD_FUZZ_CHECK(fuzz::reference_utf8(ev.payload));
            HERALD_FUZZ_CHECK(ev.code == 1005 || (ev.code >= 1000 && ev.code <= 4999));
            HERALD_FUZZ_CHECK(ev.code != 1005 || ev.payload.empty());
            break;
        case FrameEvent::Kind::error:
            HERALD_FUZZ_CHECK(ev.code == websocket::close_code::protocol_error ||
                              ev.code == websocket::close_code::invalid_payload ||
                              ev.code == websocket::close_code::message_too_big);
            // (internal_error is reserved for zlib running out of memory, which fuzzing never hits.)
            HERALD_FUZZ_CHECK(!ev.reason.empty());
            break;
        case FrameEvent::Kind::need_more:
            break;
    }
}

// Feeds `stream` in chunks (chunk 0: all at once) and returns every event up to the first close or
// error, as the session would act on them.
// `deflate`: 0 = not negotiated, 1 = with context takeover, 2 = client_no_context_takeover.
std::vector<Seen> run(std::string_view stream, const websocket::ParserLimits& limits,
                      std::size_t max_chunk, bool shrink, std::uint32_t rng, int deflate) {
    FrameParser parser(limits);
    if (deflate != 0) parser.enable_deflate(deflate == 2);
    std::vector<Seen> seen;
    std::size_t pos = 0;
    do {
        std::size_t n = stream.size() - pos;
        if (max_chunk != 0) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            n = std::min<std::size_t>(n, 1 + rng % max_chunk);
        }
        parser.feed(stream.data() + pos, n);
        pos += n;
        for (;;) {
            FrameEvent ev = parser.next();
            check_event(ev, limits);
            if (ev.kind == FrameEvent::Kind::need_more) {
                HERALD_FUZZ_CHECK(parser.buffered() < kMaxClientHeader + limits.max_frame_bytes);
                break;
            }
            Seen s{ev.kind, ev.opcode, ev.code,
                   ev.kind == FrameEvent::Kind::error ? ev.reason : std::string(ev.payload)};
            seen.push_back(std::move(s));
            if (ev.kind == FrameEvent::Kind::close || ev.kind == FrameEvent::Kind::error) {
                // A failed parser keeps answering with its error and drops what it is fed.
                if (ev.kind == FrameEvent::Kind::error) {
                    parser.feed(stream.data(), stream.size());
                    FrameEvent again = parser.next();
                    HERALD_FUZZ_CHECK(again.kind == FrameEvent::Kind::error &&
                                      again.code == ev.code);
                    HERALD_FUZZ_CHECK(parser.buffered() == 0);
                }
                return seen;
            }
        }
        if (shrink && parser.buffered() == 0) parser.shrink();
    } while (pos < stream.size());
    return seen;
}

// A server frame made into a client frame: mask bit set, `key` inserted, payload XORed.
std::string mask_frame(const std::string& frame, const unsigned char key[4]) {
    const std::size_t len7 = static_cast<unsigned char>(frame[1]) & 0x7F;
    const std::size_t header = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
    std::string out = frame.substr(0, header);
    out[1] = static_cast<char>(out[1] | 0x80);
    out.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = header; i < frame.size(); ++i) {
        out.push_back(static_cast<char>(frame[i] ^ key[(i - header) % 4]));
    }
    return out;
}

void check_encoders(std::string_view payload, const unsigned char key[4]) {
    websocket::ParserLimits big;
    big.max_frame_bytes = big.max_message_bytes = 1 << 20;

    FrameParser parser(big);
    const std::string frame = mask_frame(websocket::encode_frame(Opcode::binary, payload), key);
    parser.feed(frame.data(), frame.size());
    FrameEvent ev = parser.next();
    HERALD_FUZZ_CHECK(ev.kind == FrameEvent::Kind::message && ev.opcode == Opcode::binary);
    HERALD_FUZZ_CHECK(ev.payload == payload);
    HERALD_FUZZ_CHECK(parser.next().kind == FrameEvent::Kind::need_more);

    if (!fuzz::reference_utf8(payload)) return;
    const std::string close = mask_frame(websocket::encode_close(1000, payload), key);
    parser.feed(close.data(), close.size());
    ev = parser.next();
    HERALD_FUZZ_CHECK(ev.kind == FrameEvent::Kind::close && ev.code == 1000);
    HERALD_FUZZ_CHECK(payload.substr(0, ev.payload.size()) == ev.payload);
    HERALD_FUZZ_CHECK(payload.size() <= 123 ? ev.payload.size() == payload.size()
                                            : ev.payload.size() + 4 > 123);

    // The server's compressed event message, split anywhere into the per-subscription prefix (stored
    // blocks) and the shared tail (compressed), read back by a parser that negotiated deflate.
    const std::size_t split = payload.empty() ? 0 : key[0] % (payload.size() + 1);
    std::string compressed;
    websocket::append_stored_blocks(compressed, payload.substr(0, split));
    websocket::append_compressed(compressed, payload.substr(split));
    unsigned char header[websocket::kMaxFrameHeader];
    const std::size_t n = websocket::write_frame_header(header, Opcode::binary, compressed.size(),
                                                         websocket::Compression::deflate);
    std::string server_frame(reinterpret_cast<const char*>(header), n);
    server_frame += compressed;
    const std::string client = mask_frame(server_frame, key);
    FrameParser inflating(big);
    inflating.enable_deflate(key[1] & 1);
    inflating.feed(client.data(), client.size());
    ev = inflating.next();
    HERALD_FUZZ_CHECK(ev.kind == FrameEvent::Kind::message && ev.opcode == Opcode::binary);
    HERALD_FUZZ_CHECK(ev.compressed && ev.payload == payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    websocket::ParserLimits limits;
    limits.max_frame_bytes = std::size_t{data[0]} * 8;
    limits.max_message_bytes = std::size_t{data[1]} * 16;
    const std::size_t max_chunk = data[2] & 0x3F;
    const bool shrink = (data[2] & 0x40) != 0;
    const int deflate = (data[2] & 0x80) == 0 ? 0 : (data[0] & 1) != 0 ? 2 : 1;
    const std::string_view stream = fuzz::as_text(data + 3, size - 3);

    HERALD_FUZZ_CHECK(websocket::is_valid_utf8(stream) == fuzz::reference_utf8(stream));

    const std::uint32_t rng = 0x9E3779B9u ^ (static_cast<std::uint32_t>(size) << 8) ^ data[2];
    const std::vector<Seen> whole = run(stream, limits, 0, false, rng, deflate);
    if (max_chunk != 0 || shrink) {
        const std::vector<Seen> chunked = run(stream, limits, max_chunk, shrink, rng | 1, deflate);
        HERALD_FUZZ_CHECK(whole == chunked);
    }

    const unsigned char key[4] = {data[0], data[1], data[2], static_cast<unsigned char>(size)};
    check_encoders(stream.substr(0, 300), key);
    return 0;
}
