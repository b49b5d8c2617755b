#pragma once
// RFC 6455 framing for the server side, without I/O: encoding server frames (unmasked) and an incremental
// parser of client frames (which must be masked) that reassembles fragmented messages, enforces the frame and
// message size limits, validates UTF-8 of text messages and close reasons, and reports protocol violations with
// the close code the RFC prescribes. Herald owns its WebSocket framing (instead of Beast's stream) so a
// committed event can be encoded once and written, with a per-connection frame header, to every subscriber in
// one writev, and so every byte written goes through one bounded queue.
//
// Threading: a FrameParser belongs to one connection; the free functions are pure.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace herald::websocket {

enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// Close codes (RFC 6455 §7.4.1) Herald sends.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t invalid_payload = 1007;   // e.g. text that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

inline constexpr std::size_t kMaxFrameHeader = 10;  // server frames are unmasked: 2 + 8 bytes at most

// Whether a data frame's payload is a permessage-deflate message (RSV1, RFC 7692 §6).
enum class Compression : bool { none = false, deflate = true };

// Writes the header of a final, unmasked server frame carrying `payload_size` bytes into `out`
// (at least kMaxFrameHeader bytes); returns the header's length.
std::size_t write_frame_header(unsigned char* out, Opcode opcode, std::uint64_t payload_size,
                               Compression compression = Compression::none) noexcept;
// A whole final, unmasked server frame.
std::string encode_frame(Opcode opcode, std::string_view payload);
// A close frame with a code and a reason (truncated to fit the 125-byte control-frame limit, on a UTF-8
// character boundary).
std::string encode_close(std::uint16_t code, std::string_view reason);

bool is_valid_utf8(std::string_view s) noexcept;

struct ParserLimits {
    std::size_t max_frame_bytes = 1 << 20;    // payload of one frame (as sent, so compressed)
    std::size_t max_message_bytes = 1 << 20;  // payload of one reassembled message (once inflated)
};

class Inflater;

// What the parser found. `payload` views into the parser's buffer and is valid until the next call to next().
struct FrameEvent {
    enum class Kind {
        need_more,  // feed more bytes
        message,    // a complete data message: `opcode` is text or binary, `payload` the whole message
        ping,       // answer with a pong carrying `payload`
        pong,
        close,      // the peer closes: `code` (1005 when the frame had no code) and `payload` = reason
        error,      // a violation: close the connection with `code` and `reason`
    };
    Kind kind = Kind::need_more;
    Opcode opcode = Opcode::text;
    std::string_view payload;
    std::uint16_t code = 0;
    std::string reason;  // for error: a short sentence naming the violation
    bool compressed = false;  // message: it arrived permessage-deflate compressed; `payload` is inflated
};

class FrameParser {
public:
    explicit FrameParser(ParserLimits limits = {});
    ~FrameParser();
    FrameParser(FrameParser&&) noexcept;
    FrameParser& operator=(FrameParser&&) noexcept;

    // permessage-deflate was negotiated (RFC 7692): RSV1 on the first frame of a data message marks it
    // compressed, and such messages are inflated, the size limit applying to the inflated bytes. Without the
    // client's `client_no_context_takeover` the inflate window carries over from message to message.
    void enable_deflate(bool client_no_context_takeover);

    // Appends received bytes. The caller then calls next() until it returns need_more (or error/close).
    void feed(const char* data, std::size_t size);
    FrameEvent next();

    // Bytes buffered but not yet consumed (for memory accounting and tests).
    std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }
    // Releases buffer capacity when idle (an idle connection should hold no large buffer).
    void shrink();

private:
    FrameEvent stored_error() const;
    FrameEvent fail(std::uint16_t code, std::string_view reason);
    FrameEvent inflate_message(std::string_view compressed, bool text);

    ParserLimits limits_;
    std::string buffer_;        // received bytes; [consumed_, size) are unparsed
    std::size_t consumed_ = 0;
    std::string message_;       // payload of the fragmented message being reassembled
    Opcode message_opcode_ = Opcode::text;
    bool in_message_ = false;
    bool failed_ = false;
    std::string control_;       // unmasked payload of the last control frame (ping/pong/close)
    std::string single_;        // unmasked payload of the last unfragmented data frame
    // permessage-deflate: the inflater exists from the first compressed message on (it holds the window
    // when there is context takeover); inflated_ holds the last compressed message's inflated payload.
    std::unique_ptr<Inflater> inflater_;
    std::string inflated_;
    bool deflate_ = false;
    bool context_takeover_ = true;
    bool message_compressed_ = false;  // the fragmented message in progress is compressed
};

}  // namespace herald::websocket
