#include "schema/compat.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <set>
#include <tuple>
#include <utility>

#include "schema/json_pointer.hpp"

namespace herald::schema {

namespace json = boost::json;

std::string_view to_string(CompatMode mode) noexcept {
    switch (mode) {
        case CompatMode::none:
            return "none";
        case CompatMode::backward:
            return "backward";
        case CompatMode::forward:
            return "forward";
        case CompatMode::full:
            return "full";
    }
    return "full";
}

std::optional<CompatMode> parse_compat_mode(std::string_view text) noexcept {
    if (text == "none") return CompatMode::none;
    if (text == "backward") return CompatMode::backward;
    if (text == "forward") return CompatMode::forward;
    if (text == "full") return CompatMode::full;
    return std::nullopt;
}

std::string_view to_string(BreakDirection direction) noexcept {
    switch (direction) {
        case BreakDirection::backward:
            return "backward";
        case BreakDirection::forward:
            return "forward";
        case BreakDirection::both:
            return "both";
    }
    return "both";
}

std::string CompatReport::summary() const {
    if (breaks.empty()) return "compatible";
    std::string s = std::to_string(breaks.size()) +
                    (breaks.size() == 1 ? " breaking change: " : " breaking changes: ");
    for (std::size_t i = 0; i < breaks.size(); ++i) {
        if (i > 0) s += "; ";
        s += breaks[i].pointer.empty() ? "/" : breaks[i].pointer;
        s += ": ";
        s += breaks[i].message;
    }
    return s;
}

json::value CompatReport::to_json() const {
    json::array list;
    for (const Break& b : breaks) {
        list.push_back(json::object{{"pointer", b.pointer},
                                    {"keyword", b.keyword},
                                    {"direction", to_string(b.direction)},
                                    {"message", b.message}});
    }
    return json::object{
        {"mode", to_string(mode)}, {"compatible", compatible()}, {"breaks", std::move(list)}};
}

namespace {

const json::value& true_schema() {
    static const json::value value(true);
    return value;
}

const json::object& empty_object() {
    static const json::object value;
    return value;
}

// JSON types as bits; "number" is integer | fraction, so integer ⊂ number falls out of set
// arithmetic.
enum : unsigned {
    t_null = 1,
    t_boolean = 2,
    t_object = 4,
    t_array = 8,
    t_integer = 16,
    t_fraction = 32,
    t_string = 64,
    t_all = 127,
};

unsigned type_bit(std::string_view name) {
    if (name == "null") return t_null;
    if (name == "boolean") return t_boolean;
    if (name == "object") return t_object;
    if (name == "array") return t_array;
    if (name == "integer") return t_integer;
    if (name == "number") return t_integer | t_fraction;
    if (name == "string") return t_string;
    if (name == "any") return t_all;  // draft 3
    return 0;
}

unsigned type_bits(const json::object& s) {
    const json::value* t = s.if_contains("type");
    if (t == nullptr) return t_all;
    if (t->is_string()) {
        const unsigned bit = type_bit(t->get_string());
        return bit == 0 ? t_all : bit;
    }
    if (t->is_array()) {
        unsigned bits = 0;
        for (const json::value& v : t->get_array()) {
            if (!v.is_string()) return t_all;  // a schema inside "type" (draft 3): do not guess
            bits |= type_bit(v.get_string());
        }
        return bits == 0 ? t_all : bits;
    }
    return t_all;
}

std::string describe_types(unsigned bits) {
    if (bits == t_all) return "any type";
    std::string out;
    auto add = [&](std::string_view name) {
        if (!out.empty()) out += ", ";
        out += name;
    };
    if (bits & t_null) add("null");
    if (bits & t_boolean) add("boolean");
    if (bits & t_object) add("object");
    if (bits & t_array) add("array");
    if ((bits & t_integer) && (bits & t_fraction)) {
        add("number");
    } else if (bits & t_integer) {
        add("integer");
    } else if (bits & t_fraction) {
        add("non-integer number");
    }
    if (bits & t_string) add("string");
    return out;
}

std::string show(const json::value& v) {
    std::string s = json::serialize(v);
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

double as_number(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
}

// One side of an interval: a lower or upper bound, inclusive or exclusive.
struct Bound {
    bool present = false;
    double value = 0;
    bool exclusive = false;
    json::value text;     // as written, for messages
    std::string keyword;  // the keyword that sets it
};

// `minimum`/`maximum`, with draft 4's boolean exclusiveMinimum/exclusiveMaximum or draft 7's
// numeric ones.
Bound numeric_bound(const json::object& s, bool lower) {
    const char* plain = lower ? "minimum" : "maximum";
    const char* exclusive = lower ? "exclusiveMinimum" : "exclusiveMaximum";
    Bound b;
    if (const json::value* v = s.if_contains(plain); v != nullptr && v->is_number()) {
        b = {true, as_number(*v), false, *v, plain};
        if (const json::value* e = s.if_contains(exclusive);
            e != nullptr && e->is_bool() && e->get_bool()) {
            b.exclusive = true;
        }
    }
    if (const json::value* e = s.if_contains(exclusive); e != nullptr && e->is_number()) {
        const Bound candidate{true, as_number(*e), true, *e, exclusive};
        const bool stricter =
            !b.present || (lower ? candidate.value >= b.value : candidate.value <= b.value);
        if (stricter) b = candidate;
    }
    return b;
}

// minLength, maxItems and the like: non-negative integer counts, inclusive; a minimum of 0 is no
// bound at all.
Bound count_bound(const json::object& s, const char* keyword, bool lower) {
    Bound b;
    const json::value* v = s.if_contains(keyword);
    if (v == nullptr || !v->is_number()) return b;
    const double value = as_number(*v);
    if (lower && value <= 0) return b;
    return {true, value, false, *v, keyword};
}

// True when `a` admits fewer values than `b` (a lower bound that is higher, or as high and
// exclusive).
bool stricter(const Bound& a, const Bound& b, bool lower) {
    if (!a.present) return false;
    if (!b.present) return true;
    if (a.value != b.value) return lower ? a.value > b.value : a.value < b.value;
    return a.exclusive && !b.exclusive;
}

std::string describe_bound(const Bound& b, bool lower) {
    std::string s = lower ? (b.exclusive ? "> " : ">= ") : (b.exclusive ? "< " : "<= ");
    return s + json::serialize(b.text);
}

bool is_multiple_of(double x, double y) {
    if (y == 0) return false;
    const double q = x / y;
    return std::fabs(q - std::round(q)) < 1e-9;
}

// Formats the validator asserts (validator.hpp); other format values are annotations, so changing
// them cannot break anyone.
bool is_asserted_format(std::string_view f) {
    for (std::string_view known : {"date-time", "date", "time", "email", "hostname", "ipv4", "ipv6",
                                   "uri", "uri-reference", "uuid", "json-pointer", "regex"}) {
        if (f == known) return true;
    }
    return false;
}

const json::value* member(const json::object& s, std::string_view key) {
    return s.if_contains(key);
}

bool is_false_schema(const json::value& v) { return v.is_bool() && !v.get_bool(); }

bool is_open_schema(const json::value& v) {
    return (v.is_bool() && v.get_bool()) || (v.is_object() && v.get_object().empty());
}

bool counts(CompatMode mode, BreakDirection d) {
    switch (mode) {
        case CompatMode::none:
            return false;
        case CompatMode::full:
            return true;
        case CompatMode::backward:
            return d != BreakDirection::forward;
        case CompatMode::forward:
            return d != BreakDirection::backward;
    }
    return true;
}

class Comparer {
public:
    Comparer(const json::value& old_root, const json::value& new_root, CompatMode mode)
        : old_root_(old_root), new_root_(new_root), mode_(mode) {}

    std::vector<Break> breaks;

    void compare(const json::value& o_in, const json::value& n_in, const std::string& path,
                 int depth) {
        if (depth > max_depth) {
            report(path, holder_keyword(path), BreakDirection::both,
                   "schemas nested too deeply to compare");
            return;
        }
        std::string npath = path;
        std::string oref;
        std::string nref;
        const json::value* o = follow(old_root_, &o_in, oref, nullptr);
        const json::value* n = follow(new_root_, &n_in, nref, &npath);
        if (o == nullptr || n == nullptr) {
            if (o == nullptr && n == nullptr && oref == nref) return;
            report(npath, "$ref", BreakDirection::both,
                   "cannot resolve $ref " + quoted(n == nullptr ? nref : oref) + " to compare it");
            return;
        }
        if (!seen_.insert({o, n, flipped_}).second) return;

        const bool o_false = is_false_schema(*o);
        const bool n_false = is_false_schema(*n);
        if (o_false && n_false) return;
        if (n_false) {
            report(npath, holder_keyword(npath), BreakDirection::backward,
                   "rejects every value (false schema); the previous version accepted some");
            return;
        }
        if (o_false) {
            report(npath, holder_keyword(npath), BreakDirection::forward,
                   "accepts values; the previous version rejected every value (false schema)");
            return;
        }
        const json::object& os = o->is_object() ? o->get_object() : empty_object();
        const json::object& ns = n->is_object() ? n->get_object() : empty_object();

        compare_types(os, ns, npath);
        compare_enum(os, ns, npath);
        compare_numbers(os, ns, npath);
        compare_strings(os, ns, npath);
        compare_arrays(os, ns, npath, depth);
        compare_objects(os, ns, npath, depth);
        compare_combinators(os, ns, npath, depth);
    }

private:
    static constexpr int max_depth = 128;
    static constexpr int max_ref_hops = 32;

    // The keyword that holds the subschema at `path`: "items" for /items and /items/0, "properties"
    // for /properties/name, "$ref" for /a/$ref.
    static std::string holder_keyword(const std::string& path) {
        std::size_t end = path.size();
        for (int i = 0; i < 2; ++i) {
            const std::size_t slash = path.rfind('/', end == 0 ? 0 : end - 1);
            if (slash == std::string::npos) break;
            const std::string token = path.substr(slash + 1, end - slash - 1);
            const bool is_keyword =
                token == "$ref" || token == "properties" || token == "patternProperties" ||
                token == "additionalProperties" || token == "items" || token == "additionalItems" ||
                token == "contains" || token == "propertyNames" || token == "not" ||
                token == "if" || token == "then" || token == "else" || token == "allOf" ||
                token == "anyOf" || token == "oneOf" || token == "dependencies" ||
                token == "definitions";
            if (is_keyword) return token;
            if (slash == 0) break;
            end = slash;
        }
        return "schema";
    }

    void report(std::string pointer, std::string keyword, BreakDirection d, std::string message) {
        if (flipped_) {
            if (d == BreakDirection::backward) {
                d = BreakDirection::forward;
            } else if (d == BreakDirection::forward) {
                d = BreakDirection::backward;
            }
            message = "inside 'not': " + message;
        }
        if (!counts(mode_, d)) return;
        breaks.push_back({std::move(pointer), std::move(keyword), d, std::move(message)});
    }

    // Follows "$ref" (siblings ignored, as drafts 4 and 7 say) to the node it designates; nullptr
    // when a reference does not resolve (`ref` then holds it). Appends a "$ref" token to `path` per
    // hop when given.
    const json::value* follow(const json::value& root, const json::value* node, std::string& ref,
                              std::string* path) const {
        for (int hop = 0; hop < max_ref_hops; ++hop) {
            if (!node->is_object()) return node;
            const json::value* r = node->get_object().if_contains("$ref");
            if (r == nullptr || !r->is_string()) return node;
            ref = std::string(r->get_string());
            if (path != nullptr) *path += "/$ref";
            node = detail::resolve_local_ref(root, ref);
            if (node == nullptr) return nullptr;
        }
        return nullptr;
    }

    const json::value& resolved(const json::value& root, const json::value& node) const {
        std::string ref;
        const json::value* r = follow(root, &node, ref, nullptr);
        return r == nullptr ? node : *r;
    }

    void compare_types(const json::object& os, const json::object& ns, const std::string& path) {
        const unsigned ob = type_bits(os);
        const unsigned nb = type_bits(ns);
        if (ob == nb) return;
        const unsigned widened = nb & ~ob;
        const unsigned narrowed = ob & ~nb;
        if (widened != 0 && narrowed != 0) {
            report(path + "/type", "type", BreakDirection::both,
                   "changes the type from " + describe_types(ob) + " to " + describe_types(nb));
        } else if (widened != 0) {
            report(path + "/type", "type", BreakDirection::forward,
                   "widens the type: now also allows " + describe_types(widened) + " (was " +
                       describe_types(ob) + ")");
        } else if (narrowed != 0) {
            report(path + "/type", "type", BreakDirection::backward,
                   "narrows the type: no longer allows " + describe_types(narrowed) + " (now " +
                       describe_types(nb) + ")");
        }
    }

    // `enum`, or `const` as a one-value enum; nullopt when the schema has neither.
    static std::optional<std::pair<std::string, json::array>> enum_values(const json::object& s) {
        if (const json::value* e = s.if_contains("enum"); e != nullptr && e->is_array()) {
            return std::pair<std::string, json::array>{"enum", e->get_array()};
        }
        if (const json::value* c = s.if_contains("const"); c != nullptr) {
            return std::pair<std::string, json::array>{"const", json::array{*c}};
        }
        return std::nullopt;
    }

    void compare_enum(const json::object& os, const json::object& ns, const std::string& path) {
        const auto oe = enum_values(os);
        const auto ne = enum_values(ns);
        if (!oe && !ne) return;
        if (!oe) {
            report(path + "/" + ne->first, ne->first, BreakDirection::backward,
                   "restricts the value to " + show(json::value(ne->second)) +
                       " where any value was allowed");
            return;
        }
        if (!ne) {
            report(path + "/" + oe->first, oe->first, BreakDirection::forward,
                   "removes the restriction to " + show(json::value(oe->second)) +
                       ": new events may carry other values");
            return;
        }
        auto contains = [](const json::array& a, const json::value& v) {
            for (const json::value& x : a) {
                if (x == v) return true;
            }
            return false;
        };
        json::array added;
        json::array removed;
        for (const json::value& v : ne->second) {
            if (!contains(oe->second, v)) added.push_back(v);
        }
        for (const json::value& v : oe->second) {
            if (!contains(ne->second, v)) removed.push_back(v);
        }
        const std::string& kw = ne->first;
        if (!added.empty()) {
            report(path + "/" + kw, kw, BreakDirection::forward,
                   "adds allowed value(s) " + show(json::value(added)) +
                       ": consumers of the previous version do not expect them");
        }
        if (!removed.empty()) {
            report(path + "/" + kw, kw, BreakDirection::backward,
                   "removes allowed value(s) " + show(json::value(removed)) +
                       ": old events carrying them are rejected");
        }
    }

    void compare_bound(const Bound& o, const Bound& n, bool lower, const std::string& path,
                       std::string_view what) {
        if (stricter(n, o, lower)) {
            const std::string kw = n.keyword;
            report(path + "/" + kw, kw, BreakDirection::backward,
                   o.present ? "tightens the " + std::string(what) + " from " +
                                   describe_bound(o, lower) + " to " + describe_bound(n, lower)
                             : "adds the " + std::string(what) + " " + describe_bound(n, lower));
        }
        if (stricter(o, n, lower)) {
            const std::string kw = n.present ? n.keyword : o.keyword;
            report(path + "/" + kw, kw, BreakDirection::forward,
                   n.present ? "loosens the " + std::string(what) + " from " +
                                   describe_bound(o, lower) + " to " + describe_bound(n, lower)
                             : "removes the " + std::string(what) + " " + describe_bound(o, lower));
        }
    }

    void compare_count(const json::object& os, const json::object& ns, const char* keyword,
                       bool lower, const std::string& path, std::string_view what) {
        compare_bound(count_bound(os, keyword, lower), count_bound(ns, keyword, lower), lower, path,
                      what);
    }

    void compare_numbers(const json::object& os, const json::object& ns, const std::string& path) {
        compare_bound(numeric_bound(os, true), numeric_bound(ns, true), true, path, "lower bound");
        compare_bound(numeric_bound(os, false), numeric_bound(ns, false), false, path,
                      "upper bound");
        const json::value* om = member(os, "multipleOf");
        const json::value* nm = member(ns, "multipleOf");
        if (om != nullptr && !om->is_number()) om = nullptr;
        if (nm != nullptr && !nm->is_number()) nm = nullptr;
        if (om == nullptr && nm == nullptr) return;
        const std::string p = path + "/multipleOf";
        if (om == nullptr) {
            report(p, "multipleOf", BreakDirection::backward, "adds multipleOf " + show(*nm));
            return;
        }
        if (nm == nullptr) {
            report(p, "multipleOf", BreakDirection::forward, "removes multipleOf " + show(*om));
            return;
        }
        const double a = as_number(*om);
        const double b = as_number(*nm);
        if (a == b) return;
        const std::string change = "changes multipleOf from " + show(*om) + " to " + show(*nm);
        if (is_multiple_of(b, a)) {
            report(p, "multipleOf", BreakDirection::backward, change + " (stricter)");
        } else if (is_multiple_of(a, b)) {
            report(p, "multipleOf", BreakDirection::forward, change + " (looser)");
        } else {
            report(p, "multipleOf", BreakDirection::both, change);
        }
    }

    // pattern and (asserted) format: equal, added, removed or changed.
    void compare_string_assertion(const json::object& os, const json::object& ns,
                                  const char* keyword, bool (*counted)(std::string_view),
                                  const std::string& path) {
        auto get = [&](const json::object& s) -> std::optional<std::string> {
            const json::value* v = s.if_contains(keyword);
            if (v == nullptr || !v->is_string()) return std::nullopt;
            if (counted != nullptr && !counted(v->get_string())) return std::nullopt;
            return std::string(v->get_string());
        };
        const auto o = get(os);
        const auto n = get(ns);
        if (o == n) return;
        const std::string p = path + "/" + keyword;
        if (!o) {
            report(p, keyword, BreakDirection::backward,
                   "adds " + std::string(keyword) + " " + quoted(*n));
        } else if (!n) {
            report(p, keyword, BreakDirection::forward,
                   "removes " + std::string(keyword) + " " + quoted(*o));
        } else {
            report(p, keyword, BreakDirection::both,
                   "changes " + std::string(keyword) + " from " + quoted(*o) + " to " + quoted(*n) +
                       " (Herald cannot prove the two accept the same strings)");
        }
    }

    void compare_strings(const json::object& os, const json::object& ns, const std::string& path) {
        compare_count(os, ns, "minLength", true, path, "minimum length");
        compare_count(os, ns, "maxLength", false, path, "maximum length");
        compare_string_assertion(os, ns, "pattern", nullptr, path);
        compare_string_assertion(os, ns, "format", &is_asserted_format, path);
    }

    // The schema for array item `i`: items[i] (tuple form), then additionalItems; or the single
    // items schema.
    static const json::value& item_schema(const json::object& s, std::size_t i) {
        const json::value* items = s.if_contains("items");
        if (items == nullptr) return true_schema();
        if (!items->is_array()) return *items;
        const json::array& tuple = items->get_array();
        if (i < tuple.size()) return tuple[i];
        const json::value* more = s.if_contains("additionalItems");
        return more == nullptr ? true_schema() : *more;
    }

    // The schema for items past the tuple (or every item for the single form).
    static const json::value& rest_schema(const json::object& s) {
        const json::value* items = s.if_contains("items");
        if (items == nullptr) return true_schema();
        if (!items->is_array()) return *items;
        const json::value* more = s.if_contains("additionalItems");
        return more == nullptr ? true_schema() : *more;
    }

    void compare_arrays(const json::object& os, const json::object& ns, const std::string& path,
                        int depth) {
        const json::value* oi = os.if_contains("items");
        const json::value* ni = ns.if_contains("items");
        const bool o_tuple = oi != nullptr && oi->is_array();
        const bool n_tuple = ni != nullptr && ni->is_array();
        if (o_tuple || n_tuple) {
            const std::size_t o_len = o_tuple ? oi->get_array().size() : 0;
            const std::size_t n_len = n_tuple ? ni->get_array().size() : 0;
            for (std::size_t i = 0; i < std::max(o_len, n_len); ++i) {
                std::string p = path + "/items";
                if (n_tuple)
                    p = i < n_len ? p + "/" + std::to_string(i) : path + "/additionalItems";
                compare(item_schema(os, i), item_schema(ns, i), p, depth + 1);
            }
            compare(rest_schema(os), rest_schema(ns),
                    n_tuple ? path + "/additionalItems" : path + "/items", depth + 1);
        } else if (oi != nullptr || ni != nullptr) {
            compare(oi ? *oi : true_schema(), ni ? *ni : true_schema(), path + "/items", depth + 1);
        }
        compare_count(os, ns, "minItems", true, path, "minimum number of items");
        compare_count(os, ns, "maxItems", false, path, "maximum number of items");

        auto unique = [](const json::object& s) {
            const json::value* v = s.if_contains("uniqueItems");
            return v != nullptr && v->is_bool() && v->get_bool();
        };
        if (!unique(os) && unique(ns)) {
            report(path + "/uniqueItems", "uniqueItems", BreakDirection::backward,
                   "now requires unique items");
        } else if (unique(os) && !unique(ns)) {
            report(path + "/uniqueItems", "uniqueItems", BreakDirection::forward,
                   "no longer requires unique items");
        }
        presence_or_compare(os, ns, "contains", path, depth);
    }

    // A schema-valued keyword where adding it constrains (backward) and removing it relaxes
    // (forward).
    void presence_or_compare(const json::object& os, const json::object& ns, const char* keyword,
                             const std::string& path, int depth) {
        const json::value* o = os.if_contains(keyword);
        const json::value* n = ns.if_contains(keyword);
        if (o == nullptr && n == nullptr) return;
        const std::string p = path + "/" + keyword;
        if (o == nullptr) {
            if (!is_open_schema(resolved(new_root_, *n))) {
                report(p, keyword, BreakDirection::backward, "adds " + std::string(keyword));
            }
            return;
        }
        if (n == nullptr) {
            if (!is_open_schema(resolved(old_root_, *o))) {
                report(p, keyword, BreakDirection::forward, "removes " + std::string(keyword));
            }
            return;
        }
        compare(*o, *n, p, depth + 1);
    }

    static std::set<std::string> required_set(const json::object& s) {
        std::set<std::string> out;
        if (const json::value* r = s.if_contains("required"); r != nullptr && r->is_array()) {
            for (const json::value& v : r->get_array()) {
                if (v.is_string()) out.emplace(v.get_string());
            }
        }
        return out;
    }

    static const json::object& object_member(const json::object& s, std::string_view key) {
        const json::value* v = s.if_contains(key);
        return v != nullptr && v->is_object() ? v->get_object() : empty_object();
    }

    // The additionalProperties schema (absent: true). patternProperties are compared entry by entry
    // instead of being matched against property names.
    static const json::value& additional(const json::object& s) {
        const json::value* ap = s.if_contains("additionalProperties");
        return ap == nullptr ? true_schema() : *ap;
    }

    void compare_objects(const json::object& os, const json::object& ns, const std::string& path,
                         int depth) {
        const json::object& op = object_member(os, "properties");
        const json::object& np = object_member(ns, "properties");
        const json::value& oap = additional(os);
        const json::value& nap = additional(ns);
        const json::value& oap_r = resolved(old_root_, oap);
        const json::value& nap_r = resolved(new_root_, nap);

        for (const auto& [name, nschema] : np) {
            const std::string p = path + "/properties/" + detail::escape_pointer_token(name);
            if (const json::value* oschema = op.if_contains(name)) {
                compare(*oschema, nschema, p, depth + 1);
            } else if (is_false_schema(oap_r)) {
                report(p, "properties", BreakDirection::forward,
                       "adds property " + quoted(name) +
                           ", which the previous version does not allow (additionalProperties is "
                           "false)");
            } else if (!is_open_schema(oap_r)) {
                compare(oap, nschema, p, depth + 1);
            }
        }
        for (const auto& [name, oschema] : op) {
            if (np.contains(name)) continue;
            const std::string p = path + "/properties/" + detail::escape_pointer_token(name);
            if (is_false_schema(nap_r)) {
                report(p, "properties", BreakDirection::backward,
                       "removes property " + quoted(name) +
                           " while additionalProperties is false: old events that carry it are "
                           "rejected");
            } else if (!is_open_schema(nap_r)) {
                compare(oschema, nap, p, depth + 1);
            }
        }

        const std::set<std::string> oreq = required_set(os);
        const std::set<std::string> nreq = required_set(ns);
        for (const std::string& name : nreq) {
            if (oreq.contains(name)) continue;
            bool has_default = false;
            if (const json::value* s = np.if_contains(name)) {
                const json::value& r = resolved(new_root_, *s);
                has_default = r.is_object() && r.get_object().contains("default");
            }
            if (has_default) continue;
            report(path + "/required", "required", BreakDirection::backward,
                   (op.contains(name) ? "makes property " + quoted(name) + " required"
                                      : "adds required property " + quoted(name)) +
                       " without a default: old events without it are rejected");
        }
        for (const std::string& name : oreq) {
            if (nreq.contains(name)) continue;
            report(path + "/required", "required", BreakDirection::forward,
                   "property " + quoted(name) +
                       " is no longer required: consumers of the previous version rely on it");
        }

        if (os.contains("additionalProperties") || ns.contains("additionalProperties")) {
            const std::string p = path + "/additionalProperties";
            if (is_open_schema(oap_r) && is_false_schema(nap_r)) {
                report(p, "additionalProperties", BreakDirection::backward,
                       "sets additionalProperties to false: old events with properties it does not "
                       "list are "
                       "rejected");
            } else if (is_false_schema(oap_r) && is_open_schema(nap_r)) {
                report(p, "additionalProperties", BreakDirection::forward,
                       "opens additionalProperties (was false): new events may carry properties "
                       "the previous "
                       "version forbids");
            } else {
                compare(oap, nap, p, depth + 1);
            }
        }

        const json::object& opp = object_member(os, "patternProperties");
        const json::object& npp = object_member(ns, "patternProperties");
        for (const auto& [pattern, nschema] : npp) {
            const std::string p =
                path + "/patternProperties/" + detail::escape_pointer_token(pattern);
            if (const json::value* oschema = opp.if_contains(pattern)) {
                compare(*oschema, nschema, p, depth + 1);
            } else if (is_false_schema(oap_r)) {
                report(p, "patternProperties", BreakDirection::forward,
                       "adds patternProperties " + quoted(pattern) +
                           ", allowing properties the previous version forbids");
            } else if (!is_open_schema(oap_r)) {
                compare(oap, nschema, p, depth + 1);
            }
        }
        for (const auto& [pattern, oschema] : opp) {
            if (npp.contains(pattern)) continue;
            const std::string p =
                path + "/patternProperties/" + detail::escape_pointer_token(pattern);
            if (is_false_schema(nap_r)) {
                report(p, "patternProperties", BreakDirection::backward,
                       "removes patternProperties " + quoted(pattern) +
                           " while additionalProperties is false: old events with such properties "
                           "are rejected");
            } else if (!is_open_schema(nap_r)) {
                compare(oschema, nap, p, depth + 1);
            }
        }

        compare_dependencies(os, ns, path, depth);
        presence_or_compare(os, ns, "propertyNames", path, depth);
        compare_count(os, ns, "minProperties", true, path, "minimum number of properties");
        compare_count(os, ns, "maxProperties", false, path, "maximum number of properties");
    }

    void compare_dependencies(const json::object& os, const json::object& ns,
                              const std::string& path, int depth) {
        const json::object& od = object_member(os, "dependencies");
        const json::object& nd = object_member(ns, "dependencies");
        auto names = [](const json::value& v) {
            std::set<std::string> out;
            for (const json::value& x : v.get_array()) {
                if (x.is_string()) out.emplace(x.get_string());
            }
            return out;
        };
        for (const auto& [name, ndep] : nd) {
            const std::string p = path + "/dependencies/" + detail::escape_pointer_token(name);
            const json::value* odep = od.if_contains(name);
            if (odep == nullptr) {
                report(p, "dependencies", BreakDirection::backward,
                       "adds a dependency for " + quoted(name));
                continue;
            }
            if (odep->is_array() && ndep.is_array()) {
                const auto on = names(*odep);
                const auto nn = names(ndep);
                for (const std::string& d : nn) {
                    if (!on.contains(d)) {
                        report(p, "dependencies", BreakDirection::backward,
                               "property " + quoted(name) + " now also requires " + quoted(d));
                    }
                }
                for (const std::string& d : on) {
                    if (!nn.contains(d)) {
                        report(p, "dependencies", BreakDirection::forward,
                               "property " + quoted(name) + " no longer requires " + quoted(d));
                    }
                }
            } else if (!odep->is_array() && !ndep.is_array()) {
                compare(*odep, ndep, p, depth + 1);
            } else {
                report(p, "dependencies", BreakDirection::both,
                       "the dependency for " + quoted(name) +
                           " changes between a property list and a schema");
            }
        }
        for (const auto& [name, odep] : od) {
            if (nd.contains(name)) continue;
            report(path + "/dependencies/" + detail::escape_pointer_token(name), "dependencies",
                   BreakDirection::forward, "removes the dependency for " + quoted(name));
        }
    }

    // allOf / anyOf / oneOf. Same length: paired by position. Otherwise equal members are matched
    // first and the rest paired by position when as many remain on both sides; what is left is an
    // addition or a removal.
    void compare_list(const json::object& os, const json::object& ns, const char* keyword,
                      const std::string& path, int depth) {
        const json::value* ov = os.if_contains(keyword);
        const json::value* nv = ns.if_contains(keyword);
        if (ov != nullptr && !ov->is_array()) ov = nullptr;
        if (nv != nullptr && !nv->is_array()) nv = nullptr;
        if (ov == nullptr && nv == nullptr) return;
        const std::string p = path + "/" + keyword;
        const std::string_view kw = keyword;
        if (ov == nullptr) {
            report(p, keyword, BreakDirection::backward, "adds " + std::string(kw));
            return;
        }
        if (nv == nullptr) {
            report(p, keyword, BreakDirection::forward, "removes " + std::string(kw));
            return;
        }
        const json::array& oa = ov->get_array();
        const json::array& na = nv->get_array();
        if (oa.size() == na.size()) {
            for (std::size_t i = 0; i < na.size(); ++i) {
                compare(oa[i], na[i], p + "/" + std::to_string(i), depth + 1);
            }
            return;
        }
        std::vector<bool> o_used(oa.size(), false);
        std::vector<std::size_t> n_unmatched;
        for (std::size_t i = 0; i < na.size(); ++i) {
            bool found = false;
            for (std::size_t j = 0; j < oa.size() && !found; ++j) {
                if (!o_used[j] && oa[j] == na[i]) {
                    o_used[j] = true;
                    found = true;
                }
            }
            if (!found) n_unmatched.push_back(i);
        }
        std::vector<std::size_t> o_unmatched;
        for (std::size_t j = 0; j < oa.size(); ++j) {
            if (!o_used[j]) o_unmatched.push_back(j);
        }
        if (o_unmatched.size() == n_unmatched.size()) {
            for (std::size_t k = 0; k < n_unmatched.size(); ++k) {
                compare(oa[o_unmatched[k]], na[n_unmatched[k]],
                        p + "/" + std::to_string(n_unmatched[k]), depth + 1);
            }
            return;
        }
        const bool all = kw == "allOf";
        const bool any = kw == "anyOf";
        for (std::size_t i : n_unmatched) {
            const BreakDirection d = all ? BreakDirection::backward
                                         : (any ? BreakDirection::forward : BreakDirection::both);
            report(p + "/" + std::to_string(i), keyword, d,
                   all ? "adds a schema every event must also match"
                       : (any ? "adds an alternative: new events may match only it"
                              : "adds an alternative: new events may match only it, and old events "
                                "may now match "
                                "two"));
        }
        for (std::size_t j : o_unmatched) {
            const BreakDirection d = all ? BreakDirection::forward
                                         : (any ? BreakDirection::backward : BreakDirection::both);
            report(p, keyword, d,
                   all ? "removes member #" + std::to_string(j) + " that every event had to match"
                       : "removes alternative #" + std::to_string(j) +
                             ": old events that matched only it are rejected");
        }
    }

    void compare_combinators(const json::object& os, const json::object& ns,
                             const std::string& path, int depth) {
        compare_list(os, ns, "allOf", path, depth);
        compare_list(os, ns, "anyOf", path, depth);
        compare_list(os, ns, "oneOf", path, depth);

        const json::value* on = os.if_contains("not");
        const json::value* nn = ns.if_contains("not");
        if (on != nullptr && nn != nullptr) {
            // L(new) ⊆ L(old) exactly when the negated schemas relate the other way round.
            flipped_ = !flipped_;
            compare(*on, *nn, path + "/not", depth + 1);
            flipped_ = !flipped_;
        } else if (nn != nullptr) {
            report(path + "/not", "not", BreakDirection::backward, "adds 'not'");
        } else if (on != nullptr) {
            report(path + "/not", "not", BreakDirection::forward, "removes 'not'");
        }

        const json::value* oif = os.if_contains("if");
        const json::value* nif = ns.if_contains("if");
        if (oif == nullptr && nif == nullptr) return;
        if (oif == nullptr) {
            report(path + "/if", "if", BreakDirection::backward,
                   "adds a conditional (if/then/else)");
            return;
        }
        if (nif == nullptr) {
            report(path + "/if", "if", BreakDirection::forward,
                   "removes the conditional (if/then/else)");
            return;
        }
        if (resolved(old_root_, *oif) != resolved(new_root_, *nif)) {
            report(path + "/if", "if", BreakDirection::both,
                   "changes the 'if' condition (Herald compares then/else only under the same "
                   "condition)");
            return;
        }
        for (const char* branch : {"then", "else"}) {
            const json::value* ob = os.if_contains(branch);
            const json::value* nb = ns.if_contains(branch);
            if (ob == nullptr && nb == nullptr) continue;
            compare(ob ? *ob : true_schema(), nb ? *nb : true_schema(), path + "/" + branch,
                    depth + 1);
        }
    }

    const json::value& old_root_;
    const json::value& new_root_;
    CompatMode mode_;
    bool flipped_ = false;
    std::set<std::tuple<const json::value*, const json::value*, bool>> seen_;
};

}  // namespace

CompatReport check_compatibility(const json::value& old_schema, const json::value& new_schema,
                                 CompatMode mode) {
    CompatReport report;
    report.mode = mode;
    if (mode == CompatMode::none) return report;
    Comparer comparer(old_schema, new_schema, mode);
    comparer.compare(old_schema, new_schema, "", 0);
    report.breaks = std::move(comparer.breaks);
    return report;
}

}  // namespace herald::schema
