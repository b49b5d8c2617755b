#pragma once
// Private to the schema module: the publish-time verdict (valid or not) for the keywords real event
// schemas use, compiled once from the schema into a tree of nodes with precompiled checks.
//
// Why: valijson builds a new visitor and copies a vector of path strings for every property and
// item even when it collects no results, which made validating a realistic event cost more than
// publishing it (docs/benchmarks.md, "Publishing with schema validation"). CompiledSchema
// (validator.hpp) asks this validator first and keeps valijson for the detailed list of violations
// and for every schema this validator does not cover.
//
// Contract: for every schema compile() accepts and every data value, check() answers exactly what
// valijson 1.0 with Herald's keywords answers on the same data after the guards of validator.cpp
// (tests/unit/schema/fast_validator_test.cpp checks this differentially), including valijson's
// quirks:
//   * type "integer" is Boost.JSON's int64 only: 1.0 is a number; unsigned integers above int64
//     count as doubles (the guard converts them for valijson);
//   * enum and const compare numbers as doubles, and a schema value above int64 equals nothing;
//   * strings are read up to their first NUL character for enum, const, lengths, pattern and
//     format (valijson reads them through c_str());
//   * lengths count code points;
//   * multipleOf with an integer divisor truncates a fractional value first; with a fractional
//     divisor, a remainder within DBL_EPSILON passes;
//   * draft-04 exclusiveMinimum/exclusiveMaximum are booleans beside minimum/maximum, draft-07 ones
//     numbers;
//   * a "$ref" replaces its whole object (siblings are ignored).
// Where valijson's behaviour depends on a data value in a way not worth repeating here (a string
// against multipleOf, a fractional value beyond int64 against an integer multipleOf, a string that
// is not valid UTF-8 against a length), check() answers Verdict::undecided and the caller asks
// valijson.
//
// compile() refuses (the caller then uses valijson alone) any schema with a keyword or form it
// does not implement: contains, dependencies, if/then/else, patternProperties, propertyNames,
// additionalItems, tuple "items", "id", a $ref it cannot resolve exactly as valijson does, property
// names holding '/' or '~' (valijson's schema cache keys on unescaped paths, so such names can
// share a subschema), property or required names holding NUL (valijson reads them through
// c_str()), chains of allOf/anyOf/oneOf/not deeper than max_chain at one data level or in a cycle,
// and anything else valijson would act on. Keywords valijson ignores are ignored (title,
// description, default, examples, $comment, $schema, definitions, $defs, readOnly, ...).
//
// Two ways in: check() on a parsed value, and proves_valid_text() on the JSON text, which runs the
// same node checks as a Boost.JSON parser handler and so spares building the value (most of the
// cost of checking a valid event); it proves validity or gives up, never refutes.
//
// Cost: check() allocates nothing on its way through valid data, except for uniqueItems on arrays
// of more than 32 items; proves_valid_text() only for strings and names the parser splits.
// Recursion (check() only; proves_valid_text() keeps an explicit stack): one frame per data level
// per schema node on the way, and data deeper than CompiledSchema::max_depth never reaches it (the
// guard), so at most (max_depth + 2) × (max_chain + 1) frames.
//
// Thread-safety: immutable after compile(); check() and proves_valid_text() are const and may run
// on any number of threads.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "schema/bundle.hpp"
#include "schema/pattern.hpp"

namespace herald::schema::detail {

// Code points in valid UTF-8 (what valijson's u8_strlen counts for it); nullopt for invalid UTF-8, whose count
// valijson derives in its own way (reading past a table on long runs of continuation bytes).
std::optional<std::uint64_t> code_points(std::string_view s) noexcept;

class FastValidator {
public:
    // Same-level nesting of allOf/anyOf/oneOf/not (and "$ref"s between them) that compile()
    // accepts.
    static constexpr std::size_t max_chain = 16;

    enum class Verdict : std::uint8_t { valid, invalid, undecided };

    // Finds the compiled Pattern for an "x-herald-pattern" source, so that both engines share one
    // program; nullptr when there is none (compile() then refuses).
    using PatternLookup = std::function<const Pattern*(std::string_view source)>;

    struct Compiled {
        std::unique_ptr<const FastValidator> validator;  // null when refused
        std::string
            refusal;  // why, naming the keyword and where: "/properties/a: patternProperties"
    };

    // `document` is the schema after Herald's keyword rewriting (validator.cpp prepare()) that
    // valijson compiled successfully; it is not retained.
    static Compiled compile(const boost::json::value& document, Draft draft,
                            const PatternLookup& patterns);

    // The verdict on data that passed the guards (depth checked; unsigned integers may remain).
    Verdict check(const boost::json::value& data) const;

    // True only when `text` parses as boost::json::parse() with default options would parse it
    // and check() would find the result valid, no member name being longer than `max_name` (the
    // guard's patternProperties rule) and, with `refuse_beyond_int64`, no number outside the signed 64-bit
    // range (the guard's integer multipleOf rule): proved on the parser's events, without building the value.
    // False means "not proved" (invalid, not JSON, or beyond what events can judge: combinators,
    // enum/const/uniqueItems/min/maxProperties on a container); parse and call check() then.
    bool proves_valid_text(std::string_view text, std::size_t max_name, bool refuse_beyond_int64 = false) const;

    struct Node;  // defined in fast_validator.cpp

    FastValidator(const FastValidator&) = delete;
    FastValidator& operator=(const FastValidator&) = delete;
    ~FastValidator();

private:
    class Stream;  // the parser handler behind proves_valid_text()

    FastValidator();
    bool valid(std::uint32_t node, const boost::json::value& v, bool& undecided) const;
    bool array_checks(const Node& n, const boost::json::array& a, bool& undecided) const;
    bool object_checks(const Node& n, const boost::json::object& o, bool& undecided) const;

    std::vector<Node> nodes_;
    std::vector<std::uint8_t> trivial_;  // nodes_[i].trivial, packed: read once per member
    std::uint32_t root_ = 0;
};

}  // namespace herald::schema::detail
