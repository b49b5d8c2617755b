// The example of docs/gateway.md, loaded as herald.yaml and compiled into a route table and
// upstream pools: the documentation cannot drift from what the parser and the proxy module accept.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "proxy/route.hpp"
#include "proxy/upstream.hpp"

namespace herald::proxy {
namespace {

// The first ```yaml block of a Markdown file.
std::string first_yaml_block(const std::string& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto text = ss.str();
    const auto start = text.find("```yaml\n");
    if (start == std::string::npos) return {};
    const auto body = start + 8;
    return text.substr(body, text.find("```", body) - body);
}

TEST(DocsExample, GatewayExampleLoadsAndCompiles) {
    const auto yaml = first_yaml_block(HERALD_DOCS_DIR "/gateway.md");
    ASSERT_FALSE(yaml.empty());
    // The example's policy uses auth: required, which needs auth on.
    auto config = config::parse_config("auth: {enabled: true}\n" + yaml, "gateway.md");
    ASSERT_TRUE(config) << config.error().message;
    std::set<std::string, std::less<>> names;
    ManualClock clock;
    for (auto& [name, spec] : config->upstreams) {
        names.insert(name);
        auto u = Upstream::create(spec, clock, 1);
        ASSERT_TRUE(u) << u.error().message;
    }
    auto table = RouteTable::compile(config->routes, names);
    ASSERT_TRUE(table) << table.error().message;
    auto m = table->match("api.example.com", "GET", "/api/users/42", {});
    ASSERT_TRUE(m.matched());
    EXPECT_EQ(m.route().name(), "user");
    EXPECT_EQ(table->match("shop.example.com", "POST", "/api/users/42", {}).allow_header(),
              "DELETE, GET, HEAD, PUT");
    EXPECT_EQ(table->match("x", "GET", "/api/carts/7", {}).route().name(), "carts");
}

TEST(DocsExample, ConfigurationReferenceLoads) {
    // Only the gateway's part of the reference block: from `upstreams:` to the end.
    const auto block = first_yaml_block(HERALD_DOCS_DIR "/configuration.md");
    const auto at = block.find("\nupstreams:");
    ASSERT_NE(at, std::string::npos);
    auto config = config::parse_config(block.substr(at + 1), "configuration.md");
    ASSERT_TRUE(config) << config.error().message;
    std::set<std::string, std::less<>> names;
    for (auto& [name, spec] : config->upstreams) names.insert(name);
    EXPECT_TRUE(RouteTable::compile(config->routes, names));
}

}  // namespace
}  // namespace herald::proxy
