#pragma once
// Private to the schema module: the `format` values Herald asserts on strings (validator.hpp lists
// them), shared by the valijson constraint and the fast validator so that both give one verdict.
// Pure functions of their arguments; thread-safe.

#include <string_view>

namespace herald::schema::detail {

// True when the string has the format. Non-strings are not a format's business (the caller skips
// them).
using FormatCheck = bool (*)(std::string_view);

// The check for a format name, or nullptr for a name Herald does not assert (an annotation only,
// as draft 7 allows).
FormatCheck format_check(std::string_view name);

}  // namespace herald::schema::detail
