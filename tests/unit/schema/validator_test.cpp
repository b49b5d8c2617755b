// Validation results on valid and invalid payloads, keyword by keyword (draft-07 unless stated):
// each violation is checked for the JSON pointer of the offending value and the keyword that
// failed. Also: schemas refused at compile time, the guards that keep valijson safe on hostile
// data, and draft-04 specifics.

#include "schema/validator.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace herald::schema {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

std::shared_ptr<const CompiledSchema> compile(std::string_view schema,
                                              Draft draft = Draft::draft7) {
    auto c = CompiledSchema::compile(J(schema), draft);
    EXPECT_TRUE(c) << schema << "\n" << (c ? "" : c.error().message);
    return c ? *c : nullptr;
}

std::string dump(const std::vector<Violation>& v) { return json::serialize(to_json(v)); }

void expect_valid(const CompiledSchema& s, std::string_view data) {
    const json::value d = J(data);
    const auto v = s.validate(d);
    EXPECT_TRUE(v.empty()) << data << " → " << dump(v);
    EXPECT_TRUE(s.is_valid(d)) << data;
}

// Exactly these (pointer, keyword) pairs, in this order.
void expect_violations(const CompiledSchema& s, std::string_view data,
                       const std::vector<std::pair<std::string, std::string>>& expected) {
    const json::value d = J(data);
    const auto v = s.validate(d);
    EXPECT_FALSE(s.is_valid(d)) << data;
    ASSERT_EQ(v.size(), expected.size()) << data << " → " << dump(v);
    for (std::size_t i = 0; i < v.size(); ++i) {
        EXPECT_EQ(v[i].pointer, expected[i].first) << i << ": " << dump(v);
        EXPECT_EQ(v[i].keyword, expected[i].second) << i << ": " << dump(v);
        EXPECT_FALSE(v[i].message.empty());
    }
}

constexpr std::string_view order_schema = R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "orderId": {"type": "string", "pattern": "^ORD-[0-9]{4,}$"},
        "status": {"enum": ["created", "shipped", "delivered"]},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
        "customer": {
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}},
            "required": ["email"],
            "additionalProperties": false
        },
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "maxItems": 3}
    },
    "required": ["orderId", "status"]
})";

TEST(Validator, ValidDataHasNoViolations) {
    auto s = compile(order_schema);
    expect_valid(*s, R"({"orderId":"ORD-1234","status":"shipped"})");
    expect_valid(*s, R"({"orderId":"ORD-12345","status":"created","quantity":100,
        "customer":{"email":"a@example.com","name":"A"},"tags":["x","y"]})");
}

TEST(Validator, Required) {
    auto s = compile(order_schema);
    expect_violations(*s, R"({"status":"shipped"})", {{"", "required"}});
    const auto v = s->validate(J(R"({"status":"shipped"})"));
    EXPECT_EQ(v[0].message, "missing required property 'orderId'");
    expect_violations(*s, R"({"orderId":"ORD-1234","status":"shipped","customer":{}})",
                      {{"/customer", "required"}});
}

TEST(Validator, Type) {
    auto s = compile(order_schema);
    expect_violations(*s, R"({"orderId":"ORD-1234","status":"shipped","quantity":"3"})",
                      {{"/quantity", "type"}});
    const auto v = s->validate(J(R"({"orderId":"ORD-1234","status":"shipped","quantity":2.5})"));
    ASSERT_EQ(v.size(), 1u) << dump(v);
    EXPECT_EQ(v[0].keyword, "type");
    EXPECT_EQ(v[0].message, "type number is not allowed here");
    expect_violations(*s, R"([])", {{"", "type"}});
    // Documented deviation (docs/schemas.md): 1.0 is a number, not an integer.
    auto integer = compile(R"({"type":"integer"})");
    expect_valid(*integer, "1");
    expect_violations(*integer, "1.0", {{"", "type"}});
}

TEST(Validator, Enum) {
    auto s = compile(order_schema);
    expect_violations(*s, R"({"orderId":"ORD-1234","status":"lost"})", {{"/status", "enum"}});
}

TEST(Validator, MinimumMaximum) {
    auto s = compile(order_schema);
    expect_violations(*s, R"({"orderId":"ORD-1234","status":"shipped","quantity":0})",
                      {{"/quantity", "minimum"}});
    const auto v = s->validate(J(R"({"orderId":"ORD-1234","status":"shipped","quantity":101})"));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].keyword, "maximum");
    EXPECT_EQ(v[0].message, "must be at most 100");
    auto e = compile(R"({"exclusiveMinimum":0,"exclusiveMaximum":1.5})");
    expect_violations(*e, "0", {{"", "exclusiveMinimum"}});
    expect_violations(*e, "1.5", {{"", "exclusiveMaximum"}});
    expect_valid(*e, "1");
}

TEST(Validator, Pattern) {
    auto s = compile(order_schema);
    expect_violations(*s, R"({"orderId":"ord-1","status":"shipped"})", {{"/orderId", "pattern"}});
    const auto v = s->validate(J(R"({"orderId":"ord-1","status":"shipped"})"));
    EXPECT_EQ(v[0].message, "does not match the pattern '^ORD-[0-9]{4,}$'");
    // A string long enough to crash std::regex is answered normally.
    json::object big{{"orderId", std::string(500'000, '9')}, {"status", "shipped"}};
    const auto w = s->validate(big);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].keyword, "pattern");
    big["orderId"] = "ORD-" + std::string(500'000, '9');
    EXPECT_TRUE(s->is_valid(big));
}

TEST(Validator, AdditionalPropertiesPointsAtTheProperty) {
    auto s = compile(order_schema);
    const auto v = s->validate(J(R"({"orderId":"ORD-1234","status":"shipped",
        "customer":{"email":"a@example.com","phone":"123"}})"));
    ASSERT_EQ(v.size(), 1u) << dump(v);
    EXPECT_EQ(v[0].pointer, "/customer/phone");
    EXPECT_EQ(v[0].keyword, "additionalProperties");
    EXPECT_EQ(v[0].message, "property 'phone' is not allowed");
}

TEST(Validator, ItemsReportTheItemNotTheArray) {
    auto s = compile(order_schema);
    expect_violations(
        *s, R"({"orderId":"ORD-1234","status":"shipped","tags":["ok",7,"far too long a tag"]})",
        {{"/tags/1", "type"}, {"/tags/2", "maxLength"}});
    expect_violations(*s, R"({"orderId":"ORD-1234","status":"shipped","tags":["a","b","c","d"]})",
                      {{"/tags", "maxItems"}});
    auto tuple =
        compile(R"({"items":[{"type":"string"},{"type":"integer"}],"additionalItems":false})");
    expect_valid(*tuple, R"(["a",1])");
    expect_violations(*tuple, R"(["a","b"])", {{"/1", "type"}});
    expect_violations(*tuple, R"(["a",1,true])", {{"", "additionalItems"}});
}

TEST(Validator, OneOf) {
    auto s = compile(R"({"oneOf":[{"type":"integer"},{"type":"number","minimum":10}]})");
    expect_valid(*s, "5");                   // only the first
    expect_valid(*s, "10.5");                // only the second
    const auto both = s->validate(J("20"));  // integer and >= 10
    ASSERT_EQ(both.size(), 1u) << dump(both);
    EXPECT_EQ(both[0].keyword, "oneOf");
    EXPECT_EQ(both[0].message, "matches more than one of the oneOf alternatives");
    const auto none = s->validate(J(R"("x")"));
    ASSERT_FALSE(none.empty());
    EXPECT_EQ(none.back().keyword, "oneOf");
    EXPECT_EQ(none.back().message, "matches none of the oneOf alternatives");
    EXPECT_EQ(none.back().pointer, "");
}

TEST(Validator, AnyOfAllOfNot) {
    auto any = compile(R"({"anyOf":[{"type":"string"},{"type":"null"}]})");
    expect_valid(*any, "null");
    EXPECT_EQ(any->validate(J("1")).back().keyword, "anyOf");
    auto all = compile(R"({"allOf":[{"required":["a"]},{"required":["b"]}]})");
    expect_violations(*all, R"({"a":1})", {{"", "required"}});
    auto not_ = compile(R"({"not":{"type":"string"}})");
    expect_violations(*not_, R"("s")", {{"", "not"}});
    expect_valid(*not_, "1");
}

TEST(Validator, ConstLengthsCountsAndMultipleOf) {
    auto s = compile(R"({"properties":{
        "v":{"const":"fixed"},
        "s":{"minLength":2,"maxLength":3},
        "a":{"minItems":1},
        "o":{"minProperties":1,"maxProperties":1},
        "m":{"multipleOf":5}}})");
    expect_valid(*s, R"({"v":"fixed","s":"abc","a":[1],"o":{"x":1},"m":15})");
    // Violations come in document order: by pointer, array indexes numerically.
    expect_violations(*s, R"({"v":"other","s":"a","a":[],"o":{},"m":7})",
                      {{"/a", "minItems"},
                       {"/m", "multipleOf"},
                       {"/o", "minProperties"},
                       {"/s", "minLength"},
                       {"/v", "const"}});
    expect_violations(*s, R"({"s":"abcd","o":{"x":1,"y":2}})",
                      {{"/o", "maxProperties"}, {"/s", "maxLength"}});
    // Lengths count code points, not bytes.
    expect_valid(*s, R"({"s":"日本語"})");
}

TEST(Validator, UniqueItemsIsHerald) {
    auto s = compile(R"({"uniqueItems":true})");
    expect_valid(*s, R"([1,2,"1",{"a":1},{"a":2},[1],[2]])");
    const auto v = s->validate(J(R"([1,{"a":1,"b":2},3,{"b":2,"a":1},1.0])"));
    ASSERT_EQ(v.size(), 1u) << dump(v);
    EXPECT_EQ(v[0].keyword, "uniqueItems");
    EXPECT_EQ(v[0].message, "items 1 and 3 are equal");  // objects equal regardless of member order
    expect_violations(*s, "[2, 2.0]", {{"", "uniqueItems"}});  // numbers compare by value
    // Many duplicates: one violation, quickly (valijson's own check reports every pair).
    json::array many(200'000, json::value(0));
    const auto w = s->validate(many);
    ASSERT_EQ(w.size(), 1u);
}

TEST(Validator, Formats) {
    auto s = compile(R"({"properties":{
        "dt":{"format":"date-time"},"d":{"format":"date"},"t":{"format":"time"},"e":{"format":"email"},
        "h":{"format":"hostname"},"v4":{"format":"ipv4"},"v6":{"format":"ipv6"},"u":{"format":"uri"},
        "r":{"format":"uri-reference"},"id":{"format":"uuid"},"p":{"format":"json-pointer"},"re":{"format":"regex"},
        "x":{"format":"made-up"}}})");
    expect_valid(
        *s,
        R"({"dt":"2024-02-29T12:00:00Z","d":"2024-02-29","t":"23:59:60.5+01:00","e":"a.b+c@example.com",
        "h":"api.example.com","v4":"192.168.0.1","v6":"2001:db8::1","u":"https://example.com/a?b#c","r":"../a",
        "id":"01890a5d-ac96-774b-bcce-b302099a8057","p":"/a/~1b","re":"^[a-z]+$","x":"anything"})");
    expect_violations(
        *s, R"({"dt":"2023-02-29T12:00:00Z","d":"2024-13-01","t":"24:00:00Z","e":"no-at-sign",
        "h":"-bad.example","v4":"192.168.0.256","v6":"2001:db8::g","u":"relative/path","r":"a b",
        "id":"not-a-uuid","p":"a/b","re":"(unclosed"})",
        {{"/d", "format"},
         {"/dt", "format"},
         {"/e", "format"},
         {"/h", "format"},
         {"/id", "format"},
         {"/p", "format"},
         {"/r", "format"},
         {"/re", "format"},
         {"/t", "format"},
         {"/u", "format"},
         {"/v4", "format"},
         {"/v6", "format"}});
    // valijson's own format check aborts on non-strings; Herald's ignores them (type is type's
    // business).
    expect_valid(*s, R"({"dt":5,"d":null,"e":{"x":1}})");
    auto typed = compile(R"({"type":"string","format":"date-time"})");
    expect_violations(*typed, "5", {{"", "type"}});
}

TEST(Validator, DependenciesConditionalsAndFalseSchemas) {
    auto deps = compile(R"({"dependencies":{"card":["billing"],"coupon":{"required":["code"]}}})");
    expect_valid(*deps, R"({"card":1,"billing":2})");
    expect_violations(*deps, R"({"card":1})", {{"", "dependencies"}});
    expect_violations(*deps, R"({"coupon":1})", {{"", "required"}});

    auto cond = compile(R"({"if":{"properties":{"kind":{"const":"parcel"}}},
        "then":{"required":["weight"]},"else":{"required":["volume"]}})");
    expect_valid(*cond, R"({"kind":"parcel","weight":1})");
    expect_valid(*cond, R"({"kind":"letter","volume":1})");
    expect_violations(*cond, R"({"kind":"parcel"})", {{"", "required"}});

    // valijson says nothing of its own about a false subschema; the wrapper is kept and points at
    // the value.
    auto forbidden = compile(R"({"properties":{"legacy":false}})");
    expect_violations(*forbidden, R"({"legacy":1})", {{"/legacy", "properties"}});
    auto names = compile(R"({"propertyNames":{"pattern":"^[a-z]+$"}})");
    expect_valid(*names, R"({"abc":1})");
    expect_violations(*names, R"({"ABC":1})", {{"", "propertyNames"}});
}

TEST(Validator, SeveralViolationsAtOnce) {
    auto s = compile(order_schema);
    expect_violations(
        *s, R"({"orderId":5,"status":"lost","quantity":0,"customer":{"email":"nope"},"tags":[1]})",
        {{"/customer/email", "format"},
         {"/orderId", "type"},
         {"/quantity", "minimum"},
         {"/status", "enum"},
         {"/tags/0", "type"}});
}

TEST(Validator, PointersEscapeSpecialCharacters) {
    auto s = compile(R"({"properties":{"a/b":{"properties":{"c~d":{"type":"string"}}}}})");
    expect_violations(*s, R"({"a/b":{"c~d":1}})", {{"/a~1b/c~0d", "type"}});
}

TEST(Validator, ViolationsAreCappedAndOrderedNumerically) {
    auto s = compile(R"({"items":{"type":"string"}})");
    json::array data(5'000, json::value(1));
    const auto v = s->validate(data);
    ASSERT_EQ(v.size(), CompiledSchema::max_violations);
    EXPECT_EQ(v[0].pointer, "/0");
    EXPECT_EQ(v[2].pointer, "/2");
    EXPECT_EQ(v[10].pointer, "/10");
}

TEST(Validator, LargeInvalidDataGetsAVerdictNotAList) {
    auto s = compile(R"({"items":{"type":"string"}})");
    json::array data(CompiledSchema::max_detailed_values + 1, json::value(1));
    const auto v = s->validate(data);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].pointer, "");
    EXPECT_EQ(v[0].keyword, "schema");
    EXPECT_NE(v[0].message.find("too many to list"), std::string::npos);
    // Large valid data is simply valid.
    json::array strings(CompiledSchema::max_detailed_values + 1, json::value("x"));
    EXPECT_TRUE(s->validate(strings).empty());
}

TEST(Validator, ToJsonShape) {
    const json::value j = to_json({{"/a", "type", "type string is not allowed here"}});
    EXPECT_EQ(json::serialize(j),
              R"([{"pointer":"/a","keyword":"type","message":"type string is not allowed here"}])");
}

TEST(Validator, RecursiveSchemas) {
    auto s = compile(R"({"definitions":{"node":{"type":"object","required":["name"],"properties":{
        "name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/definitions/node"}}}}},
        "$ref":"#/definitions/node"})");
    expect_valid(
        *s, R"({"name":"root","children":[{"name":"a"},{"name":"b","children":[{"name":"c"}]}]})");
    expect_violations(*s, R"({"name":"root","children":[{"name":"a"},{"children":[{"name":1}]}]})",
                      {{"/children/1", "required"}, {"/children/1/children/0/name", "type"}});
    auto self = compile(R"({"properties":{"next":{"$ref":"#"},"v":{"type":"integer"}}})");
    expect_violations(*self, R"({"next":{"next":{"v":"x"}}})", {{"/next/next/v", "type"}});
}

TEST(Validator, DraftFour) {
    auto s = compile(
        R"({"$schema":"http://json-schema.org/draft-04/schema#","id":"http://example.com/x.json",
        "properties":{"n":{"type":"number","minimum":0,"exclusiveMinimum":true}}, "required":["n"]})",
        Draft::draft4);
    expect_valid(*s, R"({"n":0.5})");
    expect_violations(*s, R"({"n":0})", {{"/n", "exclusiveMinimum"}});
    expect_violations(*s, R"({})", {{"", "required"}});
}

TEST(Validator, GuardsKeepHostileDataAwayFromValijson) {
    auto s = compile(R"({"type":"array"})");
    json::value deep = json::array{};
    for (int i = 0; i < 200; ++i) deep = json::array{deep};
    const auto v = s->validate(deep);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].keyword, "depth");
    EXPECT_FALSE(s->is_valid(deep));

    auto pp = compile(R"({"patternProperties":{"^x-":{"type":"string"}}})");
    json::object long_key;
    long_key[std::string(5000, 'x')] = 1;
    const auto w = pp->validate(long_key);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].keyword, "patternProperties");
    expect_violations(*pp, R"({"x-a":1})", {{"/x-a", "type"}});
    expect_valid(*pp, R"({"x-a":"s","other":1})");

    // Integers above int64 (Boost.JSON's uint64) are numbers to the validator, not a crash.
    auto big = compile(R"({"type":"number","minimum":0})");
    expect_valid(*big, "18446744073709551615");
    auto integer = compile(R"({"type":"integer"})");
    expect_violations(*integer, "18446744073709551615", {{"", "type"}});

    // valijson's integer multipleOf converts the value to int64: beyond that range the guard refuses it (found
    // by the UBSan suite: the conversion is undefined behaviour). Both engines, and the text path, agree.
    auto multiple = compile(R"({"properties":{"n":{"multipleOf":3},"other":{"type":"number"}}})");
    for (const char* text : {R"({"n":1e300})", R"({"n":18446744073709551615})", R"({"n":-1e19})",
                             R"({"other":1e20,"n":3})"}) {
        const auto v = multiple->validate(J(text));
        ASSERT_EQ(v.size(), 1u) << text;
        EXPECT_EQ(v[0].keyword, "multipleOf") << text;
        EXPECT_FALSE(multiple->is_valid(J(text))) << text;
        EXPECT_FALSE(multiple->proves_valid_text(text)) << text;
        EXPECT_EQ(multiple->verdict(CompiledSchema::Engine::valijson, J(text)), false) << text;
    }
    expect_valid(*multiple, R"({"n":9223372036854775806,"other":9e18})");
    expect_valid(*multiple, R"({"n":-3,"other":-9.2e18})");
    expect_violations(*multiple, R"({"n":4})", {{"/n", "multipleOf"}});
    // A fractional divisor has no such conversion: big numbers are checked as they are.
    auto fractional = compile(R"({"multipleOf":0.5})");
    expect_valid(*fractional, "1e300");

    // valijson counts code points with a table it reads past on a run of continuation bytes (found by the ASan
    // suite). JSON text is always UTF-8; a value built in code may not be: refused where lengths are checked.
    auto lengths = compile(R"({"properties":{"name":{"maxLength":3}}})");
    json::object bad;
    bad["other"] = std::string("\x80\x80\x80\x80\x80\x80\x80\x80", 8);
    const auto u = lengths->validate(bad);
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].pointer, "/other");
    EXPECT_EQ(u[0].keyword, "utf-8");
    EXPECT_FALSE(lengths->is_valid(bad));
    EXPECT_EQ(lengths->verdict(CompiledSchema::Engine::fast, bad), false);
    EXPECT_EQ(lengths->verdict(CompiledSchema::Engine::valijson, bad), false);
    json::object after_nul;  // valijson reads up to the first NUL, and so does the guard
    after_nul["name"] = std::string("ab\0\x80", 4);
    EXPECT_TRUE(lengths->is_valid(after_nul));
    expect_valid(*lengths, R"({"name":"äöü","other":"\u00ff"})");
}

TEST(Validator, InvalidSchemasAreRefusedWithTheirLocation) {
    auto expect_refused = [](std::string_view schema, std::string_view needle) {
        auto c = CompiledSchema::compile(J(schema), Draft::draft7);
        ASSERT_FALSE(c) << schema;
        EXPECT_EQ(c.error().code, Errc::invalid_argument);
        EXPECT_EQ(c.error().attribute, "schema");
        EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
    };
    expect_refused(R"({"properties":{"sku":{"pattern":"(a)\\1"}}})",
                   "/properties/sku/pattern: regular expression");
    expect_refused(R"j({"pattern":"(?=x)"})j", "lookahead");
    expect_refused(R"({"pattern":5})", "must be a string");
    expect_refused(R"({"type":"strnig"})", "/: \"type\" must be one of null, boolean");
    expect_refused(R"({"properties":{"n":{"minimum":"5"}}})",
                   "/properties/n: \"minimum\" must be a number");
    expect_refused(R"({"required":"a"})", "\"required\" must be an array");
    expect_refused(R"({"maxLength":-1})", "\"maxLength\" must be a non-negative integer");
    expect_refused(R"({"anyOf":[]})", "non-empty array");
    expect_refused(R"({"exclusiveMinimum":true})", "must be a number in draft-07");
    // Below an unknown keyword nothing is refused: it may be data.
    EXPECT_TRUE(CompiledSchema::compile(J(R"({"x-example":{"minimum":"5","pattern":"(a)\\1"}})"),
                                        Draft::draft7));
    expect_refused(R"({"properties":{"a":5}})", "not a valid schema");
    expect_refused(R"({"x-herald-pattern":"a"})", "reserved");
    expect_refused(R"({"patternProperties":{"(":{}}})", "not valid ECMAScript");
    expect_refused(R"({"$ref":"urn:elsewhere"})", "is not local");  // bundle first
    expect_refused(R"({"properties":{"a":{"$ref":"#/definitions/nope"}}})", "points to nothing");
    // valijson itself would recurse until the stack runs out on these.
    expect_refused(R"({"$ref":"#"})", "comes back to itself");
    expect_refused(
        R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},
        "properties":{"x":{"$ref":"#/definitions/a"}}})",
        "comes back to itself");
    // ... and on these, where the loop goes through a combinator applied to the same value.
    expect_refused(R"({"allOf":[{"$ref":"#"}]})", "same value again");
    expect_refused(R"({"properties":{"a":{"anyOf":[{"type":"string"},{"$ref":"#/definitions/d"}]}},
        "definitions":{"d":{"not":{"$ref":"#/properties/a"}}}})",
                   "same value again");
    expect_refused(R"({"if":{"$ref":"#"},"then":{}})", "same value again");
    // Recursion through a property or an item consumes the data: allowed.
    EXPECT_TRUE(CompiledSchema::compile(json::parse(R"({"anyOf":[{"type":"null"},
        {"properties":{"next":{"$ref":"#"}}}]})"), Draft::draft7));
    EXPECT_TRUE(CompiledSchema::compile(json::parse(R"({"items":{"allOf":[{"$ref":"#"}]}})"), Draft::draft7));
}

}  // namespace
}  // namespace herald::schema
