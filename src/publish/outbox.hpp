#pragma once
// Hands a worker's publish requests to the engine once per turn of the worker's event loop instead of once per
// request (batched wake-ups). A request submitted while a hand-over is already posted rides along with it, so
// the requests a worker read in one turn (one per ready connection) reach the engine's writer with one lock and
// one wake-up, and its group commit sees them together. Without this, every request woke the writer thread
// alone: with the worker and the writer sharing a core, each wake-up preempted the worker, and each commit
// round took one request (about one context switch and one futex call per publish).
//
// The cost is one posted handler per turn, a few microseconds at most: the hand-over runs after the handlers
// already queued on the worker, never after a timer or a wait.
//
// An Asio service: one per io_context (asio::use_service<Outbox>), destroyed with it; requests still waiting
// when the io_context is destroyed were never acknowledged and are dropped with their completions.
// Threading: submit() is called on the thread running the io_context (a worker runs its io_context on one
// thread), which keeps requests in order; the mutex only guards against a misuse from another thread. No engine
// code runs under it.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "engine/engine.hpp"

namespace herald::publish {

class Outbox final : public boost::asio::execution_context::service {
public:
    using key_type = Outbox;
    static boost::asio::execution_context::id id;

    explicit Outbox(boost::asio::execution_context& context);

    // Queues the request for `engine`; the first request of a turn posts the hand-over to `executor` (which
    // must belong to this service's context). `done` is called by the engine, on its thread, as for
    // Engine::publish.
    void submit(engine::Engine& engine, engine::PublishRequest request, engine::PublishCallback done,
                const boost::asio::any_io_executor& executor);

    // Hand-overs made (each one Engine::publish_batch call) and requests submitted, for tests.
    std::uint64_t hand_overs() const noexcept { return hand_overs_.load(std::memory_order_relaxed); }
    std::uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }

private:
    void shutdown() override;
    void hand_over();
    // Engine::publish_batch. When it throws, the requests it had not taken yet are completed with
    // Errc::unavailable; the one whose publish() threw is the engine's, as with a direct publish() call.
    void deliver(engine::Engine& engine, std::vector<engine::PendingPublish>& batch);

    std::mutex mutex_;
    engine::Engine* engine_ = nullptr;
    std::vector<engine::PendingPublish> pending_;
    bool posted_ = false;
    std::atomic<std::uint64_t> hand_overs_{0};
    std::atomic<std::uint64_t> requests_{0};
};

}  // namespace herald::publish
