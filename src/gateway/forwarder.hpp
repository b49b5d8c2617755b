#pragma once
// Relays one client request to an upstream and the answer back, streaming both bodies (docs/gateway.md).
//
//   - Request bodies up to the replay buffer (64 KiB) with a Content-Length are read first, so the request can
//     be retried on another target; larger or chunked bodies stream to the upstream as they arrive (Beast
//     buffer_body, 16 KiB at a time) and the request is not retried once they have started.
//   - The answer streams back as the upstream sends it: each read is written to the client before the next read,
//     so Server-Sent Events and long downloads pass through unbuffered. The framing toward the client is Herald's
//     own (Content-Length when the upstream gave one, else chunked for HTTP/1.1 clients, else close-delimited).
//   - Attempts: a target per attempt from the upstream's balancer, a pooled keep-alive connection or a new one
//     (TLS with certificate and host-name verification when the upstream says tls), connect/read/total timeouts.
//     A failed attempt is reported to passive health and retried per proxy::decide_retry (idempotent methods,
//     connection errors and 502/503/504, the route's attempts, the upstream's retry budget). A pooled connection
//     that turns out dead before any answer byte is retried once on a fresh connection without counting as a
//     failure (idle keep-alive connections are closed by upstreams all the time).
//   - WebSocket upgrades: when the upstream answers 101 the connection becomes a byte tunnel both ways until
//     either side closes.
//   - Errors Herald answers itself are problem+json (proxy/errors.hpp): 502 unreachable or broken upstream, 503
//     no available target, 504 timeout. An upstream's own answers, 5xx included, are relayed as they are.
//
// One Forwarder per worker (it owns that worker's connection pool).

#include <boost/asio/awaitable.hpp>

#include <string_view>

#include "gateway/connection_pool.hpp"
#include "gateway/gateway.hpp"
#include "http/raw_exchange.hpp"
#include "proxy/route.hpp"

namespace herald::gateway {

class Forwarder {
public:
    explicit Forwarder(GatewayStats& stats) : stats_(stats) {}

    // Answers the request in `x` (status, bytes and keep_alive are set on it). `path`: the normalised path that
    // `match` was made on; `snapshot` stays alive for the whole exchange.
    boost::asio::awaitable<void> forward(http::RawExchange& x, const proxy::RouteMatch& match, std::string_view path,
                                         std::shared_ptr<const Snapshot> snapshot);

    // Writes a response Herald makes itself (an error, a refusal), after reading and discarding a small request
    // body so the connection can stay open; a large unread body closes it.
    static boost::asio::awaitable<void> answer(http::RawExchange& x, http::Response response);

    ConnectionPool& pool() noexcept { return pool_; }

private:
    GatewayStats& stats_;
    ConnectionPool pool_;
};

}  // namespace herald::gateway
