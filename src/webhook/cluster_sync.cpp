#include "webhook/cluster_sync.hpp"

#include "log/logger.hpp"
#include "webhook/subscription_json.hpp"

namespace herald::webhook {

namespace {

constexpr std::string_view kLease = "webhooks";
constexpr std::string_view kDefinitions = "wh.def.";
constexpr std::string_view kProgress = "wh.pos.";

}  // namespace

ClusterSync::ClusterSync(engine::SharedState& state, ClusterSyncOptions options, Deliver deliver, log::Logger* logger)
    : state_(state), options_(std::move(options)), deliver_(std::move(deliver)), logger_(logger) {}

ClusterSync::~ClusterSync() { stop(); }

void ClusterSync::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { loop(); });
}

void ClusterSync::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (leader_) {
        // A clean shutdown hands over at once: the last progress first, then the lease. When the shared state
        // cannot be reached the lease lapses by itself after its TTL.
        if (write_progress()) {
            state_.release_lease(kLease, options_.node);
            log::emit(logger_, log::Level::info, "webhook", "released the webhook dispatch lease",
                      {{"node", options_.node}});
        }
        leader_ = false;
    }
}

Result<void> ClusterSync::put_definition(const Subscription& s) {
    return state_.put(definition_key(s.id), definition_json(s));
}

Result<void> ClusterSync::remove(const std::string& id) {
    if (auto r = state_.remove(definition_key(id)); !r) return r;
    return state_.remove(progress_key(id));
}

void ClusterSync::queue_progress(const std::string& id, std::string json) {
    std::lock_guard lock(mutex_);
    outbox_[id] = std::move(json);
}

bool ClusterSync::write_progress() {
    std::map<std::string, std::string> out;
    {
        std::lock_guard lock(mutex_);
        out.swap(outbox_);
    }
    bool reachable = true;
    for (auto& [id, json] : out) {
        // After one failure the rest waits for the next round: with the shared state unreachable each put costs
        // a full timeout, and a round (or a shutdown) must not take one per subscription.
        if (reachable) {
            if (auto r = state_.put(progress_key(id), json); r) continue;
            reachable = false;
        }
        // Kept for the next round unless newer progress was queued meanwhile.
        std::lock_guard lock(mutex_);
        outbox_.try_emplace(id, std::move(json));
    }
    return reachable;
}

void ClusterSync::loop() {
    for (;;) {
        round();
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) return;
    }
}

void ClusterSync::round() {
    ClusterView view;
    view.taken_at = std::chrono::steady_clock::now();
    auto held = state_.hold_lease(kLease, options_.node);
    const bool was = leader_;
    leader_ = held && *held;
    if (leader_ != was)
        log::emit(logger_, log::Level::info, "webhook",
                  leader_ ? "this node now dispatches the webhook subscriptions" : "this node no longer dispatches the webhook subscriptions",
                  {{"node", options_.node}});
    if (!held)
        log::emit(logger_, log::Level::warn, "webhook", "cannot reach the webhook dispatch lease",
                  {{"error", held.error().message}});
    if (leader_) {
        view.lease_valid_until = view.taken_at + options_.lease_ttl * 8 / 10;
        write_progress();
    } else {
        std::lock_guard lock(mutex_);
        outbox_.clear();  // the holder writes progress; ours would be stale
    }
    view.leader = leader_;

    auto definitions = state_.list(kDefinitions);
    auto progress = state_.list(kProgress);
    if (!definitions || !progress) {
        // Without the list the service keeps what it has; the lease decision still counts (leader: false stops
        // dispatching when the lease could not be renewed).
        auto& e = !definitions ? definitions.error() : progress.error();
        log::emit(logger_, log::Level::warn, "webhook", "cannot read the shared webhook subscriptions",
                  {{"error", e.message}});
        view.subscriptions.clear();
        ClusterView lease_only = view;
        lease_only.taken_at = {};  // marks "no listing": the service applies the lease only
        deliver_(std::move(lease_only));
        return;
    }
    std::map<std::string, SubscriptionStatus> positions;
    for (auto& entry : *progress) {
        auto st = parse_progress(entry.value);
        if (st) positions.emplace(entry.key.substr(kProgress.size()), std::move(*st));
    }
    for (auto& entry : *definitions) {
        auto def = parse_definition(entry.value);
        if (!def) {
            log::emit(logger_, log::Level::warn, "webhook", "skipping an unreadable shared subscription",
                      {{"key", entry.key}, {"error", def.error().message}});
            continue;
        }
        ClusterView::Entry e;
        e.revision = entry.revision;
        if (auto p = positions.find(def->id); p != positions.end()) e.progress = p->second;
        e.definition = std::move(*def);
        view.subscriptions.push_back(std::move(e));
    }
    deliver_(std::move(view));
}

}  // namespace herald::webhook
