// Compatibility verdicts on pairs of versions (compat.hpp, docs/schemas.md "Compatibility rules"):
// every rule has a change that breaks and one that does not, and each break is checked for its
// pointer, keyword and direction.

#include "schema/compat.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace herald::schema {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

CompatReport check(std::string_view old_schema, std::string_view new_schema,
                   CompatMode mode = CompatMode::full) {
    return check_compatibility(J(old_schema), J(new_schema), mode);
}

std::string dump(const CompatReport& r) { return json::serialize(r.to_json()); }

void expect_compatible(std::string_view old_schema, std::string_view new_schema) {
    const CompatReport r = check(old_schema, new_schema);
    EXPECT_TRUE(r.compatible()) << "old " << old_schema << "\nnew " << new_schema << "\n"
                                << dump(r);
}

// Exactly one break, with this pointer, keyword and direction.
Break expect_one_break(std::string_view old_schema, std::string_view new_schema,
                       std::string_view pointer, std::string_view keyword,
                       BreakDirection direction) {
    const CompatReport r = check(old_schema, new_schema);
    EXPECT_EQ(r.breaks.size(), 1u) << "old " << old_schema << "\nnew " << new_schema << "\n"
                                   << dump(r);
    if (r.breaks.empty()) return {};
    const Break& b = r.breaks.front();
    EXPECT_EQ(b.pointer, pointer) << dump(r);
    EXPECT_EQ(b.keyword, keyword) << dump(r);
    EXPECT_EQ(b.direction, direction) << dump(r);
    EXPECT_FALSE(b.message.empty());
    return b;
}

constexpr std::string_view order_v1 = R"({
    "type": "object",
    "properties": {
        "orderId": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "note": {"type": "string"}
    },
    "required": ["orderId", "quantity"]
})";

TEST(Compat, IdenticalSchemasAreCompatible) {
    expect_compatible(order_v1, order_v1);
    expect_compatible("true", "{}");
    expect_compatible("{}", "true");
}

TEST(Compat, AddingAnOptionalPropertyIsFineWhenTheOldVersionWasOpen) {
    expect_compatible(
        R"({"type":"object","properties":{"a":{"type":"string"}}})",
        R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}})");
}

TEST(Compat, AddingAPropertyTheOldVersionForbadeBreaksOldConsumers) {
    const Break b = expect_one_break(
        R"({"type":"object","properties":{"a":{}},"additionalProperties":false})",
        R"({"type":"object","properties":{"a":{},"b":{"type":"integer"}},"additionalProperties":false})",
        "/properties/b", "properties", BreakDirection::forward);
    EXPECT_NE(b.message.find("'b'"), std::string::npos) << b.message;
}

TEST(Compat, AddingARequiredPropertyWithoutADefaultBreaksReplay) {
    const Break b = expect_one_break(
        R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})",
        R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a","b"]})",
        "/required", "required", BreakDirection::backward);
    EXPECT_NE(b.message.find("adds required property 'b' without a default"), std::string::npos)
        << b.message;
    // Making an existing optional property required is the same break.
    expect_one_break(R"({"properties":{"a":{},"b":{}},"required":["a"]})",
                     R"({"properties":{"a":{},"b":{}},"required":["a","b"]})", "/required",
                     "required", BreakDirection::backward);
}

TEST(Compat, AddingARequiredPropertyWithADefaultIsFine) {
    expect_compatible(
        R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})",
        R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string","default":"x"}},
            "required":["a","b"]})");
}

TEST(Compat, RemovingARequiredPropertyBreaksOldConsumers) {
    const Break b = expect_one_break(
        order_v1,
        R"({"type":"object","properties":{"quantity":{"type":"integer","minimum":1},"note":{"type":"string"}},
            "required":["quantity"]})",
        "/required", "required", BreakDirection::forward);
    EXPECT_NE(b.message.find("'orderId' is no longer required"), std::string::npos) << b.message;
}

TEST(Compat, RemovingAnOptionalPropertyIsFineWhileTheNewVersionIsOpen) {
    expect_compatible(order_v1, R"({"type":"object","properties":{"orderId":{"type":"string"},
        "quantity":{"type":"integer","minimum":1}},"required":["orderId","quantity"]})");
}

TEST(Compat, RemovingAPropertyWhileClosingBreaksReplay) {
    const CompatReport r = check(R"({"properties":{"a":{},"b":{}}})",
                                 R"({"properties":{"a":{}},"additionalProperties":false})");
    ASSERT_EQ(r.breaks.size(), 2u) << dump(r);
    EXPECT_EQ(r.breaks[0].pointer, "/properties/b");
    EXPECT_EQ(r.breaks[0].direction, BreakDirection::backward);
    EXPECT_EQ(r.breaks[1].pointer, "/additionalProperties");
    EXPECT_EQ(r.breaks[1].keyword, "additionalProperties");
}

TEST(Compat, NarrowingATypeBreaksReplay) {
    const Break b = expect_one_break(R"({"properties":{"price":{"type":"number"}}})",
                                     R"({"properties":{"price":{"type":"integer"}}})",
                                     "/properties/price/type", "type", BreakDirection::backward);
    EXPECT_NE(b.message.find("no longer allows non-integer number"), std::string::npos)
        << b.message;
    // Removing a type from a union.
    expect_one_break(R"({"type":["string","null"]})", R"({"type":"string"})", "/type", "type",
                     BreakDirection::backward);
    // Adding a type where there was none.
    expect_one_break(R"({})", R"({"type":"object"})", "/type", "type", BreakDirection::backward);
}

TEST(Compat, WideningATypeBreaksOldConsumers) {
    expect_one_break(R"({"type":"integer"})", R"({"type":"number"})", "/type", "type",
                     BreakDirection::forward);
    const Break b = expect_one_break(R"({"type":"string"})", R"({"type":["string","null"]})",
                                     "/type", "type", BreakDirection::forward);
    EXPECT_NE(b.message.find("now also allows null"), std::string::npos) << b.message;
}

TEST(Compat, SameTypeWrittenDifferentlyIsFine) {
    expect_compatible(R"({"type":["null","string"]})", R"({"type":["string","null"]})");
    expect_compatible(R"({"type":["integer","number"]})", R"({"type":"number"})");
}

TEST(Compat, EnumAdditionsAndRemovals) {
    const Break added = expect_one_break(R"({"enum":["a","b"]})", R"({"enum":["a","b","c"]})",
                                         "/enum", "enum", BreakDirection::forward);
    EXPECT_NE(added.message.find("[\"c\"]"), std::string::npos) << added.message;
    expect_one_break(R"({"enum":["a","b"]})", R"({"enum":["a"]})", "/enum", "enum",
                     BreakDirection::backward);
    expect_one_break(R"({"type":"string"})", R"({"type":"string","enum":["a"]})", "/enum", "enum",
                     BreakDirection::backward);
    expect_one_break(R"({"const":"a"})", R"({"enum":["a","b"]})", "/enum", "enum",
                     BreakDirection::forward);
    expect_compatible(R"({"enum":["a","b",1]})", R"({"enum":[1,"b","a"]})");
    expect_compatible(R"({"const":"a"})", R"({"enum":["a"]})");
}

TEST(Compat, TighteningNumericBoundsBreaksReplayLooseningBreaksOldConsumers) {
    expect_one_break(R"({"minimum":1})", R"({"minimum":2})", "/minimum", "minimum",
                     BreakDirection::backward);
    expect_one_break(R"({"minimum":2})", R"({"minimum":1})", "/minimum", "minimum",
                     BreakDirection::forward);
    expect_one_break(R"({"maximum":10})", R"({"maximum":9})", "/maximum", "maximum",
                     BreakDirection::backward);
    expect_one_break(R"({})", R"({"maximum":9})", "/maximum", "maximum", BreakDirection::backward);
    expect_one_break(R"({"maximum":9})", R"({})", "/maximum", "maximum", BreakDirection::forward);
    // Same bound, now exclusive (draft 7 numeric form).
    expect_one_break(R"({"minimum":1})", R"({"exclusiveMinimum":1})", "/exclusiveMinimum",
                     "exclusiveMinimum", BreakDirection::backward);
    // Draft 4 boolean exclusiveMaximum against the equal draft 7 form: no change.
    expect_compatible(R"({"maximum":5,"exclusiveMaximum":true})", R"({"exclusiveMaximum":5})");
    expect_compatible(R"({"minimum":0})", R"({"minimum":0.0})");
}

TEST(Compat, StringAndArrayLengthBounds) {
    expect_one_break(R"({"maxLength":20})", R"({"maxLength":10})", "/maxLength", "maxLength",
                     BreakDirection::backward);
    expect_one_break(R"({"maxLength":10})", R"({"maxLength":20})", "/maxLength", "maxLength",
                     BreakDirection::forward);
    expect_one_break(R"({})", R"({"minLength":1})", "/minLength", "minLength",
                     BreakDirection::backward);
    expect_compatible(R"({"minLength":0})", R"({})");
    expect_one_break(R"({"minItems":1})", R"({"minItems":2})", "/minItems", "minItems",
                     BreakDirection::backward);
    expect_one_break(R"({"maxProperties":3})", R"({"maxProperties":2})", "/maxProperties",
                     "maxProperties", BreakDirection::backward);
    expect_compatible(R"({"maxItems":3,"minItems":1})", R"({"minItems":1,"maxItems":3})");
}

TEST(Compat, PatternsAndFormats) {
    expect_one_break(R"({"type":"string"})", R"({"type":"string","pattern":"^[A-Z]+$"})",
                     "/pattern", "pattern", BreakDirection::backward);
    expect_one_break(R"({"pattern":"^[A-Z]+$"})", R"({})", "/pattern", "pattern",
                     BreakDirection::forward);
    expect_one_break(R"({"pattern":"^[A-Z]+$"})", R"({"pattern":"^[A-Z0-9]+$"})", "/pattern",
                     "pattern", BreakDirection::both);
    expect_compatible(R"({"pattern":"^[A-Z]+$"})", R"({"pattern":"^[A-Z]+$"})");
    expect_one_break(R"({"type":"string"})", R"({"type":"string","format":"date-time"})", "/format",
                     "format", BreakDirection::backward);
    // Formats Herald does not assert are annotations: changing them breaks nobody.
    expect_compatible(R"({"type":"string","format":"iri"})",
                      R"({"type":"string","format":"idn-email"})");
}

TEST(Compat, MultipleOf) {
    expect_one_break(R"({"multipleOf":2})", R"({"multipleOf":4})", "/multipleOf", "multipleOf",
                     BreakDirection::backward);
    expect_one_break(R"({"multipleOf":4})", R"({"multipleOf":2})", "/multipleOf", "multipleOf",
                     BreakDirection::forward);
    expect_one_break(R"({"multipleOf":2})", R"({"multipleOf":3})", "/multipleOf", "multipleOf",
                     BreakDirection::both);
    expect_compatible(R"({"multipleOf":0.5})", R"({"multipleOf":0.5})");
}

TEST(Compat, AdditionalPropertiesClosedOrOpened) {
    expect_one_break(R"({"type":"object"})", R"({"type":"object","additionalProperties":false})",
                     "/additionalProperties", "additionalProperties", BreakDirection::backward);
    expect_one_break(R"({"additionalProperties":false})", R"({"additionalProperties":true})",
                     "/additionalProperties", "additionalProperties", BreakDirection::forward);
    const Break b = expect_one_break(R"({"additionalProperties":{"type":"string"}})",
                                     R"({"additionalProperties":{"type":"integer"}})",
                                     "/additionalProperties/type", "type", BreakDirection::both);
    EXPECT_EQ(b.message, "changes the type from string to integer");
    expect_compatible(R"({"additionalProperties":false})", R"({"additionalProperties":false})");
}

TEST(Compat, NestedPropertiesReportTheirLocation) {
    const char* old_schema = R"({"properties":{"address":{"type":"object","properties":{
        "zip":{"type":"string","maxLength":10},"city":{"type":"string"}},"required":["zip"]}}})";
    const char* new_schema = R"({"properties":{"address":{"type":"object","properties":{
        "zip":{"type":"string","maxLength":5},"city":{"type":"string"}},"required":["zip"]}}})";
    expect_one_break(old_schema, new_schema, "/properties/address/properties/zip/maxLength",
                     "maxLength", BreakDirection::backward);
}

TEST(Compat, ArrayItemsAreWalked) {
    expect_one_break(
        R"({"properties":{"tags":{"type":"array","items":{"type":"string"}}}})",
        R"({"properties":{"tags":{"type":"array","items":{"type":"string","enum":["a"]}}}})",
        "/properties/tags/items/enum", "enum", BreakDirection::backward);
    expect_one_break(R"({"items":[{"type":"string"},{"type":"integer"}]})",
                     R"({"items":[{"type":"string"},{"type":"number"}]})", "/items/1/type", "type",
                     BreakDirection::forward);
    expect_one_break(R"({"items":[{"type":"string"}]})",
                     R"({"items":[{"type":"string"}],"additionalItems":false})", "/additionalItems",
                     "additionalItems", BreakDirection::backward);
    expect_one_break(R"({})", R"({"uniqueItems":true})", "/uniqueItems", "uniqueItems",
                     BreakDirection::backward);
    expect_compatible(R"({"items":{"type":"string"}})", R"({"items":{"type":"string"}})");
}

TEST(Compat, ReferencesAreFollowedAndNamedInThePointer) {
    const char* old_schema =
        R"({"definitions":{"money":{"type":"object","properties":{"amount":{"type":"number"}}}},
        "properties":{"total":{"$ref":"#/definitions/money"}}})";
    const char* new_schema =
        R"({"definitions":{"money":{"type":"object","properties":{"amount":{"type":"integer"}}}},
        "properties":{"total":{"$ref":"#/definitions/money"}}})";
    expect_one_break(old_schema, new_schema, "/properties/total/$ref/properties/amount/type",
                     "type", BreakDirection::backward);
    // Inlining a referenced schema changes nothing.
    expect_compatible(
        old_schema,
        R"({"properties":{"total":{"type":"object","properties":{"amount":{"type":"number"}}}}})");
}

TEST(Compat, RecursiveSchemasTerminate) {
    const char* tree =
        R"({"definitions":{"node":{"type":"object","properties":{"name":{"type":"string"},
        "children":{"type":"array","items":{"$ref":"#/definitions/node"}}}}},"$ref":"#/definitions/node"})";
    expect_compatible(tree, tree);
    const char* tree2 =
        R"({"definitions":{"node":{"type":"object","properties":{"name":{"type":"string","maxLength":3},
        "children":{"type":"array","items":{"$ref":"#/definitions/node"}}}}},"$ref":"#/definitions/node"})";
    expect_one_break(tree, tree2, "/$ref/properties/name/maxLength", "maxLength",
                     BreakDirection::backward);
}

TEST(Compat, UnresolvableReferencesCannotBeProved) {
    expect_one_break(R"({"$ref":"#/nowhere"})", R"({"$ref":"#/elsewhere"})", "/$ref", "$ref",
                     BreakDirection::both);
    expect_compatible(R"({"$ref":"urn:x:y"})", R"({"$ref":"urn:x:y"})");
}

TEST(Compat, Combinators) {
    // anyOf: a new alternative widens, a removed one narrows; equal members pair up whatever their
    // position.
    expect_one_break(R"({"anyOf":[{"type":"string"}]})",
                     R"({"anyOf":[{"type":"string"},{"type":"null"}]})", "/anyOf/1", "anyOf",
                     BreakDirection::forward);
    expect_one_break(R"({"anyOf":[{"type":"string"},{"type":"null"}]})",
                     R"({"anyOf":[{"type":"null"}]})", "/anyOf", "anyOf", BreakDirection::backward);
    expect_one_break(R"({"oneOf":[{"type":"string"}]})",
                     R"({"oneOf":[{"type":"string"},{"type":"integer"}]})", "/oneOf/1", "oneOf",
                     BreakDirection::both);
    // Same length: paired by position and compared inside.
    expect_one_break(R"({"allOf":[{"required":["a"]}]})", R"({"allOf":[{"required":["a","b"]}]})",
                     "/allOf/0/required", "required", BreakDirection::backward);
    expect_compatible(R"({"oneOf":[{"type":"string"},{"type":"integer"}]})",
                      R"({"oneOf":[{"type":"string"},{"type":"integer"}]})");
}

TEST(Compat, NotSwapsTheDirections) {
    // not {enum:[a]} → not {enum:[a,b]}: the new version rejects "b" too, so it is stricter: a
    // backward break.
    const Break b = expect_one_break(R"({"not":{"enum":["a"]}})", R"({"not":{"enum":["a","b"]}})",
                                     "/not/enum", "enum", BreakDirection::backward);
    EXPECT_NE(b.message.find("inside 'not'"), std::string::npos);
}

TEST(Compat, Conditionals) {
    const char* base = R"({"if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["x"]}})";
    expect_compatible(base, base);
    expect_one_break(
        base, R"({"if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["x","y"]}})",
        "/then/required", "required", BreakDirection::backward);
    expect_one_break(base,
                     R"({"if":{"properties":{"kind":{"const":"b"}}},"then":{"required":["x"]}})",
                     "/if", "if", BreakDirection::both);
    expect_one_break(R"({})", base, "/if", "if", BreakDirection::backward);
}

TEST(Compat, Dependencies) {
    expect_one_break(R"({"dependencies":{"card":["billing"]}})",
                     R"({"dependencies":{"card":["billing","cvv"]}})", "/dependencies/card",
                     "dependencies", BreakDirection::backward);
    expect_one_break(R"({"dependencies":{"card":["billing"]}})", R"({})", "/dependencies/card",
                     "dependencies", BreakDirection::forward);
}

TEST(Compat, BooleanSchemas) {
    expect_one_break(R"({"properties":{"a":true}})", R"({"properties":{"a":false}})",
                     "/properties/a", "properties", BreakDirection::backward);
    expect_one_break(R"({"properties":{"a":false}})", R"({"properties":{"a":{}}})", "/properties/a",
                     "properties", BreakDirection::forward);
    expect_one_break(R"({"items":{}})", R"({"items":false})", "/items", "items",
                     BreakDirection::backward);
}

TEST(Compat, ModesSelectDirections) {
    const char* old_schema = R"({"properties":{"a":{"type":"string"},"b":{}},"required":["a"]})";
    // Drops required "a" (forward) and narrows b to integer (backward).
    const char* new_schema = R"({"properties":{"a":{"type":"string"},"b":{"type":"integer"}}})";
    EXPECT_EQ(check(old_schema, new_schema, CompatMode::full).breaks.size(), 2u);
    const CompatReport backward = check(old_schema, new_schema, CompatMode::backward);
    ASSERT_EQ(backward.breaks.size(), 1u);
    EXPECT_EQ(backward.breaks[0].direction, BreakDirection::backward);
    const CompatReport forward = check(old_schema, new_schema, CompatMode::forward);
    ASSERT_EQ(forward.breaks.size(), 1u);
    EXPECT_EQ(forward.breaks[0].direction, BreakDirection::forward);
    EXPECT_TRUE(check(old_schema, new_schema, CompatMode::none).compatible());
    // "both" counts in every mode but none.
    EXPECT_EQ(check(R"({"pattern":"a"})", R"({"pattern":"b"})", CompatMode::backward).breaks.size(),
              1u);
    EXPECT_EQ(check(R"({"pattern":"a"})", R"({"pattern":"b"})", CompatMode::forward).breaks.size(),
              1u);
}

TEST(Compat, ModeNamesRoundTrip) {
    for (CompatMode m :
         {CompatMode::none, CompatMode::backward, CompatMode::forward, CompatMode::full}) {
        EXPECT_EQ(parse_compat_mode(to_string(m)), m);
    }
    EXPECT_EQ(parse_compat_mode("FULL"), std::nullopt);
}

TEST(Compat, ReportRendersForPeopleAndMachines) {
    const CompatReport r =
        check(order_v1, R"({"type":"object","properties":{"orderId":{"type":"integer"},
        "quantity":{"type":"integer","minimum":1}},"required":["orderId","quantity","sku"]})");
    ASSERT_EQ(r.breaks.size(), 2u) << dump(r);
    EXPECT_EQ(r.summary().rfind(
                  "2 breaking changes: /properties/orderId/type: changes the type from string to "
                  "integer; /required: adds required property 'sku'",
                  0),
              0u)
        << r.summary();
    const json::value j = r.to_json();
    EXPECT_EQ(j.at("mode"), "full");
    EXPECT_EQ(j.at("compatible"), false);
    ASSERT_EQ(j.at("breaks").as_array().size(), 2u);
    const json::object& first = j.at("breaks").at(0).as_object();
    EXPECT_EQ(first.at("pointer"), "/properties/orderId/type");
    EXPECT_EQ(first.at("keyword"), "type");
    EXPECT_EQ(first.at("direction"), "both") << "string→integer is both a narrowing and a widening";
    EXPECT_EQ(CompatReport{}.summary(), "compatible");
}

}  // namespace
}  // namespace herald::schema
