#pragma once
// A webhook subscription (DESIGN.md §1): a cursor into one topic's log plus where and how to deliver. Everything
// here is persisted in the metadata database so deliveries survive receiver outages and Herald restarts.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::webhook {

enum class DeliveryMode { ordered, concurrent };  // ordered: one in flight, in log order
enum class ContentMode { structured, binary };    // CloudEvents HTTP binding used for the POST
enum class SubscriptionState { active, paused, disabled };

const char* to_string(DeliveryMode m) noexcept;
const char* to_string(ContentMode m) noexcept;
const char* to_string(SubscriptionState s) noexcept;

// A signing secret ("whsec_..."). During rotation the previous secret stays valid until `expires_at_ms` and
// deliveries carry a signature for each live secret.
struct SigningSecret {
    std::string secret;
    std::optional<std::int64_t> expires_at_ms;
    friend bool operator==(const SigningSecret&, const SigningSecret&) = default;
};

// What the subscriber asked for; changes only through the API.
struct SubscriptionSpec {
    std::string topic;
    std::string url;
    std::vector<std::string> types;  // event-type globs; empty: every type
    DeliveryMode mode = DeliveryMode::ordered;
    unsigned max_in_flight = 1;      // concurrent mode only
    std::vector<std::chrono::milliseconds> retry_schedule;  // empty: the default Standard Webhooks schedule
    std::chrono::milliseconds disable_after{0};              // 0: the configured default
    double rate_limit = 0;           // deliveries per second; 0: unlimited
    std::chrono::milliseconds timeout{10'000};
    ContentMode content_mode = ContentMode::structured;
    bool validation_handshake = false;  // CloudEvents webhook OPTIONS handshake at creation
};

// Where delivery stands; changes as deliveries happen.
struct SubscriptionStatus {
    SubscriptionState state = SubscriptionState::active;
    std::string disabled_reason;
    std::uint64_t epoch = 0;        // the topic epoch the cursor belongs to (0: not yet known)
    std::uint64_t next_offset = 0;  // every event before this was delivered or dead-lettered
    std::optional<std::int64_t> failing_since_ms;  // first failure of the current failing streak
    std::int64_t last_attempt_ms = 0;
    int last_status = 0;            // HTTP status of the last attempt; 0 when it never got one
    std::string last_error;
    std::uint64_t delivered = 0;    // events delivered successfully, since creation
    std::uint64_t dead_lettered = 0;
};

struct Subscription {
    std::string id;
    std::int64_t created_at_ms = 0;
    SubscriptionSpec spec;
    std::vector<SigningSecret> secrets;  // current first
    SubscriptionStatus status;
};

// A delivery that was given up on, kept for inspection and replay.
struct DeadLetter {
    std::int64_t id = 0;  // assigned by the store
    std::string subscription_id;
    std::uint64_t offset = 0;
    std::string event_id;
    std::string event_json;  // the structured CloudEvent as stored in the log
    unsigned attempts = 0;
    int last_status = 0;
    std::string last_error;
    std::int64_t created_at_ms = 0;
};

enum class AttemptOutcome { delivered, retry, dead_letter, gone, blocked };
const char* to_string(AttemptOutcome o) noexcept;

// One HTTP attempt, for the delivery log.
struct Attempt {
    std::string subscription_id;
    std::uint64_t offset = 0;
    std::string event_id;
    unsigned attempt = 1;
    std::int64_t at_ms = 0;
    int status = 0;
    std::int64_t duration_us = 0;
    AttemptOutcome outcome = AttemptOutcome::delivered;
    std::string error;
    bool replay = false;
};

}  // namespace herald::webhook
