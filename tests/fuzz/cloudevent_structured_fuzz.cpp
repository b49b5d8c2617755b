// Fuzz target: CloudEvents structured mode (core::decode_structured), the body of
// `Content-Type: application/cloudevents+json` publishes and of every herald.v1 publish.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a failure is Errc::invalid_argument (or unsupported_media_type) with a message;
//  - a decoded event passes core::validate, and its JSON data is the value of the input's "data"
//    member;
//  - encode_structured() of it is one line, decodes again to the same event, and re-encodes to the
//    same bytes (the encoding is what the log stores and subscribers receive, so it must be
//    stable).

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/codec.hpp"
#include "event_compare.hpp"
#include "fuzz_check.hpp"

using namespace herald;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto first = core::decode_structured(fuzz::as_text(data, size));
    if (!first) {
        const Error& e = first.error();
        HERALD_FUZZ_CHECK(e.code == Errc::invalid_argument ||
                          e.code == Errc::unsupported_media_type);
        HERALD_FUZZ_CHECK(!e.message.empty());
        return 0;
    }
    HERALD_FUZZ_CHECK(core::validate(*first).has_value());
    const boost::json::value source = fuzz::parse_accepted(fuzz::as_text(data, size));
    HERALD_FUZZ_CHECK(source.is_object());
    HERALD_FUZZ_CHECK(fuzz::data_matches_source(*first, source.get_object()));

    const std::string encoded = core::encode_structured(*first);
    HERALD_FUZZ_CHECK(encoded.find('\n') == std::string::npos);
    HERALD_FUZZ_CHECK(encoded.find('\r') == std::string::npos);

    auto second = core::decode_structured(encoded);
    if (!second) {
        std::fprintf(stderr, "re-decode failed: %s: %s\nencoded: %s\n",
                     second.error().attribute.c_str(), second.error().message.c_str(),
                     encoded.c_str());
    }
    HERALD_FUZZ_CHECK(second.has_value());
    HERALD_FUZZ_CHECK(fuzz::same_event(*first, *second));
    HERALD_FUZZ_CHECK(core::encode_structured(*second) == encoded);
    return 0;
}
