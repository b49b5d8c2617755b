#include "webhook/ssrf_guard.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <array>
#include <charconv>
#include <optional>

namespace herald::webhook {

namespace ip = boost::asio::ip;

namespace {

using Bytes16 = std::array<unsigned char, 16>;

bool prefix_match(const unsigned char* a, const unsigned char* b, unsigned bits) noexcept {
    const unsigned full = bits / 8;
    for (unsigned i = 0; i < full; ++i)
        if (a[i] != b[i]) return false;
    const unsigned rest = bits % 8;
    if (rest == 0) return true;
    const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

// ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated, RFC 2765): the same IPv4 destination on
// a dual-stack socket, so they are matched and classified exactly like the IPv4 address.
std::optional<ip::address_v4> same_host_v4(const ip::address_v6& a) {
    if (a.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a);
    const Bytes16 b = a.to_bytes();
    static constexpr unsigned char translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    if (prefix_match(b.data(), translated, 96))
        return ip::address_v4(ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]});
    return std::nullopt;
}

std::optional<ip::address_v4> as_v4(const ip::address& a) {
    if (a.is_v4()) return a.to_v4();
    return same_host_v4(a.to_v6());
}

Bytes16 as_v6_bytes(const ip::address& a) {
    if (a.is_v6()) return a.to_v6().to_bytes();
    return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
}

const char* describe(AddressKind k) noexcept {
    switch (k) {
        case AddressKind::global:
            return "a public address";
        case AddressKind::unspecified:
            return "an unspecified address";
        case AddressKind::loopback:
            return "a loopback address";
        case AddressKind::private_network:
            return "a private network address";
        case AddressKind::shared:
            return "a carrier-grade NAT (shared) address";
        case AddressKind::link_local:
            return "a link-local address";
        case AddressKind::cloud_metadata:
            return "a cloud metadata endpoint";
        case AddressKind::multicast:
            return "a multicast address";
        case AddressKind::broadcast:
            return "the broadcast address";
        case AddressKind::documentation:
            return "a documentation address";
        case AddressKind::benchmarking:
            return "a benchmarking address";
        case AddressKind::ietf_protocol:
            return "an IETF protocol assignment";
        case AddressKind::teredo:
            return "a Teredo tunnel address";
        case AddressKind::reserved:
            return "a reserved address";
        case AddressKind::denied:
            return "in the configured deny-list";
    }
    return "unknown";
}

struct Range {
    Cidr cidr;
    AddressKind kind;
    std::string text;
};

Range range(const char* net, unsigned len, AddressKind kind) {
    Cidr c{ip::make_address(net), len};
    return Range{c, kind, c.to_string()};
}

// Most specific first: the first match decides.
const std::vector<Range>& v4_ranges() {
    static const std::vector<Range> r = {
        range("169.254.169.254", 32,
              AddressKind::cloud_metadata),  // AWS, GCP, Azure, OpenStack, DigitalOcean...
        range("100.100.100.200", 32, AddressKind::cloud_metadata),  // Alibaba Cloud
        range("168.63.129.16", 32,
              AddressKind::cloud_metadata),  // Azure wire server (public space, host-local)
        range("255.255.255.255", 32, AddressKind::broadcast),
        range("0.0.0.0", 8, AddressKind::unspecified),
        range("10.0.0.0", 8, AddressKind::private_network),
        range("100.64.0.0", 10, AddressKind::shared),
        range("127.0.0.0", 8, AddressKind::loopback),
        range("169.254.0.0", 16, AddressKind::link_local),
        range("172.16.0.0", 12, AddressKind::private_network),
        range("192.0.0.0", 24, AddressKind::ietf_protocol),
        range("192.0.2.0", 24, AddressKind::documentation),
        range("192.88.99.0", 24, AddressKind::reserved),
        range("192.168.0.0", 16, AddressKind::private_network),
        range("198.18.0.0", 15, AddressKind::benchmarking),
        range("198.51.100.0", 24, AddressKind::documentation),
        range("203.0.113.0", 24, AddressKind::documentation),
        range("224.0.0.0", 4, AddressKind::multicast),
        range("240.0.0.0", 4, AddressKind::reserved),
    };
    return r;
}

const std::vector<Range>& v6_ranges() {
    static const std::vector<Range> r = {
        range("::", 128, AddressKind::unspecified),
        range("::1", 128, AddressKind::loopback),
        range("::", 96, AddressKind::reserved),     // deprecated IPv4-compatible addresses
        range("100::", 64, AddressKind::reserved),  // discard-only
        range("2001::", 32, AddressKind::teredo),
        range("2001:2::", 48, AddressKind::benchmarking),
        range("2001:db8::", 32, AddressKind::documentation),
        range("2001::", 23, AddressKind::ietf_protocol),
        range("3fff::", 20, AddressKind::documentation),
        range("64:ff9b:1::", 48, AddressKind::private_network),    // local-use NAT64 (RFC 8215)
        range("fd00:ec2::254", 128, AddressKind::cloud_metadata),  // AWS IPv6 instance metadata
        range("fc00::", 7, AddressKind::private_network),
        range("fe80::", 10, AddressKind::link_local),
        range("fec0::", 10, AddressKind::private_network),  // deprecated site-local
        range("ff00::", 8, AddressKind::multicast),
    };
    return r;
}

Verdict blocked(const std::string& addr, AddressKind kind, const std::string& range_text) {
    return Verdict{false, kind, range_text,
                   addr + " is " + describe(kind) + " (" + range_text + ")"};
}

Verdict classify_v4(const ip::address_v4& a, const std::string& shown) {
    const ip::address addr(a);
    for (auto& r : v4_ranges())
        if (r.cidr.contains(addr)) return blocked(shown, r.kind, r.text);
    return Verdict{true, AddressKind::global, {}, shown + " is a public address"};
}

// An IPv6 address that carries an IPv4 destination: classify by the IPv4 one, but say so.
Verdict classify_embedded(const ip::address_v4& inner, const std::string& shown, const char* how) {
    Verdict v = classify_v4(inner, inner.to_string());
    const std::string lead = shown + " " + how + " the IPv4 address " + inner.to_string();
    if (v.allowed)
        v.reason = lead + ", a public address";
    else
        v.reason = lead + ", which is " + describe(v.kind) + " (" + v.range + ")";
    return v;
}

}  // namespace

const char* to_string(AddressKind k) noexcept {
    switch (k) {
        case AddressKind::global:
            return "global";
        case AddressKind::unspecified:
            return "unspecified";
        case AddressKind::loopback:
            return "loopback";
        case AddressKind::private_network:
            return "private";
        case AddressKind::shared:
            return "shared";
        case AddressKind::link_local:
            return "link_local";
        case AddressKind::cloud_metadata:
            return "cloud_metadata";
        case AddressKind::multicast:
            return "multicast";
        case AddressKind::broadcast:
            return "broadcast";
        case AddressKind::documentation:
            return "documentation";
        case AddressKind::benchmarking:
            return "benchmarking";
        case AddressKind::ietf_protocol:
            return "ietf_protocol";
        case AddressKind::teredo:
            return "teredo";
        case AddressKind::reserved:
            return "reserved";
        case AddressKind::denied:
            return "denied";
    }
    return "unknown";
}

bool Cidr::contains(const ip::address& a) const noexcept {
    if (network.is_v4()) {
        auto v4 = as_v4(a);
        if (!v4) return false;
        const auto n = network.to_v4().to_bytes();
        const auto b = v4->to_bytes();
        return prefix_match(n.data(), b.data(), prefix_length);
    }
    const Bytes16 n = network.to_v6().to_bytes();
    const Bytes16 b = as_v6_bytes(a);
    return prefix_match(n.data(), b.data(), prefix_length);
}

std::string Cidr::to_string() const {
    return network.to_string() + "/" + std::to_string(prefix_length);
}

Result<Cidr> parse_cidr(std::string_view text) {
    const std::string shown(text);
    auto bad = [&](const std::string& why) {
        return make_error(Errc::invalid_argument, "'" + shown + "' is not a CIDR block: " + why);
    };
    const auto slash = text.find('/');
    const std::string addr_text(text.substr(0, slash));
    if (addr_text.find('%') != std::string::npos) return bad("a zone index (%) is not allowed");
    boost::system::error_code ec;
    const ip::address net = ip::make_address(addr_text, ec);
    if (ec) return bad("'" + addr_text + "' is not an IP address");
    const unsigned max_len = net.is_v4() ? 32 : 128;
    unsigned len = max_len;
    if (slash != std::string_view::npos) {
        const std::string_view p = text.substr(slash + 1);
        auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), len);
        if (p.empty() || perr != std::errc{} || end != p.data() + p.size() || len > max_len)
            return bad("the prefix length must be 0 to " + std::to_string(max_len));
    }
    // Refuse host bits rather than silently masking them: "10.0.0.1/8" usually means "10.0.0.1/32"
    // or a typo.
    Cidr c{net, len};
    if (net.is_v4()) {
        auto b = net.to_v4().to_bytes();
        for (unsigned bit = len; bit < 32; ++bit)
            b[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
        const ip::address masked{ip::address_v4(b)};
        if (masked != net)
            return bad("host bits are set; did you mean " + masked.to_string() + "/" +
                       std::to_string(len) + "?");
    } else {
        auto b = net.to_v6().to_bytes();
        for (unsigned bit = len; bit < 128; ++bit)
            b[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
        const ip::address masked{ip::address_v6(b)};
        if (masked != net)
            return bad("host bits are set; did you mean " + masked.to_string() + "/" +
                       std::to_string(len) + "?");
    }
    return c;
}

Verdict classify_address(const ip::address& address) {
    const std::string shown = address.to_string();
    if (address.is_v4()) return classify_v4(address.to_v4(), shown);

    const ip::address_v6 a = address.to_v6();
    if (auto v4 = same_host_v4(a)) return classify_embedded(*v4, shown, "is");
    const Bytes16 b = a.to_bytes();
    static constexpr unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (prefix_match(b.data(), nat64, 96))
        return classify_embedded(
            ip::address_v4(ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]}), shown,
            "is a NAT64 translation of");
    if (b[0] == 0x20 && b[1] == 0x02)
        return classify_embedded(ip::address_v4(ip::address_v4::bytes_type{b[2], b[3], b[4], b[5]}),
                                 shown, "is a 6to4 address embedding");
    for (auto& r : v6_ranges())
        if (r.cidr.contains(address)) return blocked(shown, r.kind, r.text);
    if ((b[0] & 0xe0) != 0x20)
        return Verdict{false, AddressKind::reserved, "2000::/3",
                       shown + " is outside the global unicast range (2000::/3)"};
    return Verdict{true, AddressKind::global, {}, shown + " is a public address"};
}

SsrfGuard::SsrfGuard(std::vector<Cidr> allow, std::vector<Cidr> deny)
    : allow_(std::move(allow)), deny_(std::move(deny)) {}

Result<SsrfGuard> SsrfGuard::from_strings(std::span<const std::string> allow,
                                          std::span<const std::string> deny) {
    std::vector<Cidr> a, d;
    for (auto& s : allow) {
        auto c = parse_cidr(s);
        if (!c) return make_error(Errc::invalid_argument, "allow: " + c.error().message, "allow");
        a.push_back(*c);
    }
    for (auto& s : deny) {
        auto c = parse_cidr(s);
        if (!c) return make_error(Errc::invalid_argument, "deny: " + c.error().message, "deny");
        d.push_back(*c);
    }
    return SsrfGuard(std::move(a), std::move(d));
}

Verdict SsrfGuard::check(const ip::address& address) const {
    const std::string shown = address.to_string();
    for (auto& c : deny_)
        if (c.contains(address)) {
            const auto text = c.to_string();
            return Verdict{false, AddressKind::denied, text,
                           shown + " is in the configured deny-list (" + text + ")"};
        }
    Verdict v = classify_address(address);
    if (v.allowed) return v;
    for (auto& c : allow_)
        if (c.contains(address)) {
            v.allowed = true;
            v.reason += ", allow-listed by " + c.to_string();
            v.range = c.to_string();
            return v;
        }
    return v;
}

Result<Verdict> SsrfGuard::check(std::string_view address) const {
    boost::system::error_code ec;
    const auto a = ip::make_address(std::string(address), ec);
    if (ec)
        return make_error(Errc::invalid_argument,
                          "'" + std::string(address) + "' is not an IP address");
    return check(a);
}

}  // namespace herald::webhook
