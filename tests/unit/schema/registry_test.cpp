// The registry: numbered immutable versions, URNs, idempotent and forced registration,
// compatibility refusal with its report, cross-schema references, removal only when unused,
// restore, event lookups, and readers that validate while a writer registers.

#include "schema/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace herald::schema {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

constexpr std::string_view type = "shipping.orderShipped.v1";

constexpr std::string_view v1_schema = R"({
    "type": "object",
    "properties": {"orderId": {"type": "string"}, "carrier": {"type": "string"}},
    "required": ["orderId"]
})";
// Adds an optional property: compatible.
constexpr std::string_view v2_schema = R"({
    "type": "object",
    "properties": {"orderId": {"type": "string"}, "carrier": {"type": "string"}, "trackingUrl": {"type": "string"}},
    "required": ["orderId"]
})";
// Drops orderId from required and narrows carrier: incompatible.
constexpr std::string_view breaking_schema = R"({
    "type": "object",
    "properties": {"orderId": {"type": "string"}, "carrier": {"type": "string", "enum": ["ups", "dhl"]}},
    "required": []
})";

RegisterOptions forced() {
    RegisterOptions o;
    o.force = true;
    return o;
}

SchemaVersionPtr registered(Registry& r, std::string_view t, std::string_view schema,
                            RegisterOptions o = {}) {
    RegisterResult res = r.register_version(t, J(schema), o);
    EXPECT_TRUE(res) << t << ": " << (res.error ? res.error->message : "");
    return res.version;
}

TEST(SchemaUri, FormatAndParse) {
    EXPECT_EQ(schema_uri("shipping.orderShipped.v1", 2),
              "urn:herald:schema:shipping.orderShipped.v1:v2");
    auto ref = parse_schema_uri("urn:herald:schema:shipping.orderShipped.v1:v2");
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->type, "shipping.orderShipped.v1");
    EXPECT_EQ(ref->version, 2u);
    for (const char* bad :
         {"urn:herald:schema:x", "urn:herald:schema::v1", "urn:herald:schema:a.b.v1:v0",
          "urn:herald:schema:a.b.v1:v01", "urn:herald:schema:a.b.v1:vx", "urn:other:a:v1",
          "urn:herald:schema:a.b.v1:v99999999999"}) {
        EXPECT_FALSE(parse_schema_uri(bad)) << bad;
    }
}

TEST(Registry, VersionsAreNumberedFromOne) {
    Registry r;
    auto v1 = registered(r, type, v1_schema);
    auto v2 = registered(r, type, v2_schema);
    ASSERT_TRUE(v1 && v2);
    EXPECT_EQ(v1->version, 1u);
    EXPECT_EQ(v2->version, 2u);
    EXPECT_EQ(v2->uri, "urn:herald:schema:shipping.orderShipped.v1:v2");
    EXPECT_EQ(v2->draft, Draft::draft7);
    EXPECT_EQ(v2->document, J(v2_schema));

    EXPECT_EQ((*r.get(type))->version, 2u);
    EXPECT_EQ((*r.get(type, 1))->uri, "urn:herald:schema:shipping.orderShipped.v1:v1");
    EXPECT_EQ(r.list_types(), std::vector<std::string>{std::string(type)});
    EXPECT_EQ(*r.list_versions(type), (std::vector<std::uint32_t>{1, 2}));

    auto missing = r.get(type, 7);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    EXPECT_EQ(missing.error().attribute, "version");
    EXPECT_EQ(r.get("billing.invoicePaid.v1").error().attribute, "type");
    EXPECT_FALSE(r.list_versions("billing.invoicePaid.v1"));
}

TEST(Registry, VersionsAreImmutable) {
    Registry r;
    auto v1 = registered(r, type, v1_schema);
    const SnapshotPtr before = r.snapshot();
    registered(r, type, v2_schema);
    // The old snapshot and the old version are untouched; the new snapshot has both.
    EXPECT_EQ(before->versions(type), std::vector<std::uint32_t>{1});
    EXPECT_EQ(r.snapshot()->versions(type), (std::vector<std::uint32_t>{1, 2}));
    EXPECT_EQ((*r.get(type, 1))->document, J(v1_schema));
    EXPECT_EQ(r.snapshot()->get(type, 1), v1);  // the very same object
    EXPECT_GT(r.snapshot()->generation(), before->generation());
    // v1 still validates as v1: trackingUrl of any type is fine there, a number is not fine in v2.
    const json::value data = J(R"({"orderId":"A1","trackingUrl":5})");
    EXPECT_TRUE(v1->is_valid(data));
    EXPECT_FALSE((*r.get(type, 2))->is_valid(data));
}

TEST(Registry, RegisteringAnEqualDocumentIsANoOp) {
    Registry r;
    registered(r, type, v1_schema);
    registered(r, type, v2_schema);
    const auto generation = r.snapshot()->generation();
    RegisterResult again = r.register_version(type, J(v1_schema));
    ASSERT_TRUE(again);
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.version->version, 1u);
    EXPECT_EQ(r.snapshot()->generation(), generation);
    EXPECT_EQ(*r.list_versions(type), (std::vector<std::uint32_t>{1, 2}));
}

TEST(Registry, TypeNamesFollowTheTaxonomy) {
    Registry r;
    RegisterResult bad = r.register_version("OrderShipped", J(v1_schema));
    ASSERT_FALSE(bad);
    ASSERT_TRUE(bad.error);
    EXPECT_EQ(bad.error->code, Errc::invalid_argument);
    EXPECT_EQ(bad.error->attribute, "type");
    EXPECT_NE(bad.error->message.find("<domain>.<nounStateChange>.v<N>"), std::string::npos);

    TaxonomyConfig loose;
    loose.event_type = {".+", "<anything>", "x"};
    r.set_options({*Taxonomy::make(loose), CompatMode::full});
    EXPECT_TRUE(r.register_version("OrderShipped", J(v1_schema)));
}

TEST(Registry, InvalidSchemasAreRefused) {
    Registry r;
    for (const char* bad : {R"({"type":"strnig"})", R"({"pattern":"(a)\\1"})", R"([1,2])",
                            R"({"$schema":"https://json-schema.org/draft/2020-12/schema"})",
                            R"({"$ref":"urn:herald:schema:nope.nope.v1:v1"})"}) {
        RegisterResult res = r.register_version(type, J(bad));
        ASSERT_FALSE(res) << bad;
        EXPECT_EQ(res.error->code, Errc::invalid_argument) << bad;
    }
    EXPECT_TRUE(r.list_types().empty());
}

TEST(Registry, IncompatibleVersionsAreRefusedWithAReport) {
    Registry r;
    registered(r, type, v1_schema);
    RegisterResult refused = r.register_version(type, J(breaking_schema));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error->code, Errc::conflict);
    EXPECT_EQ(refused.error->attribute, "schema");
    EXPECT_NE(refused.error->message.find("not compatible with version 1 (mode full)"),
              std::string::npos)
        << refused.error->message;
    EXPECT_NE(refused.error->message.find("'shipping.orderShipped.v2'"), std::string::npos)
        << refused.error->message;
    ASSERT_EQ(refused.compatibility.breaks.size(), 2u) << refused.compatibility.summary();
    EXPECT_EQ(refused.compatibility.breaks[0].pointer, "/properties/carrier/enum");
    EXPECT_EQ(refused.compatibility.breaks[1].pointer, "/required");
    EXPECT_EQ(*r.list_versions(type), std::vector<std::uint32_t>{1});

    // Forced: registered, and the report says what was accepted.
    RegisterResult forced_result = r.register_version(type, J(breaking_schema), forced());
    ASSERT_TRUE(forced_result);
    EXPECT_TRUE(forced_result.created);
    EXPECT_EQ(forced_result.version->version, 2u);
    EXPECT_EQ(forced_result.compatibility.breaks.size(), 2u);

    // A compatible version reports no breaks.
    Registry other;
    registered(other, type, v1_schema);
    RegisterResult fine = other.register_version(type, J(v2_schema));
    ASSERT_TRUE(fine);
    EXPECT_TRUE(fine.compatibility.compatible());
}

TEST(Registry, CompatModeCanBeRelaxed) {
    Registry r({Taxonomy(), CompatMode::none});
    registered(r, type, v1_schema);
    EXPECT_TRUE(r.register_version(type, J(breaking_schema)));
    Registry b;
    registered(b, type, v1_schema);
    // Only forward breaks ("orderId" no longer required; enum narrows carrier is backward) ...
    RegisterResult res = b.register_version(type, J(breaking_schema), [] {
        RegisterOptions o;
        o.compat_mode = CompatMode::forward;
        return o;
    }());
    ASSERT_FALSE(res);
    ASSERT_EQ(res.compatibility.breaks.size(), 1u);
    EXPECT_EQ(res.compatibility.breaks[0].keyword, "required");
}

TEST(Registry, ReferencesToOtherSchemasByUrnAndById) {
    Registry r;
    registered(r, "shipping.address.v1", R"({"$id":"https://schemas.example.com/address.json",
        "definitions":{"line":{"type":"string","maxLength":5}},
        "type":"object","properties":{"street":{"$ref":"#/definitions/line"}},"required":["street"]})");
    auto order = registered(
        r, type, R"({"type":"object","definitions":{"line":{"type":"integer"}},"properties":{
        "from":{"$ref":"urn:herald:schema:shipping.address.v1:v1"},
        "to":{"$ref":"https://schemas.example.com/address.json"},
        "count":{"$ref":"#/definitions/line"}}})");
    ASSERT_TRUE(order);
    EXPECT_EQ(order->references,
              std::vector<std::string>{"urn:herald:schema:shipping.address.v1:v1"});
    EXPECT_TRUE(order->is_valid(J(R"({"from":{"street":"abc"},"to":{"street":"de"},"count":3})")));
    // Both documents define "#/definitions/line": each reference keeps its own meaning.
    const auto v = order->validate(J(R"({"from":{"street":"too long"},"to":{},"count":"x"})"));
    ASSERT_EQ(v.size(), 3u) << json::serialize(to_json(v));
    EXPECT_EQ(v[0].pointer, "/count");
    EXPECT_EQ(v[0].keyword, "type");
    EXPECT_EQ(v[1].pointer, "/from/street");
    EXPECT_EQ(v[1].keyword, "maxLength");
    EXPECT_EQ(v[2].pointer, "/to");
    EXPECT_EQ(v[2].keyword, "required");
    EXPECT_EQ(r.snapshot()->find("https://schemas.example.com/address.json")->type,
              "shipping.address.v1");
}

TEST(Registry, AnIdBelongsToOneType) {
    Registry r;
    registered(r, "shipping.address.v1", R"({"$id":"https://schemas.example.com/address.json"})");
    // A new version of the same type may keep its $id ...
    registered(r, "shipping.address.v1",
               R"({"$id":"https://schemas.example.com/address.json","type":"object"})", forced());
    EXPECT_EQ(r.snapshot()->find("https://schemas.example.com/address.json")->version, 2u);
    // ... another type may not take it.
    RegisterResult clash = r.register_version(
        "billing.address.v1", J(R"({"$id":"https://schemas.example.com/address.json"})"));
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error->code, Errc::conflict);
}

TEST(Registry, RemovalOnlyWhenUnused) {
    Registry r;
    registered(r, "shipping.address.v1", R"({"type":"object"})");
    registered(r, type,
               R"({"properties":{"to":{"$ref":"urn:herald:schema:shipping.address.v1:v1"}}})");
    registered(
        r, type,
        R"({"properties":{"to":{"$ref":"urn:herald:schema:shipping.address.v1:v1"}},"title":"v2"})");

    auto referenced = r.remove_version("shipping.address.v1", 1);
    ASSERT_FALSE(referenced);
    EXPECT_EQ(referenced.error().code, Errc::conflict);
    EXPECT_NE(referenced.error().message.find("refers to it"), std::string::npos);

    std::vector<std::string> asked;
    auto in_use = r.remove_version(type, 1, [&](const SchemaVersion& v) {
        asked.push_back(v.uri);
        return true;
    });
    ASSERT_FALSE(in_use);
    EXPECT_EQ(in_use.error().code, Errc::conflict);
    EXPECT_EQ(asked, std::vector<std::string>{"urn:herald:schema:shipping.orderShipped.v1:v1"});

    EXPECT_TRUE(r.remove_version(type, 1, [](const SchemaVersion&) { return false; }));
    EXPECT_EQ(*r.list_versions(type), std::vector<std::uint32_t>{2});
    EXPECT_EQ(r.remove_version(type, 1).error().code, Errc::not_found);

    EXPECT_TRUE(r.remove_version(type, 2));
    EXPECT_TRUE(r.remove_version("shipping.address.v1", 1));  // no longer referenced
    EXPECT_TRUE(r.list_types().empty());
    // Numbers are never reused: events in the log may still name v1 and v2.
    auto v3 = registered(r, type, v1_schema);
    ASSERT_TRUE(v3);
    EXPECT_EQ(v3->version, 3u);
}

TEST(Registry, RestoreKeepsOriginalNumbers) {
    Registry r;
    auto v5 = r.restore(type, 5, J(v1_schema));
    ASSERT_TRUE(v5) << v5.error().message;
    EXPECT_EQ((*v5)->uri, "urn:herald:schema:shipping.orderShipped.v1:v5");
    EXPECT_TRUE(r.restore(type, 2, J(v1_schema)));  // no compatibility check on restore
    EXPECT_EQ(r.restore(type, 5, J(v1_schema)).error().code, Errc::conflict);
    EXPECT_EQ(r.restore(type, 0, J(v1_schema)).error().code, Errc::invalid_argument);
    EXPECT_EQ((*r.get(type))->version, 5u);
    auto next = registered(r, type, v2_schema);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->version, 6u);
}

TEST(Registry, EventLookups) {
    Registry r;
    registered(r, type, v1_schema);
    registered(r, type, v2_schema);
    const SnapshotPtr s = r.snapshot();
    EXPECT_EQ((*s->for_event(type, std::nullopt))->version, 2u);
    EXPECT_EQ((*s->for_event(type, "urn:herald:schema:shipping.orderShipped.v1:v1"))->version, 1u);
    EXPECT_EQ((*s->for_event(type, "https://example.com/their-own-schema.json"))->version, 2u);
    auto wrong_type = s->for_event(type, "urn:herald:schema:billing.invoicePaid.v1:v1");
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error().code, Errc::invalid_argument);
    EXPECT_EQ(wrong_type.error().attribute, "dataschema");
    EXPECT_EQ(s->for_event(type, "urn:herald:schema:shipping.orderShipped.v1:v9").error().code,
              Errc::not_found);
    auto none = s->for_event("billing.invoicePaid.v1", std::nullopt);
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, nullptr);
    EXPECT_FALSE(s->has_schema("billing.invoicePaid.v1"));

    auto ok = s->validate(type, J(R"({"orderId":"A"})"));
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok->empty());
    auto bad = s->validate(type, J(R"({"carrier":1})"), 1);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->size(), 2u);
    EXPECT_EQ(s->validate("billing.invoicePaid.v1", J("{}")).error().code, Errc::not_found);
    EXPECT_EQ(r.validate(type, J(R"({"orderId":"A","trackingUrl":1})"))->size(), 1u);
    EXPECT_TRUE(r.validate(type, J(R"({"orderId":"A","trackingUrl":1})"), 1)->empty());
    EXPECT_EQ(s->validate(type, J("{}"), 9).error().attribute, "version");
}

// Readers validate on every publish while a writer registers new versions; readers must never
// block, crash or see a half-built registry. (Run under HERALD_SANITIZE=thread for the data-race
// check.)
TEST(Registry, ConcurrentReadersDuringRegistration) {
    Registry r;
    registered(r, type, v1_schema);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> validations{0};
    std::atomic<int> failures{0};
    const json::value valid = J(R"({"orderId":"A1","carrier":"ups"})");
    const json::value invalid = J(R"({"carrier":"ups"})");

    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            std::uint32_t last_seen = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                const SnapshotPtr s = r.snapshot();
                const SchemaVersionPtr v = s->get(type);
                if (!v || v->version < last_seen) {  // versions only grow
                    ++failures;
                    continue;
                }
                last_seen = v->version;
                if (!v->is_valid(valid) || v->is_valid(invalid) || v->validate(invalid).size() != 1)
                    ++failures;
                validations.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    // Each new version adds an optional property: always compatible, always accepting `valid`.
    for (int i = 0; i < 40; ++i) {
        std::string schema =
            R"({"type":"object","required":["orderId"],"properties":{"orderId":{"type":"string"})";
        for (int k = 0; k <= i; ++k)
            schema += ",\"p" + std::to_string(k) + "\":{\"type\":\"string\"}";
        schema += "}}";
        ASSERT_TRUE(r.register_version(type, J(schema))) << i;
    }
    stop = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GT(validations.load(), 0u);
    EXPECT_EQ((*r.get(type))->version, 41u);
}

}  // namespace
}  // namespace herald::schema
