// Fuzz target: CloudEvents HTTP binary mode (core::decode_binary) and the header value codec
// (core::percent_decode_header / percent_encode_header).
//
// Input layout, so seeds can be written by hand: header lines "name: value" separated by "\n"
// (a trailing "\r" is dropped), then an empty line, then the body. A line without ':' is a header
// with an empty value. Like the HTTP layer, every header is passed to the decoder and the first
// Content-Type header's value is the content type.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a failure is Errc::invalid_argument (or unsupported_media_type) with a message;
//  - every header value that percent-decodes re-encodes and decodes back to the same bytes;
//  - a decoded event is valid, carries the body (as is, or as the same JSON value), and survives
//    encode_structured/decode_structured unchanged (binary and structured mode must describe the
//    same event).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec.hpp"
#include "event_compare.hpp"
#include "fuzz_check.hpp"

using namespace herald;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

void check_header_codec(std::string_view value) {
    auto decoded = core::percent_decode_header(value);
    if (!decoded) {
        HERALD_FUZZ_CHECK(!decoded.error().message.empty());
        return;
    }
    const std::string encoded = core::percent_encode_header(*decoded);
    for (char c : encoded) {
        // The encoding is printable ASCII without space, '"' (and with '%' only as an escape).
        HERALD_FUZZ_CHECK(c >= 0x21 && c <= 0x7E && c != '"');
    }
    auto again = core::percent_decode_header(encoded);
    HERALD_FUZZ_CHECK(again.has_value());
    HERALD_FUZZ_CHECK(*again == *decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::as_text(data, size);
    std::vector<core::Header> headers;
    std::string_view content_type;
    std::string_view body;
    while (!input.empty()) {
        const std::size_t eol = input.find('\n');
        std::string_view line = input.substr(0, eol);
        input = eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
            body = input;
            break;
        }
        const std::size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        std::string_view value =
            colon == std::string_view::npos ? std::string_view{} : trim(line.substr(colon + 1));
        headers.emplace_back(std::string(name), std::string(value));
        if (content_type.empty() && iequals(name, "content-type")) content_type = value;
        check_header_codec(value);
    }

    auto event = core::decode_binary(headers, content_type, body);
    if (!event) {
        const Error& e = event.error();
        HERALD_FUZZ_CHECK(e.code == Errc::invalid_argument ||
                          e.code == Errc::unsupported_media_type);
        HERALD_FUZZ_CHECK(!e.message.empty());
        return 0;
    }
    HERALD_FUZZ_CHECK(core::validate(*event).has_value());
    if (event->data_kind == core::DataKind::json) {
        HERALD_FUZZ_CHECK(
            fuzz::same_json(fuzz::parse_accepted(event->data), fuzz::parse_accepted(body)));
    } else if (event->data_kind != core::DataKind::none) {
        HERALD_FUZZ_CHECK(event->data == body);
    } else {
        HERALD_FUZZ_CHECK(body.empty());
    }
    const std::string encoded = core::encode_structured(*event);
    auto structured = core::decode_structured(encoded);
    if (!structured) {
        std::fprintf(stderr, "structured decode of a binary-mode event failed: %s: %s\n%s\n",
                     structured.error().attribute.c_str(), structured.error().message.c_str(),
                     encoded.c_str());
    }
    HERALD_FUZZ_CHECK(structured.has_value());
    HERALD_FUZZ_CHECK(fuzz::same_event(*event, *structured));
    HERALD_FUZZ_CHECK(core::encode_structured(*structured) == encoded);
    return 0;
}
