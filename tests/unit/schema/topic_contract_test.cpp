// Per-topic contracts: accepted type globs and whether types without a schema may be published.

#include "schema/topic_contract.hpp"

#include <gtest/gtest.h>

namespace herald::schema {
namespace {

TEST(TopicContract, EmptyListAcceptsEveryType) {
    const TopicContract c;
    EXPECT_TRUE(c.accepts("anything.atAll.v1"));
    EXPECT_TRUE(c.check("anything.atAll.v1", false));
    EXPECT_TRUE(c.check("anything.atAll.v1", true));
}

TEST(TopicContract, GlobsSelectTypes) {
    TopicContract c;
    c.accepted_types = {"shipping.*", "billing.invoice?aid.v1"};
    EXPECT_TRUE(c.accepts("shipping.orderShipped.v1"));
    EXPECT_TRUE(c.accepts("shipping.parcel.lost.v2"));  // '*' crosses dots
    EXPECT_TRUE(c.accepts("billing.invoicePaid.v1"));
    EXPECT_FALSE(c.accepts("billing.invoicePaid.v2"));
    EXPECT_FALSE(c.accepts("shippingx"));

    auto r = c.check("billing.invoicePaid.v2", true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, "type");
    EXPECT_EQ(r.error().message,
              "event type 'billing.invoicePaid.v2' is not accepted on this topic; accepted types: "
              "shipping.*, "
              "billing.invoice?aid.v1");
}

TEST(TopicContract, UnknownTypesCanBeRefused) {
    TopicContract c;
    c.accepted_types = {"shipping.*"};
    c.allow_unknown_types = false;
    EXPECT_TRUE(c.check("shipping.orderShipped.v1", true));
    auto r = c.check("shipping.parcelLost.v1", false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().attribute, "type");
    EXPECT_NE(r.error().message.find("has no registered schema"), std::string::npos)
        << r.error().message;
    // Not accepted wins over unknown: the first problem to fix is the type itself.
    auto other = c.check("billing.invoicePaid.v1", false);
    ASSERT_FALSE(other);
    EXPECT_NE(other.error().message.find("not accepted on this topic"), std::string::npos);

    c.allow_unknown_types = true;
    EXPECT_TRUE(c.check("shipping.parcelLost.v1", false));
}

}  // namespace
}  // namespace herald::schema
