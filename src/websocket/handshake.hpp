#pragma once
// The RFC 6455 opening handshake, server side (§4.2): checks a GET upgrade request and builds the 101 answer.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "http/message.hpp"

namespace herald::websocket {

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view client_key);

struct Upgrade {
    std::string key;                          // Sec-WebSocket-Key
    std::vector<std::string> protocols;       // Sec-WebSocket-Protocol offers, in order
    std::vector<std::string> extensions;      // Sec-WebSocket-Extensions offers (extension names with params)
    std::string origin;                       // Origin header (browsers), may be empty
};

// True when the request asks for a WebSocket upgrade at all (Upgrade: websocket).
bool is_upgrade_request(const http::Request& request) noexcept;

// Validates an upgrade request: method GET, HTTP/1.1, `Upgrade: websocket`, `Connection` containing
// `upgrade` (token list, case-insensitive), `Sec-WebSocket-Version: 13`, a key that is base64 of 16 bytes.
// Errc::invalid_argument naming the header at fault (the caller answers 400; for a wrong version the caller
// adds `Sec-WebSocket-Version: 13`, per §4.4).
Result<Upgrade> check_upgrade(const http::Request& request);

// The complete "HTTP/1.1 101 Switching Protocols" response head (ending in an empty line), with the chosen
// subprotocol (omitted when empty) and extra header lines ("Name: value\r\n").
std::string switching_protocols(std::string_view client_key, std::string_view protocol,
                                std::string_view extra_headers = {});

}  // namespace herald::websocket
