#pragma once
// SharedState over Kafka (docs/deployment.md), for several Herald nodes over one Kafka cluster:
//  - records live in the topic <prefix>__shared (cleanup.policy=compact, one partition): a put is a record
//    keyed by its key, a remove a tombstone; list() reads the topic up to its end (so it sees every write
//    acknowledged before the call) into a map kept between calls.
//  - a lease is a Kafka consumer group, <prefix>lease.<name>, over the one-partition topic <prefix>__leases: the
//    member assigned partition 0 holds the lease. Kafka's group coordinator does the work a lease needs — a
//    member that stops heartbeating for the session timeout (the lease TTL) is removed and the partition goes
//    to another member, and a member that leaves (release_lease) hands over at once. In the eager rebalance
//    protocol a member gives up its partitions before anyone is assigned them, so two nodes never hold a
//    lease together (as long as each calls hold_lease, which serves the group's callbacks, more often than
//    the TTL).
//
// Threading: every method may be called from any thread; reads, writes and lease calls are each serialised.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/engine.hpp"
#include "engine/kafka_log.hpp"

struct rd_kafka_s;

namespace herald::engine {

struct KafkaSharedStateOptions {
    std::vector<std::string> brokers;
    std::map<std::string, std::string> properties;  // the engine's extra librdkafka properties
    std::string topic_prefix = "herald.";
    std::int64_t lease_ttl_ms = 10'000;  // the groups' session timeout
    std::int64_t request_timeout_ms = 5'000;
    kafka::LogSink log;
};

class KafkaSharedState final : public SharedState {
public:
    // Creates the two topics when missing (`create` makes one topic, compacted or not, or fails).
    using CreateTopic = std::function<Result<void>(const std::string& topic, bool compacted)>;
    static Result<std::unique_ptr<KafkaSharedState>> open(KafkaSharedStateOptions options, const CreateTopic& create);
    ~KafkaSharedState() override;

    Result<std::vector<SharedEntry>> list(std::string_view prefix) override;
    Result<void> put(std::string_view key, std::string_view value) override;
    Result<void> remove(std::string_view key) override;
    Result<bool> hold_lease(std::string_view name, std::string_view holder) override;
    void release_lease(std::string_view name, std::string_view holder) override;

    struct Lease;

private:
    explicit KafkaSharedState(KafkaSharedStateOptions options);
    Result<void> write(std::string_view key, const std::string* value);

    KafkaSharedStateOptions options_;
    kafka::ClientContext client_context_{&options_.log};
    std::string records_topic_;
    std::string leases_topic_;
    rd_kafka_s* producer_ = nullptr;
    rd_kafka_s* reader_ = nullptr;  // assigned the records topic from the beginning, kept between calls
    // Reads, writes and leases each have their own lock, so that during an outage a write (an admin change,
    // answered 503 after request_timeout) does not also wait out the other callers' listings and renewals.
    std::mutex read_mutex_;   // reader_, read_to_, records_
    std::mutex write_mutex_;  // producer_'s one outstanding write
    std::mutex lease_mutex_;  // leases_
    std::int64_t read_to_ = 0;      // the offset after the last record read into `records_`
    std::map<std::string, SharedEntry, std::less<>> records_;
    std::map<std::string, std::unique_ptr<Lease>, std::less<>> leases_;
};

}  // namespace herald::engine
