#pragma once
// Private to the schema module: visits the subschemas of a draft-04/07 schema document.
//
// Every JSON object at a schema position is passed to `fn(object, pointer, ctx, known)` before its
// members are walked; `fn` may edit the object's members (the walk reads them afterwards) and
// change `ctx`, a value copied down to the children (e.g. the base URI). `known` is true when the
// position was reached through keywords that the drafts define as taking schemas, false below
// unknown keywords (whose objects are visited too, because a
// "$ref" may point into them). Values of enum, const, default and examples are data and never
// visited. Recursion depth is bounded (schemas are operator input, but a limit costs nothing); `fn`
// returns false to stop.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "schema/json_pointer.hpp"

namespace herald::schema::detail {

inline bool is_data_keyword(std::string_view k) {
    return k == "enum" || k == "const" || k == "default" || k == "examples";
}

// Keywords whose value is an object mapping names to schemas.
inline bool is_schema_map_keyword(std::string_view k) {
    return k == "properties" || k == "patternProperties" || k == "definitions" || k == "$defs" ||
           k == "dependencies";
}

// Keywords whose value is a schema or an array of schemas.
inline bool is_schema_keyword(std::string_view k) {
    return k == "items" || k == "additionalItems" || k == "additionalProperties" ||
           k == "contains" || k == "propertyNames" || k == "not" || k == "if" || k == "then" ||
           k == "else" || k == "allOf" || k == "anyOf" || k == "oneOf";
}

inline constexpr int max_walk_depth = 256;

template <class Ctx, class Fn>
bool walk_schema(boost::json::value& v, const std::string& pointer, Ctx ctx, bool known, Fn& fn,
                 int depth = 0);

template <class Ctx, class Fn>
bool walk_value(boost::json::value& v, const std::string& pointer, const Ctx& ctx, bool known,
                Fn& fn, int depth) {
    if (depth > max_walk_depth) return false;
    if (v.is_object()) return walk_schema(v, pointer, ctx, known, fn, depth);
    if (v.is_array()) {
        boost::json::array& a = v.get_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!walk_value(a[i], pointer + "/" + std::to_string(i), ctx, known, fn, depth + 1))
                return false;
        }
    }
    return true;
}

template <class Ctx, class Fn>
bool walk_schema(boost::json::value& v, const std::string& pointer, Ctx ctx, bool known, Fn& fn,
                 int depth) {
    if (depth > max_walk_depth) return false;
    if (!v.is_object()) return true;  // boolean schemas and stray scalars hold no subschemas
    boost::json::object& obj = v.get_object();
    if (!fn(obj, pointer, ctx, known)) return false;
    for (auto& [key, child] : obj) {
        const std::string_view k = key;
        if (is_data_keyword(k)) continue;
        const std::string child_pointer = append_token(pointer, k);
        if (is_schema_map_keyword(k) && child.is_object()) {
            for (auto& [name, sub] : child.get_object()) {
                // dependencies may map to a list of property names: walk_value ignores it.
                if (!walk_value(sub, append_token(child_pointer, name), ctx, known, fn, depth + 1))
                    return false;
            }
        } else if (!walk_value(child, child_pointer, ctx, known && is_schema_keyword(k), fn,
                               depth + 1)) {
            return false;
        }
    }
    return true;
}

}  // namespace herald::schema::detail
