#pragma once
// RFC 7692 permessage-deflate, without I/O: the handshake negotiation, the encoding of server
// messages and the inflater for client messages.
//
// Server → client, encoded once for every subscriber. The server always answers
// `server_no_context_takeover` (RFC 7692 §7.1.1.1 lets it add that parameter unasked), so each
// message it sends is an independent raw DEFLATE stream that needs nothing from the messages before
// it. An event message is the concatenation of
//
//   1. the per-subscription prefix as DEFLATE stored blocks (RFC 1951 §3.2.4), BFINAL = 0:
//        0x00 | LEN (u16 LE) | NLEN = ~LEN (u16 LE) | LEN bytes, LEN <= 65535, repeated;
//      the prefix is fixed per subscription, so this is built once when it opens;
//   2. the shared event tail, compressed once per event for all subscribers: a fresh raw deflate
//      stream (windowBits -15), Z_SYNC_FLUSH, the trailing 00 00 ff ff removed (§7.2.1) — or, when
//      that would not be smaller, stored blocks followed by a 0x00 byte.
//
// The concatenation is one valid DEFLATE stream: stored blocks end on a byte boundary, which is
// where the tail's own stream starts, and the tail's back-references never reach before its own
// start (it was compressed with an empty window). Both forms of the tail end where appending
// 00 00 ff ff completes an empty stored block, which is what the receiver does (§7.2.2). Herald
// compresses event messages only; replies, errors, resets and control frames go uncompressed
// (RSV1 = 0), which RFC 7692 allows for any message.
//
// Client → server: messages whose first frame has RSV1 set are inflated with one inflater per
// connection, created on the first compressed message. It keeps its 32 KiB window between messages
// (context takeover), unless the client declared `client_no_context_takeover`, in which case its
// state is freed after every message.
//
// Threading: the free functions are pure and thread-safe (the compressor is per thread); an
// Inflater belongs to one connection.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::websocket {

// What the opening handshake agreed to (RFC 7692 §7.1).
struct DeflateAgreement {
    // The client will not use context takeover (§7.1.1.2): its messages are independent streams, so
    // the server keeps no inflate window between them.
    bool client_no_context_takeover = false;
    // The Sec-WebSocket-Extensions value of the 101 answer.
    std::string response;
};

// Checks one element of Sec-WebSocket-Extensions (`name; param; param=value`). Errors are the
// reason the server declines it (§5: unknown parameter, invalid value, repeated parameter;
// §7.1.2.1: a server_max_window_bits below 15, which Herald does not support since event tails are
// compressed once with a 32 KiB window for every subscriber); Errc::not_found when it is another
// extension.
Result<DeflateAgreement> accept_deflate_offer(std::string_view offer);
// The first acceptable permessage-deflate offer among `offers`, in the client's order of
// preference; nullopt declines the extension (the connection then runs uncompressed).
std::optional<DeflateAgreement> negotiate_deflate(const std::vector<std::string>& offers);

// Appends `bytes` as DEFLATE stored blocks with BFINAL = 0 (nothing for no bytes). Byte-aligned, no
// zlib.
void append_stored_blocks(std::string& out, std::string_view bytes);
// Appends `bytes` as an independent part of a compressed message payload: a fresh raw deflate
// stream, sync-flushed, with the 00 00 ff ff trailer removed — or stored blocks plus the 0x00 that
// starts the receiver's empty block when that is not larger. An empty input gives the single byte
// 0x00, the empty fragment of §7.2.3.6.
void append_compressed(std::string& out, std::string_view bytes);

// Inflates client messages for one connection.
class Inflater {
public:
    enum class Status {
        ok,
        too_big,   // over the limit once inflated (a decompression bomb, or just a large message)
        corrupt,   // not a valid DEFLATE stream, or cut inside a block
        no_memory  // zlib could not allocate its state
    };

    explicit Inflater(bool context_takeover);
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    // Inflates one message's payload into `out` (replacing its content): appends the 00 00 ff ff
    // the sender removed (§7.2.2) and stops as soon as the output passes `max_bytes`, so a bomb
    // costs at most that much memory. After an error the inflater must not be used again.
    Status inflate(std::string_view payload, std::size_t max_bytes, std::string& out);

private:
    struct State;
    std::unique_ptr<State> state_;  // zlib's z_stream, created on first use
    bool context_takeover_;
};

}  // namespace herald::websocket
