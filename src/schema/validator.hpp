#pragma once
// Validation of event data against a JSON Schema (issue 6 part 2), compiled once at registration.
//
// Engine: valijson 1.0 (header-only, from Debian; cmake/valijson.cmake), kept out of this header.
// Herald replaces three of its keywords with its own implementations, because valijson's are unsafe
// on network input:
//   pattern      libstdc++ std::regex recurses per character (a 100 KB string crashes the process)
//                and is super-linear; Herald uses pattern.hpp (linear, no recursion).
//                Backreferences and lookaround are refused when the schema is registered.
//   format       valijson aborts on a non-string value; Herald asserts date-time, date, time,
//                email, hostname, ipv4, ipv6, uri, uri-reference, uuid, json-pointer and regex on
//                strings, and ignores other format values (annotations, as draft 7 allows).
//   uniqueItems  valijson compares every pair (quadratic) and reports every duplicate pair; Herald
//                sorts canonical forms (n log n) and reports the first duplicate.
// Guards before valijson runs: data nested deeper than max_depth is refused (valijson recurses per
// level); with patternProperties in the schema, property names longer than
// max_pattern_property_name bytes are refused (valijson matches those with std::regex); integers
// beyond the signed 64-bit range are validated as non-integer numbers (valijson's Boost.JSON
// adapter has no unsigned integers); and where the schema has an integer multipleOf anywhere, a number
// beyond that range is refused with keyword "multipleOf" (valijson converts it to int64 there, which is
// undefined behaviour). Schemas whose "$ref" chains loop, which would make valijson
// recurse without end, are refused at compile time.
//
// Two engines, one verdict: compile() also builds a fast validator (fast_validator.hpp) for the
// keywords real event schemas use — type, enum, const, properties, required, additionalProperties,
// min/maxProperties, items (one schema), min/maxItems, uniqueItems, min/maxLength, pattern, format,
// minimum/maximum and their exclusive forms, multipleOf, local $ref, allOf/anyOf/oneOf/not and
// boolean schemas — precompiled into a tree of checks that allocates nothing on valid data.
//   is_valid()    the guards, then the fast validator; valijson only for a schema the fast
//                 validator refuses (any other keyword valijson acts on: patternProperties,
//                 dependencies, if/then/else, contains, propertyNames, tuple items ...) or for the
//                 rare data it leaves undecided (see fast_validator.hpp).
//   validate()    the guards, then the same fast verdict to answer valid data; invalid data gets
//                 valijson's detailed run, which names every violation.
//   proves_valid_text()  the fast validator on the JSON parser's events: publish asks it first,
//                 and parses the data only when it proves nothing.
// Both engines give the same verdict on every schema the fast validator accepts
// (tests/unit/schema/fast_validator_test.cpp compares them differentially; so does the schema
// fuzz target); verdict() exposes each engine for those checks.
//
// Violations: one per failed assertion, at the JSON pointer of the offending value in the data,
// naming the keyword; valijson's wrapper messages ("failed to validate item #3") are dropped when a
// nested violation explains them. At most max_violations are returned (the count is what a 422
// body can usefully show), in document order (by pointer, array indexes numerically).
//
// Thread-safety: a CompiledSchema is immutable after compile(); is_valid() and validate() are const
// and may run on any number of threads at once (each valijson call builds its own Validator, whose
// regex cache Herald never fills since `pattern` is its own; the fast validator is immutable).

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "schema/bundle.hpp"

namespace herald::schema {

struct Violation {
    // RFC 6901 pointer into the data: "" is the data itself, "/items/0/sku" a member.
    std::string pointer;
    // The keyword that failed: "required", "type", "enum", "minimum", "pattern", ...
    std::string keyword;
    // For people, e.g. "missing required property 'orderId'".
    std::string message;
};

// [{"pointer":..,"keyword":..,"message":..}, ...] — the shape the 422 problem+json body lists.
boost::json::value to_json(const std::vector<Violation>& violations);

class CompiledSchema {
public:
    static constexpr std::size_t max_violations = 100;
    static constexpr std::size_t max_depth = 128;
    static constexpr std::size_t max_pattern_property_name = 1024;
    // Invalid data with more values than this gets one violation instead of a list (see
    // validate()).
    static constexpr std::size_t max_detailed_values = 20000;

    // Compiles a bundled schema (bundle.hpp: every "$ref" local). Errors: Errc::invalid_argument
    // with attribute "schema" and a message that names the schema location, e.g.
    // "/properties/sku/pattern: regular expression
    // '(a)\1': backreferences are not supported (at offset 4)", or valijson's own message for a
    // malformed schema.
    static Result<std::shared_ptr<const CompiledSchema>> compile(const boost::json::value& bundled,
                                                                 Draft draft);

    ~CompiledSchema();
    CompiledSchema(const CompiledSchema&) = delete;
    CompiledSchema& operator=(const CompiledSchema&) = delete;

    // The verdict for publish: stops at the first failed assertion (see "Two engines" above).
    bool is_valid(const boost::json::value& data) const;
    // True only when `json_text` parses (as boost::json::parse with default options) to data that
    // is_valid() accepts — proved by the fast validator on the parser's events, without building
    // the data, which is most of the cost of checking a valid event. False proves nothing: parse
    // the text and call is_valid()/validate(). Always false for a schema without a fast path, and
    // for data that meets combinators or enum/const/uniqueItems/min/maxProperties on a container.
    bool proves_valid_text(std::string_view json_text) const;
    // Every violation (up to max_violations), in document order; empty when the data is valid.
    // Invalid data holding more than max_detailed_values values gets one violation at "" with
    // keyword "schema" instead: listing them means a detailed valijson run, which keeps several
    // hundred bytes per failed value.
    std::vector<Violation> validate(const boost::json::value& data) const;

    // Testing seam (differential test, fuzz target): the verdict of one engine alone, guards
    // included. Engine::fast answers nullopt when the schema has no fast path or the fast
    // validator leaves this data undecided (is_valid() then asks valijson).
    enum class Engine { fast, valijson };
    std::optional<bool> verdict(Engine engine, const boost::json::value& data) const;
    // Whether is_valid() has the fast validator for this schema; if not, why (e.g.
    // "/properties/a: patternProperties").
    bool has_fast_path() const noexcept;
    std::string_view fast_path_refusal() const noexcept;

    struct Impl;  // valijson state; defined in validator.cpp

private:
    explicit CompiledSchema(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace herald::schema
