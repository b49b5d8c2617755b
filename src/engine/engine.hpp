#pragma once
// The engine seam (DESIGN.md §3.2): where events are stored and read back. Transports and the publishing pipeline
// talk only to this interface; the embedded log is one implementation, Kafka and JetStream are others.
//
// Threading: publish() may be called from any thread; its callback runs on an engine thread and must not block
// (post the result to your own executor). TopicReader methods are safe from any thread. Commit listeners are
// called on an engine thread, in commit order per topic.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "engine/cursor.hpp"

namespace herald::engine {

enum class FsyncPolicy { always, interval, never };

struct TopicSettings {
    FsyncPolicy fsync = FsyncPolicy::interval;
    std::int64_t fsync_interval_ms = 100;
    std::uint64_t segment_bytes = 64ull << 20;
    std::optional<std::int64_t> retention_ms;       // delete segments older than this
    std::optional<std::uint64_t> retention_bytes;   // keep at most about this many bytes
};

// One event ready to append: decoded and validated upstream; `json` is its structured encoding.
struct PublishItem {
    std::string id;
    std::string source;
    std::string type;
    std::string json;
};

struct PublishOutcome {
    std::uint64_t offset = 0;
    std::string id;          // the event's id (for a replayed Idempotency-Key, the original event's)
    bool duplicate = false;  // already in the dedup window; `offset` is the original's
};

struct PublishRequest {
    std::string topic;
    std::vector<PublishItem> items;  // all appended together or none
    std::string idempotency_key;     // optional; covers the whole request
};

struct PublishResult {
    std::uint64_t epoch = 0;
    std::vector<PublishOutcome> outcomes;  // one per item, same order
    bool replayed = false;                 // the Idempotency-Key was seen: outcomes are the original ones
};

using PublishCallback = std::function<void(Result<PublishResult>)>;

// One request with its completion, for Engine::publish_batch.
struct PendingPublish {
    PublishRequest request;
    PublishCallback done;
};

// The answer to configure_topic: the topic as it now is, and whether this call created it.
struct TopicConfigured {
    bool created = false;
    std::uint64_t epoch = 0;
};
using ConfigureCallback = std::function<void(Result<TopicConfigured>)>;
using DeleteCallback = std::function<void(Result<void>)>;

// An event as read back from storage.
struct StoredEvent {
    std::uint64_t offset = 0;
    std::int64_t timestamp_ms = 0;
    std::string payload;  // a core::event_record
};

struct TopicInfo {
    std::string name;
    std::uint64_t epoch = 0;
    std::uint64_t start_offset = 0;
    std::uint64_t end_offset = 0;
    std::uint64_t size_bytes = 0;
    TopicSettings settings;
};

// A handle on one topic for readers; cheap to keep (transports keep one per subscription).
class TopicReader {
public:
    virtual ~TopicReader() = default;
    virtual const std::string& name() const = 0;
    virtual std::uint64_t epoch() const = 0;
    virtual std::uint64_t start_offset() const = 0;
    virtual std::uint64_t end_offset() const = 0;
    // Events with offset >= from. Errc::gone when `from` was removed by retention.
    virtual Result<std::vector<StoredEvent>> read(std::uint64_t from, std::size_t max_records,
                                                  std::size_t max_bytes) const = 0;
};

// One committed append as transports see it: the events in offset order with the fields fan-out needs.
//
// A batch covers the positions [base_offset, events.back().offset + 1): the topic has no event there other than
// `events`. On the embedded log and Kafka a topic's offsets are consecutive and base_offset is
// events.front().offset. In a JetStream stream that several topics share, a topic's offsets have holes (the
// other topics' messages), so base_offset is where this node's previous batch of the topic ended (or where its
// live consumer started): a subscriber at any position in [base_offset, end) takes the batch from there without
// a gap.
struct CommittedEvent {
    std::uint64_t offset;
    std::string type;
    std::string json;
};
struct CommittedBatch {
    std::string topic;
    std::uint64_t epoch = 0;
    std::uint64_t base_offset = 0;  // where the batch starts, at or before events.front().offset
    std::int64_t commit_ns = 0;     // steady clock at commit, for delivery latency
    std::vector<CommittedEvent> events;
};

// One figure an engine keeps about itself, exported on /metrics as herald_engine_<name>. `topic` (optional)
// becomes the series' topic label.
struct EngineStat {
    std::string name;
    const char* type = "counter";  // counter | gauge
    const char* help = "";
    std::string topic;
    std::uint64_t value = 0;
};

// Small state that every node over one engine shares (a JetStream KV bucket): records under keys, and leases.
// Calls block for a round trip to the engine; use them off request paths. Keys are [A-Za-z0-9_.=-].
struct SharedEntry {
    std::string key;
    std::string value;
    std::uint64_t revision = 0;
};

class SharedState {
public:
    virtual ~SharedState() = default;
    // Every record whose key starts with `prefix`.
    virtual Result<std::vector<SharedEntry>> list(std::string_view prefix) = 0;
    virtual Result<void> put(std::string_view key, std::string_view value) = 0;
    // Removing a key that does not exist is not an error.
    virtual Result<void> remove(std::string_view key) = 0;
    // Leases: true when `holder` holds `name` after the call — it took a free lease or renewed its own. A lease
    // not renewed within the engine's lease TTL lapses and can be taken by another holder.
    virtual Result<bool> hold_lease(std::string_view name, std::string_view holder) = 0;
    // Gives the lease up at once when `holder` has it (a clean shutdown hands over without waiting for the TTL).
    virtual void release_lease(std::string_view name, std::string_view holder) = 0;
};

class CommitListener {
public:
    virtual ~CommitListener() = default;
    virtual void on_commit(CommittedBatch&& batch) = 0;
};

class Engine {
public:
    virtual ~Engine() = default;
    virtual Result<void> start(CommitListener& listener) = 0;
    // Flushes and stops; pending publishes are completed (committed or failed) before it returns.
    virtual void stop() = 0;

    virtual void publish(PublishRequest request, PublishCallback done) = 0;
    // Several requests handed over at once, each as if by publish() in this order. An engine with a writer
    // thread takes them with one lock and one wake-up (publish/outbox.hpp gathers them per worker).
    virtual void publish_batch(std::vector<PendingPublish>& batch) {
        for (auto& p : batch) publish(std::move(p.request), std::move(p.done));
        batch.clear();
    }
    // The topic's reader; creates the topic when `create` and the engine allows it, else Errc::not_found.
    virtual Result<std::shared_ptr<TopicReader>> topic(std::string_view name, bool create) = 0;
    virtual std::vector<TopicInfo> topics() const = 0;
    // Topics managed at run time (the admin API). Both run on an engine thread between write rounds and call
    // `done` there (it must not block).
    //
    // configure_topic creates the topic with `settings` (whatever auto_create says) or gives the existing one
    // these settings: the durability policy applies from the next write, the segment size from the next roll,
    // retention at once (a shorter one deletes the segments it no longer covers before `done`).
    virtual void configure_topic(std::string name, TopicSettings settings, ConfigureCallback done) = 0;
    // delete_topic removes the topic and every stored event (its log directory); its epoch dies with it, so a
    // topic created later under the same name has a new epoch and old cursors are answered with a reset.
    // Errc::not_found when there is no such topic; Errc::conflict while anything holds a reader of it (an open
    // stream, a long-poll, a webhook dispatcher), because their positions would silently point at nothing.
    virtual void delete_topic(std::string name, DeleteCallback done) = 0;
    virtual bool auto_create() const = 0;
    // Human sentence when the engine cannot take writes (disk full, fsync failure), empty when healthy.
    virtual std::string health() const = 0;
    // The engine's own figures, grouped by name (every series of one name together). None by default.
    virtual std::vector<EngineStat> stats() const { return {}; }
    // State shared by every node over this engine; null when the engine serves one node only (embedded).
    virtual SharedState* shared_state() { return nullptr; }
};

}  // namespace herald::engine
