#pragma once
// A small blocking WebSocket client for the command-line tools: `herald tail --ws` and `herald publish --ws`
// speak herald.v1 over the multiplexed endpoint /v1/ws. Loopback and LAN use; no TLS yet.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "cli/http_client.hpp"

namespace herald::cli {

class WsClient {
public:
    // Connects to `base` + /v1/ws and negotiates the herald.v1 subprotocol.
    static Result<std::unique_ptr<WsClient>> connect(const Url& base);
    ~WsClient();

    Result<void> send(const std::string& text);
    // The next text message; nullopt when `timeout` passed without one. Errc::unavailable when the connection
    // ended (the message says how: close code and reason, or the transport error).
    Result<std::optional<std::string>> read(std::chrono::milliseconds timeout);
    void close();

private:
    struct Impl;
    explicit WsClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace herald::cli
