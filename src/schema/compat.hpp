#pragma once
// Compatibility between two versions of one event type's schema (issue 6 part 3). docs/schemas.md
// lists every rule with an example; this header states the model.
//
// Herald keeps every event in the log, and a consumer is a cursor into it (DESIGN.md §1). So a new
// version of a type's schema can break consumers in two ways, and a check names the way each change
// breaks:
//
//   forward   New events may be INVALID under the OLD schema: consumers still coded against the
//             old version break (a required property is no longer required, a type or enum is
//             widened, a bound is loosened...).
//   backward  Old events may be INVALID under the NEW schema: consumers that moved to the new
//             version break when they replay or catch up on the log (a property becomes required
//             without a default, a type or enum is narrowed, a bound is tightened,
//             additionalProperties is closed...).
//
// (The names follow schema registries' usage: "backward compatible" = the new schema reads old
// data.) A CompatMode says which directions count: `full` (the default: both, because Herald serves
// live consumers and replays at once), `backward`, `forward`, or `none`. A change that cannot be
// proved safe in either direction (a changed pattern, a changed `if`) counts in every mode but
// `none`.
//
// Two deliberate allowances, because they are how event contracts evolve in practice:
//   * adding an OPTIONAL property is not a break when the old version left additional properties
//     open (Herald assumes old producers did not send properties their schema did not describe);
//   * removing an optional property is not a break when the new version leaves additional
//     properties open (producers simply stop sending it). Removing a REQUIRED property is a
//     forward break.
// A property that becomes required is a backward break unless its schema in the new version has a
// `default` (consumers of the new version fill it in for old events; Herald does not rewrite
// events).
//
// The check is structural: it walks both schemas side by side through properties, items,
// additionalProperties, patternProperties, dependencies, propertyNames, contains, allOf/anyOf/oneOf
// (paired by position), not (with the directions swapped) and if/then/else, following local
// "$ref"s ("#/..."; registered schemas are bundled into one document first, see bundle.hpp) with a
// guard against recursive schemas. It reports each break once, at the first place it is met.
//
// Pure functions of their arguments; thread-safe.

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::schema {

enum class CompatMode { none, backward, forward, full };
std::string_view to_string(CompatMode mode) noexcept;
std::optional<CompatMode> parse_compat_mode(
    std::string_view text) noexcept;  // "none"|"backward"|"forward"|"full"

enum class BreakDirection {
    backward,  // old events may be rejected by the new schema
    forward,   // new events may be rejected by the old schema
    both,      // cannot be proved safe either way
};
std::string_view to_string(BreakDirection direction) noexcept;

struct Break {
    // Where, as a JSON Schema "keywordLocation": a JSON pointer from the new schema's root through
    // the keywords walked, with a "$ref" token where a reference was followed (e.g.
    // "/properties/address/$ref/required"). For something only the old schema has, the location it
    // would have in the new one.
    std::string pointer;
    std::string keyword;  // the keyword that changed: "type", "required", "maxLength", ...
    BreakDirection direction;
    std::string message;  // e.g. "narrows the type: no longer allows number (only integer)"
};

struct CompatReport {
    CompatMode mode = CompatMode::full;
    std::vector<Break> breaks;  // only those that count under `mode`, in schema order

    bool compatible() const noexcept { return breaks.empty(); }
    // One line for logs and error messages: "2 breaking changes: /required: ...;
    // /properties/a/type: ...".
    std::string summary() const;
    // {"mode":"full","compatible":false,"breaks":[{"pointer":..,"keyword":..,"direction":..,"message":..}]}
    boost::json::value to_json() const;
};

// Compares `old_schema` with `new_schema` (each a draft-04 or draft-07 schema; boolean schemas
// allowed).
// "$ref"s must be local ("#" followed by a JSON pointer) — bundle a schema that refers to other
// documents first. A reference that does not resolve is reported as a break in both directions
// unless both sides hold the very same reference.
CompatReport check_compatibility(const boost::json::value& old_schema,
                                 const boost::json::value& new_schema,
                                 CompatMode mode = CompatMode::full);

}  // namespace herald::schema
