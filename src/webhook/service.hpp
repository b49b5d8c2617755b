#pragma once
// Webhook subscriptions as a service: the API's operations (create, list, get, pause, resume, delete, rotate the
// secret, delivery log, dead-letter queue and replay), one Dispatcher per subscription, and batched persistence of
// their progress in the metadata database.
//
// Threading: everything runs on one dedicated io_context (the webhook thread); the API's callers co_spawn onto it.
// gauges() and stats() may be read from any thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "engine/engine.hpp"
#include "log/logger.hpp"
#include "trace/tracer.hpp"
#include "hub/hub.hpp"
#include "meta/database.hpp"
#include "webhook/cluster_sync.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook/store.hpp"
#include "webhook/transport.hpp"

namespace herald::webhook {

struct ServiceOptions {
    DispatchDefaults defaults;
    std::chrono::milliseconds flush_interval{100};  // how often progress is written to meta.db
    std::chrono::milliseconds rotation_overlap{24 * 3600 * 1000};  // default overlap when rotating a secret
    std::size_t max_subscriptions = 10'000;
    std::string handshake_origin = "herald";  // WebHook-Request-Origin sent in the validation handshake
    std::chrono::milliseconds default_timeout{10'000};  // per delivery, when the subscription sets none
    log::Logger* logger = nullptr;        // errors and debug lines; null: plain lines on stderr
    const trace::Tracer* tracer = nullptr;  // client spans per delivery attempt; null: none
};

// Per-subscription figures for metrics: ids are bounded by max_subscriptions.
struct SubscriptionGauge {
    std::string id;
    std::string topic;
    std::string state;
    std::uint64_t lag = 0;
    std::int64_t dead_letters = 0;       // dead-lettered since the subscription was created (a counter)
    std::int64_t dead_letter_queue = 0;  // entries in its dead-letter queue now (replay and delete reduce it)
};

class Service {
public:
    Service(boost::asio::io_context& io, hub::WorkerHub& hub, engine::Engine& engine, meta::Database& db,
            Transport& transport, ServiceOptions options);
    ~Service();

    // Loads the stored subscriptions and starts their dispatchers. Call on the webhook thread.
    Result<void> start();
    // Stops every dispatcher and writes their progress. Call on the webhook thread.
    void stop();

    // The API. Errors: invalid_argument (400), not_found (404), conflict (409), unavailable (503).
    boost::asio::awaitable<Result<boost::json::object>> create(boost::json::value body);
    boost::json::array list(std::string_view topic) const;
    Result<boost::json::object> get(const std::string& id) const;
    Result<boost::json::object> set_paused(const std::string& id, bool paused);
    Result<void> remove(const std::string& id);
    Result<boost::json::object> rotate_secret(const std::string& id, const boost::json::value& body);
    Result<boost::json::object> attempts(const std::string& id, unsigned limit);
    Result<boost::json::object> dead_letters(const std::string& id, std::int64_t after, unsigned limit);
    Result<boost::json::object> replay(const std::string& id, const boost::json::value& body);
    Result<void> delete_dead_letter(const std::string& id, std::int64_t entry);

    std::vector<SubscriptionGauge> gauges() const;
    WebhookStats& stats() noexcept { return stats_; }

    // Cluster mode (several nodes over one engine, webhook/cluster_sync.hpp): definitions are written through
    // `sync` by the API calls, the dispatch holder's progress is queued to it, and dispatchers run only while
    // this node holds the dispatch lease. Call before start().
    void attach_cluster(ClusterSync* sync) noexcept {
        cluster_ = sync;
        dispatching_.store(false, std::memory_order_relaxed);  // until the lease says otherwise
    }
    // One round of the cluster's view. Call on the webhook thread.
    void apply(ClusterView view);
    // Whether this node's dispatchers deliver: always outside a cluster, while holding the lease in one.
    bool dispatching() const noexcept { return dispatching_.load(std::memory_order_relaxed); }

private:
    boost::json::object view(const Dispatcher& d) const;
    std::shared_ptr<Dispatcher> find(const std::string& id) const;
    std::shared_ptr<Dispatcher> launch(Subscription s);
    // Stops `id`'s dispatcher and puts a new one in its place for `s` (started when this node dispatches).
    std::shared_ptr<Dispatcher> relaunch(const std::string& id, Subscription s);
    void set_leader(bool leader);
    void note_local_change(const std::string& id);
    void flush();
    boost::asio::awaitable<void> flush_loop();

    boost::asio::io_context& io_;
    hub::WorkerHub& hub_;
    engine::Engine& engine_;
    meta::Database& db_;
    Transport& transport_;
    ServiceOptions options_;
    std::unique_ptr<Store> store_;
    std::map<std::string, std::shared_ptr<Dispatcher>> dispatchers_;
    WebhookStats stats_;
    std::mt19937_64 rng_;
    boost::asio::steady_timer flush_timer_;
    bool stopped_ = false;
    ClusterSync* cluster_ = nullptr;
    bool leader_ = false;
    std::atomic<bool> dispatching_{true};
    std::chrono::steady_clock::time_point lease_valid_until_{};
    std::map<std::string, std::uint64_t> applied_revision_;  // of each definition this node has applied
    // Subscriptions this node created, changed or deleted, and when: a view older than that must not undo it.
    std::map<std::string, std::chrono::steady_clock::time_point> local_changes_;
    mutable std::mutex gauges_mutex_;
    std::vector<SubscriptionGauge> gauges_;
};

}  // namespace herald::webhook
