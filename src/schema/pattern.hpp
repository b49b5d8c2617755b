#pragma once
// Regular expressions for JSON Schema `pattern`, `format: regex` and the naming rules of
// taxonomy.hpp, matched in time linear in the subject (Thompson NFA simulated Pike-style, explicit
// stacks, no recursion on input).
//
// Why not std::regex: libstdc++ matches by recursive backtracking; on this platform `^[a-z]+$`
// against a 100 000 character string overflows an 8 MiB stack (SIGSEGV), and even its "polynomial"
// mode takes seconds on 10 000 characters for an unanchored pattern. Strings in event data and
// event type names come from the network, so the matcher must be linear and must not recurse per
// character.
//
// Dialect: the ECMA-262 subset that JSON Schema patterns use in practice, matched on Unicode code
// points (the subject and the pattern are UTF-8):
//   literals, `.` (any code point except \n \r U+2028 U+2029), `[...]` and `[^...]` with ranges,
//   escapes \d \D \w \W \s \S \t \n \r \v \f \0 \xHH \uHHHH \u{H...} \cX and `\` before any ASCII
//   punctuation, groups `(...)`, `(?:...)`, `(?<name>...)` (captures are not reported), alternation
//   `|`, quantifiers * + ? {n} {n,} {n,m} and their lazy forms (same result for a yes/no match),
//   assertions ^ $ (whole subject; there is no multiline flag) \b \B.
// Refused at compile time with a message naming the construct and its offset: backreferences (\1,
// \k<name>), lookaround ((?=, (?!, (?<=, (?<!), Unicode property escapes (\p, \P), unknown letter
// escapes, and patterns that compile to more than `max_program_size` instructions (e.g.
// `(a{1000}){1000}`).
//
// Matching: compile() also builds, by subset construction over the program, one deterministic
// automaton per mode (search, full match) whose states stand for the sets of threads the simulation
// would hold, so a match costs one table step per code point. Both give the same answers; the
// automata are skipped for patterns with \b or \B, for programs above 4096 instructions, when the
// construction would exceed 1024 states, and on request (Automata::skip, for a pattern compiled
// only to check its syntax). Construction is bounded work with explicit worklists, no recursion.
//
// A Pattern is immutable after compile(): `search` and `full_match` are const and safe to call from
// any number of threads at once (each call keeps its own state on the stack).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::schema {

class Pattern {
public:
    static constexpr std::size_t max_pattern_bytes = 8192;
    static constexpr std::size_t max_program_size = 20000;

    // Whether compile() builds the deterministic automata (see above): worth it for a pattern that
    // will match many subjects, not for one compiled once to check its syntax.
    enum class Automata { build, skip };

    // Compiles `source`. Errors: Errc::invalid_argument, message names the problem and its byte
    // offset.
    static Result<Pattern> compile(std::string_view source, Automata automata = Automata::build);

    // True when the pattern matches somewhere in `subject` (ECMA-262 RegExp.prototype.test, which
    // is what JSON Schema's `pattern` means: unanchored unless the pattern says ^ or $).
    bool search(std::string_view subject) const;
    // True when the pattern matches the whole of `subject` (as if written ^(?:...)$).
    bool full_match(std::string_view subject) const;

    const std::string& source() const noexcept;
    // True when matching uses the automata (for tests: without them it simulates the NFA).
    bool has_automata() const noexcept;

    struct Program;  // the compiled NFA; defined in pattern.cpp

private:
    explicit Pattern(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
    // Shared so that copies of a Pattern (and of the schemas holding it) cost a reference count.
    std::shared_ptr<const Program> program_;
};

}  // namespace herald::schema
