#include "websocket/handshake.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald::websocket {
namespace {

// The client handshake of RFC 6455 §1.2.
http::Request rfc_request() {
    http::Request r;
    r.method = "GET";
    r.target = "/chat";
    r.path = "/chat";
    r.version = 11;
    // clang-format off
    r.headers = {
        {"Host", "server.example.com"},
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Origin", "http://example.com"},
        {"Sec-WebSocket-Protocol", "chat, superchat"},
        {"Sec-WebSocket-Version", "13"},
    };
    // clang-format on
    return r;
}

void set_header(http::Request& r, std::string_view name, std::string value) {
    for (auto& [k, v] : r.headers)
        if (http::iequals(k, name)) {
            v = std::move(value);
            return;
        }
    r.headers.emplace_back(std::string(name), std::move(value));
}

void remove_header(http::Request& r, std::string_view name) {
    std::erase_if(r.headers, [&](const auto& h) { return http::iequals(h.first, name); });
}

void expect_rejected(const http::Request& r, std::string_view attribute) {
    auto result = check_upgrade(r);
    ASSERT_FALSE(result.has_value()) << "expected a complaint about " << attribute;
    EXPECT_EQ(result.error().code, Errc::invalid_argument);
    EXPECT_EQ(result.error().attribute, attribute);
    EXPECT_FALSE(result.error().message.empty());
}

TEST(AcceptKey, MatchesTheRfcExample) {
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(AcceptKey, IsBase64OfTwentyBytes) {
    auto k = accept_key("x3JJHMbDL1EzLkh9GBhXDw==");
    EXPECT_EQ(k, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");  // the Wikipedia example
    EXPECT_EQ(accept_key("").size(), 28u);
}

TEST(SwitchingProtocols, BuildsTheResponseHead) {
    EXPECT_EQ(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", ""),
              "HTTP/1.1 101 Switching Protocols\r\n"
              "Upgrade: websocket\r\n"
              "Connection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "\r\n");
    EXPECT_EQ(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "chat", "X-Herald: 1\r\n"),
              "HTTP/1.1 101 Switching Protocols\r\n"
              "Upgrade: websocket\r\n"
              "Connection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "Sec-WebSocket-Protocol: chat\r\n"
              "X-Herald: 1\r\n"
              "\r\n");
}

TEST(IsUpgradeRequest, LooksForTheWebsocketToken) {
    auto r = rfc_request();
    EXPECT_TRUE(is_upgrade_request(r));
    set_header(r, "Upgrade", "WebSocket");
    EXPECT_TRUE(is_upgrade_request(r));
    set_header(r, "Upgrade", "h2c, websocket");
    EXPECT_TRUE(is_upgrade_request(r));
    set_header(r, "Upgrade", "h2c");
    EXPECT_FALSE(is_upgrade_request(r));
    set_header(r, "Upgrade", "websockets");
    EXPECT_FALSE(is_upgrade_request(r));
    remove_header(r, "Upgrade");
    EXPECT_FALSE(is_upgrade_request(r));
}

TEST(CheckUpgrade, AcceptsTheRfcRequest) {
    auto result = check_upgrade(rfc_request());
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->key, "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(result->protocols, (std::vector<std::string>{"chat", "superchat"}));
    EXPECT_TRUE(result->extensions.empty());
    EXPECT_EQ(result->origin, "http://example.com");
}

TEST(CheckUpgrade, ParsesListsAcrossHeadersAndCase) {
    auto r = rfc_request();
    set_header(r, "upgrade", "WebSocket");
    set_header(r, "connection", "keep-alive, Upgrade");  // what Firefox sends
    r.headers.emplace_back("sec-websocket-protocol", " herald.v1 ,, x ");
    r.headers.emplace_back("Sec-WebSocket-Extensions",
                           "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame");
    remove_header(r, "Origin");
    auto result = check_upgrade(r);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->protocols, (std::vector<std::string>{"chat", "superchat", "herald.v1", "x"}));
    EXPECT_EQ(result->extensions,
              (std::vector<std::string>{"permessage-deflate; client_max_window_bits",
                                        "x-webkit-deflate-frame"}));
    EXPECT_EQ(result->origin, "");
}

TEST(CheckUpgrade, ConnectionMaySpanSeveralHeaders) {
    auto r = rfc_request();
    set_header(r, "Connection", "keep-alive");
    r.headers.emplace_back("Connection", "upgrade");
    EXPECT_TRUE(check_upgrade(r).has_value());
}

TEST(CheckUpgrade, RejectsWrongMethod) {
    auto r = rfc_request();
    r.method = "POST";
    expect_rejected(r, "method");
    r.method = "get";  // methods are case-sensitive
    expect_rejected(r, "method");
}

TEST(CheckUpgrade, RejectsHttp10) {
    auto r = rfc_request();
    r.version = 10;
    expect_rejected(r, "HTTP-version");
}

TEST(CheckUpgrade, RejectsMissingOrWrongUpgrade) {
    auto r = rfc_request();
    remove_header(r, "Upgrade");
    expect_rejected(r, "Upgrade");
    set_header(r, "Upgrade", "h2c");
    expect_rejected(r, "Upgrade");
}

TEST(CheckUpgrade, RejectsMissingOrWrongConnection) {
    auto r = rfc_request();
    remove_header(r, "Connection");
    expect_rejected(r, "Connection");
    set_header(r, "Connection", "keep-alive");
    expect_rejected(r, "Connection");
    set_header(r, "Connection", "upgraded");  // a token, not a substring
    expect_rejected(r, "Connection");
}

TEST(CheckUpgrade, RejectsMissingOrWrongVersion) {
    auto r = rfc_request();
    remove_header(r, "Sec-WebSocket-Version");
    expect_rejected(r, "Sec-WebSocket-Version");
    for (const char* v : {"8", "12", "14", "13, 8", ""}) {
        set_header(r, "Sec-WebSocket-Version", v);
        expect_rejected(r, "Sec-WebSocket-Version");
    }
}

TEST(CheckUpgrade, RejectsBadKeys) {
    auto r = rfc_request();
    remove_header(r, "Sec-WebSocket-Key");
    expect_rejected(r, "Sec-WebSocket-Key");
    for (const char* key : {
             "",
             "dGhlIHNhbXBsZSBub25jZQ=",       // 23 characters
             "dGhlIHNhbXBsZSBub25jZQ===",     // 25 characters
             "dGhlIHNhbXBsZSBub25jZQAA",      // 24 characters that decode to 18 bytes
             "dGhlIHNhbXBsZSBub25j",          // 15 bytes
             "dGhlIHNhbXBsZSBub25jZQ-=",      // not base64
             "dGhlIHNhbXBsZSBub25j*Q==",      // not base64
             "dGhlIHNhbXBsZSBub25jZXh4eA==",  // 19 bytes
         }) {
        set_header(r, "Sec-WebSocket-Key", key);
        expect_rejected(r, "Sec-WebSocket-Key");
    }
    // A key with surrounding whitespace is fine once trimmed.
    set_header(r, "Sec-WebSocket-Key", " dGhlIHNhbXBsZSBub25jZQ== ");
    auto result = check_upgrade(r);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->key, "dGhlIHNhbXBsZSBub25jZQ==");
}

}  // namespace
}  // namespace herald::websocket
