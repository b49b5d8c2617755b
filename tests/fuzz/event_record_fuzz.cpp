// Fuzz target: the event record codec (core::decode_event_record), the payload format of every
// record in the log. Recovery and reads hand it whatever bytes a segment holds.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a failure is Errc::corrupt;
//  - a decoded record views into the input and re-encodes to exactly the input bytes (the layout
//    has one encoding per record);
//  - encode_event_record of fields cut from the input decodes back to those fields.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/event_record.hpp"
#include "fuzz_check.hpp"

using namespace herald;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view payload = fuzz::as_text(data, size);
    auto view = core::decode_event_record(payload);
    if (view) {
        HERALD_FUZZ_CHECK(inside(view->id, payload) && inside(view->type, payload) &&
                          inside(view->idempotency_key, payload) && inside(view->json, payload));
        HERALD_FUZZ_CHECK(!view->json.empty());
        auto encoded =
            core::encode_event_record(view->id, view->type, view->idempotency_key, view->json);
        HERALD_FUZZ_CHECK(encoded.has_value());
        HERALD_FUZZ_CHECK(*encoded == payload);
    } else {
        HERALD_FUZZ_CHECK(view.error().code == Errc::corrupt);
    }

    // The other direction: four fields cut from the input at positions its first bytes choose.
    if (size >= 3) {
        std::string_view rest = payload.substr(3);
        auto cut = [&](std::uint8_t n) {
            std::string_view field = rest.substr(0, n < rest.size() ? n : rest.size());
            rest.remove_prefix(field.size());
            return field;
        };
        const std::string_view id = cut(data[0]);
        const std::string_view type = cut(data[1]);
        const std::string_view key = cut(data[2]);
        const std::string_view json = rest;
        auto encoded = core::encode_event_record(id, type, key, json);
        if (json.empty()) {
            HERALD_FUZZ_CHECK(!encoded);
            return 0;
        }
        HERALD_FUZZ_CHECK(encoded.has_value());
        auto decoded = core::decode_event_record(*encoded);
        HERALD_FUZZ_CHECK(decoded.has_value());
        HERALD_FUZZ_CHECK(decoded->id == id && decoded->type == type &&
                          decoded->idempotency_key == key && decoded->json == json);
    }
    return 0;
}
