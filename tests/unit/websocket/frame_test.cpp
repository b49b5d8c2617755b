#include "websocket/frame.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// The largest allocation requested while the probe is armed, so tests can check that the parser's
// buffers stay bounded (buffered() only counts unparsed bytes, not what the parser holds on to).
namespace {
std::atomic<bool> g_probe_armed{false};
std::atomic<std::size_t> g_largest_allocation{0};

struct AllocationProbe {
    AllocationProbe() {
        g_largest_allocation = 0;
        g_probe_armed = true;
    }
    ~AllocationProbe() { g_probe_armed = false; }
    std::size_t largest() const { return g_largest_allocation.load(); }
};
}  // namespace

void* operator new(std::size_t n) {
    if (g_probe_armed.load(std::memory_order_relaxed)) {
        auto seen = g_largest_allocation.load(std::memory_order_relaxed);
        while (n > seen && !g_largest_allocation.compare_exchange_weak(seen, n)) {
        }
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
// Not inlined: GCC 12 would otherwise see free() applied to the result of operator new and warn
// (-Wmismatched-new-delete), although the pair above is consistent.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace herald::websocket {
namespace {

using Kind = FrameEvent::Kind;
using Key = std::array<unsigned char, 4>;

constexpr Key kRfcKey = {0x37, 0xfa, 0x21, 0x3d};  // the masking key of the RFC 6455 §5.7 examples

std::string bytes(std::initializer_list<int> list) {
    std::string out;
    for (int b : list) out.push_back(static_cast<char>(b));
    return out;
}

enum class LengthForm { minimal, bits16, bits64 };

// A client frame as a browser would send it: masked with `key`. `first` is byte 0 (FIN, RSV,
// opcode); `form` forces a length encoding so non-minimal forms can be tested. Independent of the
// code under test.
std::string client_frame(unsigned char first, std::string_view payload, Key key = kRfcKey,
                         LengthForm form = LengthForm::minimal) {
    std::string out;
    out.push_back(static_cast<char>(first));
    const std::uint64_t n = payload.size();
    if (form == LengthForm::minimal && n < 126) {
        out.push_back(static_cast<char>(0x80 | n));
    } else if (form != LengthForm::bits64 && n <= 0xFFFF) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
    }
    for (unsigned char k : key) out.push_back(static_cast<char>(k));
    for (std::size_t i = 0; i < payload.size(); ++i)
        out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]));
    return out;
}

// First-byte values.
constexpr unsigned char kText = 0x81, kBinary = 0x82, kClose = 0x88, kPing = 0x89, kPong = 0x8A;
constexpr unsigned char kTextFirst = 0x01, kBinaryFirst = 0x02, kContinue = 0x00, kLast = 0x80;

// An event with its payload copied, since FrameEvent::payload is only valid until the next call.
struct Seen {
    Kind kind;
    Opcode opcode;
    std::string payload;
    std::uint16_t code;
    std::string reason;
    bool operator==(const Seen&) const = default;
};

Seen copy(const FrameEvent& ev) {
    return Seen{ev.kind, ev.opcode, std::string(ev.payload), ev.code, ev.reason};
}

// Calls next() until it needs more input or reports an error (which it would then repeat forever).
std::vector<Seen> drain(FrameParser& parser) {
    std::vector<Seen> out;
    for (;;) {
        auto ev = parser.next();
        if (ev.kind == Kind::need_more) return out;
        out.push_back(copy(ev));
        if (ev.kind == Kind::error) return out;
    }
}

std::vector<Seen> parse_whole(std::string_view stream, ParserLimits limits = {}) {
    FrameParser parser(limits);
    parser.feed(stream.data(), stream.size());
    return drain(parser);
}

std::vector<Seen> parse_byte_by_byte(std::string_view stream, ParserLimits limits = {}) {
    FrameParser parser(limits);
    std::vector<Seen> out;
    for (char c : stream) {
        parser.feed(&c, 1);
        for (auto& s : drain(parser)) out.push_back(std::move(s));
        if (!out.empty() && out.back().kind == Kind::error) break;
    }
    return out;
}

// The stream must end in a violation closing with `code`, however it is split.
void expect_violation(std::string_view stream, std::uint16_t code, ParserLimits limits = {}) {
    for (const auto& events : {parse_whole(stream, limits), parse_byte_by_byte(stream, limits)}) {
        ASSERT_FALSE(events.empty());
        EXPECT_EQ(events.back().kind, Kind::error);
        EXPECT_EQ(events.back().code, code) << events.back().reason;
        EXPECT_FALSE(events.back().reason.empty());
    }
}

Seen message(Opcode opcode, std::string payload) {
    return Seen{Kind::message, opcode, std::move(payload), 0, {}};
}

// ---------------------------------------------------------------------------------------------
// Encoding server frames

std::string header(Opcode opcode, std::uint64_t size) {
    unsigned char out[kMaxFrameHeader];
    std::size_t n = write_frame_header(out, opcode, size);
    return std::string(reinterpret_cast<char*>(out), n);
}

TEST(WriteFrameHeader, UsesTheMinimalLengthForm) {
    EXPECT_EQ(header(Opcode::text, 0), bytes({0x81, 0x00}));
    EXPECT_EQ(header(Opcode::text, 125), bytes({0x81, 125}));
    EXPECT_EQ(header(Opcode::binary, 126), bytes({0x82, 126, 0x00, 126}));
    EXPECT_EQ(header(Opcode::binary, 0xFFFF), bytes({0x82, 126, 0xFF, 0xFF}));
    EXPECT_EQ(header(Opcode::binary, 0x10000), bytes({0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
    EXPECT_EQ(header(Opcode::ping, 0x0102030405060708ull),
              bytes({0x89, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(header(Opcode::close, 2), bytes({0x88, 0x02}));
}

TEST(EncodeFrame, MatchesRfcExamples) {
    // §5.7: a single-frame unmasked text message and an unmasked ping, both carrying "Hello".
    EXPECT_EQ(encode_frame(Opcode::text, "Hello"),
              bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    EXPECT_EQ(encode_frame(Opcode::ping, "Hello"),
              bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    // §5.7: 256 bytes and 64 KiB of binary data in a single unmasked frame.
    std::string b256(256, 'x');
    EXPECT_EQ(encode_frame(Opcode::binary, b256), bytes({0x82, 0x7E, 0x01, 0x00}) + b256);
    std::string b64k(65536, 'y');
    EXPECT_EQ(encode_frame(Opcode::binary, b64k),
              bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + b64k);
    EXPECT_EQ(encode_frame(Opcode::pong, ""), bytes({0x8A, 0x00}));
}

TEST(EncodeClose, CarriesCodeAndReason) {
    EXPECT_EQ(encode_close(1000, ""), bytes({0x88, 0x02, 0x03, 0xE8}));
    EXPECT_EQ(encode_close(1009, "too big"), bytes({0x88, 0x09, 0x03, 0xF1}) + "too big");
    EXPECT_EQ(encode_close(4999, "x"), bytes({0x88, 0x03, 0x13, 0x87}) + "x");
}

TEST(EncodeClose, TruncatesTheReasonOnACharacterBoundary) {
    const std::string exact(123, 'a');
    EXPECT_EQ(encode_close(1000, exact), bytes({0x88, 125, 0x03, 0xE8}) + exact);
    EXPECT_EQ(encode_close(1000, exact + "b"), bytes({0x88, 125, 0x03, 0xE8}) + exact);

    // "é" is 2 bytes; starting at byte 122 it would end at 124, so it is dropped whole.
    const std::string ascii122(122, 'a');
    EXPECT_EQ(encode_close(1000, ascii122 + "\xC3\xA9"), bytes({0x88, 124, 0x03, 0xE8}) + ascii122);
    // A 4-byte character straddling the limit is dropped whole too.
    const std::string ascii121(121, 'a');
    EXPECT_EQ(encode_close(1001, ascii121 + "\xF0\x9F\x98\x80" + "tail"),
              bytes({0x88, 123, 0x03, 0xE9}) + ascii121);
    // A character that ends exactly at the limit is kept.
    EXPECT_EQ(encode_close(1000, ascii121 + "\xC3\xA9" + "more"),
              bytes({0x88, 125, 0x03, 0xE8}) + ascii121 + "\xC3\xA9");
    // The result is always a frame our own parser (and any peer) accepts as a control frame.
    auto frame = encode_close(1000, std::string(300, '\xE2') + "");
    EXPECT_LE(frame.size(), 2u + 125u);
}

// ---------------------------------------------------------------------------------------------
// UTF-8

TEST(Utf8, AcceptsValidText) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("Hello"));
    EXPECT_TRUE(is_valid_utf8(std::string(1000, 'a')));
    EXPECT_TRUE(is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));  // κόσμε
    EXPECT_TRUE(is_valid_utf8("\xC2\x80"));                                      // U+0080
    EXPECT_TRUE(is_valid_utf8("\xDF\xBF"));                                      // U+07FF
    EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));                                  // U+0800
    EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));                                  // U+D7FF
    EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));                                  // U+E000
    EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));                                  // U+FFFF
    EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));                              // U+10000
    EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                              // U+10FFFF
    EXPECT_TRUE(
        is_valid_utf8(std::string("1234567\xC3\xA9") + "12345678\xE2\x82\xAC"));  // crosses words
    EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));                      // NUL is valid
}

TEST(Utf8, RejectsInvalidText) {
    EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // overlong NUL
    EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong
    EXPECT_FALSE(is_valid_utf8("\xE0\x80\x80"));      // overlong 3-byte
    EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // overlong 3-byte
    EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\x80"));  // overlong 4-byte
    EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // overlong 4-byte
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800, a surrogate
    EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // U+DFFF, a surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
    EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xFF"));
    EXPECT_FALSE(is_valid_utf8("\xFE"));
    EXPECT_FALSE(is_valid_utf8("\x80"));  // lone continuation byte
    EXPECT_FALSE(is_valid_utf8(std::string("a\xBF") + "b"));
    EXPECT_FALSE(is_valid_utf8("\xC3"));                     // truncated 2-byte
    EXPECT_FALSE(is_valid_utf8("\xE2\x82"));                 // truncated 3-byte
    EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98"));             // truncated 4-byte
    EXPECT_FALSE(is_valid_utf8(std::string("\xC3") + "a"));  // continuation missing
    EXPECT_FALSE(is_valid_utf8(std::string("\xE2\x82") + "a"));
    EXPECT_FALSE(is_valid_utf8(std::string("\xF0\x9F\x98") + "a"));
    // Errors right after, and inside, the 8-byte ASCII fast path.
    EXPECT_FALSE(is_valid_utf8("12345678\xC0\x80"));
    EXPECT_FALSE(is_valid_utf8(std::string("1234567\x80") + "12345678"));
    EXPECT_FALSE(is_valid_utf8(std::string(16, 'a') + "\xE2\x82"));
    EXPECT_FALSE(is_valid_utf8(std::string(64, 'a') + "\xED\xA0\x80" + std::string(64, 'a')));
}

// ---------------------------------------------------------------------------------------------
// Parsing client frames: the RFC 6455 §5.7 examples, masked as a client must send them

TEST(FrameParser, ParsesTheRfcMaskedHello) {
    const auto frame = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    EXPECT_EQ(client_frame(kText, "Hello"), frame);  // the test encoder agrees with the RFC
    auto events = parse_whole(frame);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], message(Opcode::text, "Hello"));
}

TEST(FrameParser, ReassemblesAFragmentedMessage) {
    // §5.7's unmasked "Hel" + "lo" (0x01 0x03 ..., 0x80 0x02 ...), masked.
    const auto stream = client_frame(kTextFirst, "Hel") + client_frame(kContinue | kLast, "lo");
    EXPECT_EQ(stream.substr(0, 2), bytes({0x01, 0x83}));
    auto events = parse_whole(stream);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], message(Opcode::text, "Hello"));
}

TEST(FrameParser, ReassemblesManyFragmentsIncludingEmptyOnes) {
    const auto stream = client_frame(kBinaryFirst, "") + client_frame(kContinue, "ab") +
                        client_frame(kContinue, "") + client_frame(kContinue, "cd") +
                        client_frame(kContinue | kLast, "");
    auto events = parse_whole(stream);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], message(Opcode::binary, "abcd"));
}

TEST(FrameParser, ReportsPingAndPong) {
    const auto ping = client_frame(kPing, "Hello");
    const auto pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    EXPECT_EQ(client_frame(kPong, "Hello"), pong);
    auto events = parse_whole(ping + pong + client_frame(kPing, ""));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0], (Seen{Kind::ping, Opcode::ping, "Hello", 0, {}}));
    EXPECT_EQ(events[1], (Seen{Kind::pong, Opcode::pong, "Hello", 0, {}}));
    EXPECT_EQ(events[2], (Seen{Kind::ping, Opcode::ping, "", 0, {}}));
}

TEST(FrameParser, ParsesThe16And64BitLengthForms) {
    std::string b256(256, '\0');
    for (int i = 0; i < 256; ++i) b256[i] = static_cast<char>(i);
    const auto f256 = client_frame(kBinary, b256);
    EXPECT_EQ(f256.substr(0, 4), bytes({0x82, 0xFE, 0x01, 0x00}));

    std::string b64k(65536, '\0');
    for (std::size_t i = 0; i < b64k.size(); ++i) b64k[i] = static_cast<char>(i * 7);
    const auto f64k = client_frame(kBinary, b64k);
    EXPECT_EQ(f64k.substr(0, 10), bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));

    auto events = parse_whole(f256 + f64k);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0], message(Opcode::binary, b256));
    EXPECT_EQ(events[1], message(Opcode::binary, b64k));
}

TEST(FrameParser, AcceptsNonMinimalLengthEncodings) {
    auto events = parse_whole(client_frame(kText, "Hi", kRfcKey, LengthForm::bits16) +
                              client_frame(kText, "there", kRfcKey, LengthForm::bits64) +
                              client_frame(kPing, "p", kRfcKey, LengthForm::minimal));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0], message(Opcode::text, "Hi"));
    EXPECT_EQ(events[1], message(Opcode::text, "there"));
    EXPECT_EQ(events[2].kind, Kind::ping);
}

TEST(FrameParser, AcceptsEmptyAndMaximalControlFrames) {
    auto events = parse_whole(client_frame(kText, "") + client_frame(kPing, std::string(125, 'p')));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0], message(Opcode::text, ""));
    EXPECT_EQ(events[1].payload, std::string(125, 'p'));
}

TEST(FrameParser, DeliversControlFramesBetweenFragments) {
    const auto stream = client_frame(kTextFirst, "Hel") + client_frame(kPing, "x") +
                        client_frame(kContinue, "l") + client_frame(kPong, "y") +
                        client_frame(kContinue | kLast, "o") + client_frame(kText, "next");
    auto events = parse_whole(stream);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0], (Seen{Kind::ping, Opcode::ping, "x", 0, {}}));
    EXPECT_EQ(events[1], (Seen{Kind::pong, Opcode::pong, "y", 0, {}}));
    EXPECT_EQ(events[2], message(Opcode::text, "Hello"));
    EXPECT_EQ(events[3], message(Opcode::text, "next"));
}

TEST(FrameParser, ByteByByteFeedingEqualsWholeFeeding) {
    std::string big(70000, 'z');
    const auto stream =
        client_frame(kText, "first") + client_frame(kBinaryFirst, "\x01\x02", {1, 2, 3, 4}) +
        client_frame(kPing, "mid", {9, 8, 7, 6}) +
        client_frame(kContinue | kLast, "\x03", {0xff, 0, 0xff, 0}) +
        client_frame(kText, big, {0x10, 0x20, 0x30, 0x40}) + client_frame(kPong, "") +
        client_frame(kTextFirst, "\xE2\x82") + client_frame(kContinue | kLast, "\xAC!") +
        client_frame(kText, "", {0, 0, 0, 0}) + client_frame(kClose, bytes({0x03, 0xE8}) + "bye");
    auto whole = parse_whole(stream);
    ASSERT_EQ(whole.size(), 8u);
    EXPECT_EQ(whole[0], message(Opcode::text, "first"));
    EXPECT_EQ(whole[1].kind, Kind::ping);
    EXPECT_EQ(whole[2], message(Opcode::binary, "\x01\x02\x03"));
    EXPECT_EQ(whole[3], message(Opcode::text, big));
    EXPECT_EQ(whole[4].kind, Kind::pong);
    EXPECT_EQ(whole[5], message(Opcode::text, "\xE2\x82\xAC!"));
    EXPECT_EQ(whole[6], message(Opcode::text, ""));
    EXPECT_EQ(whole[7], (Seen{Kind::close, Opcode::close, "bye", 1000, {}}));
    EXPECT_EQ(parse_byte_by_byte(stream), whole);

    // Splits at every point of a shorter stream, in two pieces.
    const auto small = stream.substr(0, 40);
    const auto small_whole = parse_whole(small);
    for (std::size_t cut = 0; cut <= small.size(); ++cut) {
        FrameParser parser;
        parser.feed(small.data(), cut);
        auto events = drain(parser);
        parser.feed(small.data() + cut, small.size() - cut);
        for (auto& e : drain(parser)) events.push_back(e);
        EXPECT_EQ(events, small_whole) << "cut at " << cut;
    }
}

TEST(FrameParser, RandomMaskKeysRoundTrip) {
    std::mt19937 rng(20240611);
    std::vector<std::size_t> sizes = {0,  1,  3,  4,   5,   7,   8,     9,
                                      15, 16, 17, 125, 126, 127, 65535, 65536};
    for (int i = 0; i < 100; ++i) sizes.push_back(rng() % 70000);
    for (std::size_t size : sizes) {
        std::string payload(size, '\0');
        for (auto& c : payload) c = static_cast<char>(rng());
        Key key;
        for (auto& k : key) k = static_cast<unsigned char>(rng());
        const auto frame = client_frame(kBinary, payload, key);
        // Feed in random chunks so the frame straddles reads at arbitrary points.
        FrameParser parser;
        std::vector<Seen> events;
        for (std::size_t at = 0; at < frame.size();) {
            std::size_t n = std::min<std::size_t>(frame.size() - at, 1 + rng() % 20000);
            parser.feed(frame.data() + at, n);
            at += n;
            for (auto& e : drain(parser)) events.push_back(e);
        }
        ASSERT_EQ(events.size(), 1u) << "size " << size;
        EXPECT_EQ(events[0], message(Opcode::binary, payload)) << "size " << size;
        EXPECT_EQ(parser.buffered(), 0u);
    }
}

TEST(FrameParser, PayloadStaysValidAcrossFeed) {
    // The contract: a payload is valid until the next call to next(), even if more bytes are fed.
    FrameParser parser;
    const auto first = client_frame(kText, std::string(300, 'a'));  // the last frame buffered
    parser.feed(first.data(), first.size());
    auto ev = parser.next();
    ASSERT_EQ(ev.kind, Kind::message);
    const auto more = client_frame(kText, std::string(5000, 'b'));
    parser.feed(more.data(), more.size());
    EXPECT_EQ(ev.payload, std::string(300, 'a'));

    // Followed by other bytes in the same read.
    FrameParser parser2;
    const auto two = client_frame(kText, "one") + client_frame(kText, "two");
    parser2.feed(two.data(), two.size());
    ev = parser2.next();
    ASSERT_EQ(ev.kind, Kind::message);
    parser2.feed(more.data(), more.size());
    EXPECT_EQ(ev.payload, "one");
    EXPECT_EQ(parser2.next().payload, "two");
    EXPECT_EQ(parser2.next().payload, std::string(5000, 'b'));
    EXPECT_EQ(parser2.next().kind, Kind::need_more);
}

TEST(FrameParser, CompactsConsumedBytesAndShrinks) {
    FrameParser parser;
    const auto frame = client_frame(kText, "0123456789");
    // Reads that never end on a frame boundary: each completes one frame and starts the next, so
    // the buffer is never empty and only compaction keeps it from growing with the 16 KiB fed.
    const auto rotated = frame.substr(5) + frame.substr(0, 5);
    AllocationProbe probe;
    parser.feed(frame.data(), 5);
    for (int i = 0; i < 1000; ++i) {
        parser.feed(rotated.data(), rotated.size());
        auto ev = parser.next();
        ASSERT_EQ(ev.kind, Kind::message);
        EXPECT_EQ(ev.payload, "0123456789");
        EXPECT_EQ(parser.next().kind, Kind::need_more);
        EXPECT_EQ(parser.buffered(), 5u);
    }
    parser.feed(frame.data() + 5, frame.size() - 5);
    EXPECT_EQ(parser.next().payload, "0123456789");
    EXPECT_EQ(parser.buffered(), 0u);
    EXPECT_LT(probe.largest(), 256u);
    parser.shrink();
    EXPECT_EQ(parser.buffered(), 0u);
    // Still works after shrinking, including in the middle of a fragmented message.
    auto part = client_frame(kTextFirst, "ab");
    parser.feed(part.data(), part.size());
    EXPECT_EQ(parser.next().kind, Kind::need_more);
    parser.shrink();
    part = client_frame(kContinue | kLast, "cd");
    parser.feed(part.data(), part.size());
    auto ev = parser.next();
    EXPECT_EQ(ev.kind, Kind::message);
    EXPECT_EQ(ev.payload, "abcd");
}

// ---------------------------------------------------------------------------------------------
// Violations and their close codes

TEST(FrameParserViolation, ReservedBits) {
    expect_violation(client_frame(0x80 | 0x40 | 0x1, "x"), close_code::protocol_error);  // RSV1
    expect_violation(client_frame(0x80 | 0x20 | 0x1, "x"), close_code::protocol_error);  // RSV2
    expect_violation(client_frame(0x80 | 0x10 | 0x2, "x"), close_code::protocol_error);  // RSV3
    expect_violation(client_frame(0x80 | 0x40 | 0x9, ""), close_code::protocol_error);  // on a ping
}

TEST(FrameParserViolation, UnknownOpcodes) {
    for (unsigned op : {0x3u, 0x4u, 0x5u, 0x6u, 0x7u, 0xBu, 0xCu, 0xDu, 0xEu, 0xFu})
        expect_violation(client_frame(static_cast<unsigned char>(0x80 | op), ""),
                         close_code::protocol_error);
}

TEST(FrameParserViolation, UnmaskedClientFrame) {
    // §5.7's unmasked "Hello" is what a server sends; from a client it is a violation.
    expect_violation(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), close_code::protocol_error);
    expect_violation(client_frame(kText, "ok") + bytes({0x89, 0x00}), close_code::protocol_error);
}

TEST(FrameParserViolation, FragmentedControlFrame) {
    expect_violation(client_frame(0x09, "x"), close_code::protocol_error);  // ping without FIN
    expect_violation(client_frame(kTextFirst, "a") + client_frame(0x08, ""),
                     close_code::protocol_error);
}

TEST(FrameParserViolation, OversizedControlFrame) {
    expect_violation(client_frame(kPing, std::string(126, 'x')), close_code::protocol_error);
    expect_violation(client_frame(kClose, std::string(200, 'x')), close_code::protocol_error);
    // Even a small payload in the 16-bit form: the 7-bit length field must be <= 125.
    expect_violation(client_frame(kPong, "x", kRfcKey, LengthForm::bits16),
                     close_code::protocol_error);
}

TEST(FrameParserViolation, SixtyFourBitLengthWithHighBitSet) {
    expect_violation(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}),
                     close_code::protocol_error);
}

TEST(FrameParserViolation, ContinuationWithoutMessage) {
    expect_violation(client_frame(kContinue | kLast, "x"), close_code::protocol_error);
    expect_violation(client_frame(kText, "done") + client_frame(kContinue, "x"),
                     close_code::protocol_error);
}

TEST(FrameParserViolation, NewMessageWhileFragmenting) {
    expect_violation(client_frame(kTextFirst, "a") + client_frame(kText, "b"),
                     close_code::protocol_error);
    expect_violation(client_frame(kBinaryFirst, "a") + client_frame(kTextFirst, "b"),
                     close_code::protocol_error);
}

TEST(FrameParserViolation, FrameTooBig) {
    ParserLimits limits{1024, 1 << 20};
    const auto ok = parse_whole(client_frame(kBinary, std::string(1024, 'x')), limits);
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].kind, Kind::message);
    expect_violation(client_frame(kBinary, std::string(1025, 'x')), close_code::message_too_big,
                     limits);
    expect_violation(client_frame(kBinaryFirst, std::string(1025, 'x')),
                     close_code::message_too_big, limits);
}

TEST(FrameParserViolation, MessageTooBig) {
    ParserLimits limits{1024, 4096};
    std::string exact;
    exact += client_frame(kTextFirst, std::string(1024, 'a'));
    for (int i = 0; i < 2; ++i) exact += client_frame(kContinue, std::string(1024, 'a'));
    const auto last = client_frame(kContinue | kLast, std::string(1024, 'a'));
    const auto ok = parse_whole(exact + last, limits);
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0], message(Opcode::text, std::string(4096, 'a')));

    expect_violation(exact + client_frame(kContinue, std::string(1024, 'a')) +
                         client_frame(kContinue | kLast, "a"),
                     close_code::message_too_big, limits);
    // The violation is reported from the header alone, before the payload arrives.
    FrameParser parser(limits);
    auto stream = exact + client_frame(kContinue, std::string(1024, 'a')) +
                  client_frame(kContinue | kLast, "a");
    parser.feed(stream.data(), stream.size() - 1 - 4);  // without the last frame's key and payload
    auto events = drain(parser);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().code, close_code::message_too_big);

    // A message limit below the frame limit applies to unfragmented messages too.
    expect_violation(client_frame(kBinary, std::string(600, 'x')), close_code::message_too_big,
                     ParserLimits{1024, 512});
}

TEST(FrameParserViolation, HugeDeclaredLengthDoesNotAllocate) {
    // A 2^40-byte frame announced in a header, followed by a little data: rejected at once, and
    // nothing more is buffered, whatever else the peer sends.
    FrameParser parser;
    auto head = bytes({0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4});
    AllocationProbe probe;
    parser.feed(head.data(), head.size());
    auto ev = parser.next();
    EXPECT_LT(probe.largest(), 1024u);
    ASSERT_EQ(ev.kind, Kind::error);
    EXPECT_EQ(ev.code, close_code::message_too_big);
    EXPECT_EQ(parser.buffered(), 0u);
    std::string junk(1 << 16, 'j');
    parser.feed(junk.data(), junk.size());
    EXPECT_EQ(parser.buffered(), 0u);
    EXPECT_EQ(parser.next().code, close_code::message_too_big);

    // The largest legal declared length, byte by byte.
    expect_violation(bytes({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
                     close_code::message_too_big);
}

TEST(FrameParserViolation, TextNotUtf8) {
    expect_violation(client_frame(kText, "\xC0\x80"), close_code::invalid_payload);
    expect_violation(client_frame(kText, "ok\xED\xA0\x80"), close_code::invalid_payload);
    expect_violation(client_frame(kText, "\xF4\x90\x80\x80"), close_code::invalid_payload);
    expect_violation(client_frame(kText, "truncated \xE2\x82"), close_code::invalid_payload);
    // Binary messages are not checked.
    auto events = parse_whole(client_frame(kBinary, "\xC0\x80"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], message(Opcode::binary, "\xC0\x80"));
}

TEST(FrameParserViolation, TextNotUtf8AcrossFragments) {
    // Truncated at the end of the message.
    expect_violation(client_frame(kTextFirst, "ab") + client_frame(kContinue | kLast, "\xE2\x82"),
                     close_code::invalid_payload);
    // A surrogate whose lead byte ends one fragment.
    expect_violation(
        client_frame(kTextFirst, "ab\xED") + client_frame(kContinue | kLast, "\xA0\x80"),
        close_code::invalid_payload);
    // Above U+10FFFF, split after two bytes.
    expect_violation(
        client_frame(kTextFirst, "\xF4\x90") + client_frame(kContinue | kLast, "\x80\x80"),
        close_code::invalid_payload);
    // An incomplete character followed by a new one.
    expect_violation(client_frame(kTextFirst, "\xC3") + client_frame(kContinue | kLast, "a"),
                     close_code::invalid_payload);
}

TEST(FrameParserViolation, InvalidTextFailsBeforeTheLastFragment) {
    FrameParser parser;
    const auto first = client_frame(kTextFirst, "fine so far \xC0\x80");
    parser.feed(first.data(), first.size());
    auto ev = parser.next();
    ASSERT_EQ(ev.kind, Kind::error);
    EXPECT_EQ(ev.code, close_code::invalid_payload);
}

TEST(FrameParser, ValidTextSplitAtEveryByteAcrossFragments) {
    const std::string text =
        "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        for (std::size_t cut2 = cut; cut2 <= text.size(); ++cut2) {
            auto stream = client_frame(kTextFirst, text.substr(0, cut)) +
                          client_frame(kContinue, text.substr(cut, cut2 - cut)) +
                          client_frame(kContinue | kLast, text.substr(cut2));
            auto events = parse_whole(stream);
            ASSERT_EQ(events.size(), 1u) << cut << "," << cut2;
            EXPECT_EQ(events[0], message(Opcode::text, text)) << cut << "," << cut2;
        }
    }
}

TEST(FrameParserViolation, ErrorIsSticky) {
    FrameParser parser;
    auto bad = client_frame(kContinue | kLast, "x");
    parser.feed(bad.data(), bad.size());
    auto first = copy(parser.next());
    ASSERT_EQ(first.kind, Kind::error);
    EXPECT_EQ(first.code, close_code::protocol_error);
    auto good = client_frame(kText, "Hello");
    parser.feed(good.data(), good.size());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(copy(parser.next()), first);
    parser.shrink();
    EXPECT_EQ(copy(parser.next()), first);
}

// ---------------------------------------------------------------------------------------------
// Close frames

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    return bytes({code >> 8, code & 0xFF}) + std::string(reason);
}

TEST(FrameParserClose, EmptyPayloadMeansNoStatus) {
    auto events = parse_whole(client_frame(kClose, ""));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], (Seen{Kind::close, Opcode::close, "", 1005, {}}));
}

TEST(FrameParserClose, CodeAndReason) {
    auto events = parse_whole(client_frame(kClose, close_payload(1001, "going \xC3\xA9")));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], (Seen{Kind::close, Opcode::close, "going \xC3\xA9", 1001, {}}));
}

TEST(FrameParserClose, AcceptsValidCodes) {
    for (int code :
         {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
        auto events =
            parse_whole(client_frame(kClose, close_payload(static_cast<std::uint16_t>(code))));
        ASSERT_EQ(events.size(), 1u) << code;
        EXPECT_EQ(events[0].kind, Kind::close) << code;
        EXPECT_EQ(events[0].code, code);
        EXPECT_EQ(events[0].payload, "");
    }
}

TEST(FrameParserClose, RejectsInvalidCodes) {
    for (int code :
         {0, 1, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
        expect_violation(client_frame(kClose, close_payload(static_cast<std::uint16_t>(code))),
                         close_code::protocol_error);
}

TEST(FrameParserClose, RejectsOneBytePayload) {
    expect_violation(client_frame(kClose, "\x03"), close_code::protocol_error);
    // 0x10 followed by a zero byte would read as 4096, a valid code.
    expect_violation(client_frame(kClose, "\x10"), close_code::protocol_error);
}

TEST(FrameParserClose, RejectsReasonThatIsNotUtf8) {
    expect_violation(client_frame(kClose, close_payload(1000, "bad \xC0\x80")),
                     close_code::invalid_payload);
    expect_violation(client_frame(kClose, close_payload(1000, "\xED\xA0\x80")),
                     close_code::invalid_payload);
}

TEST(FrameParserClose, RoundTripsEncodeClose) {
    // A server close frame, masked as a client would echo it, parses back to its code and reason.
    const auto server = encode_close(1008, std::string(200, 'r'));
    const auto payload = server.substr(2);
    auto events = parse_whole(client_frame(kClose, payload, {5, 6, 7, 8}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], (Seen{Kind::close, Opcode::close, std::string(123, 'r'), 1008, {}}));
}

}  // namespace
}  // namespace herald::websocket
