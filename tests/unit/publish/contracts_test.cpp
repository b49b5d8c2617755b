// Publish contracts whose per-topic rules change at run time (the topics admin API).
#include "publish/contracts.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace herald::publish {
namespace {

core::CloudEvent event(std::string type) {
    core::CloudEvent e;
    e.id = "1";
    e.source = "/t";
    e.type = std::move(type);
    return e;
}

Contracts make(ContractOptions o = {}) {
    o.enforce_naming = false;
    return Contracts(std::move(o), std::make_shared<schema::Registry>());
}

TEST(Contracts, ConfiguredTopicsKeepTheirContractAndDefaultType) {
    ContractOptions o;
    o.topics["orders"].accepted_types = {"shop.*"};
    o.default_type = "misc.thing.v1";
    o.default_types["orders"] = "shop.orderPlaced.v1";
    o.default_types["audit"] = "audit.entry.v1";  // a default type without an own contract
    o.default_contract.allow_unknown_types = true;
    auto c = make(std::move(o));
    EXPECT_EQ(c.default_type("orders"), "shop.orderPlaced.v1");
    EXPECT_EQ(c.default_type("audit"), "audit.entry.v1");
    EXPECT_EQ(c.default_type("other"), "misc.thing.v1");
    EXPECT_EQ(c.contract("orders").accepted_types, std::vector<std::string>{"shop.*"});
    EXPECT_TRUE(c.contract("audit").accepted_types.empty());
    EXPECT_TRUE(c.options().topics.empty()) << "moved into the run-time map";
}

TEST(Contracts, SetTopicChangesWhatTheNextCheckAccepts) {
    auto c = make();
    auto snap = c.registry().snapshot();
    auto e = event("billing.invoicePaid.v1");
    EXPECT_TRUE(c.check("orders", e, *snap));

    c.set_topic("orders",
                TopicRules{schema::TopicContract{{"shop.*"}, true}, "shop.orderPlaced.v1"});
    auto refused = c.check("orders", e, *snap);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::unprocessable);
    EXPECT_EQ(refused.error().attribute, "type");
    auto shop = event("shop.orderPlaced.v1");
    EXPECT_TRUE(c.check("orders", shop, *snap));
    EXPECT_EQ(c.default_type("orders"), "shop.orderPlaced.v1");
    EXPECT_TRUE(c.check("other", e, *snap)) << "other topics keep the defaults";

    c.remove_topic("orders");
    EXPECT_TRUE(c.check("orders", e, *snap));
    EXPECT_EQ(c.default_type("orders"), "");
    c.remove_topic("never-set");  // no-op
}

// Readers on several threads while the rules are replaced: every check sees one whole version of
// the rules.
TEST(Contracts, ChecksRunWhileRulesAreReplaced) {
    auto c = make();
    auto snap = c.registry().snapshot();
    std::atomic<bool> stop{false};
    std::atomic<int> checks{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t)
        readers.emplace_back([&] {
            while (!stop.load()) {
                auto e = event("a.b.v1");
                (void)c.check("t", e, *snap);
                auto rules = c.rules("t");
                // Either the defaults or one whole set_topic: never a glob without its default
                // type.
                EXPECT_EQ(rules.contract.accepted_types.empty(), rules.default_type.empty());
                checks.fetch_add(1);
            }
        });
    for (int i = 0; i < 2000; ++i) {
        c.set_topic("t", TopicRules{schema::TopicContract{{"x." + std::to_string(i) + ".*"}, true},
                                    "x.y.v1"});
        if (i % 3 == 0) c.remove_topic("t");
    }
    while (checks.load() < 100) std::this_thread::yield();
    stop = true;
    for (auto& r : readers) r.join();
    c.set_topic("t", TopicRules{schema::TopicContract{{"a.*"}, true}, ""});
    auto e = event("a.b.v1");
    EXPECT_TRUE(c.check("t", e, *snap));
}

}  // namespace
}  // namespace herald::publish
