#pragma once
// Follows records in the engine's shared state (engine::SharedState, several nodes over JetStream or Kafka):
// every `interval` it lists the records under one prefix and hands them to `apply`, which posts them to the
// thread that owns the local copy. Used for the API keys made through the admin API (docs/deployment.md);
// the webhook subscriptions have their own, richer sync (webhook/cluster_sync.hpp).
//
// `generation` is read before each listing and passed along: the owner bumps it on every local change, so it
// can tell a listing that may predate its own change (and skip it; the next round has the change).
//
// Threading: start()/stop() from one thread; the listing runs on a thread of its own.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "http/message.hpp"
#include "log/logger.hpp"

namespace herald::server {

// The answer to an admin change whose shared write failed: 503 engine-unavailable with Retry-After, saying that
// `what` ("the API key", ...) was not changed — a change other nodes could not learn of is not made at all.
http::Response shared_write_failed(std::string_view what, const Error& error);

class SharedFollower {
public:
    using Generation = std::function<std::uint64_t()>;
    using Apply = std::function<void(std::vector<engine::SharedEntry>, std::uint64_t generation)>;

    SharedFollower(engine::SharedState& state, std::string prefix, std::chrono::milliseconds interval,
                   Generation generation, Apply apply, log::Logger* logger);
    ~SharedFollower();
    SharedFollower(const SharedFollower&) = delete;
    SharedFollower& operator=(const SharedFollower&) = delete;

    void start();
    void stop();

private:
    void run();

    engine::SharedState& state_;
    std::string prefix_;
    std::chrono::milliseconds interval_;
    Generation generation_;
    Apply apply_;
    log::Logger* logger_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace herald::server
