// Fuzz target: what Herald reads back from a JetStream cluster other nodes (or other programs) write to —
// stream names (jetstream::topic_of_stream), publish acknowledgements, stored messages and their timestamps,
// the topic records of the shared-stream layout (jetstream_protocol.hpp), and the shared webhook records
// (webhook/subscription_json.hpp).
//
// The first byte picks the parser; the rest is its text. Invariants beyond "no crash, no sanitizer report":
//  - a stream name that decodes to a topic is exactly what stream_name() makes of that topic (the escape is
//    canonical, so two streams never claim one topic);
//  - an acknowledgement that parses without an API error has a sequence; a stored message has one and its
//    timestamp, when given, parses;
//  - a definition or progress record that parses serialises to a record that parses to the same values
//    (what one node writes, every node reads alike);
//  - a topic record that parses has a non-zero epoch, and the record written for that epoch reads back alike.

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/jetstream_protocol.hpp"
#include "engine/topic_name.hpp"
#include "fuzz_check.hpp"
#include "webhook/subscription_json.hpp"

using namespace herald;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t which = data[0] % 6;
    const std::string_view text = fuzz::as_text(data + 1, size - 1);
    namespace js = engine::jetstream;
    switch (which) {
        case 0: {
            auto topic = js::topic_of_stream("HERALD_", text);
            if (topic) {
                HERALD_FUZZ_CHECK(engine::is_valid_topic_name(*topic));
                HERALD_FUZZ_CHECK(js::stream_name("HERALD_", *topic) == text);
            }
            if (engine::is_valid_topic_name(text)) {
                auto back = js::topic_of_stream("HERALD_", js::stream_name("HERALD_", text));
                HERALD_FUZZ_CHECK(back && *back == text);
            }
            break;
        }
        case 1: {
            auto ack = js::parse_pub_ack(text);
            if (ack && ack->ok()) HERALD_FUZZ_CHECK(ack->sequence > 0);
            if (ack && !ack->ok()) HERALD_FUZZ_CHECK(ack->error_code != 0);
            break;
        }
        case 2: {
            auto m = js::parse_msg_get(text);
            if (m) HERALD_FUZZ_CHECK(m->sequence > 0);
            (void)js::parse_timestamp_ms(text);
            break;
        }
        case 3: {
            auto def = webhook::parse_definition(text);
            if (!def) break;
            auto again = webhook::parse_definition(webhook::definition_json(*def));
            HERALD_FUZZ_CHECK(again.has_value());
            HERALD_FUZZ_CHECK(again->id == def->id && again->spec.topic == def->spec.topic &&
                              again->spec.url == def->spec.url && again->spec.types == def->spec.types &&
                              again->secrets == def->secrets && again->status.state == def->status.state &&
                              again->status.next_offset == def->status.next_offset &&
                              again->spec.retry_schedule == def->spec.retry_schedule &&
                              again->spec.timeout == def->spec.timeout);
            break;
        }
        case 5: {
            auto epoch = js::parse_topic_record(text);
            if (epoch) {
                HERALD_FUZZ_CHECK(*epoch != 0);
                HERALD_FUZZ_CHECK(js::parse_topic_record(js::topic_record(*epoch)) == epoch);
            }
            break;
        }
        default: {
            auto p = webhook::parse_progress(text);
            if (!p) break;
            auto again = webhook::parse_progress(webhook::progress_json(*p));
            HERALD_FUZZ_CHECK(again.has_value());
            HERALD_FUZZ_CHECK(again->state == p->state && again->next_offset == p->next_offset &&
                              again->epoch == p->epoch && again->delivered == p->delivered &&
                              again->failing_since_ms == p->failing_since_ms && again->last_error == p->last_error);
            break;
        }
    }
    return 0;
}
