#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "catalog/catalog.hpp"
#include "catalog_fixture.hpp"

namespace herald::catalog {
namespace {

namespace json = boost::json;
using namespace testing;

json::value doc_of(const CatalogInput& in) { return asyncapi_document(in); }

TEST(AsyncApi, TopLevelAndServers) {
    const auto doc = doc_of(sample_input());
    EXPECT_EQ(at(doc, "/asyncapi"), "3.0.0");
    EXPECT_EQ(at(doc, "/info/title"), "Herald");
    EXPECT_EQ(at(doc, "/info/version"), "1.2.3");
    EXPECT_EQ(at(doc, "/defaultContentType"), "application/cloudevents+json");
    EXPECT_EQ(at(doc, "/servers/http/protocol"), "http");
    EXPECT_EQ(at(doc, "/servers/http/host"), "127.0.0.1:8080");
    EXPECT_EQ(at(doc, "/servers/http/pathname"), "/v1");
    EXPECT_EQ(at(doc, "/servers/http/x-herald-sse/headers/Accept"), "text/event-stream");
    EXPECT_EQ(at(doc, "/servers/ws/protocol"), "ws");
    EXPECT_EQ(at(doc, "/servers/ws/pathname"), "/v1/ws");
    EXPECT_EQ(at(doc, "/servers/ws/x-herald-subprotocol"), "herald.v1");
}

TEST(AsyncApi, DefaultsForAnEmptyInput) {
    const auto doc = doc_of(CatalogInput{});
    EXPECT_EQ(at(doc, "/info/version"), "0.0.0");
    EXPECT_EQ(at(doc, "/servers/http/host"), "127.0.0.1:8080");
    EXPECT_EQ(at(doc, "/channels"), json::object{});
    EXPECT_EQ(at(doc, "/operations"), json::object{});
    EXPECT_FALSE(has(doc, "/components"));
    EXPECT_TRUE(check_refs(doc).unresolved.empty());
}

TEST(AsyncApi, AChannelAndTwoOperationsPerTopic) {
    const auto in = sample_input();
    const auto doc = doc_of(in);
    EXPECT_EQ(at(doc, "/channels").as_object().size(), in.topics.size());
    EXPECT_EQ(at(doc, "/operations").as_object().size(), 2 * in.topics.size());
    for (const auto& t : in.topics) {
        const std::string channel = "/channels/" + t.name;
        ASSERT_TRUE(has(doc, channel)) << t.name;
        EXPECT_EQ(at(doc, channel + "/address"), json::value(t.name));
        for (const char* action : {"send", "receive"}) {
            const std::string op = "/operations/" + t.name + "." + action;
            ASSERT_TRUE(has(doc, op)) << op;
            EXPECT_EQ(at(doc, op + "/action"), action);
            EXPECT_EQ(at(doc, op + "/channel/$ref"), json::value("#" + channel));
            // An operation's messages are the channel's, referenced through the channel (AsyncAPI 3
            // rule).
            const auto& messages = at(doc, op + "/messages").as_array();
            EXPECT_EQ(messages.size(), at(doc, channel + "/messages").as_object().size());
            for (const auto& m : messages) {
                const std::string ref(m.at("$ref").as_string());
                EXPECT_EQ(ref.rfind("#" + channel + "/messages/", 0), 0u) << ref;
            }
        }
    }
    EXPECT_EQ(at(doc, "/operations/orders.send/bindings/http/method"), "POST");
    EXPECT_EQ(at(doc, "/operations/orders.receive/bindings/http/method"), "GET");
    EXPECT_EQ(at(doc, "/operations/orders.receive/x-herald-sse/path"), "/v1/topics/orders/events");
    EXPECT_EQ(at(doc, "/channels/orders/x-herald-topic/end_offset"), 10);
}

TEST(AsyncApi, ChannelMessagesFollowTheTopicsTypes) {
    const auto doc = doc_of(sample_input());
    auto keys = [&](const std::string& channel) {
        std::vector<std::string> out;
        for (const auto& [k, v] : at(doc, "/channels/" + channel + "/messages").as_object()) {
            out.emplace_back(k);
            EXPECT_EQ(v.at("$ref"), json::value("#/components/messages/" + std::string(k)));
        }
        return out;
    };
    EXPECT_EQ(keys("orders"),
              (std::vector<std::string>{"shop.orderCancelled.v1", "shop.orderPlaced.v1",
                                        "shop.orderShipped.v1"}));
    EXPECT_EQ(keys("billing.eu"), (std::vector<std::string>{"billing.invoicePaid.v1"}));
    EXPECT_EQ(keys("audit"), (std::vector<std::string>{"cloudevent"}));
}

TEST(AsyncApi, MessagesCarryTheEnvelopeTheSchemaAndAnExample) {
    const auto doc = doc_of(sample_input());
    const std::string m = "/components/messages/shop.orderPlaced.v1";
    EXPECT_EQ(at(doc, m + "/name"), "shop.orderPlaced.v1");
    EXPECT_EQ(at(doc, m + "/contentType"), "application/cloudevents+json");
    EXPECT_EQ(at(doc, m + "/payload/required"),
              json::parse(R"(["id","source","specversion","type"])"));
    EXPECT_EQ(at(doc, m + "/payload/properties/specversion/const"), "1.0");
    EXPECT_EQ(at(doc, m + "/payload/properties/type/const"), "shop.orderPlaced.v1");
    EXPECT_EQ(at(doc, m + "/payload/properties/data/$ref"),
              "#/components/schemas/shop.orderPlaced.v1");
    EXPECT_EQ(at(doc, m + "/x-herald-schema-uri"), "urn:herald:schema:shop.orderPlaced.v1:v2");

    const auto& example = at(doc, m + "/examples/0/payload");
    EXPECT_EQ(example.at("specversion"), "1.0");
    EXPECT_EQ(example.at("type"), "shop.orderPlaced.v1");
    EXPECT_EQ(example.at("dataschema"), "urn:herald:schema:shop.orderPlaced.v1:v2");
    EXPECT_EQ(example.at("data").at("orderId"), "ORD-1");
    for (const char* required : {"id", "source"})
        EXPECT_TRUE(example.as_object().contains(required));

    // The registered schema, moved under components with its references following it.
    const std::string s = "/components/schemas/shop.orderPlaced.v1";
    EXPECT_EQ(at(doc, s + "/properties/shipTo/$ref"),
              "#/components/schemas/shop.orderPlaced.v1/x-herald-bundle/1");
    EXPECT_EQ(at(doc, s + "/properties/billTo/$ref"),
              "#/components/schemas/shop.orderPlaced.v1/definitions/address");
    EXPECT_FALSE(has(doc, s + "/$schema"));
    // Draft 4 upgraded.
    EXPECT_EQ(
        at(doc, "/components/schemas/billing.invoicePaid.v1/properties/amount/exclusiveMinimum"),
        0);

    // A type named only by a topic: a message without schema or example.
    const std::string unknown = "/components/messages/shop.orderCancelled.v1";
    EXPECT_EQ(at(doc, unknown + "/payload/properties/data"), json::object{});
    EXPECT_FALSE(has(doc, unknown + "/examples"));
    EXPECT_FALSE(has(doc, "/components/schemas/shop.orderCancelled.v1"));

    // The generic message.
    EXPECT_FALSE(has(doc, "/components/messages/cloudevent/payload/properties/type/const"));
    EXPECT_TRUE(has(doc, "/components/messages/cloudevent/payload/properties/data_base64"));
}

TEST(AsyncApi, EveryReferenceResolves) {
    for (const auto& in :
         {sample_input(), with_auth(sample_input(), true, true, true), CatalogInput{}}) {
        const auto doc = doc_of(in);
        const auto report = check_refs(doc);
        EXPECT_EQ(report.checked == 0, in.topics.empty());
        EXPECT_TRUE(report.unresolved.empty()) << report.unresolved.front();
    }
}

TEST(AsyncApi, KeysFitTheSpecificationsPatternEvenForOddNames) {
    auto in = sample_input();
    in.messages.push_back(CatalogMessage{"com.example/order:created",
                                         json::parse(R"({"$ref":"#/definitions/x",
        "definitions":{"x":{"type":"string"}}})"),
                                         "urn:herald:schema:odd:v1", json::value("x")});
    in.messages.push_back(CatalogMessage{"com.example/order created", {}, "", {}});
    in.messages.push_back(
        CatalogMessage{"cloudevent", {}, "", {}});  // collides with the generic message
    in.topics.push_back(
        CatalogTopic{"odd",
                     {"com.example/order:created", "com.example/order created", "cloudevent"},
                     true,
                     0,
                     0});
    const auto doc = doc_of(in);
    for (const char* section :
         {"/channels", "/operations", "/components/messages", "/components/schemas"})
        for (const auto& [k, v] : at(doc, section).as_object())
            EXPECT_TRUE(is_component_key(std::string(k))) << section << ": " << std::string(k);
    // Keys are handed out in sorted order of the names: ' ' sorts before ':'.
    EXPECT_EQ(at(doc, "/components/messages/com.example_order_created/name"),
              "com.example/order created");
    EXPECT_EQ(at(doc, "/components/messages/com.example_order_created_2/name"),
              "com.example/order:created");
    EXPECT_EQ(at(doc, "/components/messages/cloudevent_2/name"), "cloudevent");
    EXPECT_EQ(at(doc, "/components/schemas/com.example_order_created_2/$ref"),
              "#/components/schemas/com.example_order_created_2/definitions/x");
    const auto report = check_refs(doc);
    EXPECT_TRUE(report.unresolved.empty()) << report.unresolved.front();
}

TEST(AsyncApi, SecurityOnlyWhenAuthIsEnabled) {
    const auto open = doc_of(sample_input());
    EXPECT_FALSE(has(open, "/components/securitySchemes"));
    EXPECT_FALSE(has(open, "/servers/http/security"));
    EXPECT_FALSE(has(open, "/servers/ws/security"));

    // Enabled with nothing but anonymous scopes: nothing to describe.
    EXPECT_FALSE(
        has(doc_of(with_auth(sample_input(), false, false, false)), "/components/securitySchemes"));

    const auto jwt = doc_of(with_auth(sample_input(), true, false, false));
    EXPECT_EQ(at(jwt, "/components/securitySchemes/bearer/type"), "http");
    EXPECT_EQ(at(jwt, "/components/securitySchemes/bearer/scheme"), "bearer");
    EXPECT_EQ(at(jwt, "/components/securitySchemes/bearer/bearerFormat"), "JWT");
    EXPECT_FALSE(has(jwt, "/components/securitySchemes/apiKey"));
    EXPECT_FALSE(has(jwt, "/components/securitySchemes/accessToken"));
    EXPECT_EQ(at(jwt, "/servers/http/security"),
              json::parse(R"([{"$ref":"#/components/securitySchemes/bearer"}])"));

    const auto all = doc_of(with_auth(sample_input(), true, true, true));
    EXPECT_EQ(at(all, "/components/securitySchemes/apiKey/type"), "httpApiKey");
    EXPECT_EQ(at(all, "/components/securitySchemes/apiKey/in"), "header");
    EXPECT_EQ(at(all, "/components/securitySchemes/apiKey/name"), "X-API-Key");
    EXPECT_EQ(at(all, "/components/securitySchemes/accessToken/type"), "httpApiKey");
    EXPECT_EQ(at(all, "/components/securitySchemes/accessToken/in"), "query");
    EXPECT_EQ(at(all, "/components/securitySchemes/accessToken/name"), "access_token");
    EXPECT_EQ(at(all, "/servers/ws/security").as_array().size(), 3u);

    const auto keys_only = doc_of(with_auth(sample_input(), false, true, false));
    EXPECT_FALSE(
        has(keys_only, "/components/securitySchemes/bearer/bearerFormat"));  // Bearer hk_… keys
    EXPECT_TRUE(has(keys_only, "/components/securitySchemes/apiKey"));
}

TEST(AsyncApi, DeterministicWhateverTheInputOrder) {
    const auto in = sample_input();
    const std::string first = json::serialize(doc_of(in));
    EXPECT_EQ(json::serialize(doc_of(in)), first);
    auto shuffled = in;
    std::mt19937 rng(7);
    for (int i = 0; i < 5; ++i) {
        std::shuffle(shuffled.topics.begin(), shuffled.topics.end(), rng);
        std::shuffle(shuffled.messages.begin(), shuffled.messages.end(), rng);
        EXPECT_EQ(json::serialize(doc_of(shuffled)), first);
    }
}

TEST(AsyncApi, SizeIsLinearInTopicsAndTypes) {
    CatalogInput in;
    for (int i = 0; i < 500; ++i) {
        const std::string type = "load.thing" + std::to_string(i) + "Happened.v1";
        in.messages.push_back(
            CatalogMessage{type, json::parse(R"({"type":"object"})"), "urn:x", {}});
        in.topics.push_back(CatalogTopic{"topic-" + std::to_string(i), {type}, true, 0, 0});
    }
    const std::size_t size = json::serialize(doc_of(in)).size();
    EXPECT_LT(size, 500u * 8000u);  // a few KiB per topic and type
    const auto report = check_refs(doc_of(in));
    EXPECT_TRUE(report.unresolved.empty());
}

}  // namespace
}  // namespace herald::catalog
