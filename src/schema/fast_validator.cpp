#include "schema/fast_validator.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "schema/format.hpp"

namespace herald::schema::detail {

namespace json = boost::json;

std::optional<std::uint64_t> code_points(std::string_view s) noexcept {
    std::uint64_t count = 0;
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        ++count;
        if (b0 < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2, cp = b0 & 0x1F, min = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3, cp = b0 & 0x0F, min = 0x800;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4, cp = b0 & 0x07, min = 0x10000;
        } else {
            return std::nullopt;
        }
        if (n - i < len) return std::nullopt;
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
        i += len;
    }
    return count;
}

namespace {

// What the type keyword sees in a value, one bit per type name. valijson's "integer" is
// Boost.JSON's int64 alone; unsigned integers (beyond int64 when parsed) are doubles by the time
// valijson runs.
enum : std::uint8_t {
    k_null = 1,
    k_boolean = 2,
    k_integer = 4,
    k_number = 8,
    k_string = 16,
    k_array = 32,
    k_object = 64,
    k_all = 127,
};

std::uint8_t kind_bits(json::kind kind) noexcept {
    switch (kind) {
        case json::kind::null:
            return k_null;
        case json::kind::bool_:
            return k_boolean;
        case json::kind::int64:
            return k_integer | k_number;
        case json::kind::uint64:
        case json::kind::double_:
            return k_number;
        case json::kind::string:
            return k_string;
        case json::kind::array:
            return k_array;
        case json::kind::object:
            return k_object;
    }
    return 0;
}

std::uint8_t type_bit(std::string_view name) noexcept {
    if (name == "null") return k_null;
    if (name == "boolean") return k_boolean;
    if (name == "integer") return k_integer;
    if (name == "number") return k_number;
    if (name == "string") return k_string;
    if (name == "array") return k_array;
    if (name == "object") return k_object;
    return 0;
}

// A number as valijson compares it (int64 and the guard's converted unsigned values as doubles).
double number_of(const json::value& v) noexcept {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
}

// The string as valijson reads it: through c_str(), so up to the first NUL.
std::string_view c_view(std::string_view s) noexcept {
    const void* nul = std::memchr(s.data(), 0, s.size());
    if (nul == nullptr) return s;
    return s.substr(0, static_cast<std::size_t>(static_cast<const char*>(nul) - s.data()));
}

std::string_view c_view(const json::string& s) noexcept { return c_view(std::string_view(s)); }


// valijson's equality for enum and const (BasicAdapter::equalTo, strict types), with the schema's
// value on the left: numbers compare as doubles, a schema number beyond int64 (which valijson's
// adapter does not take for a number) equals nothing, strings compare up to their first NUL,
// objects by member regardless of order.
bool same_value(const json::value& schema, const json::value& data) {
    switch (schema.kind()) {
        case json::kind::null:
            return data.is_null();
        case json::kind::bool_:
            return data.is_bool() && data.get_bool() == schema.get_bool();
        case json::kind::int64:
        case json::kind::double_:
            return data.is_number() && number_of(schema) == number_of(data);
        case json::kind::uint64:
            return false;
        case json::kind::string:
            return data.is_string() && c_view(schema.get_string()) == c_view(data.get_string());
        case json::kind::array: {
            if (!data.is_array()) return false;
            const json::array& s = schema.get_array();
            const json::array& d = data.get_array();
            if (s.size() != d.size()) return false;
            for (std::size_t i = 0; i < s.size(); ++i) {
                if (!same_value(s[i], d[i])) return false;
            }
            return true;
        }
        case json::kind::object: {
            if (!data.is_object()) return false;
            const json::object& s = schema.get_object();
            const json::object& d = data.get_object();
            if (s.size() != d.size()) return false;
            for (const json::key_value_pair& member : d) {
                const json::value* mine = s.if_contains(member.key());
                if (mine == nullptr || !same_value(*mine, member.value())) return false;
            }
            return true;
        }
    }
    return false;
}

// A scalar data value as the checks read it, taken from a json::value or from the parser's events
// (proves_valid_text), so that both paths share one implementation of every scalar check.
struct Scalar {
    json::kind kind = json::kind::null;
    bool boolean = false;
    std::int64_t integer = 0;  // for kind int64
    double number = 0;         // for int64, uint64 and double, as valijson compares them
    std::string_view text;     // for kind string: the whole string
};

Scalar scalar_of(const json::value& v) noexcept {
    Scalar x;
    x.kind = v.kind();
    switch (v.kind()) {
        case json::kind::bool_:
            x.boolean = v.get_bool();
            break;
        case json::kind::int64:
            x.integer = v.get_int64();
            x.number = number_of(v);
            break;
        case json::kind::uint64:
        case json::kind::double_:
            x.number = number_of(v);
            break;
        case json::kind::string:
            x.text = v.get_string();
            break;
        default:
            break;
    }
    return x;
}

bool is_number(json::kind k) noexcept {
    return k == json::kind::int64 || k == json::kind::uint64 || k == json::kind::double_;
}

// same_value() for scalar data.
bool same_scalar(const json::value& schema, const Scalar& data) {
    switch (schema.kind()) {
        case json::kind::null:
            return data.kind == json::kind::null;
        case json::kind::bool_:
            return data.kind == json::kind::bool_ && data.boolean == schema.get_bool();
        case json::kind::int64:
        case json::kind::double_:
            return is_number(data.kind) && number_of(schema) == data.number;
        case json::kind::string:
            return data.kind == json::kind::string &&
                   c_view(schema.get_string()) == c_view(data.text);
        default:
            return false;  // a schema value beyond int64, or a container
    }
}

// --- uniqueItems (Herald's): two items are equal when their canonical texts in validator.cpp are.

struct NumberKey {
    bool integral = false;
    std::int64_t i = 0;
    double d = 0;
};

// validator.cpp's canonical(): int64 as an integer; a double with an integral value below 9e15 as
// that integer; any other double by its exact value ("%.17g" is exact, and -0 is integral).
NumberKey number_key(const json::value& v) noexcept {
    if (v.is_int64()) return {true, v.get_int64(), 0};
    const double d = number_of(v);
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
        return {true, static_cast<std::int64_t>(d), 0};
    return {false, 0, d};
}

int item_class(const json::value& v) noexcept {
    switch (v.kind()) {
        case json::kind::null:
            return 0;
        case json::kind::bool_:
            return 1;
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
            return 2;
        case json::kind::string:
            return 3;
        case json::kind::array:
            return 4;
        case json::kind::object:
            return 5;
    }
    return 6;
}

bool same_item(const json::value& a, const json::value& b) {
    const int ca = item_class(a);
    if (ca != item_class(b)) return false;
    switch (ca) {
        case 0:
            return true;
        case 1:
            return a.get_bool() == b.get_bool();
        case 2: {
            const NumberKey x = number_key(a);
            const NumberKey y = number_key(b);
            return x.integral == y.integral && (x.integral ? x.i == y.i : x.d == y.d);
        }
        case 3:
            return c_view(a.get_string()) == c_view(b.get_string());
        case 4: {
            const json::array& x = a.get_array();
            const json::array& y = b.get_array();
            if (x.size() != y.size()) return false;
            for (std::size_t i = 0; i < x.size(); ++i) {
                if (!same_item(x[i], y[i])) return false;
            }
            return true;
        }
        case 5: {
            const json::object& x = a.get_object();
            const json::object& y = b.get_object();
            if (x.size() != y.size()) return false;
            for (const json::key_value_pair& member : x) {
                const json::value* other = y.if_contains(member.key());
                if (other == nullptr || !same_item(member.value(), *other)) return false;
            }
            return true;
        }
        default:
            return false;
    }
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h;
}

std::uint64_t bytes_hash(std::string_view s) noexcept {
    std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
    return h;
}

// Equal items (same_item) hash alike; objects regardless of member order.
std::uint64_t item_hash(const json::value& v) {
    const auto cls = static_cast<std::uint64_t>(item_class(v));
    switch (cls) {
        case 1:
            return mix(cls, v.get_bool() ? 1 : 0);
        case 2: {
            const NumberKey k = number_key(v);
            std::uint64_t bits = 0;
            if (!k.integral) std::memcpy(&bits, &k.d, sizeof bits);
            return mix(mix(cls, k.integral ? 1 : 0),
                       k.integral ? static_cast<std::uint64_t>(k.i) : bits);
        }
        case 3:
            return mix(cls, bytes_hash(c_view(v.get_string())));
        case 4: {
            std::uint64_t h = cls;
            for (const json::value& x : v.get_array()) h = mix(h, item_hash(x));
            return h;
        }
        case 5: {
            std::uint64_t sum = 0;
            for (const json::key_value_pair& m : v.get_object())
                sum += mix(bytes_hash(m.key()), item_hash(m.value()));
            return mix(mix(cls, v.get_object().size()), sum);
        }
        default:
            return cls;
    }
}

// Small arrays pairwise without allocating; larger ones sorted by hash, so n log n.
bool all_unique(const json::array& a) {
    constexpr std::size_t pairwise_limit = 32;
    const std::size_t n = a.size();
    if (n < 2) return true;
    if (n <= pairwise_limit) {
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = i + 1; j < n; ++j) {
                if (same_item(a[i], a[j])) return false;
            }
        }
        return true;
    }
    std::vector<std::pair<std::uint64_t, std::size_t>> hashed;
    hashed.reserve(n);
    for (std::size_t i = 0; i < n; ++i) hashed.emplace_back(item_hash(a[i]), i);
    std::sort(hashed.begin(), hashed.end());
    for (std::size_t start = 0; start < n;) {
        std::size_t end = start + 1;
        while (end < n && hashed[end].first == hashed[start].first) ++end;
        for (std::size_t i = start; i < end; ++i) {
            for (std::size_t j = i + 1; j < end; ++j) {
                if (same_item(a[hashed[i].second], a[hashed[j].second])) return false;
            }
        }
        start = end;
    }
    return true;
}

}  // namespace

// --- names ---------------------------------------------------------------------------------------

// An open-addressing table of strings (property names with their schemas and required flags, or the
// strings of an enum), sized at twice its entries so that a lookup is a hash and one or two
// comparisons.
class NameTable {
public:
    struct Entry {
        std::string name;
        std::int32_t node = -1;  // the schema under "properties", if the name is there
        bool property = false;
        bool required = false;
        std::uint8_t required_bit = 0;  // its bit in a mask of required names (first 64)
    };

    // The entry for `name`, added if new. Not after seal().
    Entry& at(std::string_view name) {
        for (Entry& e : entries_) {
            if (e.name == name) return e;
        }
        entries_.push_back(Entry{std::string(name)});
        return entries_.back();
    }

    // Builds the slots; call once all entries are in.
    void seal() {
        std::size_t capacity = 8;
        while (capacity < entries_.size() * 2) capacity *= 2;
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const Probe p = probe(entries_[i].name);
            std::size_t slot = p.hash & mask_;
            while (slots_[slot].entry != 0) slot = (slot + 1) & mask_;
            slots_[slot] =
                Slot{p.head, p.tail, entries_[i].name.size(), static_cast<std::uint32_t>(i + 1)};
        }
    }

    const Entry* find(std::string_view name) const noexcept {
        if (entries_.empty()) return nullptr;
        const Probe p = probe(name);
        std::size_t slot = p.hash & mask_;
        while (true) {
            const Slot& s = slots_[slot];
            if (s.entry == 0) return nullptr;
            // Head and tail cover names up to 16 bytes whole; longer ones compare the middle too.
            if (s.size == name.size() && s.head == p.head && s.tail == p.tail &&
                (name.size() <= 16 || std::memcmp(entries_[s.entry - 1].name.data() + 8,
                                                  name.data() + 8, name.size() - 16) == 0))
                return &entries_[s.entry - 1];
            slot = (slot + 1) & mask_;
        }
    }

private:
    // The first and last bytes of a name loaded with fixed-size reads (overlapping for short
    // names: together they hold every byte of a name up to 16 bytes), and a hash of them.
    struct Probe {
        std::uint64_t head = 0;
        std::uint64_t tail = 0;
        std::uint64_t hash = 0;
    };
    struct Slot {
        std::uint64_t head = 0;
        std::uint64_t tail = 0;
        std::size_t size = 0;
        std::uint32_t entry = 0;  // index + 1; 0 for an empty slot
    };

    static Probe probe(std::string_view s) noexcept {
        Probe p;
        const std::size_t n = s.size();
        const char* d = s.data();
        if (n >= 8) {
            std::memcpy(&p.head, d, 8);
            std::memcpy(&p.tail, d + n - 8, 8);
        } else if (n >= 4) {
            std::uint32_t a = 0;
            std::uint32_t b = 0;
            std::memcpy(&a, d, 4);
            std::memcpy(&b, d + n - 4, 4);
            p.head = a;
            p.tail = b;
        } else if (n > 0) {
            p.head = static_cast<unsigned char>(d[0]) |
                     (std::uint64_t{static_cast<unsigned char>(d[n / 2])} << 8) |
                     (std::uint64_t{static_cast<unsigned char>(d[n - 1])} << 16);
        }
        std::uint64_t h = (p.head * 0x9E3779B97F4A7C15ull) ^ (p.tail * 0xC4CEB9FE1A85EC53ull) ^ n;
        p.hash = h ^ (h >> 31);
        return p;
    }

    std::vector<Entry> entries_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

// --- nodes ---------------------------------------------------------------------------------------

// One schema object (or boolean schema) with its keywords compiled. A "$ref" is not a node: it is
// replaced by the node of its target.
struct FastValidator::Node {
    struct Bound {
        double value;
        bool upper;
        bool exclusive;
    };
    enum class Additional : std::uint8_t { any, none, schema };

    bool never = false;    // the false schema
    bool trivial = false;  // no keyword at all: every value is valid
    std::uint8_t types = k_all;

    bool has_enum = false;
    bool enum_only_strings = false;
    std::vector<json::value> enum_values;
    NameTable enum_strings;  // up to their first NUL, when every value is a string
    std::optional<json::value> const_value;

    std::vector<Bound> bounds;
    std::int64_t multiple_int = 0;  // 0: none
    double multiple_double = 0;     // 0: none

    std::uint64_t min_length = 0;
    std::uint64_t max_length = std::numeric_limits<std::uint64_t>::max();
    std::optional<Pattern> pattern;
    FormatCheck format = nullptr;

    std::uint64_t min_items = 0;
    std::uint64_t max_items = std::numeric_limits<std::uint64_t>::max();
    std::int32_t items = -1;
    bool unique = false;

    std::uint64_t min_properties = 0;
    std::uint64_t max_properties = std::numeric_limits<std::uint64_t>::max();
    // valijson's PropertiesConstraint: "properties" and/or "additionalProperties" present.
    bool has_properties = false;
    Additional additional = Additional::any;
    std::int32_t additional_node = -1;
    NameTable names;  // "properties" and "required" names
    std::uint32_t required_count = 0;
    std::vector<std::string> required;  // used without a PropertiesConstraint

    std::vector<std::uint32_t> all_of;
    std::vector<std::uint32_t> any_of;
    std::vector<std::uint32_t> one_of;
    std::int32_t not_node = -1;

    // Derived once compiled (see finish()).
    bool string_checks = false;  // minLength, maxLength, pattern or format
    // Whether proves_valid_text() can judge a value of this kind here from the parser's events.
    bool stream_scalar = false;
    bool stream_array = false;
    bool stream_object = false;
    std::uint64_t required_mask = 0;  // one bit per required name (up to 64)

    // Same-level children (no data consumed between this node and them).
    template <class Fn>
    void for_each_same_level(Fn fn) const {
        for (std::uint32_t c : all_of) fn(c);
        for (std::uint32_t c : any_of) fn(c);
        for (std::uint32_t c : one_of) fn(c);
        if (not_node >= 0) fn(static_cast<std::uint32_t>(not_node));
    }
};

FastValidator::FastValidator() = default;
FastValidator::~FastValidator() = default;

namespace {

using Node = FastValidator::Node;

// Keywords valijson acts on (drafts 4 and 7 as its SchemaParser reads them) that this validator
// leaves to valijson.
bool left_to_valijson(std::string_view k) {
    return k == "contains" || k == "dependencies" || k == "if" || k == "then" || k == "else" ||
           k == "patternProperties" || k == "propertyNames" || k == "additionalItems" ||
           k == "divisibleBy" || k == "id" ||
           // Present only where Herald's rewriting did not apply (below an unknown keyword), so
           // valijson's own implementations would run.
           k == "format" || k == "pattern" || k == "uniqueItems";
}

class Builder {
public:
    Builder(const json::value& root, Draft draft, const FastValidator::PatternLookup& patterns,
            std::vector<Node>& nodes)
        : root_(root), draft_(draft), patterns_(patterns), nodes_(nodes) {}

    std::string refusal;

    // The node for the schema at `v` (reached at `where`), built once per schema object.
    std::optional<std::uint32_t> build(const json::value& schema, const std::string& where,
                                       std::size_t depth) {
        if (depth > max_build_depth) {
            refuse(where, "schema nested too deeply");
            return std::nullopt;
        }
        const json::value* v = &schema;
        std::string at = where;
        // valijson replaces an object holding "$ref" by the target, whatever else it holds.
        for (std::size_t hops = 0; v->is_object(); ++hops) {
            const json::value* ref = v->get_object().if_contains("$ref");
            if (ref == nullptr) break;
            const json::value* target =
                hops <= max_ref_hops && ref->is_string() ? resolve(ref->get_string()) : nullptr;
            if (target == nullptr) {
                refuse(at, "$ref");
                return std::nullopt;
            }
            at = std::string(ref->get_string());
            v = target;
        }
        if (auto it = memo_.find(v); it != memo_.end()) return it->second;
        const auto index = static_cast<std::uint32_t>(nodes_.size());
        nodes_.emplace_back();
        memo_.emplace(v, index);
        Node node;
        if (!fill(*v, at, depth, node)) return std::nullopt;
        finish(node);
        nodes_[index] = std::move(node);
        return index;
    }

private:
    static constexpr std::size_t max_build_depth = 512;
    static constexpr std::size_t max_ref_hops = 64;

    bool refuse(const std::string& where, std::string_view what) {
        if (refusal.empty()) refusal = (where.empty() ? "/" : where) + ": " + std::string(what);
        return false;
    }

    // A local reference resolved as valijson resolves it ("#" + pointer; trailing slashes dropped;
    // "~1" then "~0" unescaped per token; array indexes in decimal). Forms where valijson's reading
    // could differ from a plain one (percent-encoding, empty tokens, odd indexes) are refused.
    const json::value* resolve(std::string_view ref) const {
        if (ref.empty() || ref.front() != '#') return nullptr;
        std::string_view pointer = ref.substr(1);
        if (pointer.find('%') != std::string_view::npos) return nullptr;
        while (!pointer.empty() && pointer.back() == '/') pointer.remove_suffix(1);
        const json::value* node = &root_;
        if (pointer.empty()) return node;
        if (pointer.front() != '/') return nullptr;
        std::size_t pos = 1;
        while (true) {
            const std::size_t slash = pointer.find('/', pos);
            std::string token(
                pointer.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
            if (token.empty()) return nullptr;
            replace_all(token, "~1", "/");
            replace_all(token, "~0", "~");
            if (node->is_object()) {
                node = node->get_object().if_contains(token);
                if (node == nullptr) return nullptr;
            } else if (node->is_array()) {
                if (token.size() > 9 || !std::all_of(token.begin(), token.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; }))
                    return nullptr;
                const std::size_t i = std::stoul(token);
                if (i >= node->get_array().size()) return nullptr;
                node = &node->get_array()[i];
            } else {
                return nullptr;
            }
            if (slash == std::string_view::npos) return node;
            pos = slash + 1;
        }
    }

    static void replace_all(std::string& s, std::string_view from, std::string_view to) {
        for (std::size_t pos = s.find(from); pos != std::string::npos;
             pos = s.find(from, pos + to.size())) {
            s.replace(pos, from.size(), to);
        }
    }

    bool is_schema(const json::value& v) const {
        return v.is_object() || (draft_ == Draft::draft7 && v.is_bool());
    }

    bool child(const json::value& v, const std::string& where, std::size_t depth,
               std::uint32_t& out) {
        if (!is_schema(v)) return (refuse(where, "not a schema"));
        auto index = build(v, where, depth + 1);
        if (!index) return false;
        out = *index;
        return true;
    }

    bool schema_list(const json::value& v, const std::string& where, std::size_t depth,
                     std::vector<std::uint32_t>& out) {
        if (!v.is_array() || v.get_array().empty())
            return (refuse(where, "not a non-empty array of schemas"));
        const json::array& a = v.get_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
            std::uint32_t index = 0;
            if (!child(a[i], where + "/" + std::to_string(i), depth, index)) return false;
            out.push_back(index);
        }
        return true;
    }

    static bool count(const json::value& v, std::uint64_t& out) {
        if (!v.is_int64() || v.get_int64() < 0) return false;
        out = static_cast<std::uint64_t>(v.get_int64());
        return true;
    }

    static bool has_special(std::string_view name, bool slash_or_tilde) {
        if (name.find('\0') != std::string_view::npos) return true;
        return slash_or_tilde && name.find_first_of("/~") != std::string_view::npos;
    }

    bool fill(const json::value& v, const std::string& where, std::size_t depth, Node& n) {
        if (v.is_bool()) {
            if (draft_ != Draft::draft7) return (refuse(where, "boolean schema"));
            n.never = !v.get_bool();
            return true;
        }
        if (!v.is_object()) return (refuse(where, "not a schema"));
        const json::object& o = v.get_object();
        for (const json::key_value_pair& member : o) {
            const std::string_view k = member.key();
            const json::value& x = member.value();
            const std::string here = where + "/" + std::string(k);
            if (left_to_valijson(k)) return (refuse(where, k));
            if (k == "allOf") {
                if (!schema_list(x, here, depth, n.all_of)) return false;
            } else if (k == "anyOf") {
                if (!schema_list(x, here, depth, n.any_of)) return false;
            } else if (k == "oneOf") {
                if (!schema_list(x, here, depth, n.one_of)) return false;
            } else if (k == "not") {
                std::uint32_t index = 0;
                if (!child(x, here, depth, index)) return false;
                n.not_node = static_cast<std::int32_t>(index);
            } else if (k == "const") {
                n.const_value = x;
            } else if (k == "enum") {
                if (!x.is_array()) return (refuse(where, "enum"));
                n.has_enum = true;
                n.enum_values.assign(x.get_array().begin(), x.get_array().end());
            } else if (k == "type") {
                if (!type(x, n)) return (refuse(where, "type"));
            } else if (k == "items") {
                if (x.is_array()) return (refuse(where, "items (tuple form)"));
                std::uint32_t index = 0;
                if (!child(x, here, depth, index)) return false;
                n.items = static_cast<std::int32_t>(index);
            } else if (k == "maxItems" || k == "minItems" || k == "maxLength" || k == "minLength" ||
                       k == "maxProperties" || k == "minProperties") {
                std::uint64_t c = 0;
                if (!count(x, c)) return (refuse(where, k));
                if (k == "maxItems") n.max_items = c;
                if (k == "minItems") n.min_items = c;
                if (k == "maxLength") n.max_length = c;
                if (k == "minLength") n.min_length = c;
                if (k == "maxProperties") n.max_properties = c;
                if (k == "minProperties") n.min_properties = c;
            } else if (k == "multipleOf") {
                // valijson: an int64 divisor makes its integer check, anything else numeric its
                // floating one.
                if (x.is_int64() && x.get_int64() > 0) {
                    n.multiple_int = x.get_int64();
                } else if (x.is_double() && x.get_double() > 0 && std::isfinite(x.get_double())) {
                    n.multiple_double = x.get_double();
                } else {
                    return (refuse(where, k));
                }
            } else if (k == "properties") {
                if (!x.is_object()) return (refuse(where, k));
                n.has_properties = true;
                for (const json::key_value_pair& p : x.get_object()) {
                    if (has_special(p.key(), true))
                        return (refuse(here, "a property name holding '/', '~' or NUL"));
                    std::uint32_t index = 0;
                    if (!child(p.value(), here + "/" + std::string(p.key()), depth, index))
                        return false;
                    NameTable::Entry& e = n.names.at(p.key());
                    e.property = true;
                    e.node = static_cast<std::int32_t>(index);
                }
            } else if (k == "additionalProperties") {
                n.has_properties = true;
                if (x.is_bool()) {
                    n.additional = x.get_bool() ? Node::Additional::any : Node::Additional::none;
                } else if (x.is_object()) {
                    std::uint32_t index = 0;
                    if (!child(x, here, depth, index)) return false;
                    n.additional = Node::Additional::schema;
                    n.additional_node = static_cast<std::int32_t>(index);
                } else {
                    return (refuse(where, k));
                }
            } else if (k == "required") {
                if (!x.is_array()) return (refuse(where, k));
                for (const json::value& name : x.get_array()) {
                    if (!name.is_string() || has_special(name.get_string(), false))
                        return (refuse(where, k));
                }
            } else if (k == "x-herald-pattern") {
                const Pattern* p = x.is_string() ? patterns_(x.get_string()) : nullptr;
                if (p == nullptr) return (refuse(where, "pattern"));
                n.pattern = *p;
            } else if (k == "x-herald-format") {
                n.format = x.is_string() ? format_check(x.get_string()) : nullptr;
                if (n.format == nullptr) return (refuse(where, "format"));
            } else if (k == "x-herald-unique-items") {
                n.unique = true;
            }
            // Anything else is an annotation or unknown to valijson, which ignores it.
        }
        if (!bounds(o, where, n)) return false;
        // Required names after properties, so that the table holds both.
        if (const json::value* r = o.if_contains("required")) {
            for (const json::value& name : r->get_array()) {
                const std::string_view s = name.get_string();
                if (std::find(n.required.begin(), n.required.end(), s) != n.required.end())
                    continue;
                n.required.emplace_back(s);
                n.names.at(s).required = true;
            }
            n.required_count = static_cast<std::uint32_t>(n.required.size());
        }
        n.names.seal();
        if (n.has_enum) {
            n.enum_only_strings = std::all_of(n.enum_values.begin(), n.enum_values.end(),
                                              [](const json::value& e) { return e.is_string(); });
            if (n.enum_only_strings) {
                for (const json::value& e : n.enum_values)
                    n.enum_strings.at(c_view(e.get_string()));
                n.enum_strings.seal();
            }
        }
        return true;
    }

    bool type(const json::value& x, Node& n) const {
        n.types = 0;
        if (x.is_string()) {
            n.types = type_bit(x.get_string());
            return n.types != 0;
        }
        if (!x.is_array()) return false;
        for (const json::value& t : x.get_array()) {
            const std::uint8_t bit = t.is_string() ? type_bit(t.get_string()) : 0;
            if (bit == 0) return false;
            n.types |= bit;
        }
        return true;  // an empty list allows nothing, as in valijson
    }

    // minimum/maximum and their exclusive forms: draft 7 makes each keyword its own bound, draft 4
    // qualifies minimum/maximum with a boolean.
    bool bounds(const json::object& o, const std::string& where, Node& n) {
        auto number = [](const json::value* v, double& out) {
            if (v == nullptr || !(v->is_int64() || v->is_double())) return false;
            out = number_of(*v);
            return true;
        };
        for (const bool upper : {false, true}) {
            const char* plain = upper ? "maximum" : "minimum";
            const char* exclusive = upper ? "exclusiveMaximum" : "exclusiveMinimum";
            const json::value* p = o.if_contains(plain);
            const json::value* e = o.if_contains(exclusive);
            double value = 0;
            if (draft_ == Draft::draft7) {
                if (e != nullptr) {
                    if (!number(e, value)) return (refuse(where, exclusive));
                    n.bounds.push_back({value, upper, true});
                }
                if (p != nullptr) {
                    if (!number(p, value)) return (refuse(where, plain));
                    n.bounds.push_back({value, upper, false});
                }
            } else if (p != nullptr) {
                if (!number(p, value) || (e != nullptr && !e->is_bool()))
                    return (refuse(where, plain));
                n.bounds.push_back({value, upper, e != nullptr && e->get_bool()});
            } else if (e != nullptr) {
                return (refuse(where, exclusive));
            }
        }
        return true;
    }

    static void finish(Node& n) {
        n.trivial = is_trivial(n);
        n.string_checks = n.min_length != 0 ||
                          n.max_length != std::numeric_limits<std::uint64_t>::max() ||
                          n.pattern.has_value() || n.format != nullptr;
        const bool combinators =
            !n.all_of.empty() || !n.any_of.empty() || !n.one_of.empty() || n.not_node >= 0;
        n.stream_scalar = !combinators;
        n.stream_array = !combinators && !n.has_enum && !n.const_value && !n.unique;
        n.stream_object = !combinators && !n.has_enum && !n.const_value && n.min_properties == 0 &&
                          n.max_properties == std::numeric_limits<std::uint64_t>::max() &&
                          n.required.size() <= 64;
        if (n.stream_object) {
            for (std::size_t i = 0; i < n.required.size(); ++i) {
                n.names.at(n.required[i]).required_bit = static_cast<std::uint8_t>(i);
                n.required_mask |= std::uint64_t{1} << i;
            }
        }
    }

    static bool is_trivial(const Node& n) {
        return !n.never && n.types == k_all && !n.has_enum && !n.const_value && n.bounds.empty() &&
               n.multiple_int == 0 && n.multiple_double == 0 && n.min_length == 0 &&
               n.max_length == std::numeric_limits<std::uint64_t>::max() && !n.pattern &&
               n.format == nullptr && n.min_items == 0 &&
               n.max_items == std::numeric_limits<std::uint64_t>::max() && n.items < 0 &&
               !n.unique && n.min_properties == 0 &&
               n.max_properties == std::numeric_limits<std::uint64_t>::max() && !n.has_properties &&
               n.required.empty() && n.all_of.empty() && n.any_of.empty() && n.one_of.empty() &&
               n.not_node < 0;
    }

    const json::value& root_;
    Draft draft_;
    const FastValidator::PatternLookup& patterns_;
    std::vector<Node>& nodes_;
    std::unordered_map<const json::value*, std::uint32_t> memo_;
};

// The longest same-level chain below each node, refusing cycles (which valijson would follow
// without end) and chains above the limit. Iterative, so the check itself never recurses.
bool chains_bounded(const std::vector<Node>& nodes, std::size_t limit) {
    enum : std::uint8_t { fresh, open, done };
    std::vector<std::uint8_t> state(nodes.size(), fresh);
    std::vector<std::size_t> height(nodes.size(), 0);
    std::vector<std::pair<std::uint32_t, bool>> stack;  // node, children already pushed
    for (std::uint32_t start = 0; start < nodes.size(); ++start) {
        if (state[start] != fresh) continue;
        stack.push_back({start, false});
        while (!stack.empty()) {
            auto [node, expanded] = stack.back();
            stack.pop_back();
            if (expanded) {
                std::size_t h = 0;
                nodes[node].for_each_same_level(
                    [&](std::uint32_t c) { h = std::max(h, height[c] + 1); });
                height[node] = h;
                state[node] = done;
                if (h > limit) return false;
                continue;
            }
            if (state[node] == done) continue;
            state[node] = open;
            stack.push_back({node, true});
            bool cycle = false;
            nodes[node].for_each_same_level([&](std::uint32_t c) {
                if (state[c] == open) cycle = true;
                if (state[c] == fresh) stack.push_back({c, false});
            });
            if (cycle) return false;
        }
    }
    return true;
}

}  // namespace

FastValidator::Compiled FastValidator::compile(const json::value& document, Draft draft,
                                               const PatternLookup& patterns) {
    Compiled out;
    std::unique_ptr<FastValidator> v(new FastValidator());
    Builder builder(document, draft, patterns, v->nodes_);
    const auto root = builder.build(document, "", 0);
    if (!root) {
        out.refusal = builder.refusal.empty() ? "unsupported" : builder.refusal;
        return out;
    }
    if (!chains_bounded(v->nodes_, max_chain)) {
        out.refusal = "allOf/anyOf/oneOf/not nested deeper than " + std::to_string(max_chain) +
                      " at one level, or in a cycle";
        return out;
    }
    v->root_ = *root;
    for (const Node& n : v->nodes_) v->trivial_.push_back(n.trivial ? 1 : 0);
    out.validator = std::move(v);
    return out;
}

FastValidator::Verdict FastValidator::check(const json::value& data) const {
    bool undecided = false;
    const bool ok = valid(root_, data, undecided);
    if (undecided) return Verdict::undecided;
    return ok ? Verdict::valid : Verdict::invalid;
}

namespace {

// type, enum and const of an array or object.
bool container_checks(const Node& n, const json::value& v) {
    if ((n.types & kind_bits(v.kind())) == 0) return false;
    if (n.has_enum && std::none_of(n.enum_values.begin(), n.enum_values.end(),
                                   [&](const json::value& e) { return same_value(e, v); }))
        return false;
    if (n.const_value && !same_value(*n.const_value, v)) return false;
    return true;
}

// Every keyword of a node that applies to a scalar (combinators aside).
bool scalar_checks(const Node& n, const Scalar& x, bool& undecided) {
    if ((n.types & kind_bits(x.kind)) == 0) return false;
    if (n.has_enum) {
        if (n.enum_only_strings) {
            if (x.kind != json::kind::string || n.enum_strings.find(c_view(x.text)) == nullptr)
                return false;
        } else if (std::none_of(n.enum_values.begin(), n.enum_values.end(),
                                [&](const json::value& e) { return same_scalar(e, x); })) {
            return false;
        }
    }
    if (n.const_value && !same_scalar(*n.const_value, x)) return false;
    if (is_number(x.kind)) {
        const double d = x.number;
        for (const Node::Bound& b : n.bounds) {
            if (b.upper ? (b.exclusive ? d >= b.value : d > b.value)
                        : (b.exclusive ? d <= b.value : d < b.value))
                return false;
        }
        if (n.multiple_int != 0) {
            std::int64_t i = 0;
            if (x.kind == json::kind::int64) {
                i = x.integer;
            } else if (d >= -0x1p63 && d < 0x1p63) {
                i = static_cast<std::int64_t>(d);  // valijson truncates, then takes i % divisor
            } else {
                undecided = true;  // valijson's conversion is undefined there
                return false;
            }
            if (i != 0 && i % n.multiple_int != 0) return false;
        }
        if (n.multiple_double != 0 && d != 0 &&
            std::fabs(std::remainder(d, n.multiple_double)) >
                std::numeric_limits<double>::epsilon())
            return false;
    } else if (x.kind == json::kind::string) {
        if (n.multiple_int != 0 || n.multiple_double != 0) {
            // valijson checks numeric strings against multipleOf (strtod, istringstream).
            undecided = true;
            return false;
        }
        if (!n.string_checks) return true;
        const std::string_view s = c_view(x.text);
        // A count is at most the byte length, and a string starting with ASCII counts at least
        // one: most strings need no count.
        const bool at_least = n.min_length == 0 || (n.min_length == 1 && !s.empty() &&
                                                    static_cast<unsigned char>(s.front()) < 0x80);
        if (!at_least || s.size() > n.max_length) {
            const auto count = code_points(s);
            if (!count) {
                undecided = true;
                return false;
            }
            if (*count < n.min_length || *count > n.max_length) return false;
        }
        if (n.pattern && !n.pattern->search(s)) return false;
        if (n.format != nullptr && !n.format(s)) return false;
    }
    return true;
}

}  // namespace

bool FastValidator::array_checks(const Node& n, const json::array& a, bool& undecided) const {
    if (a.size() < n.min_items || a.size() > n.max_items) return false;
    if (n.unique && !all_unique(a)) return false;
    if (n.items >= 0 && !nodes_[static_cast<std::size_t>(n.items)].trivial) {
        const auto items = static_cast<std::uint32_t>(n.items);
        for (const json::value& item : a) {
            if (!valid(items, item, undecided)) return false;
        }
    }
    return true;
}

bool FastValidator::object_checks(const Node& n, const json::object& o, bool& undecided) const {
    if (o.size() < n.min_properties || o.size() > n.max_properties) return false;
    if (!n.has_properties) {
        for (const std::string& name : n.required) {
            if (!o.contains(name)) return false;
        }
        return true;
    }
    // One pass over the members: each is checked against its property schema or the additional
    // one, and required names are counted as they go by (members are unique, so the count reaches
    // the number of required names exactly when all are present).
    std::uint32_t required_seen = 0;
    for (const json::key_value_pair& member : o) {
        const NameTable::Entry* e = n.names.find(member.key());
        if (e != nullptr) {
            required_seen += e->required ? 1 : 0;
            if (e->property) {
                if (!valid(static_cast<std::uint32_t>(e->node), member.value(), undecided))
                    return false;
                continue;
            }
        }
        if (n.additional == Node::Additional::none) return false;
        if (n.additional == Node::Additional::schema &&
            !valid(static_cast<std::uint32_t>(n.additional_node), member.value(), undecided))
            return false;
    }
    return required_seen == n.required_count;
}

// Constraints of one node in any order: the verdict is their conjunction, and none of them throws
// in valijson for these keywords, so order changes nothing but speed (cheap checks first).
bool FastValidator::valid(std::uint32_t index, const json::value& v, bool& undecided) const {
    const Node& n = nodes_[index];
    if (n.trivial) return true;
    if (n.never) return false;
    switch (v.kind()) {
        case json::kind::array:
            if (!container_checks(n, v) || !array_checks(n, v.get_array(), undecided)) return false;
            break;
        case json::kind::object:
            if (!container_checks(n, v) || !object_checks(n, v.get_object(), undecided))
                return false;
            break;
        default:
            if (!scalar_checks(n, scalar_of(v), undecided)) return false;
            break;
    }
    for (std::uint32_t c : n.all_of) {
        if (!valid(c, v, undecided)) return false;
    }
    if (!n.any_of.empty() && std::none_of(n.any_of.begin(), n.any_of.end(),
                                          [&](std::uint32_t c) { return valid(c, v, undecided); }))
        return false;
    if (!n.one_of.empty()) {
        int matched = 0;
        for (std::uint32_t c : n.one_of) {
            if (valid(c, v, undecided) && ++matched > 1) return false;
        }
        if (matched != 1) return false;
    }
    if (n.not_node >= 0 && valid(static_cast<std::uint32_t>(n.not_node), v, undecided))
        return false;
    return true;
}

// --- validating the text -------------------------------------------------------------------------

// A handler for Boost.JSON's basic_parser that runs the node checks on the parser's events instead
// of on a built value. It proves validity or gives up: any violation, any node it cannot judge
// from events (combinators; enum, const, uniqueItems or min/maxProperties on a container), and any
// undecided check stop the parse, and the caller takes the ordinary path. Duplicate member names,
// which Boost.JSON resolves by keeping the last, are safe: every occurrence is checked, required
// names are tracked by bit, and counts of members are never judged here.
//
// Members and strings split by the parser into parts (escapes, long strings) are gathered in a
// buffer, the only allocation, and only then.
class FastValidator::Stream {
public:
    using error_code = boost::system::error_code;

    // The limits of Boost.JSON's own value-building handler, so that the same texts parse.
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    Stream(const FastValidator& v, std::size_t max_name, bool refuse_beyond_int64)
        : v_(v), max_name_(max_name), refuse_beyond_int64_(refuse_beyond_int64) {}

    bool given_up() const noexcept { return given_up_; }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code& ec) { return open(true, ec); }
    bool on_array_begin(error_code& ec) { return open(false, ec); }
    bool on_object_end(std::size_t, error_code& ec) { return close(ec); }
    bool on_array_end(std::size_t, error_code& ec) { return close(ec); }

    bool on_key_part(json::string_view part, std::size_t, error_code&) {
        key_.append(part.data(), part.size());
        key_parts_ = true;
        return true;
    }
    bool on_key(json::string_view last, std::size_t, error_code& ec) {
        std::string_view key(last.data(), last.size());
        if (key_parts_) {
            key_.append(last.data(), last.size());
            key = key_;
        }
        const bool ok = member(key);
        key_.clear();
        key_parts_ = false;
        return ok || give_up(ec);
    }

    bool on_string_part(json::string_view part, std::size_t, error_code&) {
        string_.append(part.data(), part.size());
        string_parts_ = true;
        return true;
    }
    bool on_string(json::string_view last, std::size_t, error_code& ec) {
        Scalar x;
        x.kind = json::kind::string;
        x.text = std::string_view(last.data(), last.size());
        if (string_parts_) {
            string_.append(last.data(), last.size());
            x.text = string_;
        }
        const bool ok = scalar(x, ec);
        string_.clear();
        string_parts_ = false;
        return ok;
    }

    bool on_number_part(json::string_view, error_code&) { return true; }
    bool on_int64(std::int64_t i, json::string_view, error_code& ec) {
        Scalar x;
        x.kind = json::kind::int64;
        x.integer = i;
        x.number = static_cast<double>(i);
        return scalar(x, ec);
    }
    bool on_uint64(std::uint64_t u, json::string_view, error_code& ec) {
        // The guard refuses it (an integer multipleOf in the schema): not proved.
        if (refuse_beyond_int64_ && u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return false;
        Scalar x;
        x.kind = json::kind::uint64;
        x.number = static_cast<double>(u);
        return scalar(x, ec);
    }
    bool on_double(double d, json::string_view, error_code& ec) {
        if (refuse_beyond_int64_ && !(d >= -0x1p63 && d < 0x1p63)) return false;  // as on_uint64
        Scalar x;
        x.kind = json::kind::double_;
        x.number = d;
        return scalar(x, ec);
    }
    bool on_bool(bool b, error_code& ec) {
        Scalar x;
        x.kind = json::kind::bool_;
        x.boolean = b;
        return scalar(x, ec);
    }
    bool on_null(error_code& ec) { return scalar(Scalar{}, ec); }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }

private:
    // Deeper than Boost.JSON's default max_depth (32), which the parser enforces first.
    static constexpr std::size_t max_frames = 64;

    // Written whole when a container opens (no initializers, so that the array of frames costs
    // nothing to create).
    struct Frame {
        std::int32_t node;  // -1: nothing to check inside
        bool object;
        std::int32_t child;  // the node for the next member's or item's value
        std::uint64_t required;
        std::uint64_t count;
    };

    bool give_up(error_code& ec) {
        given_up_ = true;
        ec = json::error::exception;  // any error stops the parser
        return false;
    }

    // The node for a value that starts now: the root's, an item's or the current member's.
    std::int32_t take_node() {
        if (depth_ == 0) return static_cast<std::int32_t>(v_.root_);
        Frame& f = frames_[depth_ - 1];
        ++f.count;
        return f.child;
    }

    // -1 for a node with nothing to check, so that its value is only parsed.
    std::int32_t effective(std::int32_t node) const {
        return node >= 0 && v_.trivial_[static_cast<std::size_t>(node)] ? -1 : node;
    }

    bool scalar(const Scalar& x, error_code& ec) {
        const std::int32_t node = effective(take_node());
        if (node < 0) return true;
        const Node& n = v_.nodes_[static_cast<std::size_t>(node)];
        bool undecided = false;
        if (n.never || !n.stream_scalar || !scalar_checks(n, x, undecided) || undecided)
            return give_up(ec);
        return true;
    }

    bool open(bool object, error_code& ec) {
        const std::int32_t node = effective(take_node());
        if (depth_ == max_frames) return give_up(ec);
        Frame f{node, object, -1, 0, 0};
        if (node >= 0) {
            const Node& n = v_.nodes_[static_cast<std::size_t>(node)];
            if (n.never || (n.types & (object ? k_object : k_array)) == 0 ||
                !(object ? n.stream_object : n.stream_array))
                return give_up(ec);
            if (!object) f.child = effective(n.items);
        }
        frames_[depth_++] = f;
        return true;
    }

    bool close(error_code& ec) {
        const Frame f = frames_[--depth_];
        if (f.node < 0) return true;
        const Node& n = v_.nodes_[static_cast<std::size_t>(f.node)];
        const bool ok = f.object ? f.required == n.required_mask
                                 : f.count >= n.min_items && f.count <= n.max_items;
        return ok || give_up(ec);
    }

    // A member name: sets the node for its value.
    bool member(std::string_view key) {
        Frame& f = frames_[depth_ - 1];
        if (key.size() > max_name_) return false;  // the guard refuses it (patternProperties)
        f.child = -1;
        if (f.node < 0) return true;
        const Node& n = v_.nodes_[static_cast<std::size_t>(f.node)];
        const NameTable::Entry* e = n.names.find(key);
        if (e != nullptr && e->required) f.required |= std::uint64_t{1} << e->required_bit;
        if (e != nullptr && e->property) {
            f.child = effective(e->node);
        } else if (n.has_properties) {
            if (n.additional == Node::Additional::none) return false;
            if (n.additional == Node::Additional::schema) f.child = effective(n.additional_node);
        }
        return true;
    }

    const FastValidator& v_;
    std::size_t max_name_;
    bool refuse_beyond_int64_;
    std::array<Frame, max_frames> frames_;
    std::size_t depth_ = 0;
    bool given_up_ = false;
    std::string key_;
    std::string string_;
    bool key_parts_ = false;
    bool string_parts_ = false;
};

bool FastValidator::proves_valid_text(std::string_view text, std::size_t max_name, bool refuse_beyond_int64) const {
    // json::parse() with default options is this parser with Boost.JSON's own handler and the same
    // options: the same texts parse, to the same values.
    json::basic_parser<Stream> parser(json::parse_options{}, *this, max_name, refuse_beyond_int64);
    boost::system::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    return !ec && used == text.size() && !parser.handler().given_up();
}

}  // namespace herald::schema::detail
