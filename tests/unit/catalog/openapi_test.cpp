#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "catalog/catalog.hpp"
#include "catalog_fixture.hpp"

namespace herald::catalog {
namespace {

namespace json = boost::json;
using namespace testing;

json::value doc_of(const CatalogInput& in) { return openapi_document(in); }

constexpr const char* methods[] = {"get",   "put",  "post",    "delete",
                                   "patch", "head", "options", "trace"};

// Every operation of the document, as (path, method, operation).
std::vector<std::tuple<std::string, std::string, const json::object*>> operations(
    const json::value& doc) {
    std::vector<std::tuple<std::string, std::string, const json::object*>> out;
    for (const auto& [path, item] : doc.at("paths").as_object())
        for (const char* m : methods)
            if (const auto* op = item.as_object().if_contains(m))
                out.emplace_back(path, m, &op->as_object());
    return out;
}

const json::value& deref(const json::value& doc, const json::value& v) {
    if (v.is_object())
        if (const auto* r = v.as_object().if_contains("$ref"))
            return at(doc, std::string(r->as_string()).substr(1));
    return v;
}

TEST(OpenApi, TopLevel) {
    const auto doc = doc_of(sample_input());
    EXPECT_EQ(at(doc, "/openapi"), "3.1.0");
    EXPECT_EQ(at(doc, "/info/title"), "Herald HTTP API");
    EXPECT_EQ(at(doc, "/info/version"), "1.2.3");
    EXPECT_EQ(at(doc, "/servers/0/url"), "http://127.0.0.1:8080");
}

TEST(OpenApi, DescribesHeraldsDataPlane) {
    const auto doc = doc_of(sample_input());
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"/v1/topics", "get"},
        {"/v1/topics/{topic}", "get"},
        {"/v1/topics/{topic}/events", "post"},
        {"/v1/topics/{topic}/events", "get"},
        {"/v1/ws", "get"},
        {"/v1/subscriptions", "post"},
        {"/v1/subscriptions", "get"},
        {"/v1/subscriptions/{id}", "get"},
        {"/v1/subscriptions/{id}", "delete"},
        {"/v1/subscriptions/{id}/pause", "post"},
        {"/v1/subscriptions/{id}/resume", "post"},
        {"/v1/subscriptions/{id}/rotate-secret", "post"},
        {"/v1/subscriptions/{id}/attempts", "get"},
        {"/v1/subscriptions/{id}/dead-letters", "get"},
        {"/v1/subscriptions/{id}/dead-letters/replay", "post"},
        {"/v1/subscriptions/{id}/dead-letters/{entry}", "delete"},
        {"/asyncapi.json", "get"},
        {"/asyncapi.yaml", "get"},
        {"/openapi.json", "get"},
    };
    for (const auto& [path, method] : expected)
        EXPECT_TRUE(has(doc, "/paths/" + escape_token(path) + "/" + method))
            << method << " " << path;
    EXPECT_EQ(operations(doc).size(), expected.size());
}

TEST(OpenApi, PublishBodiesAndAnswers) {
    const auto doc = doc_of(sample_input());
    const std::string post = "/paths/~1v1~1topics~1{topic}~1events/post";
    for (const char* media :
         {"application/cloudevents+json", "application/cloudevents-batch+json", "application/json"})
        EXPECT_TRUE(has(doc, post + "/requestBody/content/" + escape_token(media))) << media;
    for (const char* status :
         {"200", "201", "400", "404", "409", "413", "415", "422", "429", "503", "507"})
        EXPECT_TRUE(has(doc, post + "/responses/" + status)) << status;
    // Registered examples, wrapped in CloudEvents.
    const auto& examples =
        at(doc, post + "/requestBody/content/application~1cloudevents+json/examples");
    EXPECT_EQ(examples.at("shop.orderPlaced.v1").at("value").at("type"), "shop.orderPlaced.v1");
    EXPECT_EQ(examples.at("billing.invoicePaid.v1").at("value").at("data"),
              json::parse(R"({"amount":3})"));

    const std::string get = "/paths/~1v1~1topics~1{topic}~1events/get";
    EXPECT_TRUE(has(doc, get + "/responses/200/content/application~1json"));
    EXPECT_TRUE(has(doc, get + "/responses/200/content/text~1event-stream"));
    EXPECT_TRUE(has(doc, get + "/responses/101"));
    std::set<std::string> params;
    for (const auto& p : at(doc, get + "/parameters").as_array())
        params.insert(std::string(deref(doc, p).at("name").as_string()));
    EXPECT_EQ(params, (std::set<std::string>{"from", "limit", "wait", "types", "Last-Event-ID"}));

    EXPECT_TRUE(has(doc, "/paths/~1v1~1ws/get/responses/101"));
    EXPECT_TRUE(has(doc, "/paths/~1v1~1ws/get/responses/426"));
}

TEST(OpenApi, ErrorsAreProblemDetails) {
    const auto doc = doc_of(with_auth(sample_input(), true, false, false));
    std::size_t error_answers = 0;
    for (const auto& [path, method, op] : operations(doc)) {
        for (const auto& [status, response] : op->at("responses").as_object()) {
            if (status.size() != 3 || status[0] < '4') continue;
            ++error_answers;
            const auto& r = deref(doc, response);
            EXPECT_EQ(r.at("content").at("application/problem+json").at("schema").at("$ref"),
                      "#/components/schemas/Problem")
                << method << " " << path << " " << std::string(status);
        }
    }
    EXPECT_GT(error_answers, 40u);
    EXPECT_EQ(at(doc, "/components/schemas/Problem/required"),
              json::parse(R"(["type","title","status"])"));
    EXPECT_TRUE(has(doc, "/components/responses/TooManyRequests/headers/Retry-After"));
    EXPECT_TRUE(has(doc, "/components/responses/Unauthorized/headers/WWW-Authenticate"));
}

TEST(OpenApi, OperationIdsAreUniqueAndPathParametersDeclared) {
    const auto doc = doc_of(sample_input());
    std::set<std::string> ids;
    const std::regex templ("\\{([^}]+)\\}");
    for (const auto& [path, method, op] : operations(doc)) {
        EXPECT_TRUE(ids.insert(std::string(op->at("operationId").as_string())).second) << path;
        std::set<std::string> declared;
        for (const json::value* list :
             {doc.at("paths").at(path).as_object().if_contains("parameters"),
              op->if_contains("parameters")}) {
            if (list == nullptr) continue;
            for (const auto& p : list->as_array()) {
                const auto& param = deref(doc, p);
                if (param.at("in") == "path") {
                    EXPECT_EQ(param.at("required"), true);
                    declared.insert(std::string(param.at("name").as_string()));
                }
            }
        }
        std::set<std::string> templated;
        for (std::sregex_iterator it(path.begin(), path.end(), templ), end; it != end; ++it)
            templated.insert((*it)[1]);
        EXPECT_EQ(declared, templated) << method << " " << path;
    }
}

TEST(OpenApi, EveryReferenceResolves) {
    for (const auto& in :
         {sample_input(), with_auth(sample_input(), true, true, true), CatalogInput{}}) {
        const auto doc = doc_of(in);
        const auto report = check_refs(doc);
        EXPECT_GT(report.checked, 0u);
        EXPECT_TRUE(report.unresolved.empty()) << report.unresolved.front();
        for (const char* section :
             {"schemas", "parameters", "responses", "headers", "securitySchemes"}) {
            const std::string pointer = std::string("/components/") + section;
            if (!has(doc, pointer)) continue;
            for (const auto& [k, v] : at(doc, pointer).as_object())
                EXPECT_TRUE(is_component_key(std::string(k))) << std::string(k);
        }
    }
}

TEST(OpenApi, SecurityOnlyWhenAuthIsEnabled) {
    const auto open = doc_of(sample_input());
    EXPECT_FALSE(has(open, "/security"));
    EXPECT_FALSE(has(open, "/components/securitySchemes"));
    EXPECT_FALSE(has(open, "/components/responses/Unauthorized"));
    for (const auto& [path, method, op] : operations(open)) {
        EXPECT_FALSE(op->contains("security")) << path;
        EXPECT_FALSE(op->at("responses").as_object().contains("401")) << path;
    }

    const auto secured = doc_of(with_auth(sample_input(), true, true, true));
    EXPECT_EQ(at(secured, "/security"), json::parse(R"([{"bearer":[]},{"apiKey":[]}])"));
    EXPECT_EQ(at(secured, "/components/securitySchemes/bearer"),
              json::parse(R"({"type":"http","scheme":"bearer","bearerFormat":"JWT",
                              "description":"Authorization: Bearer <JWT>, or Bearer <API key> (hk_…)."})"));
    EXPECT_EQ(at(secured, "/components/securitySchemes/apiKey/in"), "header");
    EXPECT_EQ(at(secured, "/components/securitySchemes/accessToken/in"), "query");
    // The query token only where browsers need it.
    EXPECT_EQ(at(secured, "/paths/~1v1~1topics~1{topic}~1events/get/security/2"),
              json::parse(R"({"accessToken":[]})"));
    EXPECT_EQ(at(secured, "/paths/~1v1~1ws/get/security/2"), json::parse(R"({"accessToken":[]})"));
    EXPECT_FALSE(has(secured, "/paths/~1v1~1topics~1{topic}~1events/post/security/2"));
    EXPECT_TRUE(has(secured, "/paths/~1v1~1topics/get/responses/401"));
    EXPECT_TRUE(has(secured, "/paths/~1v1~1topics/get/responses/403"));
    // Catalog documents: optional credentials.
    EXPECT_EQ(at(secured, "/paths/~1openapi.json/get/security/2"), json::object{});
    EXPECT_FALSE(has(secured, "/paths/~1openapi.json/get/responses/401"));

    const auto without_query = doc_of(with_auth(sample_input(), true, false, false));
    EXPECT_FALSE(has(without_query, "/components/securitySchemes/accessToken"));
    EXPECT_EQ(at(without_query, "/paths/~1v1~1ws/get/security"), json::parse(R"([{"bearer":[]}])"));
}

TEST(OpenApi, TopicsAreEnumeratedOnlyUpToTheLimit) {
    auto in = sample_input();
    auto doc = doc_of(in);
    EXPECT_EQ(at(doc, "/components/parameters/topic/schema/enum"),
              json::parse(R"(["audit","billing.eu","orders"])"));

    in.topics.clear();
    for (std::size_t i = 0; i < max_enumerated_topics; ++i)
        in.topics.push_back(CatalogTopic{"t" + std::to_string(i), {}, true, 0, 0});
    EXPECT_EQ(at(doc_of(in), "/components/parameters/topic/schema/enum").as_array().size(),
              max_enumerated_topics);
    in.topics.push_back(CatalogTopic{"one-more", {}, true, 0, 0});
    doc = doc_of(in);
    EXPECT_FALSE(has(doc, "/components/parameters/topic/schema/enum"));
    EXPECT_EQ(at(doc, "/components/parameters/topic/schema/pattern"),
              "^[a-z0-9][a-z0-9._-]{0,199}$");
}

TEST(OpenApi, ExamplesAreBounded) {
    CatalogInput in;
    for (int i = 0; i < 50; ++i)
        in.messages.push_back(
            CatalogMessage{"x.e" + std::to_string(i) + ".v1", {}, "", json::value(i)});
    const auto doc = doc_of(in);
    EXPECT_EQ(at(doc,
                 "/paths/~1v1~1topics~1{topic}~1events/post/requestBody/content/"
                 "application~1cloudevents+json/"
                 "examples")
                  .as_object()
                  .size(),
              max_openapi_examples);
}

TEST(OpenApi, Deterministic) {
    const auto in = with_auth(sample_input(), true, true, true);
    const std::string first = json::serialize(doc_of(in));
    EXPECT_EQ(json::serialize(doc_of(in)), first);
    auto reversed = in;
    std::reverse(reversed.topics.begin(), reversed.topics.end());
    std::reverse(reversed.messages.begin(), reversed.messages.end());
    EXPECT_EQ(json::serialize(doc_of(reversed)), first);
}

}  // namespace
}  // namespace herald::catalog
