#pragma once
// Path templates such as "/users/{id}/orders/{order}": a sequence of '/'-separated segments, each
// either literal text or a `{name}` parameter standing for one whole, non-empty segment. REST
// routes match and rewrite with them (proxy/route.hpp) and the configuration validates them at load
// (config/proxy_config.cpp), so the grammar lives here, once, below both.
//
// The grammar is deliberately small, so that matching is a comparison of segments and never a
// regex:
//   - a template starts with '/'; "/" alone has no segments;
//   - segments are not empty, except that a trailing '/' is kept as a final empty literal ("/a/" ≠
//     "/a");
//   - a parameter is a whole segment: "{name}" with name [A-Za-z_][A-Za-z0-9_]{0,63}, unique in the
//     template; "/files/{name}.json" (a parameter inside a segment) is an error;
//   - literal text is RFC 3986 `pchar`s (unreserved, sub-delims, ':', '@', and %XX escapes).
//
// Thread-safety: PathTemplate is an immutable value once parsed; share it freely.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace herald {

struct PathSegment {
    bool param = false;
    std::string text;  // the literal, or the parameter's name
};

struct PathTemplate {
    std::string source;  // as written
    std::vector<PathSegment> segments;

    std::size_t literal_count() const noexcept;
    std::size_t param_count() const noexcept { return segments.size() - literal_count(); }
    bool has_param(std::string_view name) const noexcept;
};

// Errc::invalid_argument with a sentence saying what is wrong ("parameter {id} appears twice").
Result<PathTemplate> parse_path_template(std::string_view text);

// The segments of a path as matching sees them: "/" → {}, "/a/b" → {"a","b"}, "/a/" → {"a",""}.
// Views into `path`. `path` must start with '/'.
std::vector<std::string_view> split_path_segments(std::string_view path);

// Builds a path from the template, taking each parameter's value from `values` (name, value). A
// parameter without a value is an error; values are inserted as they are (callers pass segments of
// a matched path).
Result<std::string> expand_path_template(
    const PathTemplate& t,
    const std::vector<std::pair<std::string_view, std::string_view>>& values);

// True for RFC 3986 `pchar` characters other than '%' (whose escape is checked separately).
bool is_path_char(char c) noexcept;

}  // namespace herald
