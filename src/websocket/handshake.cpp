#include "websocket/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <utility>

namespace herald::websocket {

namespace {

// §1.3: the GUID every server appends to the client's key before hashing.
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls `f` with each trimmed, non-empty element of the comma-separated lists in every header named
// `name` (RFC 9110 §5.3: repeated list headers are equivalent to one header joined with commas).
// Stops early, returning true, when `f` returns true.
template <class F>
bool for_each_list_element(const http::Request& request, std::string_view name, F&& f) {
    for (const auto& [key, value] : request.headers) {
        if (!http::iequals(key, name)) continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto element = trim(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (!element.empty() && f(element)) return true;
        }
    }
    return false;
}

bool has_token(const http::Request& request, std::string_view name, std::string_view token) {
    return for_each_list_element(request, name,
                                 [&](std::string_view e) { return http::iequals(e, token); });
}

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// §4.1: the key is the base64 of 16 random bytes, which is always 22 characters and "==".
bool is_valid_key(std::string_view key) noexcept {
    if (key.size() != 24 || key.substr(22) != "==") return false;
    for (std::size_t i = 0; i < 22; ++i)
        if (!is_base64_char(key[i])) return false;
    return true;
}

Error bad(std::string message, std::string header) {
    return make_error(Errc::invalid_argument, std::move(message), std::move(header));
}

}  // namespace

std::string accept_key(std::string_view client_key) {
    std::string input;
    input.reserve(client_key.size() + kGuid.size());
    input.append(client_key).append(kGuid);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    // Base64 of 20 bytes is 28 characters; EVP_EncodeBlock also writes a terminating NUL.
    unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    const int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

bool is_upgrade_request(const http::Request& request) noexcept {
    // Upgrade is a list of protocols ("h2c, websocket"); only the websocket element matters here.
    return has_token(request, "Upgrade", "websocket");
}

Result<Upgrade> check_upgrade(const http::Request& request) {
    // §4.2.1, checked from the request line down so the error names the first thing at fault. The
    // version comes before the key: a client of another version should learn that (§4.4), since
    // its key may follow other rules too.
    if (request.method != "GET") return bad("a WebSocket upgrade must be a GET request", "method");
    if (request.version < 11)
        return bad("a WebSocket upgrade needs HTTP/1.1 or later", "HTTP-version");
    if (!is_upgrade_request(request))
        return bad("the Upgrade header must include \"websocket\"", "Upgrade");
    if (!has_token(request, "Connection", "upgrade"))
        return bad("the Connection header must include \"Upgrade\"", "Connection");
    if (trim(request.header("Sec-WebSocket-Version")) != "13")
        return bad("only WebSocket version 13 is supported", "Sec-WebSocket-Version");
    const auto key = trim(request.header("Sec-WebSocket-Key"));
    if (!is_valid_key(key))
        return bad("Sec-WebSocket-Key must be the base64 of 16 bytes", "Sec-WebSocket-Key");

    Upgrade upgrade;
    upgrade.key = std::string(key);
    for_each_list_element(request, "Sec-WebSocket-Protocol", [&](std::string_view p) {
        upgrade.protocols.emplace_back(p);
        return false;
    });
    // An extension offer is a name followed by ";"-separated parameters; the offer is kept whole so
    // the caller can parse the parameters of the extensions it supports.
    for_each_list_element(request, "Sec-WebSocket-Extensions", [&](std::string_view e) {
        upgrade.extensions.emplace_back(e);
        return false;
    });
    upgrade.origin = std::string(trim(request.header("Origin")));
    return upgrade;
}

std::string switching_protocols(std::string_view client_key, std::string_view protocol,
                                std::string_view extra_headers) {
    std::string out;
    out.reserve(160 + protocol.size() + extra_headers.size());
    out.append(
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ");
    out.append(accept_key(client_key)).append("\r\n");
    if (!protocol.empty()) out.append("Sec-WebSocket-Protocol: ").append(protocol).append("\r\n");
    out.append(extra_headers).append("\r\n");
    return out;
}

}  // namespace herald::websocket
