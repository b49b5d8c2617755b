#pragma once
// The seam between the dispatcher and the network: one HTTP request out, one outcome back. The production
// implementation sits on http_client (keep-alive pools, TLS, SSRF guard); tests substitute scripted receivers.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace herald::webhook {

// Why no HTTP status came back; the retry classifier switches on it.
enum class TransportError { none, timeout, connect, dns, tls, blocked, protocol };
const char* to_string(TransportError e) noexcept;

struct OutgoingRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10'000};
};

struct TransportResult {
    int status = 0;  // 0 when no HTTP answer arrived
    TransportError error = TransportError::none;
    std::string message;                     // human detail for the delivery log
    std::optional<std::string> retry_after;  // raw Retry-After header
    std::vector<std::pair<std::string, std::string>> headers;  // response headers the caller may inspect
    std::chrono::microseconds duration{0};
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual boost::asio::awaitable<TransportResult> send(OutgoingRequest request) = 0;
    // Whether `url` is a deliverable destination: http(s) only, no userinfo, and (unless allow-listed) no
    // address in a blocked range once resolved. Used when a subscription is created.
    virtual boost::asio::awaitable<Result<void>> check_destination(std::string url) = 0;
};

}  // namespace herald::webhook
