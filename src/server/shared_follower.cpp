#include "server/shared_follower.hpp"

#include "http/problem.hpp"

namespace herald::server {

http::Response shared_write_failed(std::string_view what, const Error& error) {
    auto res = http::problem_response({503, "engine-unavailable", "Engine unavailable",
                                       std::string(what) + " was not changed: the engine's shared state cannot be written (" +
                                           error.message + ")",
                                       {}});
    res.set("Retry-After", "1");
    return res;
}

SharedFollower::SharedFollower(engine::SharedState& state, std::string prefix, std::chrono::milliseconds interval,
                               Generation generation, Apply apply, log::Logger* logger)
    : state_(state),
      prefix_(std::move(prefix)),
      interval_(interval),
      generation_(std::move(generation)),
      apply_(std::move(apply)),
      logger_(logger) {}

SharedFollower::~SharedFollower() { stop(); }

void SharedFollower::start() { thread_ = std::thread([this] { run(); }); }

void SharedFollower::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SharedFollower::run() {
    bool failing = false;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const auto generation = generation_();
        auto entries = state_.list(prefix_);
        if (entries) {
            if (failing) log::emit(logger_, log::Level::info, "cluster", "shared records readable again", {{"prefix", prefix_}});
            failing = false;
            apply_(std::move(*entries), generation);
        } else if (!failing) {
            // Said once per outage: the local copy stays as it was until the records are readable again.
            failing = true;
            log::emit(logger_, log::Level::warn, "cluster", "cannot read shared records",
                      {{"prefix", prefix_}, {"error", entries.error().message}});
        }
        lock.lock();
        cv_.wait_for(lock, interval_, [this] { return stopping_; });
    }
}

}  // namespace herald::server
