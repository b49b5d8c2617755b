#include "http/tls.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/ossl.hpp"

namespace herald::http {

namespace ssl = boost::asio::ssl;

namespace {

Error file_error(std::string_view what, std::string_view key, std::string message) {
    std::string path = std::string(what) + "." + std::string(key);
    return make_error(Errc::invalid_argument, path + ": " + message, path);
}

// Opening the file first gives "No such file or directory" or "Permission denied" in words, where OpenSSL
// would only say "system lib".
Result<void> check_readable(const std::string& file, std::string_view what, std::string_view key) {
    if (file.empty()) return file_error(what, key, "required");
    std::ifstream in(file);
    if (!in) return file_error(what, key, "cannot read " + file + ": " + std::strerror(errno));
    return ok();
}

// A passphrase callback that has none: an encrypted key fails to load instead of OpenSSL asking for its
// passphrase on the terminal (a service has none to ask on).
int no_passphrase(char*, int, int, void*) { return 0; }

// ALPN (RFC 7301): http/1.1 is the only protocol Herald speaks. A client offering only others (h2 alone) gets
// the fatal no_application_protocol alert the RFC requires, rather than a connection it would misread.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned int in_len,
                void*) {
    static constexpr unsigned char kOffer[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* selected = nullptr;
    unsigned char selected_len = 0;
    if (SSL_select_next_proto(&selected, &selected_len, kOffer, sizeof kOffer, in, in_len) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    *out_len = selected_len;
    return SSL_TLSEXT_ERR_OK;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

TlsCertificateInfo describe(X509* cert) {
    TlsCertificateInfo info;
    if (!cert) return info;
    if (ossl::BioPtr bio{BIO_new(BIO_s_mem())}) {
        X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        info.subject = bio_text(bio.get());
    }
    if (ossl::BnPtr bn{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)}) {
        if (char* hex = BN_bn2hex(bn.get())) {
            info.serial = hex;
            OPENSSL_free(hex);
        }
    }
    if (ossl::BioPtr bio{BIO_new(BIO_s_mem())}) {
        ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert));
        info.not_after = bio_text(bio.get());
    }
    info.expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
    ERR_clear_error();
    return info;
}

}  // namespace

Result<TlsVersion> parse_tls_version(std::string_view text) {
    if (text == "1.2") return TlsVersion::tls1_2;
    if (text == "1.3") return TlsVersion::tls1_3;
    if (text == "1.0" || text == "1.1")
        return make_error(Errc::invalid_argument,
                          "TLS " + std::string(text) + " is not supported (RFC 8996): expected 1.2 or 1.3");
    return make_error(Errc::invalid_argument, "expected 1.2 or 1.3");
}

std::string_view to_string(TlsVersion version) noexcept {
    return version == TlsVersion::tls1_3 ? "1.3" : "1.2";
}

Result<ServerTlsContext> make_server_tls_context(const TlsFiles& files, std::string_view what) {
    if (auto r = check_readable(files.cert_file, what, "cert_file"); !r) return std::move(r).error();
    if (auto r = check_readable(files.key_file, what, "key_file"); !r) return std::move(r).error();

    ERR_clear_error();
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* ctx = context->native_handle();
    const int floor = files.min_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(ctx, floor) != 1)
        return make_error(Errc::invalid_argument, std::string(what) + ".min_version: " + ossl::last_error(),
                          std::string(what) + ".min_version");
    // The client's EOF without close_notify reads as a plain end of stream: HTTP/1.1 delimits every request
    // itself, so a truncated connection cannot pass for a complete message, and clients that skip close_notify
    // are common.
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Idle connections (most SSE and WebSocket subscribers) give their OpenSSL record buffers back.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);

    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1)
        return file_error(what, "cert_file", files.cert_file + " is not a PEM certificate: " + ossl::last_error());

    ossl::BioPtr key_bio{BIO_new_file(files.key_file.c_str(), "r")};
    if (!key_bio) return file_error(what, "key_file", "cannot read " + files.key_file + ": " + ossl::last_error());
    ossl::PkeyPtr key{PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &no_passphrase, nullptr)};
    if (!key)
        return file_error(what, "key_file",
                          files.key_file + " is not an unencrypted PEM private key: " + ossl::last_error());
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        return file_error(what, "key_file",
                          files.key_file + " does not match the certificate in " + files.cert_file);
    }
    ServerTlsContext out;
    out.certificate = describe(SSL_CTX_get0_certificate(ctx));
    out.context = std::move(context);
    return out;
}

std::shared_ptr<ssl::context> TlsCredentials::context() const {
    std::lock_guard lock(mutex_);
    return current_.context;
}

TlsCertificateInfo TlsCredentials::certificate() const {
    std::lock_guard lock(mutex_);
    return current_.certificate;
}

void TlsCredentials::replace(ServerTlsContext next) {
    // The old context is released outside the lock: when no connection holds it any more, freeing it frees
    // OpenSSL's session cache, which is not work to do while workers wait for the pointer.
    ServerTlsContext old;
    {
        std::lock_guard lock(mutex_);
        old = std::exchange(current_, std::move(next));
    }
}

}  // namespace herald::http
