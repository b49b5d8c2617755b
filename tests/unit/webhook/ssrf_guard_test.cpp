#include "webhook/ssrf_guard.hpp"

#include <gtest/gtest.h>

namespace herald::webhook {
namespace {

struct Case {
    const char* address;
    AddressKind kind;
    const char* range;  // expected deciding block ("" for global)
};

Verdict check(const SsrfGuard& g, const char* a) {
    auto v = g.check(std::string_view(a));
    EXPECT_TRUE(v) << a;
    return v ? *v : Verdict{};
}

TEST(SsrfGuard, BlocksSpecialPurposeIPv4) {
    const Case cases[] = {
        {"127.0.0.1", AddressKind::loopback, "127.0.0.0/8"},
        {"127.255.255.254", AddressKind::loopback, "127.0.0.0/8"},
        {"10.0.0.1", AddressKind::private_network, "10.0.0.0/8"},
        {"10.255.255.255", AddressKind::private_network, "10.0.0.0/8"},
        {"172.16.0.1", AddressKind::private_network, "172.16.0.0/12"},
        {"172.31.255.255", AddressKind::private_network, "172.16.0.0/12"},
        {"192.168.1.1", AddressKind::private_network, "192.168.0.0/16"},
        {"169.254.1.1", AddressKind::link_local, "169.254.0.0/16"},
        {"169.254.169.254", AddressKind::cloud_metadata, "169.254.169.254/32"},
        {"100.100.100.200", AddressKind::cloud_metadata, "100.100.100.200/32"},
        {"168.63.129.16", AddressKind::cloud_metadata, "168.63.129.16/32"},
        {"100.64.0.1", AddressKind::shared, "100.64.0.0/10"},
        {"100.127.255.255", AddressKind::shared, "100.64.0.0/10"},
        {"0.0.0.0", AddressKind::unspecified, "0.0.0.0/8"},
        {"0.1.2.3", AddressKind::unspecified, "0.0.0.0/8"},
        {"224.0.0.1", AddressKind::multicast, "224.0.0.0/4"},
        {"239.255.255.250", AddressKind::multicast, "224.0.0.0/4"},
        {"255.255.255.255", AddressKind::broadcast, "255.255.255.255/32"},
        {"240.0.0.1", AddressKind::reserved, "240.0.0.0/4"},
        {"255.255.255.254", AddressKind::reserved, "240.0.0.0/4"},
        {"192.0.2.10", AddressKind::documentation, "192.0.2.0/24"},
        {"198.51.100.7", AddressKind::documentation, "198.51.100.0/24"},
        {"203.0.113.99", AddressKind::documentation, "203.0.113.0/24"},
        {"198.18.0.1", AddressKind::benchmarking, "198.18.0.0/15"},
        {"198.19.255.255", AddressKind::benchmarking, "198.18.0.0/15"},
        {"192.0.0.8", AddressKind::ietf_protocol, "192.0.0.0/24"},
        {"192.88.99.1", AddressKind::reserved, "192.88.99.0/24"},
    };
    SsrfGuard g;
    for (auto& c : cases) {
        auto v = check(g, c.address);
        EXPECT_FALSE(v.allowed) << c.address;
        EXPECT_EQ(v.kind, c.kind) << c.address << ": " << v.reason;
        EXPECT_EQ(v.range, c.range) << c.address;
        EXPECT_NE(v.reason.find(c.address), std::string::npos) << v.reason;
        EXPECT_NE(v.reason.find(c.range), std::string::npos) << v.reason;
    }
}

TEST(SsrfGuard, MetadataIsNamedInTheReason) {
    auto v = SsrfGuard().check(boost::asio::ip::make_address("169.254.169.254"));
    EXPECT_EQ(v.reason, "169.254.169.254 is a cloud metadata endpoint (169.254.169.254/32)");
}

TEST(SsrfGuard, AllowsPublicIPv4) {
    SsrfGuard g;
    for (const char* a :
         {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.0", "100.63.255.255",
          "100.128.0.0", "169.253.255.255", "192.0.1.255", "192.169.0.0", "198.17.255.255",
          "198.20.0.0", "223.255.255.255", "11.0.0.0", "126.255.255.255", "128.0.0.0"}) {
        auto v = check(g, a);
        EXPECT_TRUE(v.allowed) << a << ": " << v.reason;
        EXPECT_EQ(v.kind, AddressKind::global) << a;
        EXPECT_TRUE(v.range.empty());
    }
}

TEST(SsrfGuard, BlocksSpecialPurposeIPv6) {
    const Case cases[] = {
        {"::1", AddressKind::loopback, "::1/128"},
        {"::", AddressKind::unspecified, "::/128"},
        {"fc00::1", AddressKind::private_network, "fc00::/7"},
        {"fd12:3456:789a::1", AddressKind::private_network, "fc00::/7"},
        {"fd00:ec2::254", AddressKind::cloud_metadata, "fd00:ec2::254/128"},
        {"fe80::1", AddressKind::link_local, "fe80::/10"},
        {"febf:ffff::1", AddressKind::link_local, "fe80::/10"},
        {"fec0::1", AddressKind::private_network, "fec0::/10"},
        {"ff02::1", AddressKind::multicast, "ff00::/8"},
        {"2001:db8::1", AddressKind::documentation, "2001:db8::/32"},
        {"2001:db8:ffff::1", AddressKind::documentation, "2001:db8::/32"},
        {"3fff::1", AddressKind::documentation, "3fff::/20"},
        {"2001:2::1", AddressKind::benchmarking, "2001:2::/48"},
        {"2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressKind::teredo, "2001::/32"},
        {"2001:10::1", AddressKind::ietf_protocol, "2001::/23"},
        {"100::1", AddressKind::reserved, "100::/64"},
        {"::7f00:1", AddressKind::reserved, "::/96"},  // IPv4-compatible ::127.0.0.1
        {"64:ff9b:1::a00:1", AddressKind::private_network, "64:ff9b:1::/48"},
        {"4000::1", AddressKind::reserved, "2000::/3"},
        {"1000::1", AddressKind::reserved, "2000::/3"},
    };
    SsrfGuard g;
    for (auto& c : cases) {
        auto v = check(g, c.address);
        EXPECT_FALSE(v.allowed) << c.address;
        EXPECT_EQ(v.kind, c.kind) << c.address << ": " << v.reason;
        EXPECT_EQ(v.range, c.range) << c.address;
    }
}

TEST(SsrfGuard, ClassifiesEmbeddedIPv4ByTheEmbeddedAddress) {
    SsrfGuard g;
    auto mapped_loopback = check(g, "::ffff:127.0.0.1");
    EXPECT_FALSE(mapped_loopback.allowed);
    EXPECT_EQ(mapped_loopback.kind, AddressKind::loopback);
    EXPECT_NE(mapped_loopback.reason.find("127.0.0.1"), std::string::npos);
    EXPECT_NE(mapped_loopback.reason.find("127.0.0.0/8"), std::string::npos);

    auto mapped_metadata = check(g, "::ffff:169.254.169.254");
    EXPECT_FALSE(mapped_metadata.allowed);
    EXPECT_EQ(mapped_metadata.kind, AddressKind::cloud_metadata);

    EXPECT_TRUE(check(g, "::ffff:8.8.8.8").allowed);
    EXPECT_FALSE(check(g, "::ffff:10.1.2.3").allowed);
    EXPECT_FALSE(check(g, "::ffff:0:127.0.0.1").allowed);  // IPv4-translated
    EXPECT_TRUE(check(g, "::ffff:0:8.8.8.8").allowed);

    // NAT64 well-known prefix.
    EXPECT_FALSE(check(g, "64:ff9b::7f00:1").allowed);
    EXPECT_FALSE(check(g, "64:ff9b::a9fe:a9fe").allowed);  // 169.254.169.254
    EXPECT_TRUE(check(g, "64:ff9b::808:808").allowed);

    // 6to4: 2002:AABB:CCDD::/48.
    auto six_to_four = check(g, "2002:c0a8:0101::1");  // 192.168.1.1
    EXPECT_FALSE(six_to_four.allowed);
    EXPECT_EQ(six_to_four.kind, AddressKind::private_network);
    EXPECT_NE(six_to_four.reason.find("6to4"), std::string::npos);
    EXPECT_FALSE(check(g, "2002:7f00:1::").allowed);
    EXPECT_TRUE(check(g, "2002:808:808::1").allowed);
}

TEST(SsrfGuard, AllowsPublicIPv6) {
    SsrfGuard g;
    for (const char* a :
         {"2606:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888", "2c0f:fb50::1"}) {
        auto v = check(g, a);
        EXPECT_TRUE(v.allowed) << a << ": " << v.reason;
        EXPECT_EQ(v.kind, AddressKind::global);
    }
}

TEST(SsrfGuard, AllowListOverridesBuiltInRanges) {
    std::vector<std::string> allow{"127.0.0.1/32", "10.20.0.0/16", "fd00::/8"};
    auto g = SsrfGuard::from_strings(allow);
    ASSERT_TRUE(g) << g.error().message;
    auto v = check(*g, "127.0.0.1");
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.kind, AddressKind::loopback);
    EXPECT_EQ(v.range, "127.0.0.1/32");
    EXPECT_NE(v.reason.find("allow-listed by 127.0.0.1/32"), std::string::npos);
    // The same destination spelled as IPv4-mapped IPv6 is allowed too.
    EXPECT_TRUE(check(*g, "::ffff:127.0.0.1").allowed);
    EXPECT_FALSE(check(*g, "127.0.0.2").allowed);
    EXPECT_FALSE(check(*g, "::1").allowed);
    EXPECT_TRUE(check(*g, "10.20.3.4").allowed);
    EXPECT_FALSE(check(*g, "10.21.0.1").allowed);
    EXPECT_TRUE(check(*g, "fd12::1").allowed);
    EXPECT_FALSE(check(*g, "fc00::1").allowed);
    EXPECT_FALSE(check(*g, "169.254.169.254").allowed);
}

TEST(SsrfGuard, DenyListWinsOverEverything) {
    std::vector<std::string> allow{"10.0.0.0/8"};
    std::vector<std::string> deny{"10.0.0.5", "8.8.4.0/24"};
    auto g = SsrfGuard::from_strings(allow, deny);
    ASSERT_TRUE(g);
    EXPECT_TRUE(check(*g, "10.0.0.4").allowed);
    auto v = check(*g, "10.0.0.5");
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.kind, AddressKind::denied);
    EXPECT_EQ(v.range, "10.0.0.5/32");
    EXPECT_FALSE(check(*g, "8.8.4.4").allowed);
    EXPECT_TRUE(check(*g, "8.8.8.8").allowed);
}

TEST(SsrfGuard, CheckRejectsNonAddresses) {
    SsrfGuard g;
    EXPECT_FALSE(g.check(std::string_view("localhost")));
    EXPECT_FALSE(g.check(std::string_view("")));
    EXPECT_FALSE(g.check(std::string_view("1.2.3")));
}

TEST(SsrfGuard, ParseCidr) {
    auto a = parse_cidr("10.0.0.0/8");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->prefix_length, 8u);
    EXPECT_EQ(a->to_string(), "10.0.0.0/8");
    EXPECT_EQ(parse_cidr("127.0.0.1")->to_string(), "127.0.0.1/32");
    EXPECT_EQ(parse_cidr("::1")->to_string(), "::1/128");
    EXPECT_EQ(parse_cidr("2001:db8::/32")->to_string(), "2001:db8::/32");
    EXPECT_EQ(parse_cidr("0.0.0.0/0")->prefix_length, 0u);
    EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(boost::asio::ip::make_address("8.8.8.8")));

    auto host_bits = parse_cidr("10.0.0.1/8");
    ASSERT_FALSE(host_bits);
    EXPECT_NE(host_bits.error().message.find("did you mean 10.0.0.0/8"), std::string::npos);
    EXPECT_FALSE(parse_cidr("fc00::1/7"));
    EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
    EXPECT_FALSE(parse_cidr("::/129"));
    EXPECT_FALSE(parse_cidr("10.0.0.0/"));
    EXPECT_FALSE(parse_cidr("10.0.0.0/8x"));
    EXPECT_FALSE(parse_cidr("example.com/8"));
    EXPECT_FALSE(parse_cidr("fe80::1%eth0"));
    EXPECT_FALSE(parse_cidr(""));

    std::vector<std::string> bad{"10.0.0.0/8", "nope"};
    auto g = SsrfGuard::from_strings(bad);
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().attribute, "allow");
    EXPECT_NE(g.error().message.find("nope"), std::string::npos);
}

TEST(SsrfGuard, CidrContainsAcrossSpellings) {
    auto v4 = *parse_cidr("192.168.0.0/16");
    EXPECT_TRUE(v4.contains(boost::asio::ip::make_address("192.168.4.5")));
    EXPECT_TRUE(v4.contains(boost::asio::ip::make_address("::ffff:192.168.4.5")));
    EXPECT_FALSE(v4.contains(boost::asio::ip::make_address("2001:db8::1")));
    auto mapped = *parse_cidr("::ffff:0:0/96");
    EXPECT_TRUE(mapped.contains(boost::asio::ip::make_address("1.2.3.4")));
    auto odd = *parse_cidr("172.16.0.0/12");
    EXPECT_TRUE(odd.contains(boost::asio::ip::make_address("172.31.0.1")));
    EXPECT_FALSE(odd.contains(boost::asio::ip::make_address("172.32.0.1")));
}

}  // namespace
}  // namespace herald::webhook
