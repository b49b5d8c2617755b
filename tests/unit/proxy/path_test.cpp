#include "proxy/path.hpp"

#include <gtest/gtest.h>

namespace herald::proxy {
namespace {

TEST(NormalizePath, CanonicalForm) {
    struct Case {
        const char* raw;
        const char* want;
    } cases[] = {
        {"/", "/"},
        {"/a/b", "/a/b"},
        {"/a/b/", "/a/b/"},
        {"//a///b", "/a/b"},
        {"/a/./b", "/a/b"},
        {"/a/../b", "/b"},
        {"/../../a", "/a"},  // never above the root
        {"/a/b/..", "/a/"},
        {"/a/.", "/a/"},
        {"/%61%62c", "/abc"},                // unreserved escapes are decoded
        {"/public/%2e%2e/admin", "/admin"},  // ...before dot segments are resolved
        {"/a%2fb", "/a%2Fb"},  // an encoded slash stays encoded (one segment), hex upper-cased
        {"/a%20b", "/a%20b"},
        {"/users/{id}", nullptr},  // '{' must be escaped
        {"/a b", nullptr},
        {"/a%zz", nullptr},
        {"/a%2", nullptr},
        {"a/b", nullptr},
        {"", nullptr},
    };
    for (auto& c : cases) {
        auto r = normalize_path(c.raw);
        if (!c.want) {
            EXPECT_FALSE(r) << c.raw;
            continue;
        }
        ASSERT_TRUE(r) << c.raw << ": " << r.error().message;
        EXPECT_EQ(*r, c.want) << c.raw;
    }
}

TEST(NormalizeHost, LowerCaseWithoutPort) {
    EXPECT_EQ(normalize_host("API.Example.com:8443"), "api.example.com");
    EXPECT_EQ(normalize_host("example.com."), "example.com");
    EXPECT_EQ(normalize_host("[2001:DB8::1]:80"), "[2001:db8::1]");
    EXPECT_EQ(normalize_host(""), "");
}

}  // namespace
}  // namespace herald::proxy
