#pragma once
// A topic's event contract (issue 6, "per topic: which types it accepts, and whether unknown types
// pass"): the event types the topic accepts, as globs, and whether a type with no registered schema
// may be published.
//
// Checked on publish after the naming rule (taxonomy.hpp) and before schema validation. Failures
// are Errc::invalid_argument with attribute "type"; the HTTP layer answers them 422 like any other
// rejected event.
//
// A TopicContract is a plain value; check() is const and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::schema {

struct TopicContract {
    // Globs over the whole type name (base/glob.hpp: '*' matches any run of characters, dots
    // included, '?' exactly one character, everything else itself), e.g. "shipping.*". Empty: the
    // topic accepts every type.
    std::vector<std::string> accepted_types;
    // Whether a type without a registered schema may be published here. When false, only types that
    // have a schema pass, so every event on the topic is validated.
    bool allow_unknown_types = true;

    // True when `type` matches one of accepted_types (or the list is empty).
    bool accepts(std::string_view type) const noexcept;

    // Ok, or an error whose message a producer can act on, e.g.
    //   event type 'billing.invoicePaid.v1' is not accepted on this topic; accepted types:
    //   shipping.* event type 'shipping.parcelLost.v1' has no registered schema, and this topic
    //   accepts only types that have one
    Result<void> check(std::string_view type, bool has_schema) const;
};

}  // namespace herald::schema
