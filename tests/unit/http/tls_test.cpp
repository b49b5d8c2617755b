#include "http/tls.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

namespace herald::http {
namespace {

namespace fs = std::filesystem;

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Pkey make_key() { return Pkey(EVP_EC_gen("P-256")); }

// A self-signed certificate for `key`, valid from an hour ago for `valid_seconds` from now (negative: expired).
Cert make_cert(EVP_PKEY* key, const char* common_name, long serial, long valid_seconds = 3600) {
    Cert x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), valid_seconds);
    X509_set_pubkey(x.get(), key);
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                               0);
    X509_set_issuer_name(x.get(), name);
    X509_sign(x.get(), key, EVP_sha256());
    return x;
}

class TlsContextTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-tls-test-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write_cert(const std::string& name, X509* cert) {
        auto path = (dir_ / name).string();
        FILE* f = std::fopen(path.c_str(), "w");
        PEM_write_X509(f, cert);
        std::fclose(f);
        return path;
    }
    std::string write_key(const std::string& name, EVP_PKEY* key, const char* passphrase = nullptr) {
        auto path = (dir_ / name).string();
        FILE* f = std::fopen(path.c_str(), "w");
        if (passphrase)
            PEM_write_PrivateKey(f, key, EVP_aes_128_cbc(), reinterpret_cast<const unsigned char*>(passphrase),
                                 static_cast<int>(std::string(passphrase).size()), nullptr, nullptr);
        else
            PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        return path;
    }
    std::string write_text(const std::string& name, const std::string& text) {
        auto path = (dir_ / name).string();
        std::ofstream(path) << text;
        return path;
    }

    fs::path dir_;
};

TEST(TlsVersion, OnlyTwelveAndThirteen) {
    EXPECT_EQ(*parse_tls_version("1.2"), TlsVersion::tls1_2);
    EXPECT_EQ(*parse_tls_version("1.3"), TlsVersion::tls1_3);
    for (const char* old : {"1.0", "1.1"}) {
        auto r = parse_tls_version(old);
        ASSERT_FALSE(r) << old;
        EXPECT_NE(r.error().message.find("not supported"), std::string::npos) << r.error().message;
    }
    for (const char* bad : {"", "2", "1.4", "TLSv1.2", "1.2 "}) EXPECT_FALSE(parse_tls_version(bad)) << bad;
    EXPECT_EQ(to_string(TlsVersion::tls1_2), "1.2");
    EXPECT_EQ(to_string(TlsVersion::tls1_3), "1.3");
}

TEST_F(TlsContextTest, LoadsAMatchingPairAndDescribesTheCertificate) {
    auto key = make_key();
    auto cert = make_cert(key.get(), "herald.test", 0x1234);
    auto files = TlsFiles{write_cert("cert.pem", cert.get()), write_key("key.pem", key.get()), TlsVersion::tls1_2};
    auto ctx = make_server_tls_context(files, "tls");
    ASSERT_TRUE(ctx) << ctx.error().message;
    ASSERT_TRUE(ctx->context);
    EXPECT_EQ(ctx->certificate.subject, "CN=herald.test");
    EXPECT_EQ(ctx->certificate.serial, "1234");
    EXPECT_FALSE(ctx->certificate.not_after.empty());
    EXPECT_FALSE(ctx->certificate.expired);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->context->native_handle()), TLS1_2_VERSION);
}

TEST_F(TlsContextTest, MinVersionThirteenRaisesTheFloor) {
    auto key = make_key();
    auto cert = make_cert(key.get(), "herald.test", 1);
    auto files = TlsFiles{write_cert("cert.pem", cert.get()), write_key("key.pem", key.get()), TlsVersion::tls1_3};
    auto ctx = make_server_tls_context(files, "tls");
    ASSERT_TRUE(ctx) << ctx.error().message;
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->context->native_handle()), TLS1_3_VERSION);
}

TEST_F(TlsContextTest, AnExpiredCertificateLoadsButIsFlagged) {
    auto key = make_key();
    auto cert = make_cert(key.get(), "old.test", 2, -60);
    auto ctx = make_server_tls_context(
        TlsFiles{write_cert("cert.pem", cert.get()), write_key("key.pem", key.get())}, "tls");
    ASSERT_TRUE(ctx) << ctx.error().message;
    EXPECT_TRUE(ctx->certificate.expired);
}

TEST_F(TlsContextTest, AKeyOfAnotherCertificateIsRefusedNamingTheKeyFile) {
    auto key = make_key();
    auto other = make_key();
    auto cert = make_cert(key.get(), "herald.test", 3);
    auto files = TlsFiles{write_cert("cert.pem", cert.get()), write_key("other.pem", other.get())};
    auto ctx = make_server_tls_context(files, "admin_tls");
    ASSERT_FALSE(ctx);
    EXPECT_EQ(ctx.error().attribute, "admin_tls.key_file");
    EXPECT_NE(ctx.error().message.find(files.key_file), std::string::npos) << ctx.error().message;
    EXPECT_NE(ctx.error().message.find("does not match"), std::string::npos) << ctx.error().message;
}

TEST_F(TlsContextTest, MissingFilesAreNamed) {
    auto key = make_key();
    auto cert = make_cert(key.get(), "herald.test", 4);
    const auto cert_file = write_cert("cert.pem", cert.get());
    const auto key_file = write_key("key.pem", key.get());
    const auto missing = (dir_ / "missing.pem").string();

    auto no_key = make_server_tls_context(TlsFiles{cert_file, missing}, "tls");
    ASSERT_FALSE(no_key);
    EXPECT_EQ(no_key.error().attribute, "tls.key_file");
    EXPECT_NE(no_key.error().message.find(missing), std::string::npos) << no_key.error().message;
    EXPECT_NE(no_key.error().message.find("No such file"), std::string::npos) << no_key.error().message;

    auto no_cert = make_server_tls_context(TlsFiles{missing, key_file}, "tls");
    ASSERT_FALSE(no_cert);
    EXPECT_EQ(no_cert.error().attribute, "tls.cert_file");
    EXPECT_NE(no_cert.error().message.find(missing), std::string::npos) << no_cert.error().message;

    auto empty = make_server_tls_context(TlsFiles{cert_file, ""}, "tls");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().attribute, "tls.key_file");
}

TEST_F(TlsContextTest, FilesThatAreNotPemAreRefused) {
    auto key = make_key();
    auto cert = make_cert(key.get(), "herald.test", 5);
    const auto cert_file = write_cert("cert.pem", cert.get());
    const auto key_file = write_key("key.pem", key.get());
    const auto junk = write_text("junk.pem", "not a certificate\n");

    auto bad_cert = make_server_tls_context(TlsFiles{junk, key_file}, "tls");
    ASSERT_FALSE(bad_cert);
    EXPECT_EQ(bad_cert.error().attribute, "tls.cert_file");
    auto bad_key = make_server_tls_context(TlsFiles{cert_file, junk}, "tls");
    ASSERT_FALSE(bad_key);
    EXPECT_EQ(bad_key.error().attribute, "tls.key_file");
    // The certificate where the key should be: a readable PEM file, but no private key in it.
    auto swapped = make_server_tls_context(TlsFiles{cert_file, cert_file}, "tls");
    ASSERT_FALSE(swapped);
    EXPECT_EQ(swapped.error().attribute, "tls.key_file");
}

TEST_F(TlsContextTest, AnEncryptedKeyIsRefusedWithoutAskingForAPassphrase) {
    auto key = make_key();
    auto cert = make_cert(key.get(), "herald.test", 6);
    auto ctx = make_server_tls_context(
        TlsFiles{write_cert("cert.pem", cert.get()), write_key("key.pem", key.get(), "secret-passphrase")}, "tls");
    ASSERT_FALSE(ctx);
    EXPECT_EQ(ctx.error().attribute, "tls.key_file");
    EXPECT_NE(ctx.error().message.find("unencrypted"), std::string::npos) << ctx.error().message;
}

TEST_F(TlsContextTest, ReplaceChangesWhatNewConnectionsGetOnly) {
    auto key = make_key();
    auto first = make_cert(key.get(), "first.test", 7);
    auto second = make_cert(key.get(), "second.test", 8);
    const auto key_file = write_key("key.pem", key.get());
    auto a = make_server_tls_context(TlsFiles{write_cert("a.pem", first.get()), key_file}, "tls");
    auto b = make_server_tls_context(TlsFiles{write_cert("b.pem", second.get()), key_file}, "tls");
    ASSERT_TRUE(a && b);
    TlsCredentials credentials(std::move(*a));
    auto held = credentials.context();  // an open connection's
    credentials.replace(std::move(*b));
    EXPECT_NE(credentials.context(), held);
    EXPECT_EQ(credentials.certificate().serial, "08");
    // The old context lives on for as long as a connection holds it.
    EXPECT_EQ(held.use_count(), 1);
    X509* still = SSL_CTX_get0_certificate(held->native_handle());
    ASSERT_NE(still, nullptr);
    EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(still)), 7);
}

}  // namespace
}  // namespace herald::http
