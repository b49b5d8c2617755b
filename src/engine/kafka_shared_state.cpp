#include "engine/kafka_shared_state.hpp"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <condition_variable>

namespace herald::engine {

namespace {

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A put's delivery report, waited for by the caller.
struct Delivery {
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
    auto* d = static_cast<Delivery*>(msg->_private);
    d->err = msg->err;
    d->done = true;
}

Result<rd_kafka_t*> make_client(const KafkaSharedStateOptions& o, kafka::ClientContext* context, rd_kafka_type_t type,
                                std::initializer_list<std::pair<const char*, std::string>> extra,
                                void (*rebalance)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*,
                                                  void*) = nullptr,
                                kafka::ClientContext* opaque = nullptr,
                                void (*delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    std::string brokers;
    for (auto& b : o.brokers) brokers += (brokers.empty() ? "" : ",") + b;
    auto set = [&](const std::string& k, const std::string& v) {
        return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK;
    };
    bool ok = set("bootstrap.servers", brokers) && set("log_level", "4");
    for (auto& [k, v] : extra) ok = ok && set(k, v);
    for (auto& [k, v] : o.properties) ok = ok && set(k, v);
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return make_error(Errc::invalid_argument, std::string("librdkafka: ") + err);
    }
    if (rebalance) rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    if (delivery) rd_kafka_conf_set_dr_msg_cb(conf, delivery);
    // The opaque is the lease (rebalance callbacks) or the state's own context; both are ClientContexts.
    kafka::route_logs(conf, opaque ? static_cast<kafka::ClientContext*>(opaque) : context);
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return make_error(Errc::unavailable, std::string("cannot create a Kafka client: ") + err);
    }
    if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
    return rk;
}

}  // namespace

// One lease: a consumer in the lease's group. `held` follows the rebalance callbacks.
struct KafkaSharedState::Lease : kafka::ClientContext {
    rd_kafka_t* consumer = nullptr;
    std::string topic;
    bool held = false;
};

namespace {

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
    // The opaque was set as the lease's ClientContext base.
    auto* lease = static_cast<KafkaSharedState::Lease*>(static_cast<kafka::ClientContext*>(opaque));
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        lease->held = false;
        for (int i = 0; i < parts->cnt; ++i)
            if (parts->elems[i].partition == 0 && lease->topic == parts->elems[i].topic) lease->held = true;
    } else {
        // Revoked (or lost): give the partition up before the group assigns it to anyone else.
        lease->held = false;
        rd_kafka_assign(rk, nullptr);
    }
}

}  // namespace

KafkaSharedState::KafkaSharedState(KafkaSharedStateOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<KafkaSharedState>> KafkaSharedState::open(KafkaSharedStateOptions options,
                                                                 const CreateTopic& create) {
    std::unique_ptr<KafkaSharedState> s(new KafkaSharedState(std::move(options)));
    s->records_topic_ = s->options_.topic_prefix + "__shared";
    s->leases_topic_ = s->options_.topic_prefix + "__leases";
    if (auto r = create(s->records_topic_, true); !r) return std::move(r).error();
    if (auto r = create(s->leases_topic_, false); !r) return std::move(r).error();
    auto producer = make_client(s->options_, &s->client_context_, RD_KAFKA_PRODUCER,
                                {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "0"},
                                 // a write waits for its report: bounded like every other request
                                 {"message.timeout.ms", std::to_string(s->options_.request_timeout_ms)}},
                                nullptr,
                                nullptr, on_delivery);
    if (!producer) return std::move(producer).error();
    s->producer_ = *producer;
    auto reader = make_client(s->options_, &s->client_context_, RD_KAFKA_CONSUMER, {{"group.id", "herald-shared-reader"},
                                                               {"enable.auto.commit", "false"},
                                                               {"auto.offset.reset", "earliest"},
                                                               {"enable.partition.eof", "true"},
                                                               {"fetch.wait.max.ms", "10"}});
    if (!reader) return std::move(reader).error();
    s->reader_ = *reader;
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, s->records_topic_.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    auto e = rd_kafka_assign(s->reader_, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return make_error(Errc::unavailable, std::string("cannot read ") + s->records_topic_ + ": " + rd_kafka_err2str(e));
    return s;
}

KafkaSharedState::~KafkaSharedState() {
    for (auto& [name, lease] : leases_) {
        rd_kafka_consumer_close(lease->consumer);
        rd_kafka_destroy(lease->consumer);
    }
    if (reader_) {
        rd_kafka_consumer_close(reader_);
        rd_kafka_destroy(reader_);
    }
    if (producer_) {
        rd_kafka_flush(producer_, static_cast<int>(options_.request_timeout_ms));
        rd_kafka_destroy(producer_);
    }
}

Result<std::vector<SharedEntry>> KafkaSharedState::list(std::string_view prefix) {
    std::lock_guard lock(read_mutex_);
    std::int64_t lo = 0, hi = 0;
    auto e = rd_kafka_query_watermark_offsets(reader_, records_topic_.c_str(), 0, &lo, &hi,
                                              static_cast<int>(options_.request_timeout_ms));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return make_error(Errc::unavailable, "offsets of " + records_topic_ + ": " + rd_kafka_err2str(e));
    // Everything written before this call is below `hi`: read up to it.
    const auto deadline = steady_ms() + options_.request_timeout_ms;
    while (read_to_ < hi) {
        if (steady_ms() >= deadline) return make_error(Errc::unavailable, "Kafka did not answer a read of " + records_topic_);
        rd_kafka_message_t* m = rd_kafka_consumer_poll(reader_, 100);
        if (!m) continue;
        if (m->err) {
            const bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
            const auto eof_offset = m->offset;
            std::string why = rd_kafka_message_errstr(m);
            rd_kafka_message_destroy(m);
            // At the end: compaction may have removed the records just below `hi`, so the end is where the
            // reading stops, not the offset of a record.
            if (eof) {
                if (eof_offset >= hi) read_to_ = eof_offset;
                continue;
            }
            return make_error(Errc::unavailable, "reading " + records_topic_ + ": " + why);
        }
        std::string key(static_cast<const char*>(m->key), m->key_len);
        if (m->payload) {
            auto& entry = records_[key];
            entry.key = key;
            entry.value.assign(static_cast<const char*>(m->payload), m->len);
            entry.revision = static_cast<std::uint64_t>(m->offset) + 1;
        } else {
            records_.erase(key);  // a tombstone
        }
        read_to_ = m->offset + 1;
        rd_kafka_message_destroy(m);
    }
    std::vector<SharedEntry> out;
    for (auto it = records_.lower_bound(prefix); it != records_.end() && it->first.starts_with(prefix); ++it)
        out.push_back(it->second);
    return out;
}

Result<void> KafkaSharedState::write(std::string_view key, const std::string* value) {
    std::lock_guard lock(write_mutex_);
    Delivery d;
    auto e = rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(records_topic_.c_str()), RD_KAFKA_V_PARTITION(0),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
                               RD_KAFKA_V_VALUE(value ? const_cast<char*>(value->data()) : nullptr,
                                                value ? value->size() : 0),
                               RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return make_error(Errc::unavailable, std::string("writing ") + records_topic_ + ": " + rd_kafka_err2str(e));
    // The report must arrive before `d` goes out of scope: wait past message.timeout.ms if need be (librdkafka
    // always reports, with a timeout error at worst).
    while (!d.done) rd_kafka_poll(producer_, 50);
    if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return make_error(Errc::unavailable, std::string("writing ") + records_topic_ + ": " + rd_kafka_err2str(d.err));
    return ok();
}

Result<void> KafkaSharedState::put(std::string_view key, std::string_view value) {
    std::string v(value);
    return write(key, &v);
}

Result<void> KafkaSharedState::remove(std::string_view key) { return write(key, nullptr); }

Result<bool> KafkaSharedState::hold_lease(std::string_view name, std::string_view holder) {
    std::lock_guard lock(lease_mutex_);
    auto it = leases_.find(name);
    if (it == leases_.end()) {
        auto lease = std::make_unique<Lease>();
        lease->log = &options_.log;
        lease->topic = leases_topic_;
        const auto ttl = std::max<std::int64_t>(options_.lease_ttl_ms, 1000);
        auto rk = make_client(options_, &client_context_, RD_KAFKA_CONSUMER,
                              {{"group.id", options_.topic_prefix + "lease." + std::string(name)},
                               {"client.id", std::string(holder)},
                               {"session.timeout.ms", std::to_string(ttl)},
                               {"heartbeat.interval.ms", std::to_string(std::max<std::int64_t>(ttl / 4, 100))},
                               // A holder that stops asking (stuck, not dead: librdkafka heartbeats from its
                               // own thread) leaves the group after the TTL too.
                               {"max.poll.interval.ms", std::to_string(ttl)},
                               {"enable.auto.commit", "false"},
                               {"partition.assignment.strategy", "range"}},
                              on_rebalance, lease.get());
        if (!rk) return std::move(rk).error();
        lease->consumer = *rk;
        rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, leases_topic_.c_str(), RD_KAFKA_PARTITION_UA);
        auto e = rd_kafka_subscribe(lease->consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_destroy(lease->consumer);
            return make_error(Errc::unavailable, std::string("joining the lease group: ") + rd_kafka_err2str(e));
        }
        it = leases_.emplace(std::string(name), std::move(lease)).first;
    }
    // Serve the group's callbacks (assignment, revocation); the lease topic has no records to return.
    for (int i = 0; i < 4; ++i) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(it->second->consumer, 0);
        if (!m) break;
        rd_kafka_message_destroy(m);
    }
    // Expired by the coordinator but not told yet (no callback until the next poll): not held.
    if (rd_kafka_assignment_lost(it->second->consumer)) it->second->held = false;
    return it->second->held;
}

void KafkaSharedState::release_lease(std::string_view name, std::string_view) {
    std::lock_guard lock(lease_mutex_);
    auto it = leases_.find(name);
    if (it == leases_.end()) return;
    // Leaving the group hands the partition to another member now, not after the session timeout.
    rd_kafka_consumer_close(it->second->consumer);
    rd_kafka_destroy(it->second->consumer);
    leases_.erase(it);
}

}  // namespace herald::engine
