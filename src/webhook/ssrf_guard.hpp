#pragma once
// Server-side request forgery guard for webhook egress (DESIGN.md §6). A subscriber chooses the URL
// Herald POSTs to, so without a guard anyone allowed to create a subscription could make Herald
// reach its own admin listener, a database on the private network or the cloud metadata service.
// The guard classifies the *resolved* address — the one the socket will connect to — so DNS names
// that point inside, DNS rebinding (the client connects to the addresses it checked, it does not
// resolve twice) and IP literals in odd spellings are all caught.
//
// Blocked by default (IANA special-purpose registries, RFC 6890 and successors):
//   IPv4  0.0.0.0/8 unspecified · 10/8, 172.16/12, 192.168/16 private · 100.64/10 shared (CGNAT) ·
//         127/8 loopback · 169.254/16 link-local, and the metadata endpoints 169.254.169.254,
//         100.100.100.200 (Alibaba) and 168.63.129.16 (Azure wire server) named as such ·
//         192.0.0/24 IETF protocol assignments · 192.0.2/24, 198.51.100/24, 203.0.113/24
//         documentation · 192.88.99/24 deprecated 6to4 relays · 198.18/15 benchmarking ·
//         224/4 multicast · 240/4 reserved · 255.255.255.255 broadcast
//   IPv6  :: unspecified · ::1 loopback · ::/96 deprecated IPv4-compatible · 100::/64 discard ·
//         2001::/32 Teredo (the embedded client address is obfuscated and the tunnel is
//         unauthenticated) · 2001:2::/48 benchmarking · 2001::/23 other IETF protocol assignments ·
//         2001:db8::/32 and 3fff::/20 documentation · 64:ff9b:1::/48 local-use NAT64 · fc00::/7
//         unique local (fd00:ec2::254, the AWS IPv6 metadata endpoint, named as such) · fec0::/10
//         deprecated site-local · fe80::/10 link-local · ff00::/8 multicast · anything outside
//         2000::/3 global unicast (not allocated)
//   Embeddings: ::ffff:a.b.c.d (IPv4-mapped), ::ffff:0:a.b.c.d (IPv4-translated),
//         64:ff9b::a.b.c.d (NAT64 well-known prefix) and 2002:AABB:CCDD::/48 (6to4) are
//         classified by the IPv4 address they carry.
//
// Configuration: an allow-list of CIDRs overrides the built-in ranges (e.g. "127.0.0.1/32" for a
// receiver on the same host in development, "10.20.0.0/16" for an internal receiver network); a
// deny-list adds ranges (e.g. the operator's own public addresses) and wins over both.
//
// Threading: an SsrfGuard is immutable after construction; check() is safe from any thread.

#include <boost/asio/ip/address.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::webhook {

// Why an address is or is not deliverable.
enum class AddressKind {
    global,           // publicly routable unicast
    unspecified,      // 0.0.0.0/8, ::
    loopback,         // 127/8, ::1
    private_network,  // RFC 1918, unique local fc00::/7, site-local fec0::/10, local-use NAT64
    shared,           // 100.64/10 carrier-grade NAT
    link_local,       // 169.254/16, fe80::/10
    cloud_metadata,   // the instance metadata endpoints
    multicast,        // 224/4, ff00::/8
    broadcast,        // 255.255.255.255
    documentation,    // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
    benchmarking,     // 198.18/15, 2001:2::/48
    ietf_protocol,    // 192.0.0/24, 2001::/23
    teredo,           // 2001::/32
    reserved,         // 240/4, 6to4 relay anycast, IPv4-compatible, discard-only, outside 2000::/3
    denied,           // in the configured deny-list
};
const char* to_string(AddressKind k) noexcept;

// An address block: network address and prefix length. An IPv4 block also matches the IPv4-mapped
// and IPv4-translated IPv6 spellings of its addresses.
struct Cidr {
    boost::asio::ip::address network;
    unsigned prefix_length = 0;

    bool contains(const boost::asio::ip::address& a) const noexcept;
    std::string to_string() const;  // "10.0.0.0/8", "fc00::/7"
    friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits past the prefix must
// be zero ("10.0.0.1/8" is refused with a hint, since it usually means a typo).
// Errc::invalid_argument otherwise.
Result<Cidr> parse_cidr(std::string_view text);

struct Verdict {
    bool allowed = false;
    AddressKind kind = AddressKind::
        global;          // the built-in classification, also when an allow-list entry overrode it
    std::string range;   // the block that decided: "127.0.0.0/8", the allow/deny entry, or empty
    std::string reason;  // one sentence naming the address and the range, for error messages
};

class SsrfGuard {
public:
    // Built-in ranges only.
    SsrfGuard() = default;
    SsrfGuard(std::vector<Cidr> allow, std::vector<Cidr> deny = {});
    // From configuration strings; the error names the offending entry and the key ("allow"/"deny").
    static Result<SsrfGuard> from_strings(std::span<const std::string> allow,
                                          std::span<const std::string> deny = {});

    Verdict check(const boost::asio::ip::address& address) const;
    // Errc::invalid_argument when `address` is not an IP address literal.
    Result<Verdict> check(std::string_view address) const;

    const std::vector<Cidr>& allow() const noexcept { return allow_; }
    const std::vector<Cidr>& deny() const noexcept { return deny_; }

private:
    std::vector<Cidr> allow_;
    std::vector<Cidr> deny_;
};

// The built-in classification alone: allowed iff the address is global.
Verdict classify_address(const boost::asio::ip::address& address);

}  // namespace herald::webhook
