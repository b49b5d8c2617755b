#pragma once
// Shell-style globs for names (topics, event types): `*` matches any run of characters (dots included), `?`
// exactly one character, everything else itself. No character classes: names never need them, and a smaller
// language is easier to audit in an authorization rule.

#include <string_view>

namespace herald {

// Linear in |pattern| * |text| in the worst case (no backtracking blow-up).
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace herald
