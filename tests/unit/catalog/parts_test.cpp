#include "catalog/parts.hpp"

#include <gtest/gtest.h>

#include "catalog_fixture.hpp"

namespace herald::catalog {
namespace {

namespace json = boost::json;
using namespace testing;
using detail::build_model;
using detail::embed_schema;

TEST(CatalogKeys, NamesThatFitAreKeptOthersSanitized) {
    EXPECT_EQ(detail::sanitize_key("shop.orderPlaced.v1"), "shop.orderPlaced.v1");
    EXPECT_EQ(detail::sanitize_key("a-b_c.9"), "a-b_c.9");
    EXPECT_EQ(detail::sanitize_key("com.example/order:created"), "com.example_order_created");
    EXPECT_EQ(detail::sanitize_key("caf\xC3\xA9"), "caf__");
    EXPECT_EQ(detail::sanitize_key(""), "_");
}

TEST(CatalogKeys, CollisionsGetNumberedSuffixes) {
    detail::KeyAllocator keys;
    keys.reserve("cloudevent");
    EXPECT_EQ(keys.assign("a/b"), "a_b");
    EXPECT_EQ(keys.assign("a:b"), "a_b_2");
    EXPECT_EQ(keys.assign("a_b"), "a_b_3");
    EXPECT_EQ(keys.assign("cloudevent"), "cloudevent_2");
}

TEST(CatalogModel, SortsTopicsAndMessagesAndDropsDuplicates) {
    CatalogInput in;
    in.topics = {CatalogTopic{"zeta", {}, true, 0, 0}, CatalogTopic{"alpha", {}, true, 1, 2},
                 CatalogTopic{"alpha", {}, true, 5, 6}};
    in.messages = {CatalogMessage{"b.x.v1", {}, "", {}}, CatalogMessage{"a.x.v1", {}, "first", {}},
                   CatalogMessage{"a.x.v1", {}, "second", {}}};
    const auto model = build_model(in);
    ASSERT_EQ(model.topics.size(), 2u);
    EXPECT_EQ(model.topics[0].topic->name, "alpha");
    EXPECT_EQ(model.topics[0].topic->start_offset, 1u);  // the first of the two wins
    EXPECT_EQ(model.topics[1].topic->name, "zeta");
    ASSERT_EQ(model.messages.size(), 3u);  // a.x.v1, b.x.v1, the generic message
    EXPECT_EQ(model.messages[0].type, "a.x.v1");
    EXPECT_EQ(model.messages[0].source->schema_uri, "first");
    EXPECT_EQ(model.messages[1].type, "b.x.v1");
    EXPECT_TRUE(model.messages[2].type.empty());
    EXPECT_EQ(model.messages[2].key, "cloudevent");
}

TEST(CatalogModel, ResolvesEachTopicsMessages) {
    const auto in = sample_input();
    const auto model = build_model(in);
    auto types_of = [&](std::string_view topic) {
        std::vector<std::string> out;
        for (const auto& t : model.topics)
            if (t.topic->name == topic)
                for (std::size_t i : t.messages) out.push_back(model.messages[i].key);
        return out;
    };
    // Exact names, including one nobody registered (accepted: allow_unknown_types).
    EXPECT_EQ(types_of("orders"),
              (std::vector<std::string>{"shop.orderCancelled.v1", "shop.orderPlaced.v1",
                                        "shop.orderShipped.v1"}));
    // A glob over registered types; unknown types refused, so no generic message.
    EXPECT_EQ(types_of("billing.eu"), (std::vector<std::string>{"billing.invoicePaid.v1"}));
    // No types: any event.
    EXPECT_EQ(types_of("audit"), (std::vector<std::string>{"cloudevent"}));
    EXPECT_TRUE(model.uses_generic);
}

TEST(CatalogModel, UnknownTypesAreLeftOutWhenTheTopicRequiresSchemas) {
    CatalogInput in;
    in.messages = {CatalogMessage{"a.known.v1", json::value(json::object{}), "urn:x", {}}};
    in.topics = {CatalogTopic{"t", {"a.known.v1", "a.unknown.v1"}, false, 0, 0},
                 CatalogTopic{"u", {"a.*"}, true, 0, 0}};
    const auto model = build_model(in);
    ASSERT_EQ(model.topics[0].messages.size(), 1u);
    EXPECT_EQ(model.messages[model.topics[0].messages[0]].type, "a.known.v1");
    // A glob on a topic that accepts unknown types: the matches plus the generic message.
    ASSERT_EQ(model.topics[1].messages.size(), 3u);
    EXPECT_EQ(model.messages[model.topics[1].messages[2]].key, "cloudevent");
}

TEST(CatalogModel, NoGenericMessageWhenNoTopicNeedsIt) {
    CatalogInput in;
    in.topics = {CatalogTopic{"t", {"a.b.v1"}, true, 0, 0}};
    const auto model = build_model(in);
    EXPECT_FALSE(model.uses_generic);
    ASSERT_EQ(model.messages.size(), 1u);
    EXPECT_EQ(model.messages[0].source, nullptr);
}

TEST(CatalogEmbed, LocalReferencesMoveWithTheSchema) {
    const auto schema = json::parse(R"({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {
            "self": {"$ref": "#"},
            "a": {"$ref": "#/definitions/a"},
            "$ref": {"type": "string"},
            "enum": {"$ref": "#/definitions/a"}
        },
        "items": [{"$ref": "#/definitions/a"}],
        "definitions": {"a": {"type": "string"}},
        "enum": [{"$ref": "#/not/a/reference"}],
        "default": {"$ref": "#/data"},
        "x-herald-bundle": {"1": {"$ref": "#/x-herald-bundle/1/definitions/b", "definitions": {"b": {}}}},
        "other": {"$ref": "https://example.com/elsewhere.json"}
    })");
    const auto out = embed_schema(schema, "/components/schemas/k");
    EXPECT_FALSE(out.as_object().contains("$schema"));
    EXPECT_EQ(at(out, "/properties/self/$ref"), "#/components/schemas/k");
    EXPECT_EQ(at(out, "/properties/a/$ref"), "#/components/schemas/k/definitions/a");
    EXPECT_EQ(at(out, "/properties/$ref"),
              json::parse(R"({"type":"string"})"));  // a property, not a keyword
    EXPECT_EQ(at(out, "/properties/enum/$ref"), "#/components/schemas/k/definitions/a");
    EXPECT_EQ(at(out, "/items/0/$ref"), "#/components/schemas/k/definitions/a");
    EXPECT_EQ(at(out, "/enum/0/$ref"), "#/not/a/reference");  // data
    EXPECT_EQ(at(out, "/default/$ref"), "#/data");            // data
    EXPECT_EQ(at(out, "/x-herald-bundle/1/$ref"),
              "#/components/schemas/k/x-herald-bundle/1/definitions/b");
    EXPECT_EQ(at(out, "/other/$ref"),
              "https://example.com/elsewhere.json");  // not local: left as is
}

TEST(CatalogEmbed, Draft4ExclusiveBoundsBecomeDraft7) {
    const auto schema =
        json::parse(R"({"$schema": "http://json-schema.org/draft-04/schema#", "id": "urn:x",
        "properties": {
            "a": {"minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": false},
            "b": {"maximum": 5.5, "exclusiveMaximum": true},
            "c": {"exclusiveMinimum": 3}
        }})");
    const auto out = embed_schema(schema, "/s");
    EXPECT_FALSE(out.as_object().contains("id"));
    EXPECT_EQ(at(out, "/properties/a"), json::parse(R"({"maximum": 10, "exclusiveMinimum": 0})"));
    EXPECT_EQ(at(out, "/properties/b"), json::parse(R"({"exclusiveMaximum": 5.5})"));
    EXPECT_EQ(at(out, "/properties/c"),
              json::parse(R"({"exclusiveMinimum": 3})"));  // already draft 7
}

TEST(CatalogEmbed, BooleanSchemasBecomeObjects) {
    EXPECT_EQ(embed_schema(json::value(true), "/s"), json::object{});
    EXPECT_EQ(embed_schema(json::value(false), "/s"), json::parse(R"({"not": {}})"));
}

TEST(CatalogEmbed, EnvelopeDescribesACloudEvent) {
    const std::string type = "a.b.v1";
    const json::value schema =
        detail::cloud_event_schema(&type, json::object{{"type", "object"}}, false);
    EXPECT_EQ(at(schema, "/required"), json::parse(R"(["id","source","specversion","type"])"));
    EXPECT_EQ(at(schema, "/properties/specversion/const"), "1.0");
    EXPECT_EQ(at(schema, "/properties/type/const"), "a.b.v1");
    EXPECT_EQ(at(schema, "/properties/data"), json::parse(R"({"type":"object"})"));
    EXPECT_FALSE(has(schema, "/properties/data_base64"));
    for (const char* optional : {"time", "subject", "datacontenttype", "dataschema"})
        EXPECT_TRUE(has(schema, std::string("/properties/") + optional)) << optional;

    EXPECT_FALSE(has(schema, "/properties/id/description"));

    const json::value generic = detail::cloud_event_schema(nullptr, json::object{}, true);
    EXPECT_TRUE(has(generic, "/properties/id/description"));
    EXPECT_FALSE(has(generic, "/properties/type/const"));
    EXPECT_TRUE(has(generic, "/properties/data_base64"));
}

}  // namespace
}  // namespace herald::catalog
