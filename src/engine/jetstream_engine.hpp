#pragma once
// The NATS JetStream engine (DESIGN.md §3.2, docs/engines.md): Herald topics stored as JetStream streams, so that
// several Herald nodes share them and JetStream does the replication. Transports see the same Engine as with
// the embedded log: offsets are stream sequences minus one, cursors carry an epoch derived from the stream.
//
// Publishing: each event is published to the topic's subject with a Nats-Msg-Id (jetstream_protocol.hpp) and a
// reply subject under this engine's inbox; requests are pipelined (many in flight on the one connection) and
// answered when every event has its acknowledgement. An event without one after `ack_timeout` — or answered
// "no responders"/503 while the cluster elects a leader — is published again with the same message id (the
// stream drops the copy if the first one did land), with back-off, until `publish_timeout`; only then does the
// request fail with Errc::unavailable. A request's events are not one atomic write on JetStream (it has no
// multi-message transaction): when a request fails some of its events may be stored, and retrying it is safe
// because the ids deduplicate.
//
// Layouts (StreamLayout, jetstream_protocol.hpp): a stream per topic, or every topic a subject of one shared
// stream. On the shared stream a topic's offsets have holes (the other topics' messages): live batches say where
// they start (CommittedBatch), reads go through a short-lived pull consumer filtered on the topic's subject,
// retention is the stream's, and a topic exists while its record is in the shared key-value bucket.
//
// Live events: every topic opened on this node has an ordered push consumer from the sequence after the last
// one at open time. Whatever node published an event, every node's consumer delivers it, in stream order, and
// the engine hands it to the CommitListener in batches (a batch ends when the consumer has nothing pending).
//
// Reading: TopicReader::read pipelines $JS.API.STREAM.MSG.GET requests (answered by the stream leader, so a
// read never misses what was acknowledged).
//
// Threading: publish() and topic() from any thread. Acknowledgements and live events arrive on libnats's
// delivery thread; publish callbacks and the listener run there. A maintenance thread re-publishes what timed
// out, refreshes the topic list and runs configure_topic/delete_topic.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"
#include "engine/jetstream_shared_state.hpp"

// libnats types, kept out of every includer.
struct __natsConnection;
struct __natsSubscription;
struct __jsCtx;
struct __natsMsg;

namespace herald::engine {

// Where topics live: a stream each (their own retention, their own leader, contiguous offsets), or subjects of
// one stream <stream_prefix>EVENTS (one retention and one leader for all: many topics cost one stream).
enum class StreamLayout { per_topic, shared };

struct JetStreamOptions {
    std::vector<std::string> servers;           // nats://host:port, at least one
    std::string stream_prefix = "HERALD_";
    std::string subject_prefix = "herald.";
    StreamLayout streams = StreamLayout::per_topic;
    int replicas = 1;
    TopicSettings defaults;                     // retention applies; fsync and segment size are JetStream's own
    std::map<std::string, TopicSettings> declared;
    bool auto_create = true;
    std::int64_t dedup_window_ms = 24ll * 3600 * 1000;  // the streams' duplicate window
    std::int64_t ack_timeout_ms = 2'000;        // wait this long for one acknowledgement before publishing again
    std::int64_t publish_timeout_ms = 15'000;   // give up on a request after this long
    std::int64_t request_timeout_ms = 5'000;    // stream management and reads
    std::int64_t connect_timeout_ms = 5'000;    // the first connection at start
    std::int64_t refresh_interval_ms = 2'000;   // the topic list and their sizes
    std::int64_t lease_ttl_ms = 5'000;          // shared state: a lease lapses this long after its last renewal
};

class JetStreamEngine final : public Engine {
public:
    explicit JetStreamEngine(JetStreamOptions options);
    ~JetStreamEngine() override;

    Result<void> start(CommitListener& listener) override;
    void stop() override;
    void publish(PublishRequest request, PublishCallback done) override;
    Result<std::shared_ptr<TopicReader>> topic(std::string_view name, bool create) override;
    std::vector<TopicInfo> topics() const override;
    void configure_topic(std::string name, TopicSettings settings, ConfigureCallback done) override;
    void delete_topic(std::string name, DeleteCallback done) override;
    bool auto_create() const override { return options_.auto_create; }
    std::string health() const override;
    std::vector<EngineStat> stats() const override;
    SharedState* shared_state() override { return shared_.get(); }

    struct Topic;     // defined in the .cpp
    struct Request;   // one publish request in flight
    // libnats callbacks (C linkage-compatible trampolines call these).
    void on_ack(__natsMsg* msg);
    void on_live(Topic& topic, __natsMsg* msg);
    void subscription_closed();

private:
    struct InFlight {
        std::shared_ptr<Request> request;
        std::size_t item = 0;
    };

    // What open_topic needs to know of a topic's storage, from either layout.
    struct Located {
        std::string stream;
        std::uint64_t epoch = 0;
        std::uint64_t first_seq = 0, last_seq = 0, bytes = 0;
        std::uint64_t topic_last = 0;  // the sequence of the topic's last message (0: none); = last_seq per topic
        std::uint64_t record_revision = 0;  // shared stream: the revision of the topic's record
        TopicSettings settings;
    };

    bool shared_layout() const { return options_.streams == StreamLayout::shared; }
    Result<std::shared_ptr<Topic>> open_topic(const std::string& name, bool create, const TopicSettings* settings,
                                              bool* created);
    Result<Located> locate_stream(const std::string& name, bool create, const TopicSettings* settings, bool* created);
    Result<Located> locate_subject(const std::string& name, bool create, const TopicSettings* settings,
                                   bool* created);
    // Creates or updates the topic's stream; `created` tells which. Blocking (one API round trip or two).
    Result<void> put_stream(const std::string& name, const TopicSettings& settings, bool* created);
    Result<void> put_stream_config(const std::string& stream, const std::string& subjects,
                                   const TopicSettings& settings, bool* created);
    // On the shared stream every topic has the stream's retention: other settings are refused, not ignored.
    Result<void> check_shared_settings(const TopicSettings& settings) const;
    // Runs `step` until it works, fails with something other than Errc::unavailable, or 30 s pass (a cluster
    // still electing its leaders answers with timeouts).
    Result<void> retry_while_forming(const std::function<Result<void>()>& step);
    void delete_subject(const std::string& name, DeleteCallback done);
    // Shared stream: topics deleted or created again on another node, from the records' watcher, are retired
    // within one maintenance round instead of one topic-list refresh.
    void apply_topic_changes();
    // Retires `name`'s open topic when it is `expected` (or any, when null). True when one was retired.
    bool retire_if_current(const std::string& name, const std::shared_ptr<Topic>& expected);
    Result<std::vector<TopicInfo>> list_topics();
    void send(const std::shared_ptr<Request>& request, std::size_t item);
    void complete(const std::shared_ptr<Request>& request);
    void maintenance_loop();
    void retry_expired(std::int64_t now_ms);
    // Requests answered "no responders": when their topic's stream is gone (deleted by another node), the topic
    // is opened again (created, with a new epoch, when auto_create allows) and the events go there.
    void recover_deleted_topics();
    void refresh_topics();
    bool enqueue_control(std::function<void()> control);
    // Asks libnats to say when an async subscription's handler can no longer run (see stop()).
    void track(__natsSubscription* sub);
    void close_subscription(__natsSubscription*& sub);
    // Takes a topic out of service: its live consumer is closed; the object lives until stop().
    void retire(std::shared_ptr<Topic> topic);

    JetStreamOptions options_;
    CommitListener* listener_ = nullptr;
    __natsConnection* nc_ = nullptr;
    __jsCtx* js_ = nullptr;
    __natsSubscription* ack_sub_ = nullptr;
    std::unique_ptr<JetStreamSharedState> shared_;
    std::string ack_prefix_;  // "<inbox>." + token per attempt

    mutable std::mutex topics_mutex_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;  // opened on this node
    std::vector<TopicInfo> known_;   // every stream of ours, from the last refresh
    std::map<std::string, std::uint64_t> topic_records_;  // shared stream: topic → epoch, kept by the watcher
    std::string refresh_error_;      // why the last refresh failed; empty when it worked
    std::vector<std::shared_ptr<Topic>> retired_;  // deleted or stale; their handlers may still be finishing

    std::mutex subs_mutex_;
    std::condition_variable subs_cv_;
    int open_subscriptions_ = 0;     // async subscriptions whose completion libnats has not reported yet

    mutable std::mutex flight_mutex_;
    std::atomic<std::uint64_t> republished_{0};  // events published again (no acknowledgement, no leader)
    std::atomic<std::uint64_t> timed_out_{0};    // requests failed after publish_timeout
    std::atomic<std::uint64_t> lookup_reads_{0}; // shared-stream reads that fell back to message lookups
    std::unordered_map<std::uint64_t, InFlight> in_flight_;  // by reply token
    std::vector<std::shared_ptr<Request>> requests_;         // not yet answered
    std::uint64_t next_token_ = 1;
    std::size_t pending_requests_ = 0;

    std::mutex control_mutex_;
    std::condition_variable control_cv_;
    std::deque<std::function<void()>> controls_;
    bool stopping_ = false;
    std::atomic<bool> closed_{false};
    std::thread maintenance_;
};

}  // namespace herald::engine
