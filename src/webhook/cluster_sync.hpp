#pragma once
// Webhook subscriptions shared by several Herald nodes over one engine (docs/deployment.md). One node at a time —
// the holder of the "webhooks" lease in the engine's shared state — dispatches every subscription; the others
// keep them ready and take over when the lease lapses (the holder died) or is released (it shut down).
//
// Each round (every `interval`, on this object's own thread) the node
//   1. takes or renews the lease,
//   2. as holder, writes the progress its dispatchers queued since the last round (cursor, counters, state),
//   3. reads every subscription's definition and progress, and hands that view to the webhook service, which
//      adds what other nodes created, applies their pauses, resumes, rotations and deletions, and starts or stops
//      its dispatchers as the lease says.
// Definitions are written at once by the API call that changes them, so an acknowledged change is in the cluster.
// Delivery is at least once across a takeover: the new holder starts from the last progress written, up to one
// round behind what the old holder delivered.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "engine/engine.hpp"
#include "webhook/subscription.hpp"

namespace herald::log {
class Logger;
}

namespace herald::webhook {

struct ClusterView {
    bool leader = false;
    std::chrono::steady_clock::time_point taken_at;           // when this round began
    std::chrono::steady_clock::time_point lease_valid_until;  // leader: dispatch no longer than this without a renewal
    struct Entry {
        Subscription definition;                  // status: as created, or as the API left it (active/paused)
        std::uint64_t revision = 0;               // of the definition: a change shows as a new revision
        std::optional<SubscriptionStatus> progress;
    };
    std::vector<Entry> subscriptions;
};

struct ClusterSyncOptions {
    std::string node;                              // this node's name, written in the lease
    std::chrono::milliseconds interval{1'000};
    std::chrono::milliseconds lease_ttl{5'000};    // the engine's; a holder stops dispatching at 80% of it
};

class ClusterSync {
public:
    using Deliver = std::function<void(ClusterView)>;  // called on the sync thread; post it to your own

    ClusterSync(engine::SharedState& state, ClusterSyncOptions options, Deliver deliver, log::Logger* logger);
    ~ClusterSync();

    void start();
    // Ends the rounds, writes the progress still queued (when holding the lease) and releases the lease.
    void stop();

    // For API calls: written before the call answers. Errc::unavailable when the shared state cannot be reached.
    Result<void> put_definition(const Subscription& s);
    Result<void> remove(const std::string& id);
    // Progress of subscriptions this node dispatches: the latest per subscription is written next round.
    void queue_progress(const std::string& id, std::string json);

    const std::string& node() const noexcept { return options_.node; }

    static std::string definition_key(const std::string& id) { return "wh.def." + id; }
    static std::string progress_key(const std::string& id) { return "wh.pos." + id; }

private:
    void loop();
    void round();
    // Writes the queued progress; false (the rest re-queued) at the first write that fails.
    bool write_progress();

    engine::SharedState& state_;
    ClusterSyncOptions options_;
    Deliver deliver_;
    log::Logger* logger_;
    bool leader_ = false;  // sync thread (and stop(), after the thread ended)

    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::map<std::string, std::string> outbox_;  // id → progress JSON
    std::thread thread_;
};

}  // namespace herald::webhook
