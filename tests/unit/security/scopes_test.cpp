// Scope strings, topic globs and the allows() decision, plus the Principal helpers.

#include "security/scopes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "security/principal.hpp"

namespace herald::security {
namespace {

TEST(Scopes, ParseTheThreeForms) {
    EXPECT_EQ(parse_scope("publish:orders.*"), (Scope{Action::publish, "orders.*"}));
    EXPECT_EQ(parse_scope("subscribe:*"), (Scope{Action::subscribe, "*"}));
    EXPECT_EQ(parse_scope("admin"), (Scope{Action::admin, ""}));
    EXPECT_EQ(to_string(Scope{Action::publish, "a?c"}), "publish:a?c");
    EXPECT_EQ(to_string(Scope{Action::admin, ""}), "admin");
}

TEST(Scopes, ForeignOrBrokenScopesAreNotHeraldScopes) {
    for (std::string_view s :
         {"openid", "profile", "read:users", "publish", "publish:", "subscribe:", "Publish:orders",
          "admin:all", "ADMIN", "publish:a b", "publish:a\tb", "publish:\x01", " admin", ""}) {
        EXPECT_FALSE(parse_scope(s)) << s;
        auto strict = parse_scope_strict(s);
        ASSERT_FALSE(strict);
        EXPECT_EQ(strict.error().attribute, s);
    }
    EXPECT_FALSE(parse_scope("publish:" + std::string(kMaxScopePatternBytes + 1, 'a')));
    EXPECT_TRUE(parse_scope("publish:" + std::string(kMaxScopePatternBytes, 'a')));
}

TEST(Scopes, StrictListNamesTheBadEntry) {
    auto ok = parse_scopes_strict({"publish:a", "admin"});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->size(), 2u);
    auto bad = parse_scopes_strict({"publish:a", "write:b"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().attribute, "write:b");
}

TEST(Scopes, SpaceSeparatedList) {
    const auto s =
        parse_scope_list("  openid publish:orders.*   subscribe:orders.eu.* email admin ");
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0], (Scope{Action::publish, "orders.*"}));
    EXPECT_EQ(s[1], (Scope{Action::subscribe, "orders.eu.*"}));
    EXPECT_EQ(s[2], (Scope{Action::admin, ""}));
    EXPECT_TRUE(parse_scope_list("").empty());
    EXPECT_TRUE(parse_scope_list("    ").empty());
}

TEST(Scopes, ClaimStringOrArray) {
    auto a = parse_scope_claim(boost::json::value("publish:x subscribe:y"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->size(), 2u);
    auto b =
        parse_scope_claim(boost::json::value(boost::json::array{"publish:x", "openid", "admin"}));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->size(), 2u);
    EXPECT_FALSE(parse_scope_claim(boost::json::value(boost::json::array{"admin", 1})));
    EXPECT_FALSE(parse_scope_claim(boost::json::value(42)));
    EXPECT_FALSE(parse_scope_claim(boost::json::value(boost::json::object{{"publish", "x"}})));
    EXPECT_FALSE(parse_scope_claim(boost::json::value(nullptr)));
}

TEST(TopicGlob, MatchingRules) {
    struct Case {
        const char* pattern;
        const char* topic;
        bool match;
    };
    const Case cases[] = {
        {"*", "orders", true},
        {"*", "", true},
        {"orders", "orders", true},
        {"orders", "orders2", false},
        {"orders", "order", false},
        {"orders.*", "orders.created", true},
        {"orders.*", "orders.eu.created", true},  // '*' crosses dots
        {"orders.*", "orders.", true},
        {"orders.*", "orders", false},
        {"orders.*", "ordersx", false},
        {"*.created", "orders.created", true},
        {"*.created", "orders.created.v2", false},
        {"orders.?", "orders.a", true},
        {"orders.?", "orders.ab", false},
        {"orders.?", "orders.", false},
        {"a*b*c", "aXXbYYc", true},
        {"a*b*c", "aXXbYY", false},
        {"a*b*c", "abc", true},
        {"**", "anything", true},
        {"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         false},                      // no exponential backtracking
        {"Orders", "orders", false},  // case-sensitive
    };
    for (const auto& c : cases) {
        EXPECT_EQ(topic_glob_match(c.pattern, c.topic), c.match) << c.pattern << " vs " << c.topic;
    }
}

TEST(Allows, ActionAndTopicMustBothMatch) {
    const std::vector<Scope> scopes = {{Action::publish, "orders.*"}, {Action::subscribe, "*"}};
    EXPECT_TRUE(allows(scopes, Action::publish, "orders.created"));
    EXPECT_FALSE(allows(scopes, Action::publish, "payments.created"));
    EXPECT_TRUE(allows(scopes, Action::subscribe, "payments.created"));
    EXPECT_FALSE(allows(scopes, Action::admin, ""));
    EXPECT_FALSE(allows(std::vector<Scope>{}, Action::subscribe, "x"));
}

TEST(Allows, AdminGrantsAdminOnly) {
    const std::vector<Scope> admin = {{Action::admin, ""}};
    EXPECT_TRUE(allows(admin, Action::admin, ""));
    EXPECT_TRUE(allows(admin, Action::admin, "ignored"));
    EXPECT_FALSE(allows(admin, Action::publish, "orders"));
    EXPECT_FALSE(allows(admin, Action::subscribe, "orders"));
}

TEST(Principal, HelpersAndAllows) {
    Principal p;
    p.kind = PrincipalKind::jwt;
    p.issuer = "https://idp";
    p.subject = "u1";
    p.scopes = {{Action::subscribe, "news.*"}};
    EXPECT_EQ(p.rate_limit_key(), "jwt:https://idp|u1");
    EXPECT_TRUE(allows(p, Action::subscribe, "news.sport"));
    EXPECT_FALSE(allows(p, Action::publish, "news.sport"));
    const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
    EXPECT_FALSE(p.expired(t0));
    p.expires_at = t0;
    EXPECT_TRUE(p.expired(t0));
    EXPECT_FALSE(p.expired(t0 - std::chrono::seconds(1)));
    p.kind = PrincipalKind::api_key;
    EXPECT_EQ(p.rate_limit_key(), "api_key:u1");
    p.kind = PrincipalKind::anonymous;
    EXPECT_EQ(p.rate_limit_key(), "");
    EXPECT_EQ(to_string(PrincipalKind::api_key), "api_key");
    EXPECT_EQ(to_string(Action::subscribe), "subscribe");
}

}  // namespace
}  // namespace herald::security
