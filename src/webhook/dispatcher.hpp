#pragma once
// One webhook subscription's delivery loop. The subscription is a cursor into its topic's log: the dispatcher
// reads events at the cursor, POSTs each (signed) to the receiver, retries per the policy, dead-letters what cannot
// be delivered, and moves the cursor only past events that were delivered or dead-lettered. Live delivery is the
// same loop woken by the hub instead of by its poll timer, so an outage, a pause or a restart is just a longer
// wait before the loop reads on.
//
// Modes: `ordered` keeps one delivery in flight, in log order (an event is retried until it is delivered or
// dead-lettered before the next one goes); `concurrent` keeps up to max_in_flight deliveries in flight and the
// committed cursor stays at the oldest unfinished one.
//
// Threading: a Dispatcher and its coroutines live on the webhook service's io_context; every method is called
// there. It is a hub::Subscriber on that thread's WorkerHub, which wakes it on commits to its topic.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "base/histogram.hpp"
#include "engine/engine.hpp"
#include "hub/hub.hpp"
#include "log/logger.hpp"
#include "trace/tracer.hpp"
#include "webhook/retry_policy.hpp"
#include "webhook/store.hpp"
#include "webhook/subscription.hpp"
#include "webhook/transport.hpp"

namespace herald::webhook {

struct DispatchDefaults {
    RetryPolicy retry;                 // used when a subscription does not set its own schedule
    std::size_t read_batch = 64;       // events read from the log per step
    std::chrono::milliseconds poll{1000};  // safety net when no commit wakes the loop
    std::string user_agent = "Herald-Webhooks/1";
};

// Counters for metrics, shared by every dispatcher; read from other threads (relaxed).
struct WebhookStats {
    std::atomic<std::uint64_t> attempts_delivered{0};
    std::atomic<std::uint64_t> attempts_retry{0};       // failed attempts that will be retried
    std::atomic<std::uint64_t> attempts_dead_letter{0}; // failures that went to the DLQ
    std::atomic<std::uint64_t> attempts_gone{0};        // 410 answers (subscription disabled)
    std::atomic<std::uint64_t> attempts_blocked{0};     // refused by the SSRF guard
    std::atomic<std::uint64_t> disabled_total{0};
    // Publish (append) → receiver's 2xx. Millisecond resolution: the append time is the event's wall-clock
    // timestamp in the log (a delivery may come long after a restart, when no steady time survives).
    static constexpr std::array<double, 12> kLatencyBounds{0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,  0.5,   1,    5,     30};
    Histogram latency{kLatencyBounds};
    void observe_latency(std::int64_t ms) noexcept { latency.observe(std::chrono::milliseconds(ms)); }
};

class Dispatcher final : public hub::Subscriber, public std::enable_shared_from_this<Dispatcher> {
public:
    struct Env {
        boost::asio::io_context& io;
        engine::Engine& engine;
        Store& store;
        Transport& transport;
        const DispatchDefaults& defaults;
        WebhookStats& stats;
        std::mt19937_64& rng;
        const trace::Tracer* tracer = nullptr;  // a client span per attempt when the event's trace is sampled
        log::Logger* logger = nullptr;
    };

    Dispatcher(Env env, Subscription subscription);
    ~Dispatcher() override;

    void start();
    // Ends the loops; an attempt in flight finishes (bounded by its timeout) without moving the cursor further.
    void stop();
    void pause();
    void resume();
    // Delivers dead letters again (signed afresh). Delivered ones leave the DLQ; failed ones stay with their
    // attempt count and last error updated.
    void replay(std::vector<DeadLetter> entries);
    void rotate_secret(SigningSecret fresh, std::chrono::milliseconds overlap);

    const Subscription& subscription() const noexcept { return sub_; }
    bool started() const noexcept { return started_; }
    // A dispatcher that was never started (a cluster node that does not dispatch) follows the subscription as the
    // cluster has it: definition and progress are replaced. False (and nothing changes) once started.
    bool adopt(Subscription s);
    // Events between the cursor and the end of the topic (filtered-out types included).
    std::uint64_t lag() const;
    std::size_t replay_backlog() const noexcept { return replay_queue_.size(); }
    // The service persists status and the delivery log in batches; these hand over what changed.
    bool take_dirty() noexcept { return std::exchange(dirty_, false); }
    void mark_dirty() noexcept { dirty_ = true; }
    std::vector<Attempt> take_attempts() { return std::exchange(attempts_, {}); }

    void on_batch(const hub::BatchPtr& batch) override;
    void on_shutdown() override { stop(); }

private:
    enum class Finish { delivered, dead_lettered, interrupted };
    struct Event {
        std::uint64_t offset = 0;
        std::int64_t appended_ms = 0;
        std::string id;
        std::string type;
        std::string json;
    };

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> run_replays();
    boost::asio::awaitable<Finish> deliver(const Event& e, bool replay, unsigned prior_attempts,
                                           std::int64_t dead_letter_id);
    boost::asio::awaitable<void> deliver_concurrent(Event e);
    boost::asio::awaitable<bool> take_rate_token();
    boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
    boost::asio::awaitable<void> wait_wake(std::chrono::milliseconds max);
    // `traceparent`: the context sent in the traceparent header (the attempt's client span, or the event's own
    // when no span is recorded); null: none.
    OutgoingRequest build_request(const Event& e, const trace::SpanContext* traceparent) const;
    bool accepts_type(std::string_view type) const;
    bool running() const noexcept { return !stopped_ && sub_.status.state == SubscriptionState::active; }
    void disable(std::string reason);
    void record(Attempt a);
    void commit_position();
    void wake();
    Result<void> dead_letter(const Event& e, unsigned attempts, int status, std::string error);
    const RetryPolicy& policy() const noexcept { return policy_; }

    Env env_;
    Subscription sub_;
    RetryPolicy policy_;
    std::shared_ptr<engine::TopicReader> reader_;
    boost::asio::steady_timer wake_timer_;
    boost::asio::steady_timer sleep_timer_;
    boost::asio::steady_timer replay_wake_;
    bool wake_pending_ = false;
    bool stopped_ = false;
    bool started_ = false;
    bool dirty_ = false;
    std::vector<Attempt> attempts_;
    std::deque<DeadLetter> replay_queue_;
    // Concurrent mode: offsets in flight (the committed cursor stays at the smallest) and the read position.
    std::set<std::uint64_t> in_flight_;
    std::uint64_t read_pos_ = 0;
    // Rate limit: a token bucket of `rate_limit` per second with a burst of max(1, rate).
    double tokens_ = 0;
    std::chrono::steady_clock::time_point tokens_at_{};
};

}  // namespace herald::webhook
