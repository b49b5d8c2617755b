#include "websocket/deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/frame.hpp"

namespace herald::websocket {
namespace {

// ---------------------------------------------------------------------------------------------
// Independent helpers: zlib used directly, as a peer would, not through the code under test.

// What a receiver does (RFC 7692 §7.2.2): append 00 00 ff ff, inflate with a fresh raw stream.
// nullopt when zlib reports an error or the stream does not end on a block boundary (the appended
// empty stored block must complete exactly).
std::optional<std::string> reference_inflate(std::string_view payload) {
    std::string in(payload);
    in.append("\x00\x00\xff\xff", 4);
    z_stream zs{};
    if (inflateInit2(&zs, -15) != Z_OK) return std::nullopt;
    std::string out;
    zs.next_in = reinterpret_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    char buf[16384];
    // Z_BLOCK stops at block boundaries, and data_type of the call that read the last byte tells
    // whether the input ended on one (a further call would start reading the next block header and
    // clear it).
    for (;;) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_BLOCK);
        out.append(buf, sizeof buf - zs.avail_out);
        if (rc != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) break;
    }
    const bool at_boundary = (zs.data_type & 128) != 0;
    inflateEnd(&zs);
    if (rc != Z_OK || zs.avail_in != 0 || !at_boundary) return std::nullopt;
    return out;
}

// A client's compressor: raw deflate, sync flush, trailer removed (§7.2.1). With `zs` kept between
// calls it uses context takeover, as browsers do by default.
struct ClientDeflater {
    z_stream zs{};
    ClientDeflater() { deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); }
    ~ClientDeflater() { deflateEnd(&zs); }
    std::string compress(std::string_view in, int flush = Z_SYNC_FLUSH) {
        std::string out(deflateBound(&zs, in.size()) + 64, '\0');
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        zs.avail_in = static_cast<uInt>(in.size());
        zs.next_out = reinterpret_cast<Bytef*>(out.data());
        zs.avail_out = static_cast<uInt>(out.size());
        EXPECT_NE(deflate(&zs, flush), Z_STREAM_ERROR);
        EXPECT_EQ(zs.avail_in, 0u);
        out.resize(out.size() - zs.avail_out);
        if (flush == Z_SYNC_FLUSH) {
            EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
            out.resize(out.size() - 4);
        }
        return out;
    }
};

std::string compressible(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; s.size() < n; ++i)
        s += "{\"op\":\"event\",\"topic\":\"orders\",\"n\":" + std::to_string(i) + "},";
    s.resize(n);
    return s;
}

std::string random_bytes(std::size_t n, std::uint32_t seed = 42) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// The server's event message: the prefix as stored blocks, then the shared tail (deflate.hpp).
std::string server_message(std::string_view prefix, std::string_view tail) {
    std::string m;
    append_stored_blocks(m, prefix);
    append_compressed(m, tail);
    return m;
}

// ---------------------------------------------------------------------------------------------
// Negotiation (RFC 7692 §5, §7.1)

TEST(DeflateOffer, PlainOfferGetsServerNoContextTakeover) {
    auto a = accept_deflate_offer("permessage-deflate");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover");
    EXPECT_FALSE(a->client_no_context_takeover);
}

TEST(DeflateOffer, ClientMaxWindowBitsIsAcceptedWithOrWithoutValueAndNotAnswered) {
    // What Chrome and the `ws` library offer. Inflating with a 15-bit window reads any smaller
    // window, so the response leaves the parameter out (the client may then use up to 15 bits).
    for (std::string_view offer : {"permessage-deflate; client_max_window_bits",
                                   "permessage-deflate; client_max_window_bits=10",
                                   "permessage-deflate; client_max_window_bits=\"12\"",
                                   "permessage-deflate;client_max_window_bits=8",
                                   "PerMessage-Deflate; Client_Max_Window_Bits = 15"}) {
        auto a = accept_deflate_offer(offer);
        ASSERT_TRUE(a) << offer << ": " << a.error().message;
        EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover") << offer;
    }
}

TEST(DeflateOffer, ClientNoContextTakeoverIsHonouredAndConfirmed) {
    auto a = accept_deflate_offer(
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->client_no_context_takeover);
    EXPECT_EQ(a->response,
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST(DeflateOffer, ServerMaxWindowBitsFifteenIsEchoedSmallerIsDeclined) {
    auto a = accept_deflate_offer("permessage-deflate; server_max_window_bits=15");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->response,
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=15");
    for (std::string_view offer : {"permessage-deflate; server_max_window_bits=14",
                                   "permessage-deflate; server_max_window_bits=8"}) {
        auto d = accept_deflate_offer(offer);
        ASSERT_FALSE(d) << offer;
        EXPECT_EQ(d.error().code, Errc::unprocessable);
        EXPECT_EQ(d.error().attribute, "server_max_window_bits");
    }
}

TEST(DeflateOffer, InvalidParametersAreDeclined) {
    for (
        std::string_view offer : {
            "permessage-deflate; server_max_window_bits",  // needs a value
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=08",  // leading zero
            "permessage-deflate; client_max_window_bits=abc",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; client_max_window_bits=\"1 2\"",
            "permessage-deflate; server_no_context_takeover=1",  // takes no value
            "permessage-deflate; client_no_context_takeover=\"\"",
            "permessage-deflate; foo",  // unknown
            "permessage-deflate; x=1",
            "permessage-deflate;",  // empty parameter
            "permessage-deflate; ; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  // repeated
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; client_no_context_takeover; Client_No_Context_Takeover",
        }) {
        auto a = accept_deflate_offer(offer);
        ASSERT_FALSE(a) << offer;
        EXPECT_EQ(a.error().code, Errc::invalid_argument) << offer;
    }
}

TEST(DeflateOffer, OtherExtensionsAreNotFound) {
    for (std::string_view offer :
         {"x-webkit-deflate-frame", "permessage-deflatex", "deflate-frame; a=b", ""}) {
        auto a = accept_deflate_offer(offer);
        ASSERT_FALSE(a) << offer;
        EXPECT_EQ(a.error().code, Errc::not_found) << offer;
    }
}

TEST(DeflateNegotiation, TakesTheFirstAcceptableOfferInOrder) {
    auto a = negotiate_deflate(
        {"x-webkit-deflate-frame", "permessage-deflate; server_max_window_bits=10",
         "permessage-deflate; foo", "permessage-deflate; client_no_context_takeover",
         "permessage-deflate"});
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->client_no_context_takeover);

    EXPECT_FALSE(negotiate_deflate({}));
    EXPECT_FALSE(negotiate_deflate({"permessage-deflate; server_max_window_bits=9", "foo"}));
}

// ---------------------------------------------------------------------------------------------
// Server messages: stored-block prefix + compressed shared tail

TEST(DeflateMessage, StoredBlocksAreByteExact) {
    std::string out;
    append_stored_blocks(out, "abc");
    EXPECT_EQ(out, std::string("\x00\x03\x00\xfc\xff"
                               "abc",
                               8));
    out.clear();
    append_stored_blocks(out, "");
    EXPECT_EQ(out, "");
    // 65535 bytes fit one block, one more byte needs a second.
    out.clear();
    append_stored_blocks(out, std::string(65536, 'x'));
    ASSERT_EQ(out.size(), 65536u + 10u);
    EXPECT_EQ(out.substr(0, 5), std::string("\x00\xff\xff\x00\x00", 5));
    EXPECT_EQ(out.substr(5 + 65535, 5), std::string("\x00\x01\x00\xfe\xff", 5));
}

TEST(DeflateMessage, EmptyTailIsTheSingleZeroByte) {
    std::string out;
    append_compressed(out, "");
    EXPECT_EQ(out, std::string(1, '\0'));  // as RFC 7692 §7.2.3.6 writes an empty fragment
    EXPECT_EQ(reference_inflate(out), "");
}

TEST(DeflateMessage, PrefixPlusTailInflatesToTheirConcatenation) {
    const std::vector<std::string> prefixes = {"", "{", "{\"op\":\"event\",\"id\":\"sub-1\",",
                                               compressible(70'000),       // two stored blocks
                                               random_bytes(140'000, 7)};  // three
    const std::vector<std::string> tails = {"", "\"x\":1}", compressible(512),
                                            compressible(200'000),
                                            random_bytes(100'000)};  // incompressible: stored
    for (const auto& prefix : prefixes) {
        for (const auto& tail : tails) {
            const std::string message = server_message(prefix, tail);
            auto inflated = reference_inflate(message);
            ASSERT_TRUE(inflated) << "prefix " << prefix.size() << " tail " << tail.size();
            EXPECT_TRUE(*inflated == prefix + tail)
                << "prefix " << prefix.size() << " tail " << tail.size();
            // And Herald's own inflater agrees (it is what reads client messages).
            Inflater inflater(true);
            std::string out;
            ASSERT_EQ(inflater.inflate(message, SIZE_MAX, out), Inflater::Status::ok);
            EXPECT_TRUE(out == prefix + tail);
        }
    }
}

TEST(DeflateMessage, CompressesWhatCompressesAndStoresWhatDoesNot) {
    const std::string json = compressible(512);
    std::string out;
    append_compressed(out, json);
    EXPECT_LT(out.size(), json.size() / 2);
    EXPECT_NE(out.substr(out.size() - 4),
              std::string("\x00\x00\xff\xff", 4));  // the trailer is removed

    // Random bytes do not shrink: stored blocks plus the byte that opens the receiver's empty
    // block.
    const std::string noise = random_bytes(100'000);
    out.clear();
    append_compressed(out, noise);
    EXPECT_EQ(out.size(), noise.size() + 2 * 5 + 1);
    EXPECT_EQ(out.substr(5, 100), noise.substr(0, 100));
    // However short the tail, the result is never larger than stored blocks (2 + 5 + 1 bytes here).
    out.clear();
    append_compressed(out, "{}");
    EXPECT_LE(out.size(), 8u);
    EXPECT_EQ(reference_inflate(out), "{}");
}

TEST(DeflateMessage, TailIsIndependentOfWhatWasCompressedBefore) {
    // The compressor is reused per thread: a second tail must not refer back into the first.
    std::string first, second;
    append_compressed(first, compressible(4096));
    append_compressed(second, compressible(4096));
    EXPECT_EQ(first, second);
    EXPECT_EQ(reference_inflate(server_message("{\"a\":", compressible(4096))),
              "{\"a\":" + compressible(4096));
}

// ---------------------------------------------------------------------------------------------
// Inflater: client messages

TEST(DeflateInflater, ContextTakeoverKeepsTheWindowBetweenMessages) {
    ClientDeflater client;  // keeps its window, as the client may unless it declared otherwise
    const std::string one = compressible(3000);
    const std::string m1 = client.compress(one);
    const std::string m2 = client.compress(one);  // refers back into m1's data
    EXPECT_LT(m2.size(), m1.size() / 4);

    Inflater takeover(true);
    std::string out;
    ASSERT_EQ(takeover.inflate(m1, 1 << 20, out), Inflater::Status::ok);
    EXPECT_EQ(out, one);
    ASSERT_EQ(takeover.inflate(m2, 1 << 20, out), Inflater::Status::ok);
    EXPECT_EQ(out, one);

    // Without context takeover the window is dropped after each message, so m2 cannot be read
    // alone.
    Inflater fresh(false);
    ASSERT_EQ(fresh.inflate(m1, 1 << 20, out), Inflater::Status::ok);
    EXPECT_NE(fresh.inflate(m2, 1 << 20, out), Inflater::Status::ok);
}

TEST(DeflateInflater, EnforcesTheLimitOnTheInflatedSize) {
    ClientDeflater client;
    const std::string bomb = client.compress(std::string(8 << 20, 'a'));  // 8 MiB of 'a' in ~8 KiB
    EXPECT_LT(bomb.size(), 16u << 10);
    Inflater inflater(true);
    std::string out;
    EXPECT_EQ(inflater.inflate(bomb, 1 << 20, out), Inflater::Status::too_big);
    // It stopped at the limit instead of inflating everything.
    EXPECT_LE(out.size(), (1u << 20) + 1);
    EXPECT_LE(out.capacity(), 2u * ((1u << 20) + 1));

    // Exactly at the limit is fine, one byte over is not.
    ClientDeflater c2;
    Inflater at_limit(true);  // c2 keeps its window too
    ASSERT_EQ(at_limit.inflate(c2.compress(std::string(1000, 'b')), 1000, out),
              Inflater::Status::ok);
    EXPECT_EQ(out.size(), 1000u);
    EXPECT_EQ(at_limit.inflate(c2.compress(std::string(1001, 'b')), 1000, out),
              Inflater::Status::too_big);
}

TEST(DeflateInflater, CorruptAndTruncatedDataAreErrors) {
    Inflater a(true);
    std::string out;
    // BTYPE 11 is reserved: invalid at the first block header.
    EXPECT_EQ(a.inflate(std::string("\xff\xff\xff\xff", 4), 1 << 20, out),
              Inflater::Status::corrupt);

    ClientDeflater client;
    const std::string whole = client.compress(compressible(5000));
    Inflater b(true);
    EXPECT_EQ(b.inflate(std::string_view(whole).substr(0, whole.size() / 2), 1 << 20, out),
              Inflater::Status::corrupt);

    // A stored block whose NLEN is not ~LEN.
    Inflater c(true);
    EXPECT_EQ(c.inflate(std::string("\x00\x03\x00\x00\x00"
                                    "abc",
                                    8),
                        1 << 20, out),
              Inflater::Status::corrupt);
}

TEST(DeflateInflater, AcceptsAFinalBlockAndEmptyMessages) {
    // A sender may end its message with a BFINAL block (RFC 7692 §7.2.3.4) and keep the whole
    // stream.
    ClientDeflater client;
    const std::string finished = client.compress("hello", Z_FINISH);
    Inflater inflater(true);
    std::string out;
    ASSERT_EQ(inflater.inflate(finished, 100, out), Inflater::Status::ok);
    EXPECT_EQ(out, "hello");
    ASSERT_EQ(inflater.inflate(std::string(1, '\0'), 100, out), Inflater::Status::ok);
    EXPECT_EQ(out, "");
    ASSERT_EQ(inflater.inflate("", 100, out), Inflater::Status::ok);  // not even the block header
    EXPECT_EQ(out, "");
}

// ---------------------------------------------------------------------------------------------
// The frame parser with permessage-deflate (RSV1, RFC 7692 §6)

constexpr unsigned char kRsv1 = 0x40;

std::string client_frame(unsigned char first, std::string_view payload) {
    static constexpr unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::string out(1, static_cast<char>(first));
    const std::uint64_t n = payload.size();
    if (n < 126) {
        out.push_back(static_cast<char>(0x80 | n));
    } else if (n <= 0xFFFF) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
    }
    out.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
    return out;
}

struct Parsed {
    FrameEvent::Kind kind;
    std::string payload;
    std::uint16_t code;
    bool compressed;
};

std::vector<Parsed> parse(FrameParser& parser, std::string_view stream) {
    parser.feed(stream.data(), stream.size());
    std::vector<Parsed> out;
    for (;;) {
        auto ev = parser.next();
        if (ev.kind == FrameEvent::Kind::need_more) return out;
        out.push_back({ev.kind, std::string(ev.payload), ev.code, ev.compressed});
        if (ev.kind == FrameEvent::Kind::error) return out;
    }
}

FrameParser deflate_parser(ParserLimits limits = {}, bool no_context_takeover = false) {
    FrameParser p(limits);
    p.enable_deflate(no_context_takeover);
    return p;
}

TEST(DeflateFrames, CompressedTextIsInflatedUncompressedPassesThrough) {
    ClientDeflater client;
    auto parser = deflate_parser();
    const std::string text =
        "{\"op\":\"publish\",\"topic\":\"t\",\"event\":" + compressible(2000) + "}";
    auto seen = parse(parser, client_frame(0x80 | kRsv1 | 0x1, client.compress(text)) +
                                  client_frame(0x81, "{\"op\":\"ping\"}"));
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].kind, FrameEvent::Kind::message);
    EXPECT_TRUE(seen[0].compressed);
    EXPECT_EQ(seen[0].payload, text);
    EXPECT_EQ(seen[1].kind, FrameEvent::Kind::message);
    EXPECT_FALSE(seen[1].compressed);
    EXPECT_EQ(seen[1].payload, "{\"op\":\"ping\"}");
}

TEST(DeflateFrames, FragmentedCompressedMessageHasRsv1OnTheFirstFrameOnly) {
    ClientDeflater client;
    const std::string text = compressible(10'000);
    const std::string z = client.compress(text);
    const std::size_t a = z.size() / 3, b = 2 * z.size() / 3;
    auto parser = deflate_parser();
    auto seen =
        parse(parser, client_frame(kRsv1 | 0x1, z.substr(0, a)) + client_frame(0x89, "hi") +
                          client_frame(0x00, z.substr(a, b - a)) + client_frame(0x80, z.substr(b)));
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].kind, FrameEvent::Kind::ping);
    EXPECT_EQ(seen[1].kind, FrameEvent::Kind::message);
    EXPECT_TRUE(seen[1].compressed);
    EXPECT_EQ(seen[1].payload, text);
}

TEST(DeflateFrames, ContextTakeoverAcrossMessagesUnlessTheClientGaveItUp) {
    ClientDeflater client;
    const std::string text = compressible(3000);
    const std::string m1 = client_frame(0x80 | kRsv1 | 0x1, client.compress(text));
    const std::string m2 = client_frame(0x80 | kRsv1 | 0x1, client.compress(text));
    auto takeover = deflate_parser();
    auto seen = parse(takeover, m1 + m2);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].payload, text);
    takeover.shrink();  // an idle connection keeps the window it will need
    auto after_shrink = parse(takeover, client_frame(0x80 | kRsv1 | 0x1, client.compress(text)));
    ASSERT_EQ(after_shrink.size(), 1u);
    EXPECT_EQ(after_shrink[0].payload, text);

    // A client that declared client_no_context_takeover and broke its word fails on the second
    // message.
    auto no_takeover = deflate_parser({}, true);
    ClientDeflater liar;
    const std::string first = client_frame(0x80 | kRsv1 | 0x1, liar.compress(text));
    const std::string second = client_frame(0x80 | kRsv1 | 0x1, liar.compress(text));
    seen = parse(no_takeover, first + second);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].payload, text);
    EXPECT_EQ(seen[1].kind, FrameEvent::Kind::error);
}

TEST(DeflateFrames, Rsv1Violations) {
    ClientDeflater client;
    const std::string z = client.compress("{}");
    auto expect_error = [](FrameParser parser, const std::string& stream, std::uint16_t code) {
        auto seen = parse(parser, stream);
        ASSERT_FALSE(seen.empty());
        EXPECT_EQ(seen.back().kind, FrameEvent::Kind::error);
        EXPECT_EQ(seen.back().code, code);
    };
    // Without the extension RSV1 means nothing: §5.2 of RFC 6455.
    expect_error(FrameParser{}, client_frame(0x80 | kRsv1 | 0x1, z), close_code::protocol_error);
    // With it: never on a control frame, never on a continuation, and RSV2/RSV3 stay reserved.
    expect_error(deflate_parser(), client_frame(0x80 | kRsv1 | 0x9, ""),
                 close_code::protocol_error);
    expect_error(deflate_parser(), client_frame(0x80 | kRsv1 | 0x8, std::string("\x03\xe8", 2)),
                 close_code::protocol_error);
    expect_error(
        deflate_parser(),
        client_frame(kRsv1 | 0x1, z.substr(0, 1)) + client_frame(0x80 | kRsv1, z.substr(1)),
        close_code::protocol_error);
    expect_error(deflate_parser(), client_frame(0x80 | 0x20 | 0x1, "x"),
                 close_code::protocol_error);
    expect_error(deflate_parser(), client_frame(0x80 | kRsv1 | 0x10 | 0x1, z),
                 close_code::protocol_error);
}

TEST(DeflateFrames, DecompressionBombClosesWith1009) {
    ClientDeflater client;
    const std::string bomb = client.compress(std::string(4 << 20, '{'));
    ParserLimits limits{64 * 1024, 64 * 1024};
    ASSERT_LT(bomb.size(), limits.max_frame_bytes);
    auto parser = deflate_parser(limits);
    auto seen = parse(parser, client_frame(0x80 | kRsv1 | 0x1, bomb));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, FrameEvent::Kind::error);
    EXPECT_EQ(seen[0].code, close_code::message_too_big);
    EXPECT_EQ(parser.buffered(), 0u);
}

TEST(DeflateFrames, CorruptDataAndInvalidUtf8Close1007) {
    auto parser = deflate_parser();
    auto seen = parse(parser, client_frame(0x80 | kRsv1 | 0x1, std::string("\xff\xff\xff", 3)));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].code, close_code::invalid_payload);

    ClientDeflater client;
    auto utf8 = deflate_parser();
    seen = parse(utf8, client_frame(0x80 | kRsv1 | 0x1, client.compress("caf\xc3")));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].code, close_code::invalid_payload);
    // The same bytes in a binary message are fine.
    ClientDeflater c2;
    auto binary = deflate_parser();
    seen = parse(binary, client_frame(0x80 | kRsv1 | 0x2, c2.compress("caf\xc3")));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, FrameEvent::Kind::message);
    EXPECT_EQ(seen[0].payload, "caf\xc3");
}

TEST(DeflateFrames, ServerHeaderSetsRsv1) {
    unsigned char h[kMaxFrameHeader];
    ASSERT_EQ(write_frame_header(h, Opcode::text, 5, Compression::deflate), 2u);
    EXPECT_EQ(h[0], 0xC1);
    ASSERT_EQ(write_frame_header(h, Opcode::text, 5), 2u);
    EXPECT_EQ(h[0], 0x81);
}

}  // namespace
}  // namespace herald::websocket
