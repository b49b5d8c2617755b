#pragma once
// A small blocking WebSocket client for the command-line tools: `herald tail --ws` and `herald
// publish --ws` speak herald.v1 over the multiplexed endpoint /v1/ws, as ws:// for an http:// base
// URL and wss:// (the certificate verified, as by the HTTP client) for an https:// one.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "cli/http_client.hpp"

namespace herald::cli {

class WsClient {
public:
    // Connects to `base` + /v1/ws and negotiates the herald.v1 subprotocol. Errc::invalid_argument
    // when the server's certificate was not accepted (a retry will not help), Errc::unavailable for
    // other failures.
    static Result<std::unique_ptr<WsClient>> connect(const Url& base, const TlsTrust& trust);
    ~WsClient();

    Result<void> send(const std::string& text);
    // The next text message; nullopt when `timeout` passed without one. Errc::unavailable when the
    // connection ended (the message says how: close code and reason, or the transport error).
    Result<std::optional<std::string>> read(std::chrono::milliseconds timeout);
    // The closing handshake, then (wss) close_notify both ways, within two seconds; with a read
    // still outstanding, the connection is just dropped.
    void close();

private:
    struct Impl;
    explicit WsClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace herald::cli
