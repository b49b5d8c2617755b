#pragma once
// TLS on Herald's own listeners: the server-side OpenSSL context made from a certificate file and a key file, and
// the holder every listener of one address asks for the context of each new connection (docs/security.md "TLS").
//
// The policy is fixed, not configurable, because every knob here has one right answer for an HTTP/1.1 API
// gateway: TLS 1.2 or 1.3 only (`min_version` raises the floor to 1.3), OpenSSL's default cipher suites for
// those versions, ALPN offering http/1.1 only, no compression, no renegotiation (a client could make the server
// pay for handshakes at will), session tickets on. Ticket keys belong to the context, so after a reload clients
// resume once more with a full handshake.

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::http {

enum class TlsVersion : std::uint8_t { tls1_2, tls1_3 };

// "1.2" or "1.3". Anything older (1.0, 1.1, SSLv3) is refused: those versions are deprecated by RFC 8996.
Result<TlsVersion> parse_tls_version(std::string_view text);
std::string_view to_string(TlsVersion version) noexcept;

struct TlsFiles {
    std::string cert_file;  // PEM: the server certificate first, then its intermediates
    std::string key_file;   // PEM: the private key of the first certificate, not encrypted
    TlsVersion min_version = TlsVersion::tls1_2;
};

// What a loaded certificate is, for the start-up log and the reload answer.
struct TlsCertificateInfo {
    std::string subject;    // one line, e.g. "CN=api.example.com"
    std::string serial;     // hexadecimal
    std::string not_after;  // as OpenSSL prints it, e.g. "Jun  1 12:00:00 2027 GMT"
    bool expired = false;
};

struct ServerTlsContext {
    std::shared_ptr<boost::asio::ssl::context> context;
    TlsCertificateInfo certificate;
};

// Loads the files and checks them: both readable, the certificate a PEM certificate, the key a PEM private key
// that belongs to it. `what` is the configuration key ("tls", "admin_tls"): every error names it with the file,
// e.g. "tls.key_file: /etc/herald/key.pem does not match the certificate in /etc/herald/cert.pem", and carries
// the key path as its attribute.
Result<ServerTlsContext> make_server_tls_context(const TlsFiles& files, std::string_view what);

// The TLS context for new connections on one listener address, shared by every worker's listener of it. A
// connection takes a shared_ptr to the current context when it is accepted and keeps it for its life, so
// replace() only changes what later connections get.
//
// Threading: context() from any worker thread, replace() from the thread that reloads; a mutex guards the
// pointer (held for a shared_ptr copy).
class TlsCredentials {
public:
    explicit TlsCredentials(ServerTlsContext initial) : current_(std::move(initial)) {}

    std::shared_ptr<boost::asio::ssl::context> context() const;
    TlsCertificateInfo certificate() const;
    void replace(ServerTlsContext next);

private:
    mutable std::mutex mutex_;
    ServerTlsContext current_;
};

}  // namespace herald::http
