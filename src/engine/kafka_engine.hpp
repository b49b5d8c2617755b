#pragma once
// The Kafka engine (DESIGN.md §3.2, docs/engines.md): Herald topics stored in Kafka topics through librdkafka, so
// that several Herald nodes share them and Kafka does the replication. Transports see the same Engine as with
// the embedded log.
//
// Mapping: Herald topic "orders" → Kafka topic <topic_prefix>"orders", partition 0; offsets are Kafka offsets,
// so a cursor names the same event on every node. A bridge maps a Herald topic onto an existing Kafka topic
// instead (records other services write are read per the CloudEvents Kafka binding or wrapped,
// kafka_record.hpp). One partition per Herald topic keeps the total order per topic that cursors and the hub
// rely on; spreading a topic over several partitions (partition → offset vector cursors) is not built yet.
//
// Publishing: one idempotent producer (enable.idempotence, acks=all) per node; a request's events are produced
// together and answered 201 only when every one has its delivery report. librdkafka retries inside
// message.timeout.ms (publish_timeout); after that the request fails with Errc::unavailable. A request's events
// are not one atomic write: when it fails some may be stored, and retrying it is safe because ids deduplicate.
//
// Deduplication: Kafka has none, so each node keeps the dedup window of every topic it opened, rebuilt from
// the topic's tail when it opens it and fed by everything its consumer reads — events published on other nodes
// included. A duplicate is caught on any node once the first copy has reached that node's consumer
// (milliseconds); two nodes publishing the same id within that interval can both store it.
//
// Live events: one consumer per node, manually assigned the partitions of the topics this node opened, from
// the end offset at open time; whatever node produced an event, it reaches every node's hub in offset order.
// Reading: TopicReader::read fetches with a pooled consumer assigned at the offset asked for.
//
// Threading: publish() and topic() from any thread. Delivery reports arrive on the producer's poll thread,
// live records on the consumer thread; publish callbacks and the listener run there. A control thread runs
// configure_topic/delete_topic, Idempotency-Key replays and the periodic refresh (watermarks, health).

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

#include "engine/dedup_window.hpp"
#include "engine/engine.hpp"
#include "engine/kafka_log.hpp"
#include "engine/kafka_record.hpp"
#include "engine/kafka_shared_state.hpp"

// librdkafka types, kept out of every includer.
struct rd_kafka_s;
struct rd_kafka_message_s;

namespace herald::engine {

// A Herald topic exposed over an existing Kafka topic.
struct KafkaBridge {
    std::string kafka_topic;
    std::int32_t partition = 0;
    kafka::WriteFormat format = kafka::WriteFormat::structured;  // how Herald writes events into it
    kafka::WrapSettings wrap;                                     // how records that are not CloudEvents read
};

struct KafkaOptions {
    std::vector<std::string> brokers;     // host:port, at least one
    std::string topic_prefix = "herald.";
    int replication_factor = 1;
    bool create_with_admin = true;        // false: rely on the brokers' auto.create.topics.enable
    TopicSettings defaults;               // retention applies; fsync and segment size are Kafka's own
    std::map<std::string, TopicSettings> declared;
    std::map<std::string, KafkaBridge> bridges;  // Herald topic name → Kafka topic
    bool auto_create = true;
    DedupOptions dedup;
    std::int64_t publish_timeout_ms = 15'000;  // message.timeout.ms: librdkafka retries until then
    std::int64_t request_timeout_ms = 5'000;   // metadata, admin requests, reads
    std::int64_t linger_ms = 1;
    std::int64_t refresh_interval_ms = 2'000;
    std::map<std::string, std::string> properties;  // more librdkafka properties (security.protocol, sasl.*)
    kafka::LogSink log;                   // librdkafka's own log lines (none when empty)
    bool shared = true;                   // keep the nodes' shared state (webhook leases, records) in Kafka
    std::int64_t lease_ttl_ms = 10'000;   // shared state: a dead lease holder is replaced after this
};

class KafkaEngine final : public Engine {
public:
    explicit KafkaEngine(KafkaOptions options);
    ~KafkaEngine() override;

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

    struct Topic;
    struct Request;
    struct Slot;

private:
    Result<std::shared_ptr<Topic>> open(std::string_view name, bool create);
    Result<void> create_kafka_topic(const std::string& kafka_topic, const TopicSettings& settings,
                                    bool compacted = false);
    Result<bool> kafka_topic_exists(const std::string& kafka_topic);
    void submit(std::shared_ptr<Request> req);
    void on_delivery(const rd_kafka_message_s& msg);
    void finish(Request& req);
    void produce_loop();
    void consume_loop();
    void control_loop();
    void post_control(std::function<void()> task);
    void refresh();
    void on_live(std::vector<rd_kafka_message_s*>& msgs);
    // Records of one topic from `from` on, converted to events (the Kafka binding), at most up to the end the
    // topic had when called. Errc::gone when `from` is below the partition's low watermark.
    struct Fetched {
        std::uint64_t offset = 0;
        std::int64_t timestamp_ms = -1;
        kafka::EventOut event;
    };
    Result<std::vector<Fetched>> fetch(const Topic& t, std::uint64_t from, std::size_t max_records,
                                       std::size_t max_bytes);
    Result<std::vector<StoredEvent>> read(const Topic& t, std::uint64_t from, std::size_t max_records,
                                          std::size_t max_bytes);
    rd_kafka_s* borrow_reader();
    void return_reader(rd_kafka_s* rk);
    std::string kafka_topic_of(std::string_view name) const;
    TopicSettings settings_for(const std::string& name) const;

    KafkaOptions options_;
    kafka::ClientContext client_context_{&options_.log};  // every client's opaque (kafka_log.hpp)
    CommitListener* listener_ = nullptr;
    rd_kafka_s* producer_ = nullptr;
    rd_kafka_s* consumer_ = nullptr;
    std::string cluster_id_;
    std::unique_ptr<KafkaSharedState> shared_;

    mutable std::mutex topics_mutex_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;          // by Herald name
    std::unordered_map<std::string, std::shared_ptr<Topic>> by_kafka_topic_;     // the consumer's lookup
    std::map<std::string, TopicInfo, std::less<>> listed_;  // refresh: topics in Kafka this node has not opened
    std::mutex open_mutex_;  // one topic opened at a time (opening makes blocking requests)

    std::mutex readers_mutex_;
    std::vector<rd_kafka_s*> readers_;

    std::mutex control_mutex_;
    std::condition_variable control_cv_;
    std::deque<std::function<void()>> control_tasks_;

    mutable std::mutex health_mutex_;
    std::string health_;

    std::atomic<bool> stopping_{false};      // refuse new calls
    std::atomic<bool> threads_stop_{false};  // end the poll, consume and control threads (after the flush)
    std::atomic<int> active_calls_{0};       // open()/publish() calls in progress
    std::atomic<bool> started_{false};
    std::thread produce_thread_;
    std::thread consume_thread_;
    std::thread control_thread_;

    std::atomic<std::uint64_t> produced_{0};
    std::atomic<std::uint64_t> delivery_failures_{0};
    std::atomic<std::uint64_t> consumed_{0};
    std::atomic<std::uint64_t> wrapped_{0};
    std::atomic<std::uint64_t> deferred_{0};

    friend void kafka_delivery_report(rd_kafka_s*, const rd_kafka_message_s*, void*);
};

}  // namespace herald::engine
