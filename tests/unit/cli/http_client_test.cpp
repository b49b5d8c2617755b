// The command-line clients' URLs and TLS: parse_base_url, TlsTrust, and HttpClient / fetch /
// read_sse / WsClient against an in-process HTTPS server whose certificate a test CA issued (names:
// localhost and 127.0.0.1).
#include "cli/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "cli/ws_client.hpp"

namespace herald::cli {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// ---- parse_base_url
// -------------------------------------------------------------------------------------------

TEST(ParseBaseUrl, HttpAndHttpsWithTheirDefaultPorts) {
    auto plain = parse_base_url("http://127.0.0.1:8080");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->tls);
    EXPECT_EQ(plain->scheme(), "http");
    EXPECT_EQ(plain->host, "127.0.0.1");
    EXPECT_EQ(plain->port, "8080");
    EXPECT_EQ(plain->path_prefix, "");

    auto plain_default = parse_base_url("http://herald.example");
    ASSERT_TRUE(plain_default);
    EXPECT_EQ(plain_default->port, "80");

    auto secure = parse_base_url("https://herald.example");
    ASSERT_TRUE(secure);
    EXPECT_TRUE(secure->tls);
    EXPECT_EQ(secure->scheme(), "https");
    EXPECT_EQ(secure->host, "herald.example");
    EXPECT_EQ(secure->port, "443");
    EXPECT_EQ(secure->authority(), "herald.example:443");

    auto prefixed = parse_base_url("https://127.0.0.1:9443/gateway/herald/");
    ASSERT_TRUE(prefixed);
    EXPECT_TRUE(prefixed->tls);
    EXPECT_EQ(prefixed->port, "9443");
    EXPECT_EQ(prefixed->path_prefix, "/gateway/herald");

    // Schemes are case-insensitive (RFC 3986 §3.1).
    auto upper = parse_base_url("HTTPS://herald.example:8443");
    ASSERT_TRUE(upper);
    EXPECT_TRUE(upper->tls);
    EXPECT_EQ(upper->port, "8443");
}

TEST(ParseBaseUrl, Ipv6HostsAreUnbracketedForConnectingAndBracketedForHeaders) {
    auto v6 = parse_base_url("https://[::1]:9443");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->host_for_header(), "[::1]");
    EXPECT_EQ(v6->authority(), "[::1]:9443");
}

TEST(ParseBaseUrl, RefusesOtherSchemesAndBrokenUrls) {
    for (const char* bad :
         {"ftp://herald.example", "ws://127.0.0.1:8080", "wss://127.0.0.1:8443",
          "file:///etc/passwd", "127.0.0.1:8080", "herald.example", "https://", "http:///path",
          "https://herald.example:/", "https://herald.example:0", "", "not a url"}) {
        auto r = parse_base_url(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::invalid_argument) << bad;
            EXPECT_EQ(r.error().attribute, "url") << bad;
            EXPECT_NE(r.error().message.find("https://"), std::string::npos) << r.error().message;
        }
    }
}

// ---- A test PKI
// -----------------------------------------------------------------------------------------------

std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("herald-cli-test-" + std::to_string(::getpid()) + "-" + name);
}

// A CA, and certificates it issued: `server` for localhost and 127.0.0.1, `elsewhere` for another
// name only. The CA's certificate is written to ca_file for the client to trust.
struct TestPki {
    EVP_PKEY* ca_key = nullptr;
    X509* ca = nullptr;
    EVP_PKEY* key = nullptr;
    X509* server = nullptr;
    X509* elsewhere = nullptr;
    std::string ca_file = temp_path("ca.pem").string();

    TestPki() {
        ca_key = EVP_EC_gen("P-256");
        key = EVP_EC_gen("P-256");
        ca = make("Herald CLI test CA", ca_key, nullptr, ca_key, "critical,CA:TRUE", nullptr);
        server = make("herald-cli-test", key, ca, ca_key, "CA:FALSE", "DNS:localhost,IP:127.0.0.1");
        elsewhere = make("elsewhere", key, ca, ca_key, "CA:FALSE", "DNS:elsewhere.example");
        FILE* f = std::fopen(ca_file.c_str(), "w");
        PEM_write_X509(f, ca);
        std::fclose(f);
    }
    ~TestPki() {
        std::remove(ca_file.c_str());
        for (X509* c : {ca, server, elsewhere}) X509_free(c);
        EVP_PKEY_free(key);
        EVP_PKEY_free(ca_key);
    }

    static X509* make(const char* cn, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
                      const char* constraints, const char* san) {
        static long serial = 1;
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
        X509_set_pubkey(cert, subject_key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
        auto add = [&](int nid, const char* value) {
            X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        };
        add(NID_basic_constraints, constraints);
        if (san) add(NID_subject_alt_name, san);
        X509_sign(cert, issuer_key, EVP_sha256());
        return cert;
    }
};

// ---- An HTTPS server on 127.0.0.1
// -----------------------------------------------------------------------------

// Serves one connection at a time on its own thread, blocking: each request gets `body` with
// `content_type` (keep-alive as the client asks); a WebSocket upgrade is echoed instead. Every
// connection ends with the server's close_notify. Reads give up after 5 s so a failed test cannot
// hang it.
class TlsTestServer {
public:
    TlsTestServer(X509* cert, EVP_PKEY* key, std::string content_type, std::string body)
        : context_(ssl::context::tls_server),
          acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          content_type_(std::move(content_type)),
          body_(std::move(body)) {
        SSL_CTX_use_certificate(context_.native_handle(), cert);
        SSL_CTX_use_PrivateKey(context_.native_handle(), key);
        thread_ = std::thread([this] { serve(); });
    }
    ~TlsTestServer() {
        stopping_ = true;
        boost::system::error_code ignored;
        tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ignored);
        thread_.join();
    }

    std::string url() const {
        return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    std::string localhost_url() const {
        return "https://localhost:" + std::to_string(acceptor_.local_endpoint().port());
    }
    std::string sni() {
        std::lock_guard lock(mutex_);
        return sni_;
    }

    std::atomic<int> handshakes{0};
    std::atomic<int> requests{0};
    std::atomic<int> close_notifies{0};  // connections whose TLS close the client took part in

private:
    void serve() {
        for (;;) {
            tcp::socket socket(io_);
            boost::system::error_code ec;
            acceptor_.accept(socket, ec);
            if (stopping_ || ec) return;
            timeval limit{5, 0};
            ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            session(std::move(socket));
        }
    }

    void session(tcp::socket socket) {
        ssl::stream<tcp::socket> stream(std::move(socket), context_);
        boost::system::error_code ec;
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) return;
        ++handshakes;
        {
            std::lock_guard lock(mutex_);
            const char* name =
                SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
            sni_ = name ? name : "";
        }
        boost::beast::flat_buffer buffer;
        for (;;) {
            bhttp::request<bhttp::string_body> req;
            bhttp::read(stream, buffer, req, ec);
            if (ec) break;
            ++requests;
            if (websocket::is_upgrade(req)) {
                echo_websocket(stream, std::move(req));
                return;
            }
            bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
            res.set(bhttp::field::content_type, content_type_);
            res.body() = body_;
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            bhttp::write(stream, res, ec);
            if (ec || !res.keep_alive()) break;
        }
        // Completes without an error only when the client's close_notify arrives: before ours (the
        // client ended the connection) or in answer to it (we did). A client that just drops the
        // connection makes it fail.
        stream.shutdown(ec);
        if (!ec) ++close_notifies;
    }

    void echo_websocket(ssl::stream<tcp::socket>& stream, bhttp::request<bhttp::string_body> req) {
        websocket::stream<ssl::stream<tcp::socket>&> ws(stream);
        ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(bhttp::field::sec_websocket_protocol, "herald.v1");
        }));
        boost::system::error_code ec;
        ws.accept(req, ec);
        boost::beast::flat_buffer buffer;
        while (!ec) {
            ws.read(buffer, ec);
            if (ec) break;
            ws.text(true);
            ws.write(buffer.data(), ec);
            buffer.consume(buffer.size());
        }
        // The closing handshake and the TLS shutdown after it are done (without the client's
        // close_notify the shutdown would wait out the 5 s read limit).
        if (ec == websocket::error::closed) ++close_notifies;
    }

    asio::io_context io_;
    ssl::context context_;
    tcp::acceptor acceptor_;
    std::string content_type_;
    std::string body_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::string sni_;
    std::thread thread_;
};

Url url_of(const std::string& text) {
    auto u = parse_base_url(text);
    EXPECT_TRUE(u) << text;
    return u ? *u : Url{};
}

TlsTrust trusting(const std::string& ca_file) {
    auto t = TlsTrust::load(ca_file);
    EXPECT_TRUE(t) << t.error().message;
    return t ? *t : TlsTrust{};
}

// ---- TlsTrust
// -------------------------------------------------------------------------------------------------

TEST(TlsTrust, LoadsTheSystemStoreAloneOrWithACaFile) {
    TestPki pki;
    auto system_only = TlsTrust::load("");
    ASSERT_TRUE(system_only) << system_only.error().message;
    EXPECT_TRUE(system_only->context());
    auto with_ca = TlsTrust::load(pki.ca_file);
    ASSERT_TRUE(with_ca) << with_ca.error().message;
    EXPECT_TRUE(with_ca->context());
}

TEST(TlsTrust, NamesAFileItCannotUse) {
    auto missing = TlsTrust::load("/nonexistent/herald-ca.pem");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::invalid_argument);
    EXPECT_EQ(missing.error().message,
              "cannot read /nonexistent/herald-ca.pem: No such file or directory");

    const auto not_pem = temp_path("not-a-certificate.pem");
    std::ofstream(not_pem) << "this is not a certificate\n";
    auto garbage = TlsTrust::load(not_pem.string());
    std::filesystem::remove(not_pem);
    ASSERT_FALSE(garbage);
    EXPECT_EQ(garbage.error().code, Errc::invalid_argument);
    EXPECT_NE(garbage.error().message.find(not_pem.string() + " holds no usable PEM certificate"),
              std::string::npos)
        << garbage.error().message;
}

// ---- The clients over TLS
// -------------------------------------------------------------------------------------

TEST(HttpClientTls, VerifiesAnIpAddressAndReusesTheConnection) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "application/json", R"({"offset":0})");
    {
        HttpClient client(url_of(server.url()), trusting(pki.ca_file));
        for (int i = 0; i < 2; ++i) {
            auto r = client.request("POST", "/v1/topics/t/events",
                                    {{"Content-Type", "application/json"}}, "{}");
            ASSERT_TRUE(r) << r.error().message;
            EXPECT_EQ(r->status, 200u);
            EXPECT_EQ(r->body, R"({"offset":0})");
        }
    }
    EXPECT_EQ(server.requests, 2);
    EXPECT_EQ(server.handshakes, 1);  // kept alive
    EXPECT_EQ(server.sni(), "");      // no SNI for an IP address (RFC 6066)
    // The destructor ended the connection with close_notify; the server sees it after answering.
    for (int i = 0; i < 100 && server.close_notifies == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server.close_notifies, 1);
}

TEST(HttpClientTls, VerifiesADnsNameAndSendsItAsSni) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "application/json", "{}");
    HttpClient client(url_of(server.localhost_url()), trusting(pki.ca_file));
    auto r = client.request("GET", "/v1/topics", {}, "");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(server.sni(), "localhost");
}

TEST(HttpClientTls, AnUnknownIssuerIsRefusedWithTheReasonAndAHint) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "application/json", "{}");
    HttpClient client(url_of(server.url()),
                      trusting(""));  // the system store does not know the test CA
    auto r = client.request("GET", "/v1/topics", {}, "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    const auto authority = url_of(server.url()).authority();
    EXPECT_EQ(r.error().message, "TLS handshake with " + authority +
                                     " failed: certificate verification failed: unable to get "
                                     "local issuer certificate (trust the "
                                     "server's CA with --cacert FILE or HERALD_CA_FILE)");
    EXPECT_EQ(server.requests, 0);
}

TEST(HttpClientTls, ACertificateForAnotherNameIsRefused) {
    TestPki pki;
    TlsTestServer server(pki.elsewhere, pki.key, "application/json", "{}");
    auto by_ip =
        fetch(url_of(server.url()), trusting(pki.ca_file), "/metrics", {}, 2000ms, nullptr);
    ASSERT_FALSE(by_ip);
    EXPECT_EQ(by_ip.error().code, Errc::invalid_argument);
    EXPECT_NE(by_ip.error().message.find("certificate verification failed: IP address mismatch"),
              std::string::npos)
        << by_ip.error().message;
    HttpClient client(url_of(server.localhost_url()), trusting(pki.ca_file));
    auto by_name = client.request("GET", "/", {}, "");
    ASSERT_FALSE(by_name);
    EXPECT_NE(by_name.error().message.find("certificate verification failed: hostname mismatch"),
              std::string::npos)
        << by_name.error().message;
    EXPECT_EQ(server.requests, 0);
}

TEST(FetchTls, GetsTheAnswerAndClosesWithCloseNotify) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "text/plain", "herald_up 1\n");
    auto r = fetch(url_of(server.url()), trusting(pki.ca_file), "/metrics",
                   {{"Accept", "text/plain"}}, 2000ms, [] { return false; });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->content_type, "text/plain");
    EXPECT_EQ(r->body, "herald_up 1\n");
    // The server closed (Connection: close) and the client answered with its close_notify.
    for (int i = 0; i < 100 && server.close_notifies == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server.close_notifies, 1);
}

TEST(FetchTls, AServerThatNeverHandshakesRunsIntoTheDeadline) {
    asio::io_context io;
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto url = url_of("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()));
    const auto started = std::chrono::steady_clock::now();
    auto r = fetch(url, trusting(""), "/metrics", {}, 300ms,
                   nullptr);  // connected by the backlog, never accepted
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(r.error().message, "no answer from " + url.authority() + " within 300 ms");
    EXPECT_LT(took, 2s);
}

TEST(ReadSseTls, ParsesTheStream) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "text/event-stream",
                         "retry: 500\n: a comment\nid: 7\nevent: herald.test\ndata: a\ndata: "
                         "b\n\nid: 8\ndata: c\n\n");
    unsigned status = 0;
    long retry = 0;
    std::vector<std::string> seen;
    auto r = read_sse(
        url_of(server.url()), trusting(pki.ca_file), "/v1/topics/t/events", {}, status,
        [&](const std::string& id, const std::string& event, const std::string& data) {
            seen.push_back(id + "|" + event + "|" + data);
            return true;
        },
        [&](long ms) { retry = ms; });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(status, 200u);
    EXPECT_EQ(retry, 500);
    EXPECT_EQ(seen, (std::vector<std::string>{"7|herald.test|a\nb", "8|message|c"}));
}

TEST(ReadSseTls, StoppingEarlyEndsTheConnectionWithCloseNotify) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "text/event-stream",
                         "id: 1\ndata: a\n\nid: 2\ndata: b\n\n");
    unsigned status = 0;
    int seen = 0;
    auto r = read_sse(
        url_of(server.url()), trusting(pki.ca_file), "/v1/topics/t/events", {}, status,
        [&](const std::string&, const std::string&, const std::string&) { return ++seen < 1; },
        [](long) {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(seen, 1);
    for (int i = 0; i < 100 && server.close_notifies == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server.close_notifies, 1);
}

TEST(ReadSseTls, AnUntrustedServerIsACertificateError) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "text/event-stream", "data: x\n\n");
    unsigned status = 0;
    auto r = read_sse(
        url_of(server.url()), trusting(""), "/v1/topics/t/events", {}, status,
        [](const std::string&, const std::string&, const std::string&) { return true; },
        [](long) {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);  // tail stops instead of reconnecting
    EXPECT_EQ(status, 0u);
}

TEST(WsClientTls, SpeaksWssAndClosesCleanly) {
    TestPki pki;
    TlsTestServer server(pki.server, pki.key, "text/plain", "");
    auto client = WsClient::connect(url_of(server.url()), trusting(pki.ca_file));
    ASSERT_TRUE(client) << client.error().message;
    ASSERT_TRUE((*client)->send(R"({"op":"ping"})"));
    std::optional<std::string> echoed;
    for (int i = 0; i < 20 && !echoed; ++i) {
        auto m = (*client)->read(100ms);
        ASSERT_TRUE(m) << m.error().message;
        echoed = *m;
    }
    ASSERT_TRUE(echoed);
    EXPECT_EQ(*echoed, R"({"op":"ping"})");
    (*client)->close();
    for (int i = 0; i < 100 && server.close_notifies == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server.close_notifies, 1);

    auto untrusted = WsClient::connect(url_of(server.url()), trusting(""));
    ASSERT_FALSE(untrusted);
    EXPECT_EQ(untrusted.error().code, Errc::invalid_argument);
    EXPECT_NE(untrusted.error().message.find("certificate verification failed"), std::string::npos);
}

}  // namespace
}  // namespace herald::cli
