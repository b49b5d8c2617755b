// Fuzz target: CloudEvents batch mode (core::decode_batch), the body of
// `Content-Type: application/cloudevents-batch+json` publishes.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a failure is Errc::invalid_argument with a message; an attribute, when named, starts with the
//    element index ("[3]" or "[3].type");
//  - every decoded event is valid, its JSON data is the value of its element's "data" member,
//    and it round-trips through encode_structured/decode_structured;
//  - the batch re-encoded as a JSON array of those encodings decodes to the same events.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "event_compare.hpp"
#include "fuzz_check.hpp"

using namespace herald;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto batch = core::decode_batch(fuzz::as_text(data, size));
    if (!batch) {
        const Error& e = batch.error();
        HERALD_FUZZ_CHECK(e.code == Errc::invalid_argument ||
                          e.code == Errc::unsupported_media_type);
        HERALD_FUZZ_CHECK(!e.message.empty());
        HERALD_FUZZ_CHECK(e.attribute.empty() || e.attribute.front() == '[');
        return 0;
    }

    const boost::json::value source = fuzz::parse_accepted(fuzz::as_text(data, size));
    HERALD_FUZZ_CHECK(source.is_array() && source.get_array().size() == batch->size());
    std::string array = "[";
    for (std::size_t i = 0; i < batch->size(); ++i) {
        const core::CloudEvent& event = (*batch)[i];
        HERALD_FUZZ_CHECK(core::validate(event).has_value());
        HERALD_FUZZ_CHECK(source.get_array()[i].is_object());
        HERALD_FUZZ_CHECK(fuzz::data_matches_source(event, source.get_array()[i].get_object()));
        const std::string encoded = core::encode_structured(event);
        auto again = core::decode_structured(encoded);
        HERALD_FUZZ_CHECK(again.has_value());
        HERALD_FUZZ_CHECK(fuzz::same_event(event, *again));
        if (array.size() > 1) array.push_back(',');
        array += encoded;
    }
    array.push_back(']');

    auto rebatched = core::decode_batch(array);
    HERALD_FUZZ_CHECK(rebatched.has_value());
    HERALD_FUZZ_CHECK(rebatched->size() == batch->size());
    for (std::size_t i = 0; i < batch->size(); ++i) {
        HERALD_FUZZ_CHECK(fuzz::same_event((*batch)[i], (*rebatched)[i]));
    }
    return 0;
}
