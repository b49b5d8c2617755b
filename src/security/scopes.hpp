#pragma once
// Authorization scopes (DESIGN.md §6): `publish:<topic-glob>`, `subscribe:<topic-glob>` and
// `admin`.
//
// A topic glob uses the rules of base/glob.hpp: `*` matches any run of characters (dots included,
// so `orders.*` covers `orders.eu.created`), `?` exactly one character, everything else itself; no
// classes. Scopes only ever grant: there is no deny, and a principal with no matching scope is
// refused. `admin` grants the admin action only; it does not imply publish or subscribe on the data
// plane (least privilege: an operator token should not silently be a universal producer). Grant
// `publish:*` explicitly.
//
// Tokens from identity providers carry other scopes too ("openid", "profile", "read:users"); those
// are not errors, they are simply not Herald scopes and are ignored when reading a claim.

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::security {

enum class Action : std::uint8_t { publish, subscribe, admin };

// "publish", "subscribe", "admin".
std::string_view to_string(Action action) noexcept;

inline constexpr std::size_t kMaxScopePatternBytes = 256;

struct Scope {
    Action action = Action::subscribe;
    std::string pattern{};  // the topic glob; empty for admin

    bool operator==(const Scope&) const = default;
};

// "publish:orders.*", "admin".
std::string to_string(const Scope& scope);

// One scope string to a Scope; nullopt when it is not a Herald scope (other prefixes, empty or
// oversized patterns, whitespace or control characters in the pattern).
std::optional<Scope> parse_scope(std::string_view text);

// Configuration form: the same, but anything that is not a valid Herald scope is an error naming it
// (Errc::invalid_argument, attribute = the text).
Result<Scope> parse_scope_strict(std::string_view text);
Result<std::vector<Scope>> parse_scopes_strict(const std::vector<std::string>& texts);

// A space-separated list (OAuth 2.0 `scope`, RFC 6749 §3.3); foreign scopes are skipped.
std::vector<Scope> parse_scope_list(std::string_view space_separated);

// A claim value: a space-separated string or an array of strings. Errc::invalid_argument when it is
// any other JSON type or the array holds a non-string; foreign scopes are skipped.
Result<std::vector<Scope>> parse_scope_claim(const boost::json::value& claim);

// True when the glob matches the whole topic name.
bool topic_glob_match(std::string_view pattern, std::string_view topic) noexcept;

// True when some scope grants `action` on `topic`. For Action::admin the topic is ignored.
bool allows(const std::vector<Scope>& scopes, Action action, std::string_view topic) noexcept;

}  // namespace herald::security
