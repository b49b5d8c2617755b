#include "base/path_template.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(PathTemplate, Parses) {
    auto t = parse_path_template("/users/{id}/orders/{order_2}");
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_EQ(t->segments.size(), 4u);
    EXPECT_FALSE(t->segments[0].param);
    EXPECT_EQ(t->segments[0].text, "users");
    EXPECT_TRUE(t->segments[1].param);
    EXPECT_EQ(t->segments[1].text, "id");
    EXPECT_EQ(t->literal_count(), 2u);
    EXPECT_EQ(t->param_count(), 2u);
    EXPECT_TRUE(t->has_param("order_2"));
    EXPECT_FALSE(t->has_param("user"));

    auto root = parse_path_template("/");
    ASSERT_TRUE(root);
    EXPECT_TRUE(root->segments.empty());
    auto trailing = parse_path_template("/a/");
    ASSERT_TRUE(trailing);
    ASSERT_EQ(trailing->segments.size(), 2u);  // the trailing '/' is an empty last literal
    EXPECT_EQ(trailing->segments[1].text, "");
    EXPECT_TRUE(parse_path_template("/a%20b/c:d@e"));
}

TEST(PathTemplate, RefusesWhatMatchingCannotDo) {
    for (const char* bad : {"", "users", "/a//b", "/{}", "/{1x}", "/{a-b}", "/files/{name}.json",
                            "/x{id}", "/{id}/{id}", "/a b", "/a%zz", "/a%2", "/a}"}) {
        EXPECT_FALSE(parse_path_template(bad)) << bad;
    }
}

TEST(PathTemplate, SplitsAndExpands) {
    EXPECT_EQ(split_path_segments("/"), (std::vector<std::string_view>{}));
    EXPECT_EQ(split_path_segments("/a/b"), (std::vector<std::string_view>{"a", "b"}));
    EXPECT_EQ(split_path_segments("/a/"), (std::vector<std::string_view>{"a", ""}));
    auto t = parse_path_template("/v2/{id}/x/{order}");
    ASSERT_TRUE(t);
    auto e = expand_path_template(*t, {{"order", "7"}, {"id", "42"}});
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, "/v2/42/x/7");
    EXPECT_FALSE(expand_path_template(*t, {{"id", "42"}}));
    EXPECT_EQ(*expand_path_template(*parse_path_template("/"), {}), "/");
}

}  // namespace
}  // namespace herald
