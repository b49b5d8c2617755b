#pragma once
// A YAML 1.2 rendering of a JSON value, for the catalog's ".yaml" documents (AsyncAPI and
// OpenAPI tooling reads both forms; people read YAML more easily).
//
// Contract:
//   * Block style: mappings as "key: value" lines, sequences as "- item" lines, two spaces per
//     level; empty containers as "{}" and "[]". Members keep the order they have in the object
//     (boost::json::object keeps insertion order), so a value always renders to the same bytes.
//   * Any YAML 1.2 (core schema) or YAML 1.1 loader reads back the same JSON value. A string is
//     written plain only when no loader could take it for anything else: it starts with a letter,
//     '_', '/' or '$', holds no ':' or '#', no control or line-break character, no trailing space,
//     and is not one of the words YAML 1.1 reads as a boolean or null (yes, no, on, off, y, n,
//     true, null, ~ …, compared case-insensitively). Other strings are double-quoted with escapes,
//     except values holding line breaks, which become literal block scalars ("|", "|-") when that
//     is exact, so descriptions stay readable. Keys follow the same rule; a key longer than YAML's
//     1024-character limit for implicit keys is written as an explicit "? key" entry.
//   * Numbers: integers in decimal; doubles in their shortest round-trip form with a '.' (so YAML
//     1.1 loaders read a float too); infinities and NaN as .inf, -.inf, .nan.
//   * Strings are expected to be UTF-8 (what boost::json produces when parsing); a byte that is
//     not part of a valid UTF-8 sequence cannot be represented in YAML and becomes U+FFFD.
//   * Nesting deeper than 64 levels is written as one line of JSON (a YAML 1.2 flow collection),
//     so the emitter's recursion stays bounded whatever the input.
// Pure function; no I/O; thread-safe.

#include <boost/json/value.hpp>
#include <string>

namespace herald::catalog {

// The value as a YAML document, ending with a newline.
std::string to_yaml(const boost::json::value& value);

}  // namespace herald::catalog
