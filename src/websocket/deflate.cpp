#include "websocket/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "base/http_token.hpp"

namespace herald::websocket {

namespace {

constexpr std::string_view kName = "permessage-deflate";
// §7.2.1: the sender removes these four octets (the LEN/NLEN of the empty stored block a sync flush
// ends with); §7.2.2: the receiver appends them again.
constexpr unsigned char kTrailer[4] = {0x00, 0x00, 0xFF, 0xFF};
constexpr std::size_t kMaxStoredBlock = 0xFFFF;
// 32 KiB, the largest DEFLATE window, and the only one Herald compresses with.
constexpr int kWindowBits = 15;

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_http_token_char);
}

Error declined(Errc code, std::string message, std::string_view param) {
    return make_error(code, std::move(message), std::string(param));
}

// §7.1.2.1/§7.1.2.2: "a decimal integer value without leading zeroes between 8 to 15, inclusive".
// Returns 0 for anything else.
int parse_window_bits(std::string_view v) noexcept {
    if (v.empty() || v.size() > 2 || v[0] == '0') return 0;
    int bits = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return 0;
        bits = bits * 10 + (c - '0');
    }
    return bits >= 8 && bits <= 15 ? bits : 0;
}

// The compressor shared by everything one thread encodes. A deflate state with the default memLevel
// holds about 256 KiB; one per worker thread, allocated the first time a permessage-deflate client
// needs it, is cheaper than one per message (deflateInit clears its hash table) or per connection.
class Compressor {
public:
    Compressor() {
        std::memset(&zs_, 0, sizeof zs_);
        ok_ = deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -kWindowBits, 8,
                           Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~Compressor() {
        if (ok_) deflateEnd(&zs_);
    }
    Compressor(const Compressor&) = delete;
    Compressor& operator=(const Compressor&) = delete;

    // Appends the raw deflate of `in` to `out`, sync-flushed. False when zlib failed (out is then
    // unchanged).
    bool compress(std::string& out, std::string_view in) {
        if (!ok_ || deflateReset(&zs_) != Z_OK) return false;
        const std::size_t start = out.size();
        // deflateBound covers Z_FINISH; a sync flush adds at most an empty stored block (5 bytes)
        // and the bits that align it. The loop below grows the buffer anyway if that were ever
        // short.
        std::size_t room = deflateBound(&zs_, static_cast<uLong>(in.size())) + 16;
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        zs_.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            const std::size_t used = out.size();
            out.resize(used + room);
            zs_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            zs_.avail_out = static_cast<uInt>(room);
            const int rc = deflate(&zs_, Z_SYNC_FLUSH);
            out.resize(out.size() - zs_.avail_out);
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                out.resize(start);
                return false;
            }
            // Done once zlib took all input and still had output space: the flush is complete.
            if (zs_.avail_in == 0 && zs_.avail_out != 0) return true;
            room = std::max<std::size_t>(room, 1024);
        }
    }

private:
    z_stream zs_;
    bool ok_ = false;
};

std::size_t stored_size(std::size_t n) noexcept {
    const std::size_t blocks = (n + kMaxStoredBlock - 1) / kMaxStoredBlock;
    return n + 5 * blocks;
}

}  // namespace

Result<DeflateAgreement> accept_deflate_offer(std::string_view offer) {
    // `name; param; param=value`: split on ';' (a value is a token or a quoted token, never holding
    // one).
    std::vector<std::string_view> parts;
    for (std::string_view rest = offer;;) {
        const auto semi = rest.find(';');
        parts.push_back(trim(rest.substr(0, semi)));
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
    }
    if (!iequals(parts.front(), kName))
        return declined(Errc::not_found, "not a permessage-deflate offer", {});

    bool server_no_context_takeover = false, client_no_context_takeover = false;
    bool has_server_bits = false, has_client_bits = false;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string_view param = parts[i];
        const auto eq = param.find('=');
        const std::string_view name = trim(param.substr(0, eq));
        if (!is_token(name)) return declined(Errc::invalid_argument, "malformed parameter", param);
        std::optional<std::string_view> value;
        if (eq != std::string_view::npos) {
            std::string_view v = trim(param.substr(eq + 1));
            // RFC 6455 §9.1: a value is a token or a quoted-string whose content is a token. The
            // values defined here never contain a backslash, so a quoted-string is just the token
            // between its quotes.
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            if (!is_token(v))
                return declined(Errc::invalid_argument, "malformed parameter value", name);
            value = v;
        }
        auto once = [&](bool& seen) -> bool {
            if (seen) return false;
            seen = true;
            return true;
        };
        if (iequals(name, "server_no_context_takeover") ||
            iequals(name, "client_no_context_takeover")) {
            bool& flag = iequals(name, "server_no_context_takeover") ? server_no_context_takeover
                                                                     : client_no_context_takeover;
            if (!once(flag)) return declined(Errc::invalid_argument, "parameter repeated", name);
            if (value)
                return declined(Errc::invalid_argument, "this parameter takes no value", name);
        } else if (iequals(name, "server_max_window_bits")) {
            if (!once(has_server_bits))
                return declined(Errc::invalid_argument, "parameter repeated", name);
            const int server_bits = value ? parse_window_bits(*value) : 0;
            if (server_bits == 0)
                return declined(Errc::invalid_argument,
                                "window bits must be an integer from 8 to 15", name);
            // Event tails are compressed once for every subscriber, with the full window; a smaller
            // one would need a copy per window size. Declining lets the client connect
            // uncompressed.
            if (server_bits < kWindowBits)
                return declined(Errc::unprocessable, "only a 15-bit server window is supported",
                                name);
        } else if (iequals(name, "client_max_window_bits")) {
            if (!once(has_client_bits))
                return declined(Errc::invalid_argument, "parameter repeated", name);
            // Without a value it only says the client could honour a limit; with one, the client's
            // window is at most that. Inflating with a 15-bit window reads any smaller window, so
            // there is nothing to answer (§7.1.2.2: the client then may use up to 15 bits).
            if (value && parse_window_bits(*value) == 0)
                return declined(Errc::invalid_argument,
                                "window bits must be an integer from 8 to 15", name);
        } else {
            return declined(Errc::invalid_argument, "unknown parameter", name);
        }
    }

    DeflateAgreement agreed;
    agreed.client_no_context_takeover = client_no_context_takeover;
    agreed.response = "permessage-deflate; server_no_context_takeover";
    // Confirms the client's own promise; harmless, and it makes the agreement explicit on the wire.
    if (client_no_context_takeover) agreed.response += "; client_no_context_takeover";
    // §7.1.2.1: accepting an offer that carries server_max_window_bits means echoing it (same or
    // smaller).
    if (has_server_bits) agreed.response += "; server_max_window_bits=15";
    return agreed;
}

std::optional<DeflateAgreement> negotiate_deflate(const std::vector<std::string>& offers) {
    for (const auto& offer : offers) {
        auto agreed = accept_deflate_offer(offer);
        if (agreed) return std::move(*agreed);
    }
    return std::nullopt;
}

void append_stored_blocks(std::string& out, std::string_view bytes) {
    out.reserve(out.size() + stored_size(bytes.size()));
    while (!bytes.empty()) {
        const std::size_t n = std::min(bytes.size(), kMaxStoredBlock);
        const auto len = static_cast<std::uint16_t>(n);
        const auto nlen = static_cast<std::uint16_t>(~len);
        // BFINAL = 0 and BTYPE = 00 in the low three bits, the rest of the byte is padding up to
        // LEN.
        const char header[5] = {0x00, static_cast<char>(len & 0xFF), static_cast<char>(len >> 8),
                                static_cast<char>(nlen & 0xFF), static_cast<char>(nlen >> 8)};
        out.append(header, 5);
        out.append(bytes.substr(0, n));
        bytes.remove_prefix(n);
    }
}

void append_compressed(std::string& out, std::string_view bytes) {
    const std::size_t start = out.size();
    if (!bytes.empty()) {
        thread_local Compressor compressor;
        if (compressor.compress(out, bytes)) {
            const std::size_t n = out.size() - start;
            // A sync flush always ends with the trailer; what precedes it is the part worth
            // sending, unless stored blocks (plus the 0x00 below) are no larger, as for short or
            // random tails.
            if (n >= 4 && std::memcmp(out.data() + out.size() - 4, kTrailer, 4) == 0 &&
                n - 4 < stored_size(bytes.size()) + 1) {
                out.resize(out.size() - 4);
                return;
            }
        }
        out.resize(start);
        append_stored_blocks(out, bytes);
    }
    // The header bits of an empty stored block on a byte boundary; the receiver's 00 00 ff ff
    // completes it.
    out.push_back('\0');
}

struct Inflater::State {
    z_stream zs{};
    bool initialized = false;
    ~State() {
        if (initialized) inflateEnd(&zs);
    }
};

Inflater::Inflater(bool context_takeover) : context_takeover_(context_takeover) {}

Inflater::~Inflater() = default;

Inflater::Status Inflater::inflate(std::string_view payload, std::size_t max_bytes,
                                   std::string& out) {
    out.clear();
    // Not even the header of the empty block the trailer completes: the trailer alone would be a
    // truncated stream, but the only reading of an empty compressed payload is an empty message.
    if (payload.empty()) return Status::ok;
    if (!state_) {
        state_ = std::make_unique<State>();
        if (inflateInit2(&state_->zs, -kWindowBits) != Z_OK) {
            state_.reset();
            return Status::no_memory;
        }
        state_->initialized = true;
    }
    z_stream& zs = state_->zs;
    std::size_t produced = 0;
    // Grow the output geometrically from a guess, never past max_bytes + 1: one byte over the limit
    // is enough to know the message is too big.
    auto grow = [&] {
        const std::size_t cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
        std::size_t want = std::max<std::size_t>({out.size() * 2, payload.size() * 4, 256});
        want = std::min(want, cap);
        out.resize(want);
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
        zs.avail_out = static_cast<uInt>(std::min<std::size_t>(want - produced, UINT32_MAX));
    };
    bool stream_ended = false;  // the last inflate() call finished a BFINAL block: a boundary too
    auto run = [&](const unsigned char* in, std::size_t n, int flush) -> Status {
        zs.next_in = const_cast<Bytef*>(in);
        zs.avail_in = static_cast<uInt>(n);
        for (;;) {
            if (zs.avail_out == 0) {
                if (produced > max_bytes) return Status::too_big;
                grow();
            }
            stream_ended = false;
            const uInt before = zs.avail_out;
            const int rc = ::inflate(&zs, flush);
            produced += before - zs.avail_out;
            if (produced > max_bytes) return Status::too_big;
            if (rc == Z_STREAM_END) {
                // A block with BFINAL set ended the sender's stream (RFC 7692 §7.2.3.4 allows it).
                // What follows, at least the trailer, starts a new one, so inflating goes on from a
                // reset state.
                if (inflateReset(&zs) != Z_OK) return Status::corrupt;
                stream_ended = zs.avail_in == 0;
                if (stream_ended) return Status::ok;
                continue;
            }
            if (rc == Z_MEM_ERROR) return Status::no_memory;
            if (rc != Z_OK && rc != Z_BUF_ERROR) return Status::corrupt;
            if (zs.avail_in == 0 && zs.avail_out != 0) return Status::ok;
            if (rc == Z_BUF_ERROR && zs.avail_out != 0)
                return Status::corrupt;  // no progress possible
        }
    };
    zs.avail_out = 0;
    Status s =
        run(reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), Z_SYNC_FLUSH);
    // The trailer is inflated with Z_BLOCK so zlib stops on the block boundary it must complete:
    // bit 7 of data_type then says whether it did. Otherwise the message was cut inside a block
    // (truncated data). When the payload ended the stream with a BFINAL block there is nothing to
    // complete: the trailer would be read as the start of a new stream, so it is left out.
    if (s == Status::ok && !stream_ended) {
        s = run(kTrailer, sizeof kTrailer, Z_BLOCK);
        if (s == Status::ok && !stream_ended && (zs.data_type & 128) == 0) s = Status::corrupt;
    }
    out.resize(produced);
    // Without context takeover the window is worth nothing after this message: free it, so an idle
    // connection holds no inflate state. After an error the state is undefined, so it goes too.
    if (!context_takeover_ || s != Status::ok) state_.reset();
    return s;
}

}  // namespace herald::websocket
