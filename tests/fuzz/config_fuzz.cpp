// Fuzz target: the configuration loader (config::parse_config) on arbitrary text: ${ENV}
// substitution, YAML parsing (yaml-cpp) and the validation of every key.
//
// herald.yaml is written by the operator, not by the network, but the loader must still fail with
// a message naming the key rather than crash or accept an out-of-range value: a typo must never
// take a server down in an unexpected way.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a failure is Errc::invalid_argument with a message;
//  - an accepted configuration respects the documented ranges (spot checks on the values the rest
//    of the server divides by, allocates from or uses as directory names).

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "engine/topic_name.hpp"
#include "fuzz_check.hpp"

using namespace herald;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(fuzz::as_text(data, size));
    auto config = config::parse_config(text, "fuzz.yaml");
    if (!config) {
        HERALD_FUZZ_CHECK(config.error().code == Errc::invalid_argument);
        HERALD_FUZZ_CHECK(!config.error().message.empty());
        return 0;
    }
    const config::Config& c = *config;
    HERALD_FUZZ_CHECK(c.threads <= 256);
    HERALD_FUZZ_CHECK(c.page_max_events >= 1 && c.page_max_events <= 100'000);
    HERALD_FUZZ_CHECK(c.http.header_limit >= 1024 && c.http.body_limit >= 1024);
    HERALD_FUZZ_CHECK(c.http.max_connections >= 1);
    HERALD_FUZZ_CHECK(c.websocket.max_frame_bytes >= 1024 && c.websocket.max_message_bytes >= 1024);
    HERALD_FUZZ_CHECK(c.websocket.publish_burst >= 1);
    HERALD_FUZZ_CHECK(c.webhooks.retry_schedule_ms.size() <= 50);
    for (std::int64_t ms : c.webhooks.retry_schedule_ms) HERALD_FUZZ_CHECK(ms >= 1);
    HERALD_FUZZ_CHECK(c.long_poll_max_ms >= 0 && c.sse.retry_ms >= 0);
    for (const auto& [name, topic] : c.topics) {
        HERALD_FUZZ_CHECK(engine::is_valid_topic_name(name));
        HERALD_FUZZ_CHECK(topic.settings.segment_bytes >= 4096);
    }
    return 0;
}
