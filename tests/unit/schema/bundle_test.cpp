// Draft detection, reference resolution across registered documents and the bundle format.

#include "schema/bundle.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>

namespace herald::schema {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

// A stand-in for the registry: documents by URI (URN and $id).
struct Documents {
    // uri → (canonical urn, document)
    std::map<std::string, std::pair<std::string, json::value>> by_uri;
    std::map<std::string, Draft> drafts;
    std::vector<std::string> asked;

    void add(const std::string& urn, std::string_view text, const std::string& id = {},
             Draft draft = Draft::draft7) {
        by_uri[urn] = {urn, J(text)};
        if (!id.empty()) by_uri[id] = {urn, by_uri[urn].second};
        drafts[urn] = draft;
    }
    DocumentLookup lookup() {
        return [this](std::string_view uri) -> std::optional<ExternalDocument> {
            asked.emplace_back(uri);
            auto it = by_uri.find(std::string(uri));
            if (it == by_uri.end()) return std::nullopt;
            return ExternalDocument{it->second.first, &it->second.second, drafts[it->second.first]};
        };
    }
};

const json::value& at(const json::value& v, std::string_view pointer) {
    return v.at_pointer(pointer);
}

TEST(Draft, DetectedFromDollarSchema) {
    EXPECT_EQ(*detect_draft(J(R"({})")), Draft::draft7);
    EXPECT_EQ(*detect_draft(J("true")), Draft::draft7);
    EXPECT_EQ(*detect_draft(J(R"({"$schema":"http://json-schema.org/draft-07/schema#"})")),
              Draft::draft7);
    EXPECT_EQ(*detect_draft(J(R"({"$schema":"https://json-schema.org/draft-07/schema"})")),
              Draft::draft7);
    EXPECT_EQ(*detect_draft(J(R"({"$schema":"http://json-schema.org/draft-04/schema#"})")),
              Draft::draft4);
    for (const char* bad :
         {R"({"$schema":"https://json-schema.org/draft/2020-12/schema"})",
          R"({"$schema":"http://json-schema.org/draft-03/schema#"})",
          R"({"$schema":"http://json-schema.org/draft-06/schema#"})", R"({"$schema":7})"}) {
        auto r = detect_draft(J(bad));
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().attribute, "$schema");
    }
    auto r = detect_draft(J("[1]"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().attribute, "schema");
    EXPECT_EQ(to_string(Draft::draft4), "draft-04");
}

TEST(Bundle, LocalReferencesStayAndIdsAreDropped) {
    Documents docs;
    auto b = make_bundle(
        J(R"({"$id":"https://example.com/order.json","definitions":{"a":{"type":"string"}},
        "properties":{"x":{"$ref":"#/definitions/a"},"y":{"$ref":"https://example.com/order.json#/definitions/a"}}})"),
        "urn:herald:schema:a.b.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/x/$ref"), "#/definitions/a");
    EXPECT_EQ(at(b->document, "/properties/y/$ref"), "#/definitions/a");  // its own $id is itself
    EXPECT_FALSE(b->document.as_object().contains("$id"));
    EXPECT_TRUE(b->references.empty());
    EXPECT_TRUE(docs.asked.empty());
}

TEST(Bundle, ReferencesToOtherDocumentsAreEmbedded) {
    Documents docs;
    docs.add("urn:herald:schema:shipping.address.v1:v2",
             R"({"definitions":{"line":{"type":"string","maxLength":80}},
                 "type":"object","properties":{"street":{"$ref":"#/definitions/line"}}})");
    auto b =
        make_bundle(J(R"({"properties":{
            "from":{"$ref":"urn:herald:schema:shipping.address.v1:v2"},
            "note":{"$ref":"urn:herald:schema:shipping.address.v1:v2#/definitions/line"}}})"),
                    "urn:herald:schema:shipping.orderShipped.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/from/$ref"), "#/x-herald-bundle/1");
    EXPECT_EQ(at(b->document, "/properties/note/$ref"), "#/x-herald-bundle/1/definitions/line");
    // The embedded document's own local reference now points inside the embedded copy.
    EXPECT_EQ(at(b->document, "/x-herald-bundle/1/properties/street/$ref"),
              "#/x-herald-bundle/1/definitions/line");
    ASSERT_EQ(b->references.size(), 1u);
    EXPECT_EQ(b->references[0], "urn:herald:schema:shipping.address.v1:v2");
}

TEST(Bundle, ReferencesResolveAgainstTheBaseUri) {
    Documents docs;
    docs.add("urn:herald:schema:shipping.address.v1:v1",
             R"({"$id":"https://example.com/schemas/address.json",
        "definitions":{"line":{"type":"string"}}})",
             "https://example.com/schemas/address.json");
    docs.add("urn:herald:schema:shipping.money.v1:v1", R"({"type":"number"})",
             "https://example.com/common/money.json");
    auto b =
        make_bundle(J(R"({"$id":"https://example.com/schemas/order.json","properties":{
            "street":{"$ref":"address.json#/definitions/line"},
            "total":{"$ref":"../common/money.json"}}})"),
                    "urn:herald:schema:shipping.orderShipped.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/street/$ref"), "#/x-herald-bundle/1/definitions/line");
    EXPECT_EQ(at(b->document, "/properties/total/$ref"), "#/x-herald-bundle/2");
    EXPECT_EQ(b->references, (std::vector<std::string>{"urn:herald:schema:shipping.address.v1:v1",
                                                       "urn:herald:schema:shipping.money.v1:v1"}));
}

TEST(Bundle, TransitiveReferencesAreEmbeddedOnce) {
    Documents docs;
    docs.add("urn:herald:schema:c.c.v1:v1", R"({"type":"string"})");
    docs.add("urn:herald:schema:b.b.v1:v1",
             R"({"properties":{"c":{"$ref":"urn:herald:schema:c.c.v1:v1"}}})");
    auto b = make_bundle(
        J(R"({"allOf":[{"$ref":"urn:herald:schema:b.b.v1:v1"},{"$ref":"urn:herald:schema:c.c.v1:v1"}]})"),
        "urn:herald:schema:a.a.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/allOf/0/$ref"), "#/x-herald-bundle/1");
    EXPECT_EQ(at(b->document, "/x-herald-bundle/1/properties/c/$ref"), "#/x-herald-bundle/2");
    EXPECT_EQ(at(b->document, "/allOf/1/$ref"), "#/x-herald-bundle/2");
    EXPECT_EQ(b->references.size(), 2u);
}

TEST(Bundle, SubschemaIdsAndPlainNameFragments) {
    Documents docs;
    auto b = make_bundle(J(R"({"$id":"https://example.com/root.json",
        "definitions":{
            "line":{"$id":"#line","type":"string"},
            "inner":{"$id":"https://example.com/inner.json","definitions":{"x":{"type":"integer"}},
                     "properties":{"x":{"$ref":"#/definitions/x"}}}},
        "properties":{"a":{"$ref":"#line"},"b":{"$ref":"inner.json"},"c":{"$ref":"inner.json#/definitions/x"}}})"),
                         "urn:herald:schema:a.a.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/a/$ref"), "#/definitions/line");
    EXPECT_EQ(at(b->document, "/properties/b/$ref"), "#/definitions/inner");
    EXPECT_EQ(at(b->document, "/properties/c/$ref"), "#/definitions/inner/definitions/x");
    // Inside the subschema with its own $id, "#/..." is relative to that subschema.
    EXPECT_EQ(at(b->document, "/definitions/inner/properties/x/$ref"),
              "#/definitions/inner/definitions/x");
    EXPECT_FALSE(at(b->document, "/definitions/line").as_object().contains("$id"));
}

TEST(Bundle, PlainNameFragmentsWhateverUriTheDocumentIsReachedBy) {
    Documents docs;
    docs.add("urn:herald:schema:b.b.v1:v1", R"({"$id":"https://x.example/b.json",
        "definitions":{"line":{"$id":"#line","type":"string"}}})",
             "https://x.example/b.json");
    auto b = make_bundle(J(R"({"properties":{"a":{"$ref":"urn:herald:schema:b.b.v1:v1#line"},
        "b":{"$ref":"https://x.example/b.json#line"}}})"),
                         "urn:herald:schema:a.a.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/a/$ref"), "#/x-herald-bundle/1/definitions/line");
    EXPECT_EQ(at(b->document, "/properties/b/$ref"), "#/x-herald-bundle/1/definitions/line");
}

TEST(Bundle, DraftFourUsesId) {
    Documents docs;
    auto b =
        make_bundle(J(R"({"id":"http://example.com/a.json","definitions":{"n":{"type":"integer"}},
        "properties":{"n":{"$ref":"http://example.com/a.json#/definitions/n"}}})"),
                    "urn:herald:schema:a.a.v1:v1", Draft::draft4, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/n/$ref"), "#/definitions/n");
    EXPECT_FALSE(b->document.as_object().contains("id"));
}

TEST(Bundle, SpecialCharactersInPointersSurvive) {
    Documents docs;
    auto b = make_bundle(J(R"({"definitions":{"a/b":{"type":"string"},"50%":{"type":"integer"}},
        "properties":{"x":{"$ref":"#/definitions/a~1b"},"y":{"$ref":"#/definitions/50%25"}}})"),
                         "urn:herald:schema:a.a.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/properties/x/$ref"), "#/definitions/a~1b");
    EXPECT_EQ(at(b->document, "/properties/y/$ref"), "#/definitions/50%25");
}

void expect_bundle_error(std::string_view schema, std::string_view needle, Documents docs = {},
                         Draft draft = Draft::draft7) {
    auto b = make_bundle(J(schema), "urn:herald:schema:a.a.v1:v1", draft, docs.lookup());
    ASSERT_FALSE(b) << schema;
    EXPECT_EQ(b.error().code, Errc::invalid_argument);
    EXPECT_EQ(b.error().attribute, "schema");
    EXPECT_NE(b.error().message.find(needle), std::string::npos) << b.error().message;
}

TEST(Bundle, UnresolvableReferencesAreErrorsThatSayWhere) {
    expect_bundle_error(
        R"({"properties":{"x":{"$ref":"urn:herald:schema:nope.nope.v1:v1"}}})",
        "no registered schema has the URI 'urn:herald:schema:nope.nope.v1:v1' (at /properties/x)");
    expect_bundle_error(R"({"properties":{"x":{"$ref":"#/definitions/missing"}}})",
                        "points to nothing");
    expect_bundle_error(R"({"properties":{"x":{"$ref":"#nowhere"}}})",
                        "no subschema declares the fragment");
    expect_bundle_error(R"({"x-herald-bundle":{}})", "reserved");
    expect_bundle_error(R"({"definitions":{"a":{"$id":"https://x/a"},"b":{"$id":"https://x/a"}}})",
                        "declared twice");
    Documents docs;
    docs.add("urn:herald:schema:b.b.v1:v1", R"({"type":"string"})", "", Draft::draft4);
    expect_bundle_error(R"({"$ref":"urn:herald:schema:b.b.v1:v1"})", "mixing drafts", docs);
}

TEST(Bundle, ReferencesInsideUnknownKeywordsAreData) {
    Documents docs;
    auto b =
        make_bundle(J(R"({"x-example":{"$ref":"https://nowhere.example/thing"},"type":"object"})"),
                    "urn:herald:schema:a.a.v1:v1", Draft::draft7, docs.lookup());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(at(b->document, "/x-example/$ref"), "https://nowhere.example/thing");
}

TEST(ResolveUri, FollowsRfc3986) {
    const std::string base = "https://example.com/a/b/c.json";
    EXPECT_EQ(resolve_uri(base, "d.json"), "https://example.com/a/b/d.json");
    EXPECT_EQ(resolve_uri(base, "../d.json"), "https://example.com/a/d.json");
    EXPECT_EQ(resolve_uri(base, "./x/../d.json"), "https://example.com/a/b/d.json");
    EXPECT_EQ(resolve_uri(base, "/root.json"), "https://example.com/root.json");
    EXPECT_EQ(resolve_uri(base, "//other.org/x.json"), "https://other.org/x.json");
    EXPECT_EQ(resolve_uri(base, "urn:x:y"), "urn:x:y");
    EXPECT_EQ(resolve_uri(base, ""), base);
    EXPECT_EQ(resolve_uri("https://example.com", "x.json"), "https://example.com/x.json");
    EXPECT_EQ(resolve_uri("urn:herald:schema:a.b.v1:v1", "x.json"), "x.json");
    EXPECT_EQ(resolve_uri("", "x.json"), "x.json");
}

}  // namespace
}  // namespace herald::schema
