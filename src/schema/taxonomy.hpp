#pragma once
// Naming rules for event types and topic names (DESIGN.md §4, issue 6 "taxonomy rules").
//
// A rule is a regular expression (pattern.hpp dialect, matched against the WHOLE name, so ^ and $
// are optional) plus two strings for people: the expected shape ("<domain>.<nounStateChange>.v<N>")
// and an example that follows the rule. A name that breaks the rule is answered with all three, so
// a producer can fix it without reading docs.
//
// Defaults:
//   event types  ^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*)+\.v[0-9]+$
//                shape <domain>.<nounStateChange>.v<N>, e.g. shipping.orderShipped.v1: a lower-case
//                domain, one or more camelCase segments naming a noun and its state change, and
//                the major version of the event's contract
//   topics       ^[a-z0-9][a-z0-9._-]{0,199}$
//                the storage rule of DESIGN.md §4; a deployment may narrow it
//
// The trailing `.v<N>` of an event type is its major version: a breaking change to an event's
// schema is published as a new type name (…v2), while the schema registry's numbered versions of
// one type must stay compatible (compat.hpp). event_type_version() extracts N.
//
// A Taxonomy is immutable after make(); its checks are const, allocation-free on success and
// thread-safe. Matching is linear in the name's length (pattern.hpp), so it is safe on names taken
// from the network.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "schema/pattern.hpp"

namespace herald::schema {

struct NamingRule {
    std::string pattern;  // regular expression, matched against the whole name
    std::string shape;    // the expected shape for people, e.g. "<domain>.<nounStateChange>.v<N>"
    std::string example;  // a name that follows the rule, e.g. "shipping.orderShipped.v1"
};

NamingRule default_event_type_rule();
NamingRule default_topic_rule();

struct TaxonomyConfig {
    NamingRule event_type = default_event_type_rule();
    NamingRule topic = default_topic_rule();
};

class Taxonomy {
public:
    // The default rules.
    Taxonomy();

    // Compiles both rules. Errors (Errc::invalid_argument): a pattern that does not compile
    // (attribute "event_type.pattern" or "topic.pattern"), an empty shape, or an example that
    // breaks its own rule (attribute "event_type.example" / "topic.example") — a rule whose example
    // fails would print misleading advice.
    static Result<Taxonomy> make(TaxonomyConfig config);

    // Ok, or Errc::invalid_argument with attribute "type" and a message such as:
    //   event type 'shipping.orderShipped' does not follow the naming rule
    //   <domain>.<nounStateChange>.v<N> (for example shipping.orderShipped.v1): it does not end
    //   with the version suffix .v<N>
    // The hint after the colon is given for the default rule only (a custom rule's intent is
    // unknown).
    Result<void> check_event_type(std::string_view type) const;
    // Ok, or Errc::invalid_argument with attribute "topic", message in the same form.
    Result<void> check_topic(std::string_view topic) const;

    bool is_valid_event_type(std::string_view type) const noexcept;
    bool is_valid_topic(std::string_view topic) const noexcept;

    const NamingRule& event_type_rule() const noexcept { return event_type_.rule; }
    const NamingRule& topic_rule() const noexcept { return topic_.rule; }

private:
    struct Compiled {
        NamingRule rule;
        Pattern pattern;
        bool is_default;
    };
    Taxonomy(Compiled event_type, Compiled topic)
        : event_type_(std::move(event_type)), topic_(std::move(topic)) {}

    Compiled event_type_;
    Compiled topic_;
};

// N of a trailing ".v<N>" segment ("shipping.orderShipped.v12" → 12); nullopt when the last
// dot-separated segment is not "v" followed by 1–9 digits. Custom naming rules that keep this
// suffix keep this function meaningful.
std::optional<std::uint32_t> event_type_version(std::string_view type) noexcept;

}  // namespace herald::schema
