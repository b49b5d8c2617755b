#pragma once
// A small blocking HTTP/1.1 client for the command-line tools (publish, tail). Loopback and LAN use; no TLS yet.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace herald::cli {

struct Url {
    std::string host;
    std::string port;
    std::string path_prefix;  // without trailing slash
};
Result<Url> parse_base_url(std::string_view text);

struct HttpResult {
    unsigned status = 0;
    std::string content_type;
    std::string body;
};

class HttpClient {
public:
    explicit HttpClient(Url base);
    ~HttpClient();
    // One request on a kept-alive connection (reconnects when the server closed it).
    Result<HttpResult> request(const std::string& method, const std::string& target,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body);

private:
    struct Impl;
    Url base_;
    Impl* impl_;
};

// Follows an SSE stream: calls on_event(id, event, data) per event; returns when the stream ends (error or
// close) or on_event returns false. `status` receives the HTTP status (0 when no response).
Result<void> read_sse(const Url& base, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers, unsigned& status,
                      const std::function<bool(const std::string& id, const std::string& event,
                                               const std::string& data)>& on_event,
                      const std::function<void(long retry_ms)>& on_retry);

}  // namespace herald::cli
