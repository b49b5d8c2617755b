// A blocking HTTP/1.1 exchange for setup and cleanup outside the measured window (creating and
// deleting webhook subscriptions): one connection per request, "Connection: close", bounded by a
// timeout and by the size of the answer it keeps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

struct HttpAnswer {
    int status = 0;    // 0: no answer (`error` says why)
    std::string body;  // at most 1 MiB
    std::string error;
};

// Sends `request` (a complete request with "Connection: close") to host:port (an IP literal) and
// reads the answer until the server closes or Content-Length is satisfied, within `timeout_s`.
HttpAnswer blocking_http(const std::string& host, std::uint16_t port, std::string_view request,
                         double timeout_s);

// The string value of the first `"name":"…"` member in a JSON text (no unescaping: ids and
// secrets are plain ASCII), or empty.
std::string json_string_member(std::string_view json, std::string_view name);

}  // namespace herald::bench
