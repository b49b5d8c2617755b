#include "schema/validator.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

// valijson is a SYSTEM include (cmake/valijson.cmake) built with VALIJSON_USE_EXCEPTIONS=1: without
// it, its errors call abort().
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/constraints/concrete_constraints.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "schema/fast_validator.hpp"
#include "schema/format.hpp"
#include "schema/json_pointer.hpp"
#include "schema/pattern.hpp"
#include "schema/walk.hpp"

namespace herald::schema {

namespace json = boost::json;
using valijson::ValidationResults;
using valijson::adapters::Adapter;

json::value to_json(const std::vector<Violation>& violations) {
    json::array out;
    out.reserve(violations.size());
    for (const Violation& v : violations) {
        out.push_back(
            json::object{{"pointer", v.pointer}, {"keyword", v.keyword}, {"message", v.message}});
    }
    return out;
}

namespace {

// Herald's replacements for valijson keywords (validator.hpp) are compiled under these names; a
// schema may not use them itself.
constexpr std::string_view pattern_keyword = "x-herald-pattern";
constexpr std::string_view format_keyword = "x-herald-format";
constexpr std::string_view unique_keyword = "x-herald-unique-items";

// Violations raised by Herald's own constraints carry their keyword in this form, which valijson
// never produces:
// "[herald:pattern] does not match ...".
std::string tagged(std::string_view keyword, std::string_view message) {
    return "[herald:" + std::string(keyword) + "] " + std::string(message);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

using detail::format_check;
using detail::FormatCheck;

// --- Herald's constraints ------------------------------------------------------------------------

// valijson copies constraints into its schema with placement new (cloneInto) and destroys them
// through the virtual destructor, so these are ordinary copyable classes.
class PatternConstraint final : public valijson::constraints::PolyConstraint {
public:
    explicit PatternConstraint(Pattern pattern) : pattern_(std::move(pattern)) {}

    bool validate(const Adapter& target, const std::vector<std::string>& context,
                  ValidationResults* results) const override {
        std::string s;
        if (!target.isString() || !target.getString(s)) return true;
        if (pattern_.search(s)) return true;
        if (results) {
            results->pushError(context, tagged("pattern", "does not match the pattern '" +
                                                              pattern_.source() + "'"));
        }
        return false;
    }

private:
    valijson::constraints::Constraint* cloneInto(void* where) const override {
        return new (where) PatternConstraint(*this);
    }
    std::size_t sizeOf() const override { return sizeof(PatternConstraint); }

    Pattern pattern_;
};

class FormatConstraint final : public valijson::constraints::PolyConstraint {
public:
    FormatConstraint(std::string name, FormatCheck check) : name_(std::move(name)), check_(check) {}

    bool validate(const Adapter& target, const std::vector<std::string>& context,
                  ValidationResults* results) const override {
        std::string s;
        if (!target.isString() || !target.getString(s)) return true;
        if (check_(s)) return true;
        if (results) results->pushError(context, tagged("format", "is not a valid " + name_));
        return false;
    }

private:
    valijson::constraints::Constraint* cloneInto(void* where) const override {
        return new (where) FormatConstraint(*this);
    }
    std::size_t sizeOf() const override { return sizeof(FormatConstraint); }

    std::string name_;
    FormatCheck check_;
};

// A canonical text per JSON value such that two values are equal under JSON Schema's definition
// (numbers by value, objects regardless of member order) exactly when their texts are.
void canonical(const Adapter& v, std::string& out) {
    if (v.isNull()) {
        out += 'n';
    } else if (v.isBool()) {
        out += v.getBool() ? 't' : 'f';
    } else if (v.isString()) {
        std::string s;
        v.getString(s);
        out += 's';
        out += std::to_string(s.size());
        out += ':';
        out += s;
    } else if (v.isNumber()) {
        std::int64_t i = 0;
        double d = 0;
        if (v.getInteger(i)) {
            out += 'i';
            out += std::to_string(i);
        } else if (v.getDouble(d) && std::isfinite(d) && d == std::floor(d) &&
                   std::fabs(d) < 9.0e15) {
            out += 'i';
            out += std::to_string(static_cast<std::int64_t>(d));
        } else {
            char buf[40];
            std::snprintf(buf, sizeof buf, "d%.17g", d);
            out += buf;
        }
    } else if (v.isArray()) {
        out += '[';
        v.applyToArray([&](const Adapter& item) {
            canonical(item, out);
            out += ',';
            return true;
        });
        out += ']';
    } else if (v.isObject()) {
        std::vector<std::pair<std::string, std::string>> members;
        v.applyToObject([&](const std::string& name, const Adapter& value) {
            std::string text;
            canonical(value, text);
            members.emplace_back(name, std::move(text));
            return true;
        });
        std::sort(members.begin(), members.end());
        out += '{';
        for (const auto& [name, text] : members) {
            out += std::to_string(name.size());
            out += ':';
            out += name;
            out += '=';
            out += text;
            out += ',';
        }
        out += '}';
    }
}

class UniqueItemsConstraint final : public valijson::constraints::PolyConstraint {
public:
    bool validate(const Adapter& target, const std::vector<std::string>& context,
                  ValidationResults* results) const override {
        if (!target.isArray()) return true;
        std::vector<std::pair<std::string, std::size_t>> items;
        target.applyToArray([&](const Adapter& item) {
            std::string text;
            canonical(item, text);
            items.emplace_back(std::move(text), items.size());
            return true;
        });
        std::sort(items.begin(), items.end());
        // The duplicate pair with the smallest second index, so the report does not depend on sort
        // order.
        std::size_t first = 0, second = 0;
        bool found = false;
        for (std::size_t k = 1; k < items.size(); ++k) {
            if (items[k].first != items[k - 1].first) continue;
            if (!found || items[k].second < second) {
                first = items[k - 1].second;
                second = items[k].second;
                found = true;
            }
        }
        if (!found) return true;
        if (results) {
            results->pushError(context,
                               tagged("uniqueItems", "items " + std::to_string(first) + " and " +
                                                         std::to_string(second) + " are equal"));
        }
        return false;
    }

private:
    valijson::constraints::Constraint* cloneInto(void* where) const override {
        return new (where) UniqueItemsConstraint(*this);
    }
    std::size_t sizeOf() const override { return sizeof(UniqueItemsConstraint); }
};

// Compiled patterns by the source valijson hands the builder, so that the fast validator matches
// with the very same programs. Owned by CompiledSchema::compile(); outlives the parser.
using PatternCache = std::map<std::string, Pattern, std::less<>>;

class PatternBuilder final : public valijson::ConstraintBuilder {
public:
    explicit PatternBuilder(PatternCache& cache) : cache_(cache) {}

    valijson::constraints::Constraint* make(const Adapter& value) const override {
        std::string source;
        value.getString(source);
        auto it = cache_.find(source);
        if (it == cache_.end()) {
            auto pattern = Pattern::compile(source);
            if (!pattern)
                throw std::runtime_error(pattern.error().message);  // prepare() checked it already
            it = cache_.emplace(source, std::move(*pattern)).first;
        }
        return new PatternConstraint(it->second);
    }

private:
    PatternCache& cache_;
};

class FormatBuilder final : public valijson::ConstraintBuilder {
public:
    valijson::constraints::Constraint* make(const Adapter& value) const override {
        std::string name;
        value.getString(name);
        const FormatCheck check = format_check(name);
        if (check == nullptr) throw std::runtime_error("format '" + name + "' is not asserted");
        return new FormatConstraint(name, check);
    }
};

class UniqueItemsBuilder final : public valijson::ConstraintBuilder {
public:
    valijson::constraints::Constraint* make(const Adapter&) const override {
        return new UniqueItemsConstraint();
    }
};

// --- preparing a bundle for valijson -------------------------------------------------------------

struct Prepared {
    json::value document;
    bool pattern_properties = false;
    bool property_names = false;
    bool integer_multiple_of = false;  // some subschema has an integer multipleOf
    bool string_lengths = false;       // some subschema has minLength or maxLength
};

void rename(json::object& obj, std::string_view from, std::string_view to) {
    json::value v = std::move(obj.at(from));
    obj.erase(from);
    obj[to] = std::move(v);
}

bool is_count(const json::value& v) {
    if (v.is_int64()) return v.get_int64() >= 0;
    if (v.is_uint64()) return true;
    return v.is_double() && v.get_double() >= 0 && v.get_double() == std::floor(v.get_double());
}

bool is_type_name(const json::value& v) {
    if (!v.is_string()) return false;
    const std::string_view n = v.get_string();
    return n == "null" || n == "boolean" || n == "object" || n == "array" || n == "number" ||
           n == "integer" || n == "string";
}

// The value checks of the draft-04/07 meta-schemas for the keywords Herald validates, at known
// schema positions. valijson catches some of these and silently accepts others (e.g. "minimum":
// "5"); an operator deserves the error at registration. Returns the problem, or an empty string.
std::string check_keyword_values(const json::object& obj, Draft draft) {
    for (const auto& [key, v] : obj) {
        const std::string_view k = key;
        const std::string q = "\"" + std::string(k) + "\" must be ";
        if (k == "minimum" || k == "maximum") {
            if (!v.is_number()) return q + "a number";
        } else if (k == "exclusiveMinimum" || k == "exclusiveMaximum") {
            if (draft == Draft::draft4 && !v.is_bool()) return q + "a boolean in draft-04";
            if (draft == Draft::draft7 && !v.is_number()) return q + "a number in draft-07";
        } else if (k == "multipleOf") {
            if (!v.is_number() || v.to_number<double>() <= 0) return q + "a number above 0";
        } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" ||
                   k == "minProperties" || k == "maxProperties") {
            if (!is_count(v)) return q + "a non-negative integer";
        } else if (k == "required") {
            if (!v.is_array()) return q + "an array of property names";
            for (const json::value& name : v.get_array()) {
                if (!name.is_string()) return q + "an array of property names";
            }
        } else if (k == "enum") {
            if (!v.is_array()) return q + "an array";
        } else if (k == "type") {
            if (v.is_array()) {
                for (const json::value& t : v.get_array()) {
                    if (!is_type_name(t)) return q + "a type name or an array of type names";
                }
            } else if (!is_type_name(v)) {
                return q +
                       "one of null, boolean, object, array, number, integer, string (or an array "
                       "of them)";
            }
        } else if (k == "properties" || k == "patternProperties" || k == "definitions" ||
                   k == "dependencies") {
            if (!v.is_object()) return q + "an object";
        } else if (k == "items") {
            if (!v.is_object() && !v.is_array() && !v.is_bool())
                return q + "a schema or an array of schemas";
        } else if (k == "additionalItems" || k == "additionalProperties" || k == "not" ||
                   k == "contains" || k == "propertyNames" || k == "if" || k == "then" ||
                   k == "else") {
            if (!v.is_object() && !v.is_bool()) return q + "a schema";
        } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
            if (!v.is_array() || v.get_array().empty()) return q + "a non-empty array of schemas";
        } else if (k == "$ref" || k == "title" || k == "description") {
            if (!v.is_string()) return q + "a string";
        }
    }
    return {};
}

// Swaps pattern, format and uniqueItems for Herald's keywords, checks what valijson would only
// discover at validation time (regular expressions) or not at all (keyword value types), and notes
// the keywords that need guards. Below unknown keywords (data, as far as anyone knows) nothing is
// refused, but the swap is still made where it is valid, in case a "$ref" points there.
Result<Prepared> prepare(const json::value& bundled, Draft draft) {
    Prepared out;
    out.document = bundled;
    std::optional<Error> error;
    auto fail = [&](const std::string& pointer, std::string message) {
        if (!error) {
            error = make_error(Errc::invalid_argument,
                               (pointer.empty() ? "/" : pointer) + ": " + message, "schema");
        }
        return false;
    };
    auto fn = [&](json::object& obj, const std::string& pointer, int&, bool known) {
        for (std::string_view reserved : {pattern_keyword, format_keyword, unique_keyword}) {
            if (obj.contains(reserved))
                return fail(pointer, "the keyword \"" + std::string(reserved) + "\" is reserved");
        }
        if (known) {
            if (std::string problem = check_keyword_values(obj, draft); !problem.empty()) {
                return fail(pointer, problem);
            }
        }
        if (json::value* p = obj.if_contains("pattern"); p != nullptr) {
            if (!p->is_string())
                return known ? fail(pointer + "/pattern", "\"pattern\" must be a string") : true;
            auto compiled = Pattern::compile(p->get_string(), Pattern::Automata::skip);
            if (!compiled)
                return known ? fail(pointer + "/pattern", compiled.error().message) : true;
            rename(obj, "pattern", pattern_keyword);
        }
        if (json::value* f = obj.if_contains("format"); f != nullptr) {
            if (!f->is_string())
                return known ? fail(pointer + "/format", "\"format\" must be a string") : true;
            if (format_check(f->get_string()) != nullptr) {
                rename(obj, "format", format_keyword);
            } else {
                // An annotation only; valijson's own format check would abort on non-strings.
                obj.erase("format");
            }
        }
        if (json::value* u = obj.if_contains("uniqueItems"); u != nullptr) {
            if (!u->is_bool())
                return known ? fail(pointer + "/uniqueItems", "\"uniqueItems\" must be a boolean")
                             : true;
            if (u->get_bool()) {
                rename(obj, "uniqueItems", unique_keyword);
            } else {
                obj.erase("uniqueItems");
            }
        }
        if (json::value* pp = obj.if_contains("patternProperties");
            pp != nullptr && pp->is_object()) {
            out.pattern_properties = true;
            for (const auto& [regex, _] : pp->get_object()) {
                // valijson matches these with std::regex (ECMAScript); a pattern it cannot compile
                // would throw on every event.
                try {
                    const std::regex compiled{std::string(regex)};
                    (void)compiled;
                } catch (const std::exception&) {
                    return fail(
                        pointer + "/patternProperties",
                        "regular expression '" + std::string(regex) + "' is not valid ECMAScript");
                }
            }
        }
        if (obj.contains("propertyNames")) out.property_names = true;
        if (const json::value* m = obj.if_contains("multipleOf"); m && (m->is_int64() || m->is_uint64()))
            out.integer_multiple_of = true;
        if (obj.contains("minLength") || obj.contains("maxLength")) out.string_lengths = true;
        return true;
    };
    int unused = 0;
    if (!detail::walk_schema(out.document, "", unused, true, fn)) {
        if (error) return std::move(*error);
        return make_error(Errc::invalid_argument, "schema nested too deeply", "schema");
    }

    // valijson recurses without end on a chain of references that comes back to itself
    // ({"$ref":"#"}), and treats a non-local reference without scheme as a reference to the root:
    // refuse both here.
    const json::value& root = out.document;
    auto refs = [&](json::object& obj, const std::string& pointer, int&, bool known) {
        const json::value* ref = obj.if_contains("$ref");
        if (ref == nullptr || !ref->is_string()) return true;
        std::set<const json::value*> chain;
        const json::value* node = nullptr;
        std::string_view text = ref->get_string();
        while (true) {
            if (text.empty() || text.front() != '#') {
                return known ? fail(pointer + "/$ref",
                                    "\"$ref\" '" + std::string(text) +
                                        "' is not local (bundle the schema first, bundle.hpp)")
                             : true;
            }
            node = detail::resolve_local_ref(root, text);
            if (node == nullptr) {
                return known ? fail(pointer + "/$ref",
                                    "\"$ref\" '" + std::string(text) + "' points to nothing")
                             : true;
            }
            if (!chain.insert(node).second) {
                return fail(pointer + "/$ref",
                            "\"$ref\" chain comes back to itself without a schema in between");
            }
            const json::value* next =
                node->is_object() ? node->get_object().if_contains("$ref") : nullptr;
            if (next == nullptr || !next->is_string()) return true;
            text = next->get_string();
        }
    };
    if (!detail::walk_schema(out.document, "", unused, true, refs)) {
        if (error) return std::move(*error);
        return make_error(Errc::invalid_argument, "schema nested too deeply", "schema");
    }

    // The same recursion without end through the keywords that apply a subschema to the *same* value
    // ({"allOf":[{"$ref":"#"}]}): valijson would recurse until the stack overflows on the first event.
    // A cycle along $ref, allOf/anyOf/oneOf, not and if/then/else edges is refused; properties and items move
    // to a child value, so recursion through them ends with the data. Only what the root reaches is ever applied.
    enum class Mark : std::uint8_t { open, done };
    std::map<const json::object*, Mark> marks;
    std::function<bool(const json::object&, int)> acyclic = [&](const json::object& obj, int depth) -> bool {
        if (depth > 1000) return false;
        auto [it, fresh] = marks.try_emplace(&obj, Mark::open);
        if (!fresh) return it->second == Mark::done;
        auto follow = [&](const json::value& next) { return !next.is_object() || acyclic(next.get_object(), depth + 1); };
        if (const auto* ref = obj.if_contains("$ref"); ref && ref->is_string()) {
            if (const auto* target = detail::resolve_local_ref(root, ref->get_string()))
                if (!follow(*target)) return false;
        }
        for (const char* k : {"allOf", "anyOf", "oneOf"})
            if (const auto* list = obj.if_contains(k); list && list->is_array())
                for (const auto& sub : list->get_array())
                    if (!follow(sub)) return false;
        for (const char* k : {"not", "if", "then", "else"})
            if (const auto* sub = obj.if_contains(k))
                if (!follow(*sub)) return false;
        marks[&obj] = Mark::done;
        return true;
    };
    // From every schema object, so that a loop below a property or an item is found too.
    bool loops = false;
    auto from_each = [&](json::object& obj, const std::string&, int&, bool) {
        if (!acyclic(obj, 0)) loops = true;
        return !loops;
    };
    (void)detail::walk_schema(out.document, "", unused, true, from_each);
    if (loops)
        return make_error(Errc::invalid_argument,
                          "schema: a subschema applies itself to the same value again (through $ref, allOf, anyOf, "
                          "oneOf, not or if/then/else) without moving into a property or item: validation would "
                          "never end",
                          "schema");
    return out;
}

// --- interpreting valijson's results -------------------------------------------------------------

struct Raw {
    std::vector<std::string> path;  // instance path tokens
    std::string keyword;
    std::string message;
    bool wrapper = false;  // valijson's "failed to validate X" around nested errors
    std::optional<std::string>
        child;            // for wrappers: the member or index the nested errors are under
    bool ignore = false;  // carries no information of its own
};

std::vector<std::string> tokens_of(const std::vector<std::string>& context) {
    std::vector<std::string> out;
    for (std::size_t i = 1; i < context.size(); ++i) {  // context[0] is "<root>"
        const std::string& c = context[i];
        out.push_back(c.size() >= 2 ? c.substr(1, c.size() - 2) : c);
    }
    return out;
}

std::string pointer_of(const std::vector<std::string>& tokens) {
    std::string p;
    for (const std::string& t : tokens) p = detail::append_token(p, t);
    return p;
}

// The text after `prefix` up to the last single quote (names may contain quotes themselves).
std::string quoted_after(std::string_view s, std::string_view prefix) {
    const std::size_t start = prefix.size();
    const std::size_t end = s.rfind('\'');
    if (end == std::string_view::npos || end < start) return std::string(s.substr(start));
    return std::string(s.substr(start, end - start));
}

// "10.000000" → "10", "2.500000" → "2.5" (valijson prints bounds with std::to_string).
std::string trim_number(std::string_view s) {
    std::string n(s);
    while (!n.empty() && (n.back() == '.' || n.back() == ' ')) n.pop_back();
    if (n.find('.') != std::string::npos) {
        while (!n.empty() && n.back() == '0') n.pop_back();
        if (!n.empty() && n.back() == '.') n.pop_back();
    }
    return n;
}

std::string first_number(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && !is_digit(s[i]) && s[i] != '-') ++i;
    std::size_t j = i;
    while (j < s.size() &&
           (is_digit(s[j]) || s[j] == '.' || s[j] == '-' || s[j] == 'e' || s[j] == '+'))
        ++j;
    return trim_number(s.substr(i, j - i));
}

const json::value* value_at(const json::value& data, const std::vector<std::string>& tokens) {
    const json::value* v = &data;
    for (const std::string& t : tokens) {
        if (v->is_object()) {
            v = v->get_object().if_contains(t);
        } else if (v->is_array()) {
            char* end = nullptr;
            const unsigned long long i = std::strtoull(t.c_str(), &end, 10);
            if (end == t.c_str() || *end != '\0' || i >= v->get_array().size()) return nullptr;
            v = &v->get_array()[i];
        } else {
            return nullptr;
        }
        if (v == nullptr) return nullptr;
    }
    return v;
}

std::string json_type(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "integer";
        case json::kind::double_:
            return "number";
        case json::kind::string:
            return "string";
        case json::kind::array:
            return "array";
        case json::kind::object:
            return "object";
    }
    return "value";
}

Raw classify(const ValidationResults::Error& e, const json::value& data) {
    Raw r;
    r.path = tokens_of(e.context);
    const std::string_view d = e.description;
    auto is = [&](std::string_view prefix) { return d.starts_with(prefix); };
    auto set = [&](std::string keyword, std::string message) {
        r.keyword = std::move(keyword);
        r.message = std::move(message);
    };
    auto wrap = [&](std::string keyword, std::optional<std::string> child, std::string message) {
        set(std::move(keyword), std::move(message));
        r.wrapper = true;
        r.child = std::move(child);
    };
    if (is("[herald:")) {
        const std::size_t close = d.find("] ");
        set(std::string(d.substr(8, close - 8)), std::string(d.substr(close + 2)));
    } else if (is("Missing required property '")) {
        set("required",
            "missing required property '" + quoted_after(d, "Missing required property '") + "'");
    } else if (is("Value type not permitted by 'type' constraint")) {
        const json::value* v = value_at(data, r.path);
        set("type",
            v ? "type " + json_type(*v) + " is not allowed here" : "type is not allowed here");
    } else if (is("Failed to match against any enum values") ||
               is("Target value and comparison value")) {
        set("enum", "is not one of the allowed values");
    } else if (is("Failed to match expected value set by 'const'")) {
        set("const", "is not the value the schema requires");
    } else if (is("Expected number less than or equal to ")) {
        set("maximum", "must be at most " + first_number(d));
    } else if (is("Expected number less than ")) {
        set("exclusiveMaximum", "must be less than " + first_number(d));
    } else if (is("Expected number greater than or equal to ")) {
        set("minimum", "must be at least " + first_number(d));
    } else if (is("Expected number greater than ")) {
        set("exclusiveMinimum", "must be greater than " + first_number(d));
    } else if (is("String should be no more than ")) {
        set("maxLength", "must be at most " + first_number(d) + " characters long");
    } else if (is("String should be no fewer than ")) {
        set("minLength", "must be at least " + first_number(d) + " characters long");
    } else if (is("Array should contain no more than ")) {
        set("maxItems", "must have at most " + first_number(d) + " items");
    } else if (is("Array should contain no fewer than ")) {
        set("minItems", "must have at least " + first_number(d) + " items");
    } else if (is("Object should have no more than ")) {
        set("maxProperties", "must have at most " + first_number(d) + " properties");
    } else if (is("Object should have no fewer than ")) {
        set("minProperties", "must have at least " + first_number(d) + " properties");
    } else if (is("Value should be a multiple of ")) {
        set("multipleOf", "must be a multiple of " + first_number(d));
    } else if (is("Value could not be converted")) {
        set("multipleOf", "could not be checked against multipleOf");
    } else if (is("Target should not validate against schema specified in 'not'")) {
        set("not", "matches the schema under 'not'");
    } else if (is("Failed to validate against any schemas allowed by anyOf")) {
        set("anyOf", "matches none of the anyOf alternatives");
    } else if (is("Failed to validate against any child schemas allowed by oneOf")) {
        set("oneOf", "matches none of the oneOf alternatives");
    } else if (is("Failed to validate against exactly one child schema")) {
        set("oneOf", "matches more than one of the oneOf alternatives");
    } else if (is("Failed to any values against subschema in 'contains'")) {
        set("contains", "has no item that matches the 'contains' schema");
    } else if (is("Missing dependency '")) {
        set("dependencies", "missing property '" + quoted_after(d, "Missing dependency '") +
                                "', which another property present depends on");
    } else if (is("Object contains a property that could not be validated")) {
        // Point at the unexpected property itself.
        const std::size_t open = d.find(": '");
        const std::string name =
            open == std::string_view::npos ? std::string() : quoted_after(d.substr(open), ": '");
        r.path.push_back(name);
        set("additionalProperties", "property '" + name + "' is not allowed");
    } else if (is("Array contains more items than allowed by items constraint")) {
        set("additionalItems", "has more items than the schema's items allow");
    } else if (is("Cannot validate item #")) {
        // valijson adds this whenever a tuple item failed (it counts validated items, not covered
        // ones); a real excess is already reported by "Array contains more items...".
        r.ignore = true;
    } else if (is("Failed to validate against schema associated with property name '")) {
        const std::string name =
            quoted_after(d, "Failed to validate against schema associated with property name '");
        wrap("properties", name, "is not allowed by the schema of property '" + name + "'");
    } else if (is("Failed to validate against schema associated with pattern '")) {
        wrap("patternProperties", std::nullopt, "has a property not allowed by patternProperties");
    } else if (is("Failed to validate against additional properties schema")) {
        wrap("additionalProperties", std::nullopt,
             "has a property not allowed by additionalProperties");
    } else if (is("Failed to validate item #") && d.find("in array") != std::string_view::npos) {
        const std::string n = first_number(d);
        wrap("items", n, "item " + n + " is not allowed by the items schema");
    } else if (is("Failed to validate item #") &&
               d.find("additional items") != std::string_view::npos) {
        const std::string n = first_number(d);
        wrap("additionalItems", n, "item " + n + " is not allowed by the additionalItems schema");
    } else if (is("Failed to validate item #")) {
        wrap("items", std::nullopt,
             "is not allowed by the items schema");  // context already names the item
    } else if (is("Failed to validate against child schema #")) {
        wrap("allOf", std::nullopt, "does not match every allOf schema");
    } else if (is("Failed to validate against dependent schema")) {
        wrap("dependencies", std::nullopt, "does not match a dependent schema");
    } else if (is("Failed to validate against a conditional schema")) {
        wrap("if", std::nullopt, "does not match the then/else schema its 'if' selects");
    } else {
        set("schema", std::string(d));
    }
    return r;
}

bool is_index(const std::string& token) {
    return !token.empty() &&
           std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the guards found before valijson runs.
struct Scan {
    std::optional<std::string> too_deep;   // pointer of the first value past max_depth
    std::optional<std::string> long_name;  // the object holding an over-long property name
    std::string long_name_value;
    std::optional<std::string> beyond_int64;  // a number valijson cannot check against an integer multipleOf
    std::optional<std::string> invalid_utf8;  // a string valijson cannot count for minLength/maxLength
    bool has_uint64 = false;
    std::size_t values = 0;
};

// One step of a path during the scan: a member name (viewing the data) or an array index. Nothing
// is allocated per value; a pointer is only built for a finding.
struct Step {
    std::string_view name;
    std::size_t index = 0;
    bool is_index = false;
};

std::string pointer_of(const std::vector<Step>& path) {
    std::string p;
    for (const Step& s : path) {
        p = s.is_index ? p + "/" + std::to_string(s.index) : detail::append_token(p, s.name);
    }
    return p;
}

// A number outside the signed 64-bit range: valijson's integer multipleOf converts it to int64, which is
// undefined behaviour in C++ (found by the ASan + UBSan suite), so the guards refuse it where the schema has one.
bool beyond_int64(const json::value& v) {
    if (v.is_uint64()) return v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (v.is_double()) return !(v.get_double() >= -0x1p63 && v.get_double() < 0x1p63);
    return false;
}

// A string valijson cannot measure: its u8_strlen reads past a table on a run of continuation bytes (found by
// the ASan + UBSan suite). Like valijson, only the part before the first NUL counts. Data parsed from JSON text
// is always valid UTF-8; values built in code need not be.
bool invalid_utf8(const json::value& v) {
    if (!v.is_string()) return false;
    std::string_view s = v.get_string();
    if (const auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
    return !detail::code_points(s);
}

// Which guards a schema needs, beyond the depth limit that every schema has.
struct GuardRules {
    bool names = false;    // patternProperties: over-long property names
    bool numbers = false;  // an integer multipleOf: numbers beyond int64
    bool strings = false;  // minLength/maxLength: strings that are not UTF-8
};

// Recursion stops at max_depth, so this walk is itself bounded.
void scan(const json::value& v, std::vector<Step>& path, const GuardRules& rules, Scan& out) {
    ++out.values;
    if (out.too_deep) return;
    if (path.size() > CompiledSchema::max_depth) {
        out.too_deep = pointer_of(path);
        return;
    }
    if (rules.numbers && !out.beyond_int64 && beyond_int64(v)) out.beyond_int64 = pointer_of(path);
    if (rules.strings && !out.invalid_utf8 && invalid_utf8(v)) out.invalid_utf8 = pointer_of(path);
    if (v.is_uint64()) {
        out.has_uint64 = true;
    } else if (v.is_array()) {
        const json::array& a = v.get_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
            path.push_back({{}, i, true});
            scan(a[i], path, rules, out);
            path.pop_back();
        }
    } else if (v.is_object()) {
        for (const auto& [name, child] : v.get_object()) {
            if (rules.names && !out.long_name &&
                name.size() > CompiledSchema::max_pattern_property_name) {
                out.long_name = pointer_of(path);
                out.long_name_value = std::string(name.substr(0, 40)) + "...";
            }
            path.push_back({name, 0, false});
            scan(child, path, rules, out);
            path.pop_back();
        }
    }
}

// A copy of `v` with unsigned integers beyond int64 turned into doubles (see validator.hpp).
json::value without_uint64(const json::value& v) {
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_array()) {
        json::array out;
        out.reserve(v.get_array().size());
        for (const json::value& x : v.get_array()) out.push_back(without_uint64(x));
        return out;
    }
    if (v.is_object()) {
        json::object out;
        out.reserve(v.get_object().size());
        for (const auto& [k, x] : v.get_object()) out.emplace(k, without_uint64(x));
        return out;
    }
    return v;
}

// The guard's verdict alone, for the fast path: false exactly when scan() would report a finding
// (a value deeper than max_depth, or what `rules` refuse). Builds no pointer and allocates nothing; recursion
// stops at max_depth.
bool guard_passes(const json::value& v, std::size_t depth, const GuardRules& rules) {
    if (depth > CompiledSchema::max_depth) return false;
    if (rules.numbers && beyond_int64(v)) return false;
    if (rules.strings && invalid_utf8(v)) return false;
    if (v.is_array()) {
        for (const json::value& x : v.get_array()) {
            if (!guard_passes(x, depth + 1, rules)) return false;
        }
    } else if (v.is_object()) {
        for (const json::key_value_pair& m : v.get_object()) {
            if (rules.names && m.key().size() > CompiledSchema::max_pattern_property_name)
                return false;
            if (!guard_passes(m.value(), depth + 1, rules)) return false;
        }
    }
    return true;
}

}  // namespace

struct CompiledSchema::Impl {
    valijson::Schema schema;
    bool pattern_properties = false;
    bool property_names = false;
    GuardRules rules;
    // Null when the schema uses something the fast validator leaves to valijson (fast_refusal
    // says what).
    std::unique_ptr<const detail::FastValidator> fast;
    std::string fast_refusal;

    // The fast validator's verdict after the guard; nullopt when it has none for this data.
    std::optional<bool> fast_verdict(const json::value& data) const {
        if (!guard_passes(data, 0, rules)) return false;
        switch (fast->check(data)) {
            case detail::FastValidator::Verdict::valid:
                return true;
            case detail::FastValidator::Verdict::invalid:
                return false;
            case detail::FastValidator::Verdict::undecided:
                break;
        }
        return std::nullopt;
    }

    // valijson's verdict after the guard.
    bool valijson_verdict(const json::value& data) const {
        bool convert = false;
        std::size_t values = 0;
        if (!guard(data, convert, values).empty()) return false;
        std::string failure;
        if (convert) return run(without_uint64(data), nullptr, failure);
        return run(data, nullptr, failure);
    }

    // Guard results as violations; empty when valijson may run on `data`. `values` counts the
    // data's values.
    std::vector<Violation> guard(const json::value& data, bool& convert,
                                 std::size_t& values) const {
        Scan s;
        std::vector<Step> path;
        path.reserve(32);
        scan(data, path, rules, s);
        convert = s.has_uint64;
        values = s.values;
        if (s.too_deep) {
            return {
                {*s.too_deep, "depth",
                 "is nested deeper than " + std::to_string(CompiledSchema::max_depth) + " levels"}};
        }
        if (s.long_name) {
            return {{*s.long_name, "patternProperties",
                     "has a property name longer than " +
                         std::to_string(CompiledSchema::max_pattern_property_name) + " bytes ('" +
                         s.long_name_value +
                         "'), which cannot be checked against patternProperties"}};
        }
        if (s.beyond_int64) {
            return {{*s.beyond_int64, "multipleOf",
                     "is a number beyond the signed 64-bit integer range, which cannot be checked against an "
                     "integer multipleOf"}};
        }
        if (s.invalid_utf8) {
            return {{*s.invalid_utf8, "utf-8",
                     "is a string that is not valid UTF-8, whose length (minLength, maxLength) is undefined"}};
        }
        return {};
    }

    bool run(const json::value& data, ValidationResults* results, std::string& failure) const {
        try {
            valijson::Validator validator;
            valijson::adapters::BoostJsonAdapter adapter(data);
            return validator.validate(schema, adapter, results);
        } catch (const std::exception& e) {
            failure = e.what();
            return false;
        }
    }
};

CompiledSchema::CompiledSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledSchema::~CompiledSchema() = default;

Result<std::shared_ptr<const CompiledSchema>> CompiledSchema::compile(const json::value& bundled,
                                                                      Draft draft) {
    auto prepared = prepare(bundled, draft);
    if (!prepared) return std::move(prepared).error();
    auto impl = std::make_unique<Impl>();
    impl->pattern_properties = prepared->pattern_properties;
    impl->property_names = prepared->property_names;
    impl->rules.names = prepared->pattern_properties;
    impl->rules.numbers = prepared->integer_multiple_of;
    impl->rules.strings = prepared->string_lengths;
    PatternCache patterns;
    try {
        valijson::SchemaParser parser(draft == Draft::draft4 ? valijson::SchemaParser::kDraft4
                                                             : valijson::SchemaParser::kDraft7);
        parser.addConstraintBuilder(std::string(pattern_keyword), new PatternBuilder(patterns));
        parser.addConstraintBuilder(std::string(format_keyword), new FormatBuilder());
        parser.addConstraintBuilder(std::string(unique_keyword), new UniqueItemsBuilder());
        valijson::adapters::BoostJsonAdapter adapter(prepared->document);
        parser.populateSchema(adapter, impl->schema);
    } catch (const std::exception& e) {
        return make_error(Errc::invalid_argument, std::string("not a valid schema: ") + e.what(),
                          "schema");
    }
    // Only what valijson accepted gets a fast path, built from the same document and patterns.
    auto fast = detail::FastValidator::compile(
        prepared->document, draft, [&](std::string_view source) -> const Pattern* {
            auto it = patterns.find(source);
            return it == patterns.end() ? nullptr : &it->second;
        });
    impl->fast = std::move(fast.validator);
    impl->fast_refusal = std::move(fast.refusal);
    return std::shared_ptr<const CompiledSchema>(new CompiledSchema(std::move(impl)));
}

bool CompiledSchema::is_valid(const json::value& data) const {
    if (impl_->fast) {
        if (const std::optional<bool> verdict = impl_->fast_verdict(data)) return *verdict;
    }
    return impl_->valijson_verdict(data);
}

bool CompiledSchema::proves_valid_text(std::string_view json_text) const {
    if (!impl_->fast) return false;
    // The guard's depth rule needs no check here: the parser's own limit (32) is lower.
    static_assert(CompiledSchema::max_depth >= 32);
    return impl_->fast->proves_valid_text(json_text,
                                          impl_->pattern_properties ? max_pattern_property_name
                                                                    : std::numeric_limits<std::size_t>::max(),
                                          impl_->rules.numbers);
}

std::optional<bool> CompiledSchema::verdict(Engine engine, const json::value& data) const {
    if (engine == Engine::valijson) return impl_->valijson_verdict(data);
    if (!impl_->fast) return std::nullopt;
    return impl_->fast_verdict(data);
}

bool CompiledSchema::has_fast_path() const noexcept { return impl_->fast != nullptr; }

std::string_view CompiledSchema::fast_path_refusal() const noexcept { return impl_->fast_refusal; }

std::vector<Violation> CompiledSchema::validate(const json::value& data) const {
    bool convert = false;
    std::size_t values = 0;
    std::vector<Violation> guarded = impl_->guard(data, convert, values);
    if (!guarded.empty()) return guarded;
    const json::value converted = convert ? without_uint64(data) : json::value();
    const json::value& subject = convert ? converted : data;

    // Most events are valid: answer those without collecting anything (with the fast validator
    // when it can; it reads unsigned integers itself).
    std::string failure;
    std::optional<bool> quick;
    if (impl_->fast) {
        switch (impl_->fast->check(data)) {
            case detail::FastValidator::Verdict::valid:
                quick = true;
                break;
            case detail::FastValidator::Verdict::invalid:
                quick = false;
                break;
            case detail::FastValidator::Verdict::undecided:
                break;
        }
    }
    if (!quick) quick = impl_->run(subject, nullptr, failure);
    if (*quick) return {};
    if (values > max_detailed_values) {
        // valijson keeps every error of a detailed run in memory (a few hundred bytes each, several
        // per value): for large data that is a memory amplifier, so only the verdict is given.
        return {{"", "schema",
                 "does not match the schema; the data holds more than " +
                     std::to_string(max_detailed_values) +
                     " values, too many to list each violation"}};
    }

    ValidationResults results;
    failure.clear();
    impl_->run(subject, &results, failure);

    std::vector<Raw> raws;
    raws.reserve(results.numErrors());
    for (const ValidationResults::Error& e : results) {
        Raw r = classify(e, subject);
        if (!r.ignore) raws.push_back(std::move(r));
    }

    // Every location at or above an assertion: a wrapper whose target is among them is explained by
    // it.
    std::unordered_set<std::string> explained;
    for (const Raw& r : raws) {
        if (r.wrapper) continue;
        std::string p;
        explained.insert(p);
        for (const std::string& t : r.path) {
            p = detail::append_token(p, t);
            explained.insert(p);
        }
    }
    struct Located {
        std::vector<std::string> path;
        Violation violation;
    };
    std::vector<Located> found;
    for (const Raw& r : raws) {
        std::vector<std::string> target = r.path;
        if (r.wrapper) {
            // Kept only when nothing nested explains it (e.g. a `false` subschema, which valijson
            // rejects without a message of its own).
            if (r.child) target.push_back(*r.child);
            if (explained.contains(pointer_of(target))) continue;
        }
        std::string pointer = pointer_of(target);
        found.push_back({std::move(target), {std::move(pointer), r.keyword, r.message}});
    }
    // In document order (array indexes numerically); valijson's own order follows its internal
    // maps.
    std::stable_sort(found.begin(), found.end(), [](const Located& a, const Located& b) {
        return std::lexicographical_compare(a.path.begin(), a.path.end(), b.path.begin(),
                                            b.path.end(),
                                            [](const std::string& x, const std::string& y) {
                                                const bool xn = is_index(x);
                                                const bool yn = is_index(y);
                                                if (xn && yn && x.size() != y.size())
                                                    return x.size() < y.size();
                                                return x < y;
                                            });
    });
    std::vector<Violation> out;
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    auto add = [&](Violation v) {
        if (out.size() >= max_violations) return;
        if (seen.insert({v.pointer, v.keyword, v.message}).second) out.push_back(std::move(v));
    };
    for (Located& l : found) add(std::move(l.violation));
    if (out.empty()) {
        if (!failure.empty()) {
            add({"", "schema", "could not be validated: " + failure});
        } else if (impl_->property_names) {
            add({"", "propertyNames",
                 "a property name is not allowed by propertyNames (or a false schema applies)"});
        } else {
            add({"", "schema", "is not allowed by the schema"});
        }
    }
    return out;
}

}  // namespace herald::schema
