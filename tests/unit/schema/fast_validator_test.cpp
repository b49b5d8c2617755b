// The fast validator against valijson, differentially: a corpus of schemas covering every keyword
// the fast path implements (nested, $ref, combinators, boolean schemas, drafts 4 and 7) and edge
// cases (1.0 vs integer, -0, numbers beyond int64 and 2^53, infinity, NUL inside strings, code
// points beyond ASCII, empty objects and arrays, additionalProperties false with extras, enums of
// objects and arrays, const null), each checked on hand-written values, generated values and
// mutations of valid examples. Every decided fast verdict must equal valijson's; is_valid() and
// validate() must agree with valijson everywhere. Also: schemas the fast path leaves to valijson
// are recognised and still validate, and the pattern automata agree with the NFA simulation.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "schema/pattern.hpp"
#include "schema/validator.hpp"

namespace herald::schema {
namespace {

namespace json = boost::json;
using Engine = CompiledSchema::Engine;

json::value J(std::string_view text) {
    json::parse_options options;
    options.max_depth = 256;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, {}, options);
    EXPECT_FALSE(ec) << ec.message() << ": " << text;
    return v;
}

struct Case {
    std::string_view schema;
    std::vector<std::string_view> examples;  // valid or nearly valid data, to mutate
    Draft draft = Draft::draft7;
};

// A realistic event schema: the benchmark's order (bench/schemas/order-placed.schema.json).
constexpr std::string_view order_schema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "shop.orderPlaced.v1", "description": "benchmark order",
  "type": "object",
  "required": ["orderId", "placedAt", "status", "currency", "total", "customer", "lines", "channel"],
  "properties": {
    "seq": {"type": "integer", "minimum": 0}, "t": {"type": "integer", "minimum": 0},
    "pad": {"type": "string"},
    "orderId": {"type": "string", "pattern": "^ord_[0-9a-z]{8,32}$"},
    "placedAt": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"},
    "status": {"enum": ["placed", "paid", "shipped", "cancelled"]},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "total": {"type": "number", "minimum": 0, "maximum": 1000000},
    "tax": {"type": "number", "minimum": 0},
    "channel": {"enum": ["web", "ios", "android", "pos"]},
    "coupon": {"type": ["string", "null"], "maxLength": 32},
    "giftWrap": {"type": "boolean"},
    "notes": {"type": "string", "maxLength": 500},
    "customer": {
      "type": "object", "required": ["id", "email", "tier"], "additionalProperties": false,
      "properties": {
        "id": {"type": "string", "pattern": "^cus_[0-9a-z]{6,}$"},
        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"},
        "tier": {"enum": ["standard", "gold", "platinum"]},
        "address": {
          "type": "object", "required": ["line1", "city", "country"],
          "properties": {
            "line1": {"type": "string", "minLength": 1}, "city": {"type": "string", "minLength": 1},
            "postcode": {"type": "string", "maxLength": 12},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"}}}}},
    "lines": {
      "type": "array", "minItems": 1, "maxItems": 100,
      "items": {
        "type": "object", "required": ["sku", "qty", "price"],
        "properties": {
          "sku": {"type": "string", "pattern": "^[A-Z0-9-]{3,20}$"},
          "qty": {"type": "integer", "minimum": 1}, "price": {"type": "number", "minimum": 0}}}}
  },
  "additionalProperties": false
})";

constexpr std::string_view order_example = R"({"orderId": "ord_7f3k9x2m4q",
 "placedAt": "2026-11-27T05:40:00.000Z", "status": "placed", "currency": "EUR", "total": 129.9,
 "tax": 20.74, "channel": "web", "coupon": null, "giftWrap": false, "notes": "leave at the door",
 "customer": {"id": "cus_4h8s2k", "email": "ada@example.org", "tier": "gold",
   "address": {"line1": "1 Analytical Way", "city": "London", "postcode": "N1 9GU", "country": "GB"}},
 "lines": [{"sku": "BOOK-0042", "qty": 1, "price": 89.9}, {"sku": "PEN-7", "qty": 2, "price": 20.0}],
 "seq": 1, "t": 1764222000000, "pad": "xxxx"})";

const std::vector<Case>& corpus() {
    static const std::vector<Case> cases = {
        {order_schema, {order_example}},
        // type
        {R"({"type":"integer"})", {"1", "1.0", "-0", "-0.0"}},
        {R"({"type":"number"})", {"1.5"}},
        {R"({"type":["string","null"]})", {"null", "\"a\""}},
        {R"({"type":["integer","boolean","array"]})", {"[1]", "true"}},
        {R"({"type":"object","properties":{"n":{"type":"integer"}}})", {R"({"n":1})"}},
        // enum and const
        {R"({"enum":[1,"1",null,true,[1,2],{"a":1,"b":[null]},1.5,18446744073709551615,-0.0,
            "a\u0000b",9007199254740993]})",
         {"1", R"({"b":[null],"a":1})", "[1,2]"}},
        {R"({"enum":["placed","paid","shipped","a\u0000x","é","日本"]})", {"\"paid\""}},
        {R"({"enum":[]})", {"1"}},
        {R"({"const":null})", {"null"}},
        {R"({"const":{"a":[1,2.0,{"b":"c"}]}})", {R"({"a":[1,2,{"b":"c"}]})"}},
        {R"({"const":1})", {"1.0"}},
        {R"({"const":"x\u0000y"})", {"\"x\""}},
        {R"({"const":[]})", {"[]", "{}"}},
        // numbers
        {R"({"minimum":0,"maximum":10})", {"0", "10", "10.0"}},
        {R"({"exclusiveMinimum":0,"exclusiveMaximum":10})", {"5"}},
        {R"({"minimum":1.5,"exclusiveMaximum":2.5,"exclusiveMinimum":1})", {"2"}},
        {R"({"minimum":-9223372036854775808,"maximum":9007199254740992})", {"9007199254740993"}},
        {R"({"maximum":-1e300,"type":"number"})", {"-1e308"}},
        {R"({"minimum":0,"exclusiveMinimum":true,"maximum":10,"exclusiveMaximum":false})",
         {"0.5", "10"},
         Draft::draft4},
        {R"({"maximum":3,"exclusiveMaximum":true,"type":"integer"})", {"2"}, Draft::draft4},
        {R"({"multipleOf":2})", {"4", "4.0", "2.5", "-6", "0"}},
        {R"({"multipleOf":0.1})", {"0.3", "1.1"}},
        {R"({"multipleOf":0.5,"type":"number"})", {"1.5"}},
        {R"({"multipleOf":3,"type":["number","string"]})", {"9", "1e300"}},
        {R"({"multipleOf":1e-9})", {"1"}},
        {R"({"multipleOf":7.0})", {"14"}},
        // strings
        {R"({"minLength":2,"maxLength":3})", {"\"ab\"", "\"日本語\"", "\"😀😀\""}},
        {R"({"maxLength":0})", {"\"\""}},
        {R"({"minLength":1,"type":"string"})", {"\"é\""}},
        {R"({"minLength":3,"maxLength":3})", {R"("a\u0000bcd")", "\"abc\""}},
        {R"({"pattern":"^[a-z]+$"})", {"\"abc\""}},
        {R"({"pattern":"b"})", {"\"abc\""}},
        {R"({"pattern":"^ORD-[0-9]{4,}$","maxLength":10})", {"\"ORD-1234\""}},
        {R"({"pattern":"日本|😀","type":"string"})", {"\"x日本\""}},
        {R"({"pattern":"\\bfoo\\b"})", {"\"a foo b\""}},
        {R"({"pattern":"^$"})", {"\"\""}},
        {R"({"format":"date-time"})", {"\"2024-02-29T12:00:00Z\""}},
        {R"({"format":"email","maxLength":20})", {"\"a@example.com\""}},
        {R"({"format":"uuid"})", {"\"01890a5d-ac96-774b-bcce-b302099a8057\""}},
        {R"({"format":"regex"})", {"\"^a+$\"", "\"(\""}},
        {R"({"format":"no-such-format","type":"string"})", {"\"x\""}},
        // arrays
        {R"({"items":{"type":"integer"},"minItems":1,"maxItems":3})", {"[1,2]"}},
        {R"({"uniqueItems":true})",
         {"[1,2,\"1\",{\"a\":1},{\"a\":2},[1],[2]]", "[1,1.0]", R"([{"a":1,"b":2},{"b":2,"a":1}])",
          "[\"a\\u0000b\",\"a\\u0000c\"]", "[0,-0.0]", "[1e16,10000000000000000]"}},
        {R"({"uniqueItems":false,"items":true})", {"[1,1]"}},
        {R"({"items":false})", {"[]"}},
        {R"({"items":{"uniqueItems":true,"maxItems":40}})", {"[[1,2],[3,3]]"}},
        // objects
        {R"({"properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"],
            "additionalProperties":false})",
         {R"({"a":"x","b":1})"}},
        {R"({"additionalProperties":{"type":"integer"}})", {R"({"x":1,"y":2})"}},
        {R"({"properties":{"a":true,"b":false}})", {R"({"a":1})"}},
        {R"({"required":["a","b","a"]})", {R"({"a":1,"b":2})"}},
        {R"({"minProperties":1,"maxProperties":2})", {R"({"a":1})"}},
        {R"({"properties":{"a":{}},"additionalProperties":true,"required":["zz"]})",
         {R"({"zz":1})"}},
        {R"({"properties":{"a":{"type":"integer"}},"required":["a","c"],
            "additionalProperties":false})",
         {R"({"a":1,"c":2})"}},
        {R"({"properties":{"a":{"properties":{"b":{"properties":{"c":{"const":1}}}}}}})",
         {R"({"a":{"b":{"c":1}}})"}},
        {R"({"properties":{"":{"type":"null"},"é":{"type":"string"}}})", {R"({"":null,"é":"x"})"}},
        // combinators
        {R"({"allOf":[{"type":"integer"},{"minimum":2},{"maximum":5}]})", {"3"}},
        {R"({"anyOf":[false,{"type":"string"},{"type":"integer","multipleOf":2}]})",
         {"\"s\"", "4"}},
        {R"({"oneOf":[{"type":"integer"},{"type":"number","minimum":10}]})", {"5", "10.5", "20"}},
        {R"({"not":{"type":"string"}})", {"1"}},
        {R"({"not":{}})", {"1"}},
        {R"({"not":false,"allOf":[true]})", {"1"}},
        {R"({"anyOf":[{"allOf":[{"not":{"enum":[1,2]}},{"type":"integer"}]},{"const":"x"}]})",
         {"3", "\"x\""}},
        // references
        {R"({"definitions":{"node":{"type":"object","required":["name"],"properties":{
            "name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/definitions/node"}}}}},
            "$ref":"#/definitions/node"})",
         {R"({"name":"root","children":[{"name":"a"},{"name":"b","children":[{"name":"c"}]}]})"}},
        {R"({"properties":{"next":{"$ref":"#"},"v":{"type":"integer"}}})",
         {R"({"next":{"next":{"v":1}}})"}},
        {R"({"$defs":{"pos":{"type":"integer","minimum":1}},
            "properties":{"a":{"$ref":"#/$defs/pos","type":"string"},"b":{"$ref":"#/$defs/pos/"}}})",
         {R"({"a":1,"b":2})"}},
        {R"({"allOf":[{"type":"object"},{"required":["a"]}],"properties":{"x":{"$ref":"#/allOf/1"}}})",
         {R"({"a":1,"x":{"a":2}})"}},
        {R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"enum":[1,2]}},
            "items":{"$ref":"#/definitions/a"}})",
         {"[1,2]"}},
        // boolean schemas and annotations
        {"true", {"1"}},
        {"false", {"1"}},
        {R"({"title":"t","description":"d","default":5,"examples":[1],"$comment":"c",
            "readOnly":true,"x-vendor":{"minimum":"no"},
            "$id":"urn:x","type":"integer"})",
         {"1"}},
        // draft 4
        {R"({"properties":{"a":{"type":"integer","minimum":0}},"additionalProperties":false,
            "required":["a"],"definitions":{"x":{"type":"string"}}})",
         {R"({"a":1})"},
         Draft::draft4},
        {R"({"items":{"$ref":"#/definitions/x"},"definitions":{"x":{"enum":["a","b"]}},
            "uniqueItems":true,"const":["a"]})",
         {"[\"a\"]"},
         Draft::draft4},
    };
    return cases;
}

// --- data ----------------------------------------------------------------------------------------

const std::vector<json::value>& edge_values() {
    static const std::vector<json::value> values = [] {
        std::vector<json::value> v;
        for (std::string_view text : {"null",
                                      "true",
                                      "false",
                                      "0",
                                      "-0",
                                      "-0.0",
                                      "1",
                                      "1.0",
                                      "1.5",
                                      "-1",
                                      "2",
                                      "2.0",
                                      "2.5",
                                      "3",
                                      "4",
                                      "5",
                                      "6",
                                      "9",
                                      "10",
                                      "10.5",
                                      "20",
                                      "0.1",
                                      "0.3",
                                      "1.1",
                                      "1e-9",
                                      "1e16",
                                      "10000000000000000",
                                      "9007199254740992",
                                      "9007199254740993",
                                      "9223372036854775807",
                                      "-9223372036854775808",
                                      "18446744073709551615",
                                      "9223372036854775808",
                                      "1e300",
                                      "-1e300",
                                      "1e400",
                                      "\"\"",
                                      "\"a\"",
                                      "\"ab\"",
                                      "\"abc\"",
                                      "\"abcd\"",
                                      "\"a\\u0000b\"",
                                      "\"a\\u0000bcd\"",
                                      "\"\\u0000\"",
                                      "\"é\"",
                                      "\"日本語\"",
                                      "\"😀😀\"",
                                      "\"x日本\"",
                                      "\"ORD-1234\"",
                                      "\"ORD-12345678\"",
                                      "\"ord_7f3k9x2m4q\"",
                                      "\"cus_4h8s2k\"",
                                      "\"2024-02-29T12:00:00Z\"",
                                      "\"2023-02-29T12:00:00Z\"",
                                      "\"a@example.com\"",
                                      "\"01890a5d-ac96-774b-bcce-b302099a8057\"",
                                      "\"^a+$\"",
                                      "\"(\"",
                                      "\"12\"",
                                      "\"2.5\"",
                                      "\"true\"",
                                      "\"paid\"",
                                      "\"a foo b\"",
                                      "\"afoob\"",
                                      "\"x\"",
                                      "[]",
                                      "[1]",
                                      "[1,1]",
                                      "[1,\"1\"]",
                                      "[1,1.0]",
                                      "[1,2]",
                                      "[1,2,3,4]",
                                      "[[1,2],[3,3]]",
                                      "[\"a\"]",
                                      "[{\"a\":1},{\"a\":1}]",
                                      "{}",
                                      "{\"a\":1}",
                                      "{\"a\":null}",
                                      "{\"a\":\"x\",\"b\":1}",
                                      "{\"a\":\"x\",\"b\":1,\"c\":2}",
                                      "{\"zz\":1}",
                                      "{\"x\":1,\"y\":\"2\"}"}) {
            v.push_back(json::parse(text));
        }
        v.emplace_back(std::numeric_limits<double>::infinity());
        v.emplace_back(std::uint64_t{5});  // an unsigned integer within int64: a double to valijson
        json::array many;
        for (int i = 0; i < 40; ++i) many.emplace_back(i);
        v.emplace_back(many);
        many.emplace_back(17.0);  // a duplicate of 17, past the pairwise limit
        v.emplace_back(many);
        json::array objects;
        for (int i = 0; i < 36; ++i) objects.emplace_back(json::object{{"k", i % 35}, {"j", "x"}});
        v.emplace_back(objects);
        return v;
    }();
    return values;
}

// Property names a schema mentions, so that generated objects reach its subschemas.
void collect_names(const json::value& v, std::set<std::string>& out) {
    if (v.is_array()) {
        for (const json::value& x : v.get_array()) collect_names(x, out);
    } else if (v.is_object()) {
        for (const auto& [key, x] : v.get_object()) {
            if (key == "properties" && x.is_object()) {
                for (const auto& [name, _] : x.get_object()) out.emplace(name);
            }
            if (key == "required" && x.is_array()) {
                for (const json::value& n : x.get_array()) {
                    if (n.is_string()) out.emplace(n.get_string());
                }
            }
            collect_names(x, out);
        }
    }
}

class Generator {
public:
    Generator(std::uint64_t seed, const json::value& schema) : rng_(seed) {
        std::set<std::string> names;
        collect_names(schema, names);
        names_.assign(names.begin(), names.end());
        names_.push_back("zz");
        names_.push_back("a");
    }

    json::value value(int depth = 0) {
        const int r = pick(100);
        if (depth >= 4 || r < 30) return edge_values()[pick(edge_values().size())];
        if (r < 45) return number();
        if (r < 60) return string();
        if (r < 78) {
            json::array a;
            const int n = pick(8) == 0 ? 33 + pick(8) : pick(5);
            for (int i = 0; i < n; ++i) a.push_back(value(depth + 1));
            return a;
        }
        json::object o;
        const int n = pick(6);
        for (int i = 0; i < n; ++i) o[names_[pick(names_.size())]] = value(depth + 1);
        return o;
    }

    // A copy of `v` with one to three random changes at random places.
    json::value mutate(const json::value& v) {
        json::value out = v;
        const int changes = 1 + pick(3);
        for (int c = 0; c < changes; ++c) {
            std::vector<json::value*> nodes;
            collect(out, nodes);
            json::value& target = *nodes[pick(nodes.size())];
            switch (pick(6)) {
                case 0:
                    target = value(2);
                    break;
                case 1:  // remove a member or an item
                    if (target.is_object() && !target.get_object().empty()) {
                        auto& o = target.get_object();
                        o.erase(std::next(o.begin(), static_cast<long>(pick(o.size())))->key());
                    } else if (target.is_array() && !target.get_array().empty()) {
                        auto& a = target.get_array();
                        a.erase(a.begin() + static_cast<long>(pick(a.size())));
                    }
                    break;
                case 2:  // add a member or an item
                    if (target.is_object()) {
                        target.get_object()[names_[pick(names_.size())]] = value(3);
                    } else if (target.is_array()) {
                        auto& a = target.get_array();
                        a.push_back(a.empty() || pick(2) ? value(3) : a[pick(a.size())]);
                    }
                    break;
                case 3:  // nudge a number
                    if (target.is_int64()) {
                        const std::int64_t d[] = {-1, 1, 0};
                        if (pick(3) == 2) {
                            target = static_cast<double>(target.get_int64());
                        } else {
                            std::int64_t nudged = 0;
                            // At the ends of the range the nudge would overflow (UBSan): keep the value.
                            if (__builtin_add_overflow(target.get_int64(), d[pick(2)], &nudged))
                                nudged = target.get_int64();
                            target = nudged;
                        }
                    } else if (target.is_double()) {
                        target = target.get_double() * (pick(2) ? -1.0 : 1.1);
                    }
                    break;
                case 4:  // change a string
                    if (target.is_string()) {
                        static constexpr std::string_view bits[] = {
                            "a", "Z", "9", "-", "@", "é", " ", std::string_view("\0", 1)};
                        std::string s(target.get_string());
                        if (!s.empty() && pick(2)) {
                            s.erase(pick(s.size()), 1);
                        } else {
                            s.insert(s.empty() ? 0 : pick(s.size() + 1), bits[pick(8)]);
                        }
                        target = json::string(s);
                    }
                    break;
                default:
                    target = edge_values()[pick(edge_values().size())];
                    break;
            }
        }
        return out;
    }

private:
    std::size_t pick(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    }

    json::value number() {
        switch (pick(5)) {
            case 0:
                return static_cast<std::int64_t>(pick(41)) - 20;
            case 1:
                return static_cast<double>(static_cast<std::int64_t>(pick(41)) - 20) / 10.0;
            case 2:
                return static_cast<double>(pick(2001)) / 4.0;
            case 3:
                return static_cast<std::int64_t>(rng_());
            default:
                return std::ldexp(static_cast<double>(pick(1000)),
                                  static_cast<int>(pick(140)) - 70);
        }
    }

    json::value string() {
        static constexpr std::string_view alphabet[] = {"a",
                                                        "b",
                                                        "z",
                                                        "A",
                                                        "Z",
                                                        "0",
                                                        "9",
                                                        "-",
                                                        "_",
                                                        "@",
                                                        ".",
                                                        "ORD-",
                                                        "ord_",
                                                        "cus_",
                                                        "é",
                                                        "日",
                                                        "😀",
                                                        " ",
                                                        std::string_view("\0", 1),
                                                        "T",
                                                        ":",
                                                        "foo"};
        std::string s;
        const std::size_t n = pick(12);
        for (std::size_t i = 0; i < n; ++i) s += alphabet[pick(std::size(alphabet))];
        return json::string(s);
    }

    static void collect(json::value& v, std::vector<json::value*>& out) {
        out.push_back(&v);
        if (v.is_array()) {
            for (json::value& x : v.get_array()) collect(x, out);
        } else if (v.is_object()) {
            for (auto& kv : v.get_object()) collect(kv.value(), out);
        }
    }

    std::mt19937_64 rng_;
    std::vector<std::string> names_;
};

// --- the differential test -----------------------------------------------------------------------

TEST(FastValidator, AgreesWithValijsonOnTheCorpus) {
    std::size_t compared = 0;
    std::size_t decided = 0;
    std::size_t valid = 0;
    std::size_t proved = 0;
    std::uint64_t seed = 1;
    for (const Case& c : corpus()) {
        const json::value schema = J(c.schema);
        auto compiled = CompiledSchema::compile(schema, c.draft);
        ASSERT_TRUE(compiled) << c.schema << "\n" << compiled.error().message;
        const CompiledSchema& s = **compiled;
        EXPECT_TRUE(s.has_fast_path()) << c.schema << "\n" << s.fast_path_refusal();

        std::vector<json::value> data(edge_values().begin(), edge_values().end());
        Generator gen(seed++, schema);
        for (std::string_view example : c.examples) {
            const json::value e = J(example);
            data.push_back(e);
            for (int i = 0; i < 60; ++i) data.push_back(gen.mutate(e));
        }
        for (int i = 0; i < 250; ++i) data.push_back(gen.value());

        for (const json::value& d : data) {
            const std::optional<bool> reference = s.verdict(Engine::valijson, d);
            ASSERT_TRUE(reference.has_value());
            const std::optional<bool> fast = s.verdict(Engine::fast, d);
            ++compared;
            if (fast) {
                ++decided;
                ASSERT_EQ(*fast, *reference)
                    << "schema " << c.schema << "\ndata " << json::serialize(d);
            }
            ASSERT_EQ(s.is_valid(d), *reference) << c.schema << "\n" << json::serialize(d);
            ASSERT_EQ(s.validate(d).empty(), *reference) << c.schema << "\n" << json::serialize(d);
            valid += *reference ? 1 : 0;
            // The text path (publish): proved valid only when valijson finds the parsed text valid.
            const std::string text = json::serialize(d);
            if (s.proves_valid_text(text)) {
                ++proved;
                ASSERT_EQ(s.verdict(Engine::valijson, json::parse(text)), true)
                    << "schema " << c.schema << "\ntext " << text;
            }
        }
    }
    // The fast path answers nearly everything itself, and the corpus is not trivially one-sided.
    EXPECT_GE(compared, 25000u);
    EXPECT_GE(decided * 100, compared * 95) << decided << " of " << compared;
    EXPECT_GE(valid * 20, compared) << valid << " valid of " << compared;
    RecordProperty("compared", static_cast<int>(compared));
    RecordProperty("decided", static_cast<int>(decided));
    RecordProperty("valid", static_cast<int>(valid));
    // Most valid data is proved on the parser's events (the rest meets combinators or container
    // enums).
    EXPECT_GE(proved * 2, valid) << proved << " proved of " << valid << " valid";
    RecordProperty("proved", static_cast<int>(proved));
    std::printf(
        "differential: %zu comparisons, %zu decided by the fast path, %zu valid, %zu of them "
        "proved from the text\n",
        compared, decided, valid, proved);
}

TEST(FastValidator, AgreesOnTheEdgeCasesThatMatter) {
    struct Expect {
        std::string_view schema;
        std::string_view data;
        bool valid;
    };
    // Each by both engines: the fast one must decide these itself.
    const Expect cases[] = {
        {R"({"type":"integer"})", "1.0", false},
        {R"({"type":"integer"})", "-0", true},
        {R"({"type":"integer"})", "18446744073709551615", false},
        {R"({"type":"number","minimum":0})", "18446744073709551615", true},
        {R"({"enum":[18446744073709551615]})", "18446744073709551615", false},
        {R"({"enum":[9007199254740993]})", "9007199254740992", true},  // compared as doubles
        {R"({"const":0})", "-0.0", true},
        {R"({"const":null})", "null", true},
        {R"({"const":null})", "{}", false},
        {R"({"enum":[{"a":[1,{"b":null}]}]})", R"({"a":[1.0,{"b":null}]})", true},
        {R"({"enum":["ab"]})", R"("ab\u0000cd")", true},  // up to the first NUL
        {R"({"maxLength":2})", R"("日本")", true},
        {R"({"maxLength":2})", R"("ab\u0000cd")", true},
        {R"({"minLength":2})", R"("😀")", false},
        {R"({"additionalProperties":false,"properties":{"a":{}}})", R"({"a":1,"b":2})", false},
        {R"({"additionalProperties":false})", "{}", true},
        {R"({"multipleOf":2})", "2.5", true},  // valijson truncates to 2 first
        {R"({"multipleOf":0.1})", "0.3", true},
        {R"({"multipleOf":0.1})", "0.35", false},
        {R"({"uniqueItems":true})", "[1,1.0]", false},
        {R"({"uniqueItems":true})", "[1e16,10000000000000000]", true},
        {R"({"items":false})", "[]", true},
        {R"({"items":false})", "[1]", false},
        {R"({"$ref":"#/definitions/a","type":"string","definitions":{"a":{"type":"integer"}}})",
         "1", true},  // siblings of $ref are ignored
        {"false", "null", false},
    };
    for (const Expect& e : cases) {
        auto s = CompiledSchema::compile(J(e.schema), Draft::draft7);
        ASSERT_TRUE(s) << e.schema;
        ASSERT_TRUE((*s)->has_fast_path()) << e.schema << ": " << (*s)->fast_path_refusal();
        const json::value d = J(e.data);
        EXPECT_EQ((*s)->verdict(Engine::valijson, d), e.valid) << e.schema << " " << e.data;
        EXPECT_EQ((*s)->verdict(Engine::fast, d), e.valid) << e.schema << " " << e.data;
    }
}

TEST(FastValidator, ProvesValidTextOnlyWhenValid) {
    struct Expect {
        std::string_view schema;
        std::string text;
        bool proved;
    };
    const std::string long_escaped =
        "\"" + std::string(3000, 'a') + "\\n\\u0061" + std::string(3000, 'a') + "\"";
    const Expect cases[] = {
        {order_schema, std::string(order_example), true},
        {order_schema, " \n" + std::string(order_example) + "\t ", true},
        {order_schema, std::string(order_example) + "x", false},  // not JSON
        {R"({"type":"integer"})", "1", true},
        {R"({"type":"integer"})", "1.0", false},
        {R"({"type":"integer"})", "1 2", false},
        {R"({"type":"integer"})", "// comment\n1", false},
        {R"({"type":"array"})", "[1,]", false},
        {R"({"type":"array"})", std::string(40, '[') + std::string(40, ']'), false},  // too deep
        {R"({"type":"array"})", std::string(32, '[') + std::string(32, ']'), true},
        {R"({"type":"number"})", "18446744073709551615", true},
        {R"({"type":"integer"})", "18446744073709551615", false},
        {R"({"type":"number","maximum":1e308})", "1e400", false},  // infinity
        // Duplicate member names: Boost.JSON keeps the last; every one must pass to prove.
        {R"({"properties":{"a":{"type":"integer"}}})", R"({"a":1,"a":2})", true},
        {R"({"properties":{"a":{"type":"integer"}}})", R"({"a":"x","a":1})", false},
        {R"({"required":["a","b"]})", R"({"a":1,"a":2})", false},
        {R"({"required":["a","b"]})", R"({"b":1,"a":2,"b":3})", true},
        {R"({"additionalProperties":false,"properties":{"a":{}}})", R"({"a":1,"b":2})", false},
        // Strings and names the parser hands over in parts (escapes, length).
        {R"({"type":"string","pattern":"^a+\na+$","minLength":6002})", long_escaped, true},
        {R"({"type":"string","maxLength":6001})", long_escaped, false},
        {R"({"properties":{"a\"b":{"type":"integer"}},"required":["a\"b"]})", R"({"a\"b":1})",
         true},
        {R"({"enum":["ab"]})", R"("ab\u0000cd")", true},
        // What events cannot judge: left to the full path, which answers.
        {R"({"enum":[[1]]})", "[1]", false},
        {R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "1", false},
        {R"({"uniqueItems":true})", "[1,2]", false},
        {R"({"minProperties":1})", R"({"a":1})", false},
        {R"({"multipleOf":2})", R"("4")", false},
        // Combinators below a value the data never reaches do not matter.
        {R"({"properties":{"x":{"anyOf":[{"type":"string"}]},"y":{"type":"integer"}}})",
         R"({"y":1})", true},
    };
    for (const Expect& e : cases) {
        auto s = CompiledSchema::compile(J(e.schema), Draft::draft7);
        ASSERT_TRUE(s) << e.schema;
        ASSERT_TRUE((*s)->has_fast_path()) << e.schema << ": " << (*s)->fast_path_refusal();
        const bool proved = (*s)->proves_valid_text(e.text);
        EXPECT_EQ(proved, e.proved) << e.schema << "\n" << e.text;
        if (proved) {
            boost::system::error_code ec;
            const json::value parsed = json::parse(e.text, ec);
            ASSERT_FALSE(ec) << e.text;
            EXPECT_EQ((*s)->verdict(Engine::valijson, parsed), true) << e.schema << "\n" << e.text;
        }
    }
    // Without a fast path nothing is proved.
    auto pp = CompiledSchema::compile(J(R"({"patternProperties":{"^x":{}}})"), Draft::draft7);
    ASSERT_TRUE(pp);
    EXPECT_FALSE((*pp)->proves_valid_text("{}"));
}

TEST(FastValidator, LeavesRareDataToValijson) {
    // A string against multipleOf (valijson parses it as a number): undecided by the fast path, answered by
    // valijson. A number beyond int64 against an integer multipleOf never reaches either: the guard refuses it.
    auto s = CompiledSchema::compile(J(R"({"multipleOf":3})"), Draft::draft7);
    ASSERT_TRUE(s && (*s)->has_fast_path());
    for (std::string_view text : {"\"9\"", "\"10\"", "\"x\""}) {
        const json::value d = J(text);
        EXPECT_FALSE((*s)->verdict(Engine::fast, d).has_value()) << text;
        EXPECT_EQ((*s)->is_valid(d), *(*s)->verdict(Engine::valijson, d)) << text;
    }
    EXPECT_TRUE((*s)->is_valid(J("\"9\"")));
    EXPECT_FALSE((*s)->is_valid(J("\"10\"")));
    EXPECT_EQ((*s)->verdict(Engine::fast, J("1e300")), false);
    EXPECT_EQ((*s)->verdict(Engine::valijson, J("1e300")), false);
}

TEST(FastValidator, GuardsStillComeFirst) {
    auto s = CompiledSchema::compile(J(R"({"type":"array"})"), Draft::draft7);
    ASSERT_TRUE(s && (*s)->has_fast_path());
    json::value deep = json::array{};
    for (int i = 0; i < 200; ++i) deep = json::array{deep};
    EXPECT_EQ((*s)->verdict(Engine::fast, deep), false);
    EXPECT_FALSE((*s)->is_valid(deep));
    json::value ok = json::array{};
    for (std::size_t i = 0; i < CompiledSchema::max_depth; ++i) ok = json::array{ok};
    EXPECT_EQ((*s)->verdict(Engine::fast, ok), true);
    EXPECT_EQ((*s)->verdict(Engine::valijson, ok), true);
}

TEST(FastValidator, UnsupportedKeywordsFallBackToValijson) {
    struct Expect {
        std::string_view schema;
        std::string_view refusal;  // part of fast_path_refusal()
        std::string_view valid;
        std::string_view invalid;
    };
    const Expect cases[] = {
        {R"({"patternProperties":{"^x-":{"type":"string"}}})", "patternProperties",
         R"({"x-a":"s"})", R"({"x-a":1})"},
        {R"({"dependencies":{"a":["b"]}})", "dependencies", R"({"a":1,"b":2})", R"({"a":1})"},
        {R"({"if":{"required":["a"]},"then":{"required":["b"]}})", "if", R"({"a":1,"b":1})",
         R"({"a":1})"},
        {R"({"contains":{"type":"string"}})", "contains", R"([1,"a"])", "[1]"},
        {R"({"propertyNames":{"maxLength":2}})", "propertyNames", R"({"ab":1})", R"({"abc":1})"},
        {R"({"items":[{"type":"string"}]})", "tuple", R"(["a"])", "[1]"},
        {R"({"items":{"type":"string"},"additionalItems":false})", "additionalItems", R"(["a"])",
         "[1]"},
        {R"({"properties":{"a/b":{"type":"string"}}})", "property name", R"({"a/b":"s"})",
         R"({"a/b":1})"},
        {R"({"required":["a\u0000b"]})", "required", R"({"a":1})", R"({"b":1})"},
        {R"({"pattern":"^a\u0000b"})", "pattern", R"("ab")", R"("b")"},
        {R"({"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[
            {"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[{"allOf":[
            {"allOf":[{"type":"string"}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]})",
         "nested deeper", "\"s\"", "1"},
        {R"({"definitions":{"a":{"type":"integer"}},"properties":{"x":{"$ref":"#/definitions/%61"}}})",
         "$ref", R"({"x":1})", R"({"x":"s"})"},
    };
    for (const Expect& e : cases) {
        auto s = CompiledSchema::compile(J(e.schema), Draft::draft7);
        ASSERT_TRUE(s) << e.schema << ": " << s.error().message;
        EXPECT_FALSE((*s)->has_fast_path()) << e.schema;
        EXPECT_NE((*s)->fast_path_refusal().find(e.refusal), std::string_view::npos)
            << e.schema << ": " << (*s)->fast_path_refusal();
        EXPECT_FALSE((*s)->verdict(Engine::fast, J(e.valid)).has_value());
        EXPECT_TRUE((*s)->is_valid(J(e.valid))) << e.schema << " " << e.valid;
        EXPECT_FALSE((*s)->is_valid(J(e.invalid))) << e.schema << " " << e.invalid;
        EXPECT_TRUE((*s)->validate(J(e.valid)).empty());
        EXPECT_FALSE((*s)->validate(J(e.invalid)).empty());
    }
    // Draft 4's "id" sets a resolution scope for valijson: left to it.
    auto d4 = CompiledSchema::compile(J(R"({"id":"http://example.com/x.json","type":"integer"})"),
                                      Draft::draft4);
    ASSERT_TRUE(d4);
    EXPECT_FALSE((*d4)->has_fast_path());
    EXPECT_TRUE((*d4)->is_valid(J("1")));
}

// --- pattern automata ----------------------------------------------------------------------------

TEST(PatternAutomata, AgreeWithTheNfaSimulation) {
    const std::string_view patterns[] = {
        "^ord_[0-9a-z]{8,32}$",
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$",
        "^[A-Z]{3}$",
        "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$",
        "^[A-Z0-9-]{3,20}$",
        "b",
        "a|b",
        "^(a|ab)(c|bcd)$",
        "(a|b)*abb",
        "x*",
        "^$",
        "$",
        "^",
        "a$|^b",
        "colou?r",
        "[^a-c]+",
        ".",
        "^.$",
        "日本|😀",
        "[é-ü]+",
        "\\d+\\.\\d*",
        "\\W\\S\\D",
        "(?:ab){2,3}c?",
        "[\\s\\S]{2}",
        "a.c",
        "^a.*z$",
        "(x|y)+?z",
        "\\u00e9",
        "[\\u2028]",
        "^[\\w.-]+$",
        "a{0}b",
        "(a*)*b",
        "^(?:[a-z]+,)*[a-z]+$",
        "\\bfoo\\b",  // no automata: matched by the NFA either way
    };
    const std::string_view pieces[] = {"a",  "b",  "c",    "ab", "z",    "Z", "0",
                                       "9",  "-",  ".",    ":",  "T",    "@", " ",
                                       "\n", "\r", "é",    "ü",  "日本", "😀", "\xe2\x80\xa8",
                                       "x",  "y",  "ord_", ",",  "\xff", "_"};
    std::mt19937_64 rng(7);
    std::size_t checked = 0;
    for (std::string_view source : patterns) {
        auto fast = Pattern::compile(source);
        auto slow = Pattern::compile(source, Pattern::Automata::skip);
        ASSERT_TRUE(fast && slow) << source;
        EXPECT_EQ(fast->has_automata(), source != "\\bfoo\\b") << source;
        EXPECT_FALSE(slow->has_automata());
        std::vector<std::string> subjects = {"",
                                             "ord_7f3k9x2m4q",
                                             "2026-11-27T05:40:00.000Z",
                                             "EUR",
                                             "ada@example.org",
                                             "BOOK-0042",
                                             "abb",
                                             "abcd",
                                             "colour"};
        for (int i = 0; i < 400; ++i) {
            std::string s;
            const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 14)(rng);
            for (std::size_t k = 0; k < n; ++k)
                s += pieces[std::uniform_int_distribution<std::size_t>(0,
                                                                       std::size(pieces) - 1)(rng)];
            subjects.push_back(std::move(s));
        }
        for (const std::string& s : subjects) {
            ASSERT_EQ(fast->search(s), slow->search(s)) << source << " search '" << s << "'";
            ASSERT_EQ(fast->full_match(s), slow->full_match(s)) << source << " full '" << s << "'";
            ++checked;
        }
    }
    EXPECT_GT(checked, 10000u);
}

TEST(PatternAutomata, LargePatternsKeepTheNfa) {
    // Too many instructions for the automata: still compiled, still linear.
    auto p = Pattern::compile("^(?:[a-z]{100}){50}$");
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->has_automata());
    EXPECT_TRUE(p->full_match(std::string(5000, 'q')));
}

}  // namespace
}  // namespace herald::schema
