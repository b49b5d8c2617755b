#include "portal/site.hpp"

#include <gtest/gtest.h>

#include <array>

namespace herald::portal {
namespace {

http::Request get(std::string path, std::string query = {}) {
    http::Request r;
    r.method = "GET";
    r.path = std::move(path);
    r.query = std::move(query);
    return r;
}

std::string header(const http::Response& r, std::string_view name) {
    for (auto& [k, v] : r.headers)
        if (http::iequals(k, name)) return v;
    return {};
}

constexpr std::array<Asset, 2> kFixture{{
    {"index.html", "<!doctype html><title>t</title>", "\"aaaa\""},
    {"app.js", "console.log(1)", "\"bbbb\""},
}};

TEST(PortalSite, RecognisesOnlyItsOwnPaths) {
    EXPECT_TRUE(is_portal_path("/portal"));
    EXPECT_TRUE(is_portal_path("/portal/"));
    EXPECT_TRUE(is_portal_path("/portal/app.js"));
    EXPECT_FALSE(is_portal_path("/portals"));
    EXPECT_FALSE(is_portal_path("/portal.js"));
    EXPECT_FALSE(is_portal_path("/v1/portal/"));
}

TEST(PortalSite, TheDirectoryIsTheIndexWithItsTypeAndPolicy) {
    Site site(kFixture);
    auto r = site.serve(get("/portal/"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "<!doctype html><title>t</title>");
    EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(header(r, "ETag"), "\"aaaa\"");
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
    EXPECT_NE(header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
    EXPECT_NE(header(r, "Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
}

TEST(PortalSite, ServesAFileByName) {
    Site site(kFixture);
    auto r = site.serve(get("/portal/app.js"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "console.log(1)");
    EXPECT_EQ(header(r, "Content-Type"), "text/javascript; charset=utf-8");
}

TEST(PortalSite, RedirectsTheBareNameToTheDirectoryKeepingTheQuery) {
    Site site(kFixture);
    auto r = site.serve(get("/portal"));
    EXPECT_EQ(r.status, 308u);
    EXPECT_EQ(header(r, "Location"), "/portal/");
    auto q = site.serve(get("/portal", "topic=orders"));
    EXPECT_EQ(header(q, "Location"), "/portal/?topic=orders");
}

TEST(PortalSite, AnswersNotModifiedWhenTheTagMatches) {
    Site site(kFixture);
    auto req = get("/portal/app.js");
    req.headers.emplace_back("If-None-Match", "\"zzzz\", W/\"bbbb\"");
    auto r = site.serve(req);
    EXPECT_EQ(r.status, 304u);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(header(r, "ETag"), "\"bbbb\"");

    auto other = get("/portal/app.js");
    other.headers.emplace_back("If-None-Match", "\"aaaa\"");
    EXPECT_EQ(site.serve(other).status, 200u);
}

TEST(PortalSite, UnknownNamesAndTraversalAreNotFound) {
    Site site(kFixture);
    for (auto path : {"/portal/missing.js", "/portal/../etc/passwd", "/portal/./app.js", "/portal//app.js",
                      "/portal/app.js/"}) {
        auto r = site.serve(get(path));
        EXPECT_EQ(r.status, 404u) << path;
        EXPECT_EQ(header(r, "Content-Type"), "application/problem+json") << path;
    }
}

TEST(PortalSite, OnlyReadsAreAllowed) {
    Site site(kFixture);
    auto req = get("/portal/");
    req.method = "POST";
    auto r = site.serve(req);
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(header(r, "Allow"), "GET, HEAD");
}

TEST(PortalSite, MediaTypesByExtension) {
    EXPECT_EQ(media_type_for("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(media_type_for("a.svg"), "image/svg+xml");
    EXPECT_EQ(media_type_for("README"), "application/octet-stream");
}

TEST(PortalSite, TheEmbeddedPortalHasItsIndexAndScripts) {
    Site site;
    auto index = site.serve(get("/portal/"));
    ASSERT_EQ(index.status, 200u);
    EXPECT_NE(index.body.find("<html"), std::string::npos);
    // Every script and stylesheet the index names is embedded too.
    for (auto name : {"portal.js", "portal.css", "schema-form.js", "favicon.svg"}) {
        EXPECT_NE(index.body.find(name), std::string::npos) << name;
        EXPECT_EQ(site.serve(get(std::string("/portal/") + name)).status, 200u) << name;
    }
}

}  // namespace
}  // namespace herald::portal
