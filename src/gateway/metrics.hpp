#pragma once
// The gateway's Prometheus metrics (docs/observability.md): requests, answers by status class, the errors Herald
// answered itself by kind, attempts, retries, connections, WebSocket tunnels, upstream latency, and per upstream
// the targets' state and the retry budget. Labels are configuration names only (upstream names, error kinds,
// status classes): bounded, never ids or addresses.

#include <string>

#include "gateway/gateway.hpp"

namespace herald::gateway {

// Appends the text exposition format (with HELP and TYPE lines) to `out`.
void append_metrics(std::string& out, Gateway& gateway);

}  // namespace herald::gateway
