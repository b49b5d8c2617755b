// Naming rules for event types and topics: the default <domain>.<nounStateChange>.v<N> rule,
// messages that show the expected shape and an example, custom rules, and version extraction.

#include "schema/taxonomy.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald::schema {
namespace {

void expect_rejected(const Result<void>& r, const std::string& attribute,
                     const std::string& hint = {}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, attribute);
    if (!hint.empty()) {
        EXPECT_NE(r.error().message.find(hint), std::string::npos) << r.error().message;
    }
}

TEST(Taxonomy, DefaultEventTypeRuleAcceptsDomainNounStateChangeVersion) {
    const Taxonomy t;
    for (const char* ok : {"shipping.orderShipped.v1", "billing.invoicePaid.v2", "a.b.v0",
                           "crm.customer.addressChanged.v12", "iot2.sensorReadingTaken.v3"}) {
        EXPECT_TRUE(t.check_event_type(ok)) << ok;
    }
}

TEST(Taxonomy, DefaultEventTypeRuleRejectsWithShapeExampleAndHint) {
    const Taxonomy t;
    auto r = t.check_event_type("OrderShipped");
    expect_rejected(r, "type", "it has no domain");
    EXPECT_NE(r.error().message.find("<domain>.<nounStateChange>.v<N>"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("for example shipping.orderShipped.v1"), std::string::npos);
    EXPECT_NE(r.error().message.find("'OrderShipped'"), std::string::npos);

    expect_rejected(t.check_event_type("shipping.order_shipped"), "type", "'_'");
    expect_rejected(t.check_event_type("shipping.orderShipped"), "type", "version suffix .v<N>");
    expect_rejected(t.check_event_type("Shipping.orderShipped.v1"), "type",
                    "domain starts with a lower-case");
    expect_rejected(t.check_event_type("shipping.OrderShipped.v1"), "type",
                    "lower-case letter (camelCase)");
    expect_rejected(t.check_event_type("shipping.v1"), "type", "<nounStateChange> segment");
    expect_rejected(t.check_event_type("shipping..orderShipped.v1"), "type", "empty segment");
    expect_rejected(t.check_event_type("shipping.order-shipped.v1"), "type", "'-'");
    expect_rejected(t.check_event_type(""), "type", "empty");
    expect_rejected(t.check_event_type("shipping.orderShipped.V1"), "type");
}

TEST(Taxonomy, HostileNamesAreCheckedQuickly) {
    const Taxonomy t;
    std::string name = "a";
    for (int i = 0; i < 50'000; ++i) name += ".b";
    EXPECT_FALSE(t.is_valid_event_type(name));  // no version suffix
    EXPECT_TRUE(t.is_valid_event_type(name + ".v1"));
    EXPECT_FALSE(t.is_valid_event_type(std::string(200'000, 'a')));
}

TEST(Taxonomy, DefaultTopicRuleFollowsTheStorageRule) {
    const Taxonomy t;
    for (const std::string& ok : {std::string("orders"), std::string("shipping.orders-eu_1"),
                                  std::string("0"), std::string(200, 'a')}) {
        EXPECT_TRUE(t.check_topic(ok)) << ok;
    }
    expect_rejected(t.check_topic("Orders"), "topic", "upper-case");
    expect_rejected(t.check_topic("-orders"), "topic", "start with a letter or a digit");
    expect_rejected(t.check_topic("orders/eu"), "topic", "only lower-case");
    expect_rejected(t.check_topic(std::string(201, 'a')), "topic", "longer than 200");
    auto r = t.check_topic("");
    expect_rejected(r, "topic", "empty");
    EXPECT_NE(r.error().message.find("for example shipping.orders"), std::string::npos);
}

TEST(Taxonomy, CustomRulesReplaceTheDefaults) {
    TaxonomyConfig config;
    config.event_type = {R"([a-z]+(\.[a-z]+)+)", "<reverse.dns.name>", "com.example.created"};
    config.topic = {"team-[a-z]+", "team-<name>", "team-core"};
    auto t = Taxonomy::make(config);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_TRUE(t->check_event_type("com.example.created"));
    EXPECT_TRUE(t->is_valid_event_type("org.x"));
    auto r = t->check_event_type("shipping.orderShipped.v1");
    expect_rejected(r, "type");
    // The whole name must match even though the custom pattern has no anchors; no hint for a custom
    // rule.
    EXPECT_EQ(
        r.error().message,
        "event type 'shipping.orderShipped.v1' does not follow the naming rule <reverse.dns.name> "
        "(for example com.example.created)");
    EXPECT_TRUE(t->check_topic("team-core"));
    expect_rejected(t->check_topic("orders"), "topic", "team-<name>");
    EXPECT_EQ(t->event_type_rule().shape, "<reverse.dns.name>");
}

TEST(Taxonomy, ConfigurationErrorsNameTheKey) {
    TaxonomyConfig bad_pattern;
    bad_pattern.event_type.pattern = "(unclosed";
    auto a = Taxonomy::make(bad_pattern);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().attribute, "event_type.pattern");

    TaxonomyConfig bad_example;
    bad_example.topic.example = "Not A Topic";
    auto b = Taxonomy::make(bad_example);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().attribute, "topic.example");

    TaxonomyConfig no_shape;
    no_shape.event_type.shape.clear();
    auto c = Taxonomy::make(no_shape);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().attribute, "event_type.shape");

    EXPECT_TRUE(Taxonomy::make(TaxonomyConfig{}));
}

TEST(Taxonomy, EventTypeVersionIsTheTrailingVSuffix) {
    EXPECT_EQ(event_type_version("shipping.orderShipped.v1"), 1u);
    EXPECT_EQ(event_type_version("shipping.orderShipped.v12"), 12u);
    EXPECT_EQ(event_type_version("v3"), 3u);
    EXPECT_EQ(event_type_version("shipping.orderShipped"), std::nullopt);
    EXPECT_EQ(event_type_version("shipping.orderShipped.v"), std::nullopt);
    EXPECT_EQ(event_type_version("shipping.orderShipped.vx"), std::nullopt);
    EXPECT_EQ(event_type_version("shipping.orderShipped.V1"), std::nullopt);
    EXPECT_EQ(event_type_version("a.v99999999999"), std::nullopt);  // does not fit 32 bits
    EXPECT_EQ(event_type_version(""), std::nullopt);
}

}  // namespace
}  // namespace herald::schema
