#include "webhook/subscription.hpp"

namespace herald::webhook {

const char* to_string(DeliveryMode m) noexcept { return m == DeliveryMode::ordered ? "ordered" : "concurrent"; }

const char* to_string(ContentMode m) noexcept { return m == ContentMode::structured ? "structured" : "binary"; }

const char* to_string(SubscriptionState s) noexcept {
    switch (s) {
        case SubscriptionState::active: return "active";
        case SubscriptionState::paused: return "paused";
        case SubscriptionState::disabled: return "disabled";
    }
    return "?";
}

const char* to_string(AttemptOutcome o) noexcept {
    switch (o) {
        case AttemptOutcome::delivered: return "delivered";
        case AttemptOutcome::retry: return "retry";
        case AttemptOutcome::dead_letter: return "dead_letter";
        case AttemptOutcome::gone: return "gone";
        case AttemptOutcome::blocked: return "blocked";
    }
    return "?";
}

}  // namespace herald::webhook
