#pragma once
// Keep-alive connections to upstream targets, one pool per worker (no locking: a connection is only ever used
// by the worker that opened it, like every other socket in Herald).
//
// A connection is pooled under a key naming its upstream and target ("users|10.0.0.7:8080|tls"), never under a
// pointer to the Upstream object: a reload replaces those objects, and connections to targets that survive the
// reload stay usable.
//
// A pooled connection may have been closed by the upstream while it sat idle (servers close idle keep-alive
// connections on their own timers). take() drops connections older than the idle timeout and those the kernel
// already reports closed or readable (a peek without blocking); a connection that dies between that check and
// the write is the forwarder's to retry on a fresh one (forwarder.hpp).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace herald::gateway {

struct UpstreamConnection {
    explicit UpstreamConnection(const boost::asio::any_io_executor& ex) : plain(std::in_place, ex) {}
    UpstreamConnection(const boost::asio::any_io_executor& ex, boost::asio::ssl::context& tls)
        : secure(std::in_place, ex, tls) {}

    // Exactly one is set.
    std::optional<boost::beast::tcp_stream> plain;
    std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> secure;
    boost::beast::flat_buffer buffer;  // bytes read past the last response
    std::string key;
    std::chrono::steady_clock::time_point idle_since{};
    std::uint64_t requests = 0;  // served on this connection so far

    boost::beast::tcp_stream& tcp() noexcept { return plain ? *plain : secure->next_layer(); }
    bool reused() const noexcept { return requests > 0; }
    void close() noexcept;
};

struct PoolStats {
    std::uint64_t opened = 0;
    std::uint64_t reused = 0;
    std::uint64_t discarded_stale = 0;
};

class ConnectionPool {
public:
    // An idle connection for `key` that is still usable, or null.
    std::unique_ptr<UpstreamConnection> take(const std::string& key, std::chrono::milliseconds idle_timeout);
    // Keeps `c` for reuse unless `max_idle` connections of its key are already kept (then it is closed).
    void give_back(std::unique_ptr<UpstreamConnection> c, std::size_t max_idle);
    std::size_t idle() const noexcept { return idle_count_; }
    PoolStats& stats() noexcept { return stats_; }

private:
    std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
    std::size_t idle_count_ = 0;
    PoolStats stats_;
};

}  // namespace herald::gateway
