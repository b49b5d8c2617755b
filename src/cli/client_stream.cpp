#include "cli/client_stream.hpp"

#include <boost/asio/ip/address.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace herald::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;

namespace {

// The error OpenSSL left for the call that just failed, as an error_code; never a success.
boost::system::error_code last_openssl_error() {
    const unsigned long code = ::ERR_get_error();
    ::ERR_clear_error();
    if (code == 0) return asio::error::invalid_argument;
    return {static_cast<int>(code), asio::error::get_ssl_category()};
}

// The verification results for which the usual remedy is to name the CA that issued the server's
// certificate.
bool issuer_unknown(long result) {
    switch (result) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return true;
        default:
            return false;
    }
}

std::variant<beast::tcp_stream, ClientStream::TlsStream> make_stream(asio::io_context& io,
                                                                     TlsTrust::Context* context) {
    if (!context)
        return std::variant<beast::tcp_stream, ClientStream::TlsStream>(std::in_place_index<0>, io);
    return std::variant<beast::tcp_stream, ClientStream::TlsStream>(std::in_place_index<1>, io,
                                                                    context->ssl);
}

}  // namespace

Result<TlsTrust> TlsTrust::load(const std::string& ca_file) {
    auto context = std::make_shared<Context>();
    SSL_CTX* native = context->ssl.native_handle();
    // TLS 1.0 and 1.1 are deprecated (RFC 8996); Herald's listeners refuse them too.
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        return make_error(Errc::io_error, "cannot set up TLS: " + last_openssl_error().message());
    context->ssl.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    context->ssl.set_verify_mode(ssl::verify_peer);
    // The system store (honours SSL_CERT_FILE and SSL_CERT_DIR); certificates are looked up when a
    // handshake needs them.
    if (SSL_CTX_set_default_verify_paths(native) != 1)
        return make_error(Errc::io_error,
                          "cannot use the system trust store: " + last_openssl_error().message());
    if (!ca_file.empty()) {
        if (::access(ca_file.c_str(), R_OK) != 0)
            return make_error(Errc::invalid_argument,
                              "cannot read " + ca_file + ": " + std::strerror(errno), "cacert");
        if (SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1) {
            const auto ec = last_openssl_error();
            return make_error(Errc::invalid_argument,
                              ca_file + " holds no usable PEM certificate (" + ec.message() + ")",
                              "cacert");
        }
    }
    // ALPN offers HTTP/1.1, which WebSocket upgrades ride on too; a server that insists on h2
    // refuses us plainly.
    static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    if (SSL_CTX_set_alpn_protos(native, kAlpn, sizeof kAlpn) != 0)  // 0 is success here
        return make_error(Errc::io_error, "cannot set up TLS: " + last_openssl_error().message());
    TlsTrust trust;
    trust.context_ = std::move(context);
    return trust;
}

Result<std::shared_ptr<TlsTrust::Context>> tls_context_for(const Url& url, const TlsTrust& trust) {
    if (!url.tls) return std::shared_ptr<TlsTrust::Context>{};
    if (trust.context()) return trust.context();
    auto system_only = TlsTrust::load({});
    if (!system_only) return std::move(system_only).error();
    return system_only->context();
}

ClientStream::ClientStream(asio::io_context& io, const Url& url,
                           std::shared_ptr<TlsTrust::Context> context)
    // The base keeps the trust's context alive (an aliasing pointer to its ssl::context) for as long as the SSL
    // object made from it.
    : EitherStream(make_stream(io, context.get()),
                   context ? std::shared_ptr<asio::ssl::context>(context, &context->ssl) : nullptr),
      io_(io),
      authority_(url.authority()) {
    auto* t = tls();
    if (!t) return;
    SSL* handle = t->native_handle();
    boost::system::error_code not_ip;
    asio::ip::make_address(url.host, not_ip);
    if (!not_ip) {
        // An IP literal is checked against the certificate's IP addresses. (OpenSSL 3's
        // SSL_set1_host would recognise one too; saying so keeps the intent plain and SNI out of
        // it.)
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), url.host.c_str()) != 1)
            setup_error_ = last_openssl_error();
        return;
    }
    SSL_set_hostflags(handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set_tlsext_host_name(handle, url.host.c_str()) != 1 ||
        SSL_set1_host(handle, url.host.c_str()) != 1)
        setup_error_ = last_openssl_error();
}

boost::system::error_code ClientStream::handshake(std::chrono::steady_clock::duration limit) {
    if (!tls()) return {};
    boost::system::error_code result = asio::error::would_block;
    tcp().expires_after(limit);
    async_handshake([&result](const boost::system::error_code& ec) { result = ec; });
    io_.restart();
    io_.run();  // until the handshake and the deadline's timer are both done
    tcp().expires_never();
    return result;
}

void ClientStream::shutdown_and_close(std::chrono::steady_clock::duration limit) {
    if (tls() && tcp().socket().is_open()) {
        tcp().expires_after(limit);
        // Its outcome does not matter: the server may have gone, or answer with data instead of
        // close_notify.
        async_shutdown([](const boost::system::error_code&) {});
        io_.restart();
        io_.run();
    }
    close();
}

void ClientStream::close() { tcp().close(); }

Error ClientStream::handshake_failure(const boost::system::error_code& ec) {
    const std::string what = "TLS handshake with " + authority_ + " failed: ";
    if (auto* t = tls()) {
        const long verified = SSL_get_verify_result(t->native_handle());
        if (verified != X509_V_OK) {
            std::string reason = "certificate verification failed: ";
            reason += X509_verify_cert_error_string(verified);
            if (issuer_unknown(verified))
                reason += " (trust the server's CA with --cacert FILE or HERALD_CA_FILE)";
            return make_error(Errc::invalid_argument, what + reason);
        }
    }
    return make_error(Errc::unavailable,
                      what + (ec == beast::error::timeout ? "timed out" : ec.message()));
}

}  // namespace herald::cli
