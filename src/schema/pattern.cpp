#include "schema/pattern.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace herald::schema {

namespace {

constexpr char32_t max_code_point = 0x10FFFF;
// Marks "no character here": before the first and after the last code point of the subject.
constexpr char32_t no_char = 0xFFFFFFFF;

// Decodes the code point at s[i]. Invalid UTF-8 (which a JSON parser never hands us, but a caller
// might) decodes as U+FFFD one byte at a time, so matching always advances.
void decode_utf8(std::string_view s, std::size_t i, char32_t& cp, std::size_t& len) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        cp = b0;
        len = 1;
        return;
    }
    std::size_t n = 0;
    char32_t v = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2, v = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3, v = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4, v = b0 & 0x07, min = 0x10000;
    }
    if (n == 0 || s.size() - i < n) {
        cp = 0xFFFD;
        len = 1;
        return;
    }
    for (std::size_t k = 1; k < n; ++k) {
        const unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80) {
            cp = 0xFFFD;
            len = 1;
            return;
        }
        v = (v << 6) | (b & 0x3F);
    }
    if (v < min || v > max_code_point || (v >= 0xD800 && v <= 0xDFFF)) {
        cp = 0xFFFD;
        len = 1;
        return;
    }
    cp = v;
    len = n;
}

constexpr bool is_line_terminator(char32_t c) noexcept {
    return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

constexpr bool is_word_char(char32_t c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Range {
    char32_t lo;
    char32_t hi;
};

// A set of code points as sorted, disjoint, non-adjacent ranges.
struct CharSet {
    std::vector<Range> ranges;

    void add(char32_t lo, char32_t hi) { ranges.push_back({lo, hi}); }
    void add(const CharSet& other) {
        ranges.insert(ranges.end(), other.ranges.begin(), other.ranges.end());
    }
    void normalize() {
        std::sort(ranges.begin(), ranges.end(),
                  [](const Range& a, const Range& b) { return a.lo < b.lo; });
        std::vector<Range> merged;
        for (const Range& r : ranges) {
            if (!merged.empty() && r.lo <= merged.back().hi + 1) {
                merged.back().hi = std::max(merged.back().hi, r.hi);
            } else {
                merged.push_back(r);
            }
        }
        ranges = std::move(merged);
    }
    CharSet complement() const {
        CharSet copy = *this;
        copy.normalize();
        CharSet out;
        char32_t next = 0;
        for (const Range& r : copy.ranges) {
            if (r.lo > next) out.add(next, r.lo - 1);
            next = r.hi + 1;
        }
        if (next <= max_code_point) out.add(next, max_code_point);
        return out;
    }
    bool contains(char32_t c) const noexcept {
        // First range whose hi >= c; ranges are sorted and disjoint.
        auto it = std::lower_bound(ranges.begin(), ranges.end(), c,
                                   [](const Range& r, char32_t v) { return r.hi < v; });
        return it != ranges.end() && it->lo <= c;
    }
};

CharSet digit_set() {
    CharSet s;
    s.add('0', '9');
    return s;
}

CharSet word_set() {
    CharSet s;
    s.add('0', '9');
    s.add('A', 'Z');
    s.add('_', '_');
    s.add('a', 'z');
    return s;
}

// ECMA-262 WhiteSpace and LineTerminator code points.
CharSet space_set() {
    CharSet s;
    s.add('\t', '\r');  // \t \n \v \f \r
    s.add(' ', ' ');
    s.add(0xA0, 0xA0);
    s.add(0x1680, 0x1680);
    s.add(0x2000, 0x200A);
    s.add(0x2028, 0x2029);
    s.add(0x202F, 0x202F);
    s.add(0x205F, 0x205F);
    s.add(0x3000, 0x3000);
    s.add(0xFEFF, 0xFEFF);
    return s;
}

// --- syntax tree ---------------------------------------------------------------------------------

constexpr std::uint32_t unbounded = std::numeric_limits<std::uint32_t>::max();

struct Node {
    enum class Kind {
        empty,
        literal,
        any,
        set,
        begin,
        end,
        word_boundary,
        not_word_boundary,
        concat,
        alternate,
        repeat
    };
    Kind kind = Kind::empty;
    char32_t cp = 0;
    std::uint32_t set = 0;
    std::uint32_t min = 0;
    std::uint32_t max = 0;
    std::vector<Node> children;

    bool is_assertion() const {
        return kind == Kind::begin || kind == Kind::end || kind == Kind::word_boundary ||
               kind == Kind::not_word_boundary;
    }
};

// Recursive descent over the pattern. Recursion depth is bounded by group nesting (max_depth),
// never by the length of a subject. The first error wins; later parse steps run on but their result
// is discarded.
class Parser {
public:
    Parser(std::string_view src, std::vector<CharSet>& sets) : src_(src), sets_(sets) {}

    Node parse() {
        Node n = alternation();
        if (!failed() && pos_ < src_.size()) fail("unmatched ')'");
        return n;
    }
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t error_offset() const { return error_offset_; }

private:
    static constexpr int max_depth = 64;
    static constexpr std::uint32_t max_repeat = 1000;

    void fail(std::string message) {
        if (error_.empty()) {
            error_ = std::move(message);
            error_offset_ = pos_;
        }
    }
    bool eof() const { return pos_ >= src_.size(); }
    char peek() const { return eof() ? '\0' : src_[pos_]; }
    bool starts_with(std::string_view s) const { return src_.substr(pos_).starts_with(s); }

    char32_t next_code_point() {
        char32_t cp = 0;
        std::size_t len = 0;
        decode_utf8(src_, pos_, cp, len);
        pos_ += len;
        return cp;
    }

    std::uint32_t add_set(CharSet set) {
        set.normalize();
        sets_.push_back(std::move(set));
        return static_cast<std::uint32_t>(sets_.size() - 1);
    }

    Node alternation() {
        std::vector<Node> branches;
        branches.push_back(concatenation());
        while (!failed() && peek() == '|') {
            ++pos_;
            branches.push_back(concatenation());
        }
        if (branches.size() == 1) return std::move(branches.front());
        Node n;
        n.kind = Node::Kind::alternate;
        n.children = std::move(branches);
        return n;
    }

    Node concatenation() {
        Node n;
        n.kind = Node::Kind::concat;
        while (!failed() && !eof() && peek() != '|' && peek() != ')') {
            n.children.push_back(quantified());
        }
        return n;
    }

    // Parses {n}, {n,} or {n,m} at pos_ without consuming anything when the text is not a
    // quantifier (then the brace is a literal, as ECMA-262 Annex B allows).
    bool brace_quantifier(std::uint32_t& min, std::uint32_t& max, std::size_t& length) const {
        std::size_t i = pos_;
        if (i >= src_.size() || src_[i] != '{') return false;
        ++i;
        auto number = [&](std::uint32_t& out) {
            const std::size_t start = i;
            std::uint64_t v = 0;
            while (i < src_.size() && src_[i] >= '0' && src_[i] <= '9') {
                v = std::min<std::uint64_t>(v * 10 + static_cast<std::uint64_t>(src_[i] - '0'),
                                            std::uint64_t{1} << 32);
                ++i;
            }
            out = static_cast<std::uint32_t>(std::min<std::uint64_t>(v, unbounded - 1));
            return i > start;
        };
        if (!number(min)) return false;
        max = min;
        if (i < src_.size() && src_[i] == ',') {
            ++i;
            if (!number(max)) max = unbounded;
        }
        if (i >= src_.size() || src_[i] != '}') return false;
        length = i + 1 - pos_;
        return true;
    }

    Node quantified() {
        Node atom = this->atom();
        if (failed()) return atom;
        std::uint32_t min = 0;
        std::uint32_t max = 0;
        std::size_t brace_length = 0;
        const char c = peek();
        if (c == '*') {
            min = 0, max = unbounded, ++pos_;
        } else if (c == '+') {
            min = 1, max = unbounded, ++pos_;
        } else if (c == '?') {
            min = 0, max = 1, ++pos_;
        } else if (brace_quantifier(min, max, brace_length)) {
            pos_ += brace_length;
            if (max != unbounded && min > max) {
                fail("numbers out of order in {} quantifier");
                return atom;
            }
            if (min > max_repeat || (max != unbounded && max > max_repeat)) {
                fail("repetition count above " + std::to_string(max_repeat));
                return atom;
            }
        } else {
            return atom;
        }
        if (peek() == '?') ++pos_;  // lazy: the same yes/no answer as greedy
        if (atom.is_assertion()) {
            fail("nothing to repeat");
            return atom;
        }
        const char after = peek();
        std::uint32_t unused_min = 0, unused_max = 0;
        if (after == '*' || after == '+' || after == '?' ||
            (after == '{' && brace_quantifier(unused_min, unused_max, brace_length))) {
            fail("nothing to repeat");
            return atom;
        }
        Node n;
        n.kind = Node::Kind::repeat;
        n.min = min;
        n.max = max;
        n.children.push_back(std::move(atom));
        return n;
    }

    Node atom() {
        Node n;
        const char c = peek();
        switch (c) {
            case '(':
                return group();
            case '[':
                return char_class();
            case '.':
                ++pos_, n.kind = Node::Kind::any;
                return n;
            case '^':
                ++pos_, n.kind = Node::Kind::begin;
                return n;
            case '$':
                ++pos_, n.kind = Node::Kind::end;
                return n;
            case '\\':
                return atom_escape();
            case '*':
            case '+':
            case '?':
                fail("nothing to repeat");
                return n;
            case '{': {
                std::uint32_t a = 0, b = 0;
                std::size_t len = 0;
                if (brace_quantifier(a, b, len)) {
                    fail("nothing to repeat");
                    return n;
                }
                break;
            }
            default:
                break;
        }
        n.kind = Node::Kind::literal;
        n.cp = next_code_point();
        return n;
    }

    Node group() {
        ++pos_;  // '('
        if (starts_with("?=") || starts_with("?!")) {
            fail("lookahead assertions are not supported");
            return {};
        }
        if (starts_with("?<=") || starts_with("?<!")) {
            fail("lookbehind assertions are not supported");
            return {};
        }
        if (starts_with("?:")) {
            pos_ += 2;
        } else if (starts_with("?<")) {
            pos_ += 2;
            const std::size_t name_start = pos_;
            while (!eof() && peek() != '>') ++pos_;
            if (eof() || pos_ == name_start) {
                fail("malformed group name");
                return {};
            }
            ++pos_;
        } else if (peek() == '?') {
            fail("unknown group syntax '(?" +
                 std::string(1, src_.size() > pos_ + 1 ? src_[pos_ + 1] : ' ') + "'");
            return {};
        }
        if (++depth_ > max_depth) {
            fail("groups nested more than " + std::to_string(max_depth) + " deep");
            return {};
        }
        Node inner = alternation();
        --depth_;
        if (failed()) return inner;
        if (peek() != ')') {
            fail("missing ')'");
            return inner;
        }
        ++pos_;
        return inner;
    }

    static int hex_value(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // Reads exactly `count` hex digits.
    bool fixed_hex(std::size_t count, char32_t& out) {
        if (src_.size() - pos_ < count) return false;
        char32_t v = 0;
        for (std::size_t k = 0; k < count; ++k) {
            const int h = hex_value(src_[pos_ + k]);
            if (h < 0) return false;
            v = v * 16 + static_cast<char32_t>(h);
        }
        pos_ += count;
        out = v;
        return true;
    }

    // \u escapes: \uHHHH, a surrogate pair \uHHHH\uHHHH, or \u{H...}. pos_ is just past the 'u'.
    bool unicode_escape(char32_t& out) {
        if (peek() == '{') {
            ++pos_;
            char32_t v = 0;
            std::size_t digits = 0;
            while (!eof() && hex_value(peek()) >= 0) {
                v = v * 16 + static_cast<char32_t>(hex_value(peek()));
                ++pos_;
                if (++digits > 6 || v > max_code_point) return false;
            }
            if (digits == 0 || peek() != '}') return false;
            ++pos_;
            out = v;
            return true;
        }
        if (!fixed_hex(4, out)) return false;
        if (out >= 0xD800 && out <= 0xDBFF && starts_with("\\u")) {
            const std::size_t save = pos_;
            pos_ += 2;
            char32_t low = 0;
            if (fixed_hex(4, low) && low >= 0xDC00 && low <= 0xDFFF) {
                out = 0x10000 + ((out - 0xD800) << 10) + (low - 0xDC00);
                return true;
            }
            pos_ = save;
        }
        return true;
    }

    // The escapes shared by atoms and classes; `in_class` changes \b (backspace inside a class) and
    // \B. Returns a node of kind literal or set.
    Node escape(bool in_class) {
        ++pos_;  // '\'
        Node n;
        n.kind = Node::Kind::literal;
        if (eof()) {
            fail("pattern ends with a backslash");
            return n;
        }
        const char c = src_[pos_++];
        auto set_node = [&](CharSet s) {
            n.kind = Node::Kind::set;
            n.set = add_set(std::move(s));
            return n;
        };
        switch (c) {
            case 'd':
                return set_node(digit_set());
            case 'D':
                return set_node(digit_set().complement());
            case 'w':
                return set_node(word_set());
            case 'W':
                return set_node(word_set().complement());
            case 's':
                return set_node(space_set());
            case 'S':
                return set_node(space_set().complement());
            case 't':
                n.cp = '\t';
                return n;
            case 'n':
                n.cp = '\n';
                return n;
            case 'r':
                n.cp = '\r';
                return n;
            case 'v':
                n.cp = '\v';
                return n;
            case 'f':
                n.cp = '\f';
                return n;
            case 'b':
                if (in_class) {
                    n.cp = '\b';
                } else {
                    n.kind = Node::Kind::word_boundary;
                }
                return n;
            case 'B':
                if (in_class) {
                    fail("\\B inside a character class");
                } else {
                    n.kind = Node::Kind::not_word_boundary;
                }
                return n;
            case '0':
                if (!eof() && peek() >= '0' && peek() <= '9') {
                    fail("octal escapes are not supported");
                }
                n.cp = 0;
                return n;
            case 'x':
                if (!fixed_hex(2, n.cp)) fail("\\x needs two hex digits");
                return n;
            case 'u':
                if (!unicode_escape(n.cp)) fail("malformed \\u escape");
                return n;
            case 'c':
                if (!eof() &&
                    ((peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z'))) {
                    n.cp = static_cast<char32_t>(src_[pos_++] % 32);
                } else {
                    fail("\\c needs an ASCII letter");
                }
                return n;
            case 'k':
                fail("named backreferences are not supported");
                return n;
            case 'p':
            case 'P':
                fail("Unicode property escapes are not supported");
                return n;
            default:
                break;
        }
        if (c >= '1' && c <= '9') {
            fail("backreferences are not supported");
            return n;
        }
        const auto uc = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            fail(std::string("unknown escape \\") + c);
            return n;
        }
        if (uc >= 0x80) {
            // Identity escape of a non-ASCII character: step back and decode the whole code point.
            --pos_;
            n.cp = next_code_point();
            return n;
        }
        n.cp = uc;  // \. \\ \/ \- \$ and every other ASCII punctuation mean themselves
        return n;
    }

    Node atom_escape() { return escape(false); }

    Node char_class() {
        ++pos_;  // '['
        bool negated = false;
        if (peek() == '^') {
            negated = true;
            ++pos_;
        }
        CharSet set;
        // A class member: either one code point (literal) or a set (\d ...).
        auto member = [&](Node& out) -> bool {
            if (peek() == '\\') {
                out = escape(true);
            } else {
                out = Node{};
                out.kind = Node::Kind::literal;
                out.cp = next_code_point();
            }
            return !failed();
        };
        while (true) {
            if (eof()) {
                fail("unterminated character class");
                return {};
            }
            if (peek() == ']') {
                ++pos_;
                break;
            }
            Node lo;
            if (!member(lo)) return {};
            const bool range = peek() == '-' && pos_ + 1 < src_.size() && src_[pos_ + 1] != ']';
            if (!range) {
                if (lo.kind == Node::Kind::set) {
                    set.add(sets_[lo.set]);
                } else {
                    set.add(lo.cp, lo.cp);
                }
                continue;
            }
            ++pos_;  // '-'
            Node hi;
            if (!member(hi)) return {};
            if (lo.kind == Node::Kind::set || hi.kind == Node::Kind::set) {
                // Annex B: [\w-.] is \w, '-' and '.'.
                for (const Node* side : {&lo, &hi}) {
                    if (side->kind == Node::Kind::set) {
                        set.add(sets_[side->set]);
                    } else {
                        set.add(side->cp, side->cp);
                    }
                }
                set.add('-', '-');
                continue;
            }
            if (lo.cp > hi.cp) {
                fail("range out of order in character class");
                return {};
            }
            set.add(lo.cp, hi.cp);
        }
        Node n;
        n.kind = Node::Kind::set;
        n.set = add_set(negated ? set.complement() : std::move(set));
        return n;
    }

    std::string_view src_;
    std::vector<CharSet>& sets_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::string error_;
    std::size_t error_offset_ = 0;
};

// --- program -------------------------------------------------------------------------------------

enum class Op : std::uint8_t {
    literal,  // x = code point
    any,
    set,    // x = set index
    split,  // try x and y
    jump,   // x
    begin,
    end,
    word_boundary,
    not_word_boundary,
    match
};

struct Inst {
    Op op;
    std::uint32_t x = 0;
    std::uint32_t y = 0;
};

}  // namespace

// A deterministic automaton equivalent to the program in one mode (search or full match), built
// once at compile time by subset construction so that matching costs one table step per code point
// instead of a pass over every live NFA thread. Each state stands for the set of NFA threads that
// the simulation in run() would hold at that point, so both always give the same answer.
//
// Code points are mapped to classes first: two code points are in one class when every consuming
// instruction accepts both or neither (ASCII through a table, the rest by binary search over the
// interval starts). State 0 is the start (offset 0, where ^ holds).
struct Dfa {
    static constexpr std::uint8_t accept_now = 1;  // search mode: a match is already complete
    static constexpr std::uint8_t accept_end = 2;  // a match is complete if the subject ends here
    static constexpr std::uint8_t dead = 4;        // no thread is left and none can start

    std::array<std::uint16_t, 128> ascii_class{};
    std::vector<char32_t> interval_start;  // code points >= 128, sorted
    std::vector<std::uint16_t> interval_class;
    std::uint32_t classes = 0;
    std::vector<std::uint16_t> next;  // [state * classes + class]
    std::vector<std::uint8_t> flags;  // per state

    std::uint16_t class_of(char32_t cp) const noexcept {
        if (cp < 128) return ascii_class[cp];
        auto it = std::upper_bound(interval_start.begin(), interval_start.end(), cp);
        return interval_class[static_cast<std::size_t>(it - interval_start.begin()) - 1];
    }
};

struct Pattern::Program {
    std::string source;
    std::vector<Inst> insts;
    std::vector<CharSet> sets;
    // The pattern starts with ^ on every path, so only a match starting at offset 0 can exist.
    bool anchored_start = false;
    // Absent for patterns with \b or \B (the automaton does not track the previous character),
    // for programs too large to be worth it, and when compiled for a syntax check only.
    std::optional<Dfa> search_dfa;
    std::optional<Dfa> full_dfa;
};

namespace {

class Compiler {
public:
    explicit Compiler(Pattern::Program& p) : p_(p) {}

    bool emit(const Node& n) {
        if (p_.insts.size() > Pattern::max_program_size) return false;
        switch (n.kind) {
            case Node::Kind::empty:
                return true;
            case Node::Kind::literal:
                return push({Op::literal, n.cp, 0});
            case Node::Kind::any:
                return push({Op::any, 0, 0});
            case Node::Kind::set:
                return push({Op::set, n.set, 0});
            case Node::Kind::begin:
                return push({Op::begin, 0, 0});
            case Node::Kind::end:
                return push({Op::end, 0, 0});
            case Node::Kind::word_boundary:
                return push({Op::word_boundary, 0, 0});
            case Node::Kind::not_word_boundary:
                return push({Op::not_word_boundary, 0, 0});
            case Node::Kind::concat:
                for (const Node& c : n.children) {
                    if (!emit(c)) return false;
                }
                return true;
            case Node::Kind::alternate:
                return alternate(n);
            case Node::Kind::repeat:
                return repeat(n);
        }
        return false;
    }

private:
    bool push(Inst i) {
        p_.insts.push_back(i);
        return p_.insts.size() <= Pattern::max_program_size;
    }
    std::uint32_t here() const { return static_cast<std::uint32_t>(p_.insts.size()); }

    // split L1, L2 / L1: a / jump end / L2: split ... / last: z / end:
    bool alternate(const Node& n) {
        std::vector<std::uint32_t> jumps;
        for (std::size_t i = 0; i < n.children.size(); ++i) {
            const bool last = i + 1 == n.children.size();
            std::uint32_t split = 0;
            if (!last) {
                split = here();
                if (!push({Op::split, 0, 0})) return false;
                p_.insts[split].x = here();
            }
            if (!emit(n.children[i])) return false;
            if (!last) {
                jumps.push_back(here());
                if (!push({Op::jump, 0, 0})) return false;
                p_.insts[split].y = here();
            }
        }
        for (std::uint32_t j : jumps) p_.insts[j].x = here();
        return true;
    }

    bool repeat(const Node& n) {
        const Node& child = n.children.front();
        for (std::uint32_t i = 0; i < n.min; ++i) {
            if (!emit(child)) return false;
        }
        if (n.max == unbounded) {
            // L: split body, out / body / jump L / out:
            const std::uint32_t loop = here();
            if (!push({Op::split, 0, 0})) return false;
            p_.insts[loop].x = here();
            if (!emit(child)) return false;
            if (!push({Op::jump, loop, 0})) return false;
            p_.insts[loop].y = here();
            return true;
        }
        // Each optional copy: split body, out_all / body. Skipping any copy ends the repetition.
        std::vector<std::uint32_t> splits;
        for (std::uint32_t i = n.min; i < n.max; ++i) {
            splits.push_back(here());
            if (!push({Op::split, 0, 0})) return false;
            p_.insts[splits.back()].x = here();
            if (!emit(child)) return false;
        }
        for (std::uint32_t s : splits) p_.insts[s].y = here();
        return true;
    }

    Pattern::Program& p_;
};

bool starts_anchored(const Node& n) {
    if (n.kind == Node::Kind::begin) return true;
    if (n.kind == Node::Kind::concat && !n.children.empty())
        return starts_anchored(n.children.front());
    if (n.kind == Node::Kind::alternate) {
        return std::all_of(n.children.begin(), n.children.end(), starts_anchored);
    }
    return false;
}

// A set of instruction indexes with O(1) insert, membership and clear (Briggs & Torczon's sparse
// set), iterated in insertion order. It works on memory the caller provides; `sparse` must be
// zeroed once.
class SparseSet {
public:
    SparseSet(std::uint32_t* dense, std::uint32_t* sparse) : dense_(dense), sparse_(sparse) {}
    bool contains(std::uint32_t v) const {
        const std::uint32_t i = sparse_[v];
        return i < size_ && dense_[i] == v;
    }
    void insert(std::uint32_t v) {
        sparse_[v] = size_;
        dense_[size_++] = v;
    }
    void clear() { size_ = 0; }
    std::uint32_t size() const { return size_; }
    std::uint32_t operator[](std::uint32_t i) const { return dense_[i]; }

private:
    std::uint32_t* dense_;
    std::uint32_t* sparse_;
    std::uint32_t size_ = 0;
};

// Simulates the NFA over the subject, one code point at a time: every live thread advances in lock
// step, so the cost is O(subject length × program size) whatever the pattern. Working memory is
// 8n+2 words for n instructions: on the stack for the small programs schemas use, so a match
// allocates nothing.
bool run(const Pattern::Program& p, std::string_view s, bool full) {
    const std::size_t n = p.insts.size();
    constexpr std::size_t inline_words = 2048;
    const std::size_t words = 8 * n + 2;
    std::array<std::uint32_t, inline_words> local;
    std::vector<std::uint32_t> heap;
    std::uint32_t* mem = local.data();
    if (words > inline_words) {
        heap.resize(words);
        mem = heap.data();
    }
    std::fill_n(mem, 3 * n, 0u);  // the three sparse arrays
    SparseSet ready(mem + 3 * n, mem);
    SparseSet set_a(mem + 4 * n, mem + n);
    SparseSet set_b(mem + 5 * n, mem + 2 * n);
    SparseSet* pending = &set_a;  // threads that consumed the previous code point
    SparseSet* next = &set_b;
    std::uint32_t* stack =
        mem + 6 * n;  // closure worklist: at most 2n+1 entries (two per instruction reached)
    std::size_t depth = 0;

    char32_t prev = no_char;
    std::size_t pos = 0;
    bool first = true;
    while (true) {
        const bool at_end = pos >= s.size();
        char32_t cur = no_char;
        std::size_t len = 0;
        if (!at_end) decode_utf8(s, pos, cur, len);

        // Follows jumps, splits and satisfied assertions from `start`, marking every instruction
        // reached.
        auto closure = [&](std::uint32_t start) {
            stack[depth++] = start;
            while (depth > 0) {
                const std::uint32_t pc = stack[--depth];
                if (ready.contains(pc)) continue;
                ready.insert(pc);
                const Inst& inst = p.insts[pc];
                switch (inst.op) {
                    case Op::jump:
                        stack[depth++] = inst.x;
                        break;
                    case Op::split:
                        stack[depth++] = inst.y;
                        stack[depth++] = inst.x;
                        break;
                    case Op::begin:
                        if (prev == no_char) stack[depth++] = pc + 1;
                        break;
                    case Op::end:
                        if (cur == no_char) stack[depth++] = pc + 1;
                        break;
                    case Op::word_boundary:
                    case Op::not_word_boundary: {
                        const bool boundary = (prev != no_char && is_word_char(prev)) !=
                                              (cur != no_char && is_word_char(cur));
                        if (boundary == (inst.op == Op::word_boundary)) stack[depth++] = pc + 1;
                        break;
                    }
                    default:
                        break;  // consuming instructions and match wait in `ready`
                }
            }
        };

        ready.clear();
        for (std::uint32_t i = 0; i < pending->size(); ++i) closure((*pending)[i]);
        // A new attempt starts at every position for an unanchored search; once for a full match or
        // a ^ pattern.
        if (first || (!full && !p.anchored_start)) closure(0);
        first = false;

        next->clear();
        for (std::uint32_t i = 0; i < ready.size(); ++i) {
            const std::uint32_t pc = ready[i];
            const Inst& inst = p.insts[pc];
            bool advance = false;
            switch (inst.op) {
                case Op::match:
                    if (!full || at_end) return true;
                    break;
                case Op::literal:
                    advance = !at_end && cur == inst.x;
                    break;
                case Op::any:
                    advance = !at_end && !is_line_terminator(cur);
                    break;
                case Op::set:
                    advance = !at_end && p.sets[inst.x].contains(cur);
                    break;
                default:
                    break;
            }
            if (advance && !next->contains(pc + 1)) next->insert(pc + 1);
        }
        if (at_end) return false;
        if (next->size() == 0 && (full || p.anchored_start)) return false;
        std::swap(pending, next);
        prev = cur;
        pos += len;
    }
}

// --- deterministic automaton -----------------------------------------------------------------

// Limits on the work and memory one pattern's automata may take at compile time. Patterns beyond
// them (rare in schemas: huge counted repetitions, alternations that blow up under subset
// construction) keep matching with run(), which is linear too.
constexpr std::size_t dfa_max_program = 4096;
constexpr std::size_t dfa_max_states = 1024;
constexpr std::size_t dfa_max_table = 1u << 17;       // next[] entries
constexpr std::size_t dfa_max_class_work = 1u << 21;  // intervals × consuming instructions
// Instructions examined while building transitions (states × classes × threads per state).
constexpr std::size_t dfa_max_build_work = 1u << 23;
constexpr std::size_t dfa_max_classes = 4096;

bool consumes(const Pattern::Program& p, const Inst& inst, char32_t cp) {
    switch (inst.op) {
        case Op::literal:
            return cp == inst.x;
        case Op::any:
            return !is_line_terminator(cp);
        case Op::set:
            return p.sets[inst.x].contains(cp);
        default:
            return false;
    }
}

// Builds the code point classes into `d`. False when there would be too many to be worth it.
bool build_classes(const Pattern::Program& p, Dfa& d) {
    std::vector<std::uint32_t> consuming;
    std::vector<char32_t> bounds = {0, 128};
    auto bound = [&](char32_t lo, char32_t hi) {  // the closed range [lo, hi] is uniform
        bounds.push_back(lo);
        if (hi < max_code_point) bounds.push_back(hi + 1);
    };
    for (std::uint32_t pc = 0; pc < p.insts.size(); ++pc) {
        const Inst& inst = p.insts[pc];
        if (inst.op == Op::literal) {
            bound(inst.x, inst.x);
        } else if (inst.op == Op::any) {
            bound('\n', '\n');
            bound('\r', '\r');
            bound(0x2028, 0x2029);
        } else if (inst.op == Op::set) {
            for (const Range& r : p.sets[inst.x].ranges) bound(r.lo, r.hi);
        } else {
            continue;
        }
        consuming.push_back(pc);
    }
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    // ASCII is classified per code point (a table), the rest per interval.
    std::vector<char32_t> representatives;
    for (char32_t c = 0; c < 128; ++c) representatives.push_back(c);
    for (char32_t b : bounds) {
        if (b >= 128 && b <= max_code_point) representatives.push_back(b);
    }
    if (representatives.size() * std::max<std::size_t>(consuming.size(), 1) > dfa_max_class_work)
        return false;
    std::map<std::vector<bool>, std::uint16_t> ids;
    std::vector<std::uint16_t> class_of_rep;
    for (char32_t c : representatives) {
        std::vector<bool> signature(consuming.size());
        for (std::size_t k = 0; k < consuming.size(); ++k) {
            signature[k] = consumes(p, p.insts[consuming[k]], c);
        }
        auto [it, added] =
            ids.emplace(std::move(signature), static_cast<std::uint16_t>(ids.size()));
        class_of_rep.push_back(it->second);
    }
    if (ids.size() > dfa_max_classes) return false;
    d.classes = static_cast<std::uint32_t>(ids.size());
    for (std::size_t i = 0; i < 128; ++i) d.ascii_class[i] = class_of_rep[i];
    for (std::size_t i = 128; i < representatives.size(); ++i) {
        d.interval_start.push_back(representatives[i]);
        d.interval_class.push_back(class_of_rep[i]);
    }
    return true;
}

// Subset construction over the program for one mode. A state is the set of threads waiting after
// a consumed code point (what run() keeps in `pending`), plus the start. The epsilon closure is the
// one run() computes: ^ holds only at the start, $ only at the end of the subject.
std::optional<Dfa> build_dfa(const Pattern::Program& p, bool full) {
    const std::size_t n = p.insts.size();
    if (n > dfa_max_program) return std::nullopt;
    for (const Inst& inst : p.insts) {
        if (inst.op == Op::word_boundary || inst.op == Op::not_word_boundary) return std::nullopt;
    }
    Dfa d;
    if (!build_classes(p, d)) return std::nullopt;
    // One representative code point per class, to test consuming instructions against.
    std::vector<char32_t> sample(d.classes, 0);
    std::vector<bool> seen(d.classes, false);
    for (char32_t c = 0; c < 128; ++c) {
        if (!seen[d.ascii_class[c]]) seen[d.ascii_class[c]] = true, sample[d.ascii_class[c]] = c;
    }
    for (std::size_t i = 0; i < d.interval_start.size(); ++i) {
        const std::uint16_t k = d.interval_class[i];
        if (!seen[k]) seen[k] = true, sample[k] = d.interval_start[i];
    }

    const bool restart = !full && !p.anchored_start;  // a new attempt at every position
    std::vector<std::uint8_t> mark(n, 0);
    std::vector<std::uint32_t> stack;
    std::vector<std::uint32_t> reached;
    auto closure = [&](const std::vector<std::uint32_t>& seeds, bool at_start, bool at_end) {
        std::fill(mark.begin(), mark.end(), 0);
        reached.clear();
        stack.assign(seeds.rbegin(), seeds.rend());
        while (!stack.empty()) {
            const std::uint32_t pc = stack.back();
            stack.pop_back();
            if (mark[pc]) continue;
            mark[pc] = 1;
            reached.push_back(pc);
            const Inst& inst = p.insts[pc];
            switch (inst.op) {
                case Op::jump:
                    stack.push_back(inst.x);
                    break;
                case Op::split:
                    stack.push_back(inst.y);
                    stack.push_back(inst.x);
                    break;
                case Op::begin:
                    if (at_start) stack.push_back(pc + 1);
                    break;
                case Op::end:
                    if (at_end) stack.push_back(pc + 1);
                    break;
                default:
                    break;
            }
        }
    };
    auto has_match = [&] {
        return std::any_of(reached.begin(), reached.end(),
                           [&](std::uint32_t pc) { return p.insts[pc].op == Op::match; });
    };

    // Key of the start state: a value no real thread set holds.
    const std::vector<std::uint32_t> start_key = {std::numeric_limits<std::uint32_t>::max()};
    std::map<std::vector<std::uint32_t>, std::uint32_t> index;
    std::vector<std::vector<std::uint32_t>> states;
    index.emplace(start_key, 0);
    states.push_back(start_key);
    std::vector<std::uint32_t> seeds;
    std::vector<std::uint32_t> target;
    std::size_t work = 0;
    for (std::size_t s = 0; s < states.size(); ++s) {
        const bool is_start = s == 0;
        seeds = is_start ? std::vector<std::uint32_t>{} : states[s];
        if (is_start || restart) seeds.push_back(0);
        std::uint8_t flags = 0;
        if (!is_start && states[s].empty() && !restart) flags |= Dfa::dead;
        closure(seeds, is_start, true);
        if (has_match()) flags |= Dfa::accept_end;
        closure(seeds, is_start, false);
        if (!full && has_match()) flags |= Dfa::accept_now;
        d.flags.push_back(flags);
        work += std::max<std::size_t>(reached.size(), 1) * d.classes;
        if (work > dfa_max_build_work) return std::nullopt;
        for (std::uint32_t k = 0; k < d.classes; ++k) {
            target.clear();
            for (std::uint32_t pc : reached) {
                if (consumes(p, p.insts[pc], sample[k])) target.push_back(pc + 1);
            }
            std::sort(target.begin(), target.end());
            target.erase(std::unique(target.begin(), target.end()), target.end());
            auto [it, added] = index.emplace(target, static_cast<std::uint32_t>(states.size()));
            if (added) {
                if (states.size() >= dfa_max_states ||
                    (states.size() + 1) * d.classes > dfa_max_table) {
                    return std::nullopt;
                }
                states.push_back(target);
            }
            d.next.push_back(static_cast<std::uint16_t>(it->second));
        }
    }
    return d;
}

// The automaton's answer; the same as run(p, s, full) for the mode it was built for. Invalid UTF-8
// decodes as U+FFFD per byte, as in run().
bool run_dfa(const Dfa& d, std::string_view s) {
    std::uint32_t state = 0;
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::uint8_t flags = d.flags[state];
        if (flags & Dfa::accept_now) return true;
        if (flags & Dfa::dead) return false;
        const auto byte = static_cast<unsigned char>(s[pos]);
        std::uint16_t k = 0;
        if (byte < 0x80) {
            k = d.ascii_class[byte];
            ++pos;
        } else {
            char32_t cp = 0;
            std::size_t len = 0;
            decode_utf8(s, pos, cp, len);
            k = d.class_of(cp);
            pos += len;
        }
        state = d.next[state * d.classes + k];
    }
    return (d.flags[state] & Dfa::accept_end) != 0;
}

}  // namespace

Result<Pattern> Pattern::compile(std::string_view source, Automata automata) {
    auto failure = [&](const std::string& why, std::size_t offset) {
        return make_error(Errc::invalid_argument, "regular expression '" + std::string(source) +
                                                      "': " + why + " (at offset " +
                                                      std::to_string(offset) + ")");
    };
    if (source.size() > max_pattern_bytes) {
        return make_error(Errc::invalid_argument, "regular expression longer than " +
                                                      std::to_string(max_pattern_bytes) + " bytes");
    }
    auto program = std::make_shared<Program>();
    program->source = std::string(source);
    Parser parser(source, program->sets);
    const Node root = parser.parse();
    if (parser.failed()) return failure(parser.error(), parser.error_offset());
    Compiler compiler(*program);
    if (!compiler.emit(root) || program->insts.size() + 1 > max_program_size) {
        return make_error(Errc::invalid_argument, "regular expression '" + std::string(source) +
                                                      "' is too large once compiled (more than " +
                                                      std::to_string(max_program_size) +
                                                      " instructions)");
    }
    program->insts.push_back({Op::match, 0, 0});
    program->anchored_start = starts_anchored(root);
    if (automata == Automata::build) {
        program->search_dfa = build_dfa(*program, false);
        program->full_dfa = build_dfa(*program, true);
    }
    return Pattern(std::move(program));
}

bool Pattern::search(std::string_view subject) const {
    const Program& p = *program_;
    return p.search_dfa ? run_dfa(*p.search_dfa, subject) : run(p, subject, false);
}

bool Pattern::full_match(std::string_view subject) const {
    const Program& p = *program_;
    return p.full_dfa ? run_dfa(*p.full_dfa, subject) : run(p, subject, true);
}

bool Pattern::has_automata() const noexcept {
    return program_->search_dfa.has_value() && program_->full_dfa.has_value();
}

const std::string& Pattern::source() const noexcept { return program_->source; }

}  // namespace herald::schema
