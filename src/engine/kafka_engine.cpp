#include "engine/kafka_engine.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "core/event_record.hpp"
#include "engine/topic_name.hpp"

namespace herald::engine {

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Counts a call in progress for stop(), which waits until none is left before freeing the clients.
struct CallGate {
    explicit CallGate(std::atomic<int>& n) : n_(n) { n_.fetch_add(1, std::memory_order_acq_rel); }
    ~CallGate() { n_.fetch_sub(1, std::memory_order_acq_rel); }
    std::atomic<int>& n_;
};

Error kafka_failure(const std::string& what, rd_kafka_resp_err_t err) {
    return make_error(Errc::unavailable, what + ": " + rd_kafka_err2str(err));
}

// A client configuration with the brokers and the user's extra properties; `extra` are this client's own.
Result<rd_kafka_conf_t*> make_conf(const KafkaOptions& o, kafka::ClientContext* context,
                                   std::initializer_list<std::pair<const char*, std::string>> extra) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    kafka::route_logs(conf, context);
    char err[512];
    std::string brokers;
    for (auto& b : o.brokers) brokers += (brokers.empty() ? "" : ",") + b;
    auto set = [&](const std::string& k, const std::string& v) -> Result<void> {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return make_error(Errc::invalid_argument, std::string("librdkafka property ") + k + ": " + err);
        }
        return ok();
    };
    if (auto r = set("bootstrap.servers", brokers); !r) return std::move(r).error();
    if (auto r = set("client.id", "herald"); !r) return std::move(r).error();
    if (auto r = set("log_level", "4"); !r) return std::move(r).error();
    for (auto& [k, v] : extra)
        if (auto r = set(k, v); !r) return std::move(r).error();
    for (auto& [k, v] : o.properties)
        if (auto r = set(k, v); !r) return std::move(r).error();
    return conf;
}

// One admin request (CreateTopics, AlterConfigs, DeleteTopics) sent by `issue` on the queue it is given and waited
// for: its answer, or why there is none (no answer within the timeout, or a request-level error).
using EventPtr = std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)>;
Result<EventPtr> admin_request(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::int64_t timeout_ms, const std::string& what,
                               const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue) {
    char err[512];
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* ao = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(ao, static_cast<int>(timeout_ms), err, sizeof err);
    issue(ao, q);
    EventPtr ev(rd_kafka_queue_poll(q, static_cast<int>(timeout_ms + 1000)), rd_kafka_event_destroy);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    if (!ev) return make_error(Errc::unavailable, "Kafka did not answer " + what);
    if (rd_kafka_event_error(ev.get()))
        return make_error(Errc::unavailable, what + ": " + rd_kafka_event_error_string(ev.get()));
    return ev;
}

// The first per-topic error of a CreateTopics or DeleteTopics answer (`tolerated` is not one).
Result<void> topic_errors(const rd_kafka_topic_result_t** results, std::size_t n, const std::string& what,
                          rd_kafka_resp_err_t tolerated = RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (std::size_t i = 0; i < n; ++i)
        if (auto e = rd_kafka_topic_result_error(results[i]); e != RD_KAFKA_RESP_ERR_NO_ERROR && e != tolerated)
            return kafka_failure(what, e);
    return ok();
}

std::vector<kafka::RecordHeader> headers_of(const rd_kafka_message_t& m) {
    std::vector<kafka::RecordHeader> out;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(&m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs) return out;
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i)
        out.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
    return out;
}

// A consumed record as Herald's event (the CloudEvents Kafka binding); `timestamp_ms` gets the record's time.
kafka::EventOut event_of(const rd_kafka_message_t& m, std::string_view kafka_topic, const kafka::WrapSettings& wrap,
                         std::int64_t& timestamp_ms) {
    auto headers = headers_of(m);
    kafka::RecordIn in;
    in.topic = kafka_topic;
    in.partition = m.partition;
    in.offset = m.offset;
    in.timestamp_ms = timestamp_ms = rd_kafka_message_timestamp(&m, nullptr);
    if (m.key) in.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
    in.value = m.payload ? std::string_view(static_cast<const char*>(m.payload), m.len) : std::string_view();
    in.headers = &headers;
    return kafka::event_from_record(in, wrap);
}

}  // namespace

// One Herald topic over one Kafka partition.
struct KafkaEngine::Topic final : TopicReader {
    KafkaEngine* engine = nullptr;
    std::string topic_name;
    std::string kafka_topic;
    std::int32_t partition = 0;
    std::uint64_t topic_epoch = 0;
    kafka::WriteFormat format = kafka::WriteFormat::structured;
    kafka::WrapSettings wrap;
    rd_kafka_topic_t* rkt = nullptr;  // the producer's handle
    std::atomic<std::uint64_t> start{0};
    std::atomic<std::uint64_t> end{0};
    std::atomic<std::uint64_t> high{0};  // the partition's high watermark as the consumer last saw it
    TopicSettings settings;              // under topics_mutex_

    // Publishing state, under `mutex`: the dedup window, the keys of requests in flight, and requests that
    // wait because an event of theirs is in flight in another one (they are checked again when it finishes).
    std::mutex mutex;
    DedupWindow dedup;
    std::unordered_set<std::string> inflight;
    std::deque<std::shared_ptr<Request>> deferred;
    std::mutex produce_mutex;  // a request's events are produced back to back (contiguous offsets)

    // Requests whose parts are being read (consumer thread, under `mutex`), so other nodes' requests are
    // replayable once complete.
    kafka::RequestRuns runs;

    explicit Topic(DedupOptions d) : dedup(d) {}
    ~Topic() override {
        if (rkt) rd_kafka_topic_destroy(rkt);
    }
    const std::string& name() const override { return topic_name; }
    std::uint64_t epoch() const override { return topic_epoch; }
    std::uint64_t start_offset() const override { return start.load(std::memory_order_acquire); }
    std::uint64_t end_offset() const override { return end.load(std::memory_order_acquire); }
    void advance_end(std::uint64_t e) {
        auto cur = end.load(std::memory_order_relaxed);
        while (cur < e && !end.compare_exchange_weak(cur, e, std::memory_order_acq_rel)) {
        }
    }
    Result<std::vector<StoredEvent>> read(std::uint64_t from, std::size_t max_records,
                                          std::size_t max_bytes) const override {
        return engine->read(*this, from, max_records, max_bytes);
    }
};

// One event of a request on its way to Kafka; the delivery report finds it through the message's opaque.
struct KafkaEngine::Slot {
    std::shared_ptr<Request> request;
    std::size_t item = 0;
};

struct KafkaEngine::Request {
    PublishRequest request;
    PublishCallback done;
    std::shared_ptr<Topic> topic;
    PublishResult result;
    std::vector<std::string> keys;          // dedup key per item
    std::vector<std::int64_t> copy_of;      // -1, or the index of the earlier item in this request it repeats
    std::vector<bool> fresh;                // produced by this request (not a duplicate)
    std::vector<std::optional<std::uint64_t>> offsets;
    std::atomic<std::size_t> remaining{0};
    std::mutex error_mutex;
    std::optional<Error> error;
};

void kafka_delivery_report(rd_kafka_s*, const rd_kafka_message_s* msg, void*) {
    auto* slot = static_cast<KafkaEngine::Slot*>(msg->_private);
    if (!slot) return;
    auto* engine = slot->request->topic->engine;
    engine->on_delivery(*msg);
}

KafkaEngine::KafkaEngine(KafkaOptions options) : options_(std::move(options)) {}

KafkaEngine::~KafkaEngine() { stop(); }

std::string KafkaEngine::kafka_topic_of(std::string_view name) const {
    if (auto it = options_.bridges.find(std::string(name)); it != options_.bridges.end()) return it->second.kafka_topic;
    return options_.topic_prefix + std::string(name);
}

TopicSettings KafkaEngine::settings_for(const std::string& name) const {
    if (auto it = options_.declared.find(name); it != options_.declared.end()) return it->second;
    return options_.defaults;
}

Result<void> KafkaEngine::start(CommitListener& listener) {
    listener_ = &listener;
    if (options_.brokers.empty()) return make_error(Errc::invalid_argument, "engine.kafka.brokers is empty");
    char err[512];
    auto pconf = make_conf(options_, &client_context_, {{"enable.idempotence", "true"},
                                      {"acks", "all"},
                                      {"linger.ms", std::to_string(options_.linger_ms)},
                                      {"message.timeout.ms", std::to_string(options_.publish_timeout_ms)},
                                      {"request.timeout.ms", std::to_string(options_.request_timeout_ms)}});
    if (!pconf) return std::move(pconf).error();
    rd_kafka_conf_set_dr_msg_cb(*pconf, kafka_delivery_report);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, *pconf, err, sizeof err);
    if (!producer_) {
        rd_kafka_conf_destroy(*pconf);
        return make_error(Errc::unavailable, std::string("cannot create the Kafka producer: ") + err);
    }
    // Ask the cluster who it is: the id names every topic's epoch, and answering proves the brokers are there.
    char* cid = rd_kafka_clusterid(producer_, static_cast<int>(options_.request_timeout_ms));
    if (!cid) return make_error(Errc::unavailable, "Kafka did not answer within request_timeout (brokers " +
                                                       options_.brokers.front() + ", ...)");
    cluster_id_ = cid;
    rd_kafka_mem_free(producer_, cid);

    // librdkafka wants a group.id for assign(); this consumer never joins the group (no subscribe), it only
    // names it, so every node may use the same one.
    auto cconf = make_conf(options_, &client_context_, {{"group.id", "herald-node"},
                                      {"enable.auto.commit", "false"},
                                      {"auto.offset.reset", "earliest"},
                                      {"fetch.wait.max.ms", "10"},
                                      {"enable.partition.eof", "false"}});
    if (!cconf) return std::move(cconf).error();
    consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, *cconf, err, sizeof err);
    if (!consumer_) {
        rd_kafka_conf_destroy(*cconf);
        return make_error(Errc::unavailable, std::string("cannot create the Kafka consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(consumer_);

    started_ = true;
    produce_thread_ = std::thread([this] { produce_loop(); });
    consume_thread_ = std::thread([this] { consume_loop(); });
    control_thread_ = std::thread([this] { control_loop(); });

    // Declared topics exist from the start (created when missing, like the embedded log does).
    for (auto& [name, s] : options_.declared)
        if (auto t = open(name, true); !t) return make_error(t.error().code, "topic " + name + ": " + t.error().message);
    for (auto& [name, b] : options_.bridges)
        if (auto t = open(name, false); !t)
            return make_error(t.error().code, "bridged topic " + name + " (Kafka topic " + b.kafka_topic +
                                                  "): " + t.error().message);
    if (options_.shared) {
        KafkaSharedStateOptions so;
        so.brokers = options_.brokers;
        so.properties = options_.properties;
        so.topic_prefix = options_.topic_prefix;
        so.lease_ttl_ms = options_.lease_ttl_ms;
        so.request_timeout_ms = options_.request_timeout_ms;
        so.log = options_.log;
        auto shared = KafkaSharedState::open(so, [this](const std::string& topic, bool compacted) -> Result<void> {
            auto exists = kafka_topic_exists(topic);
            if (!exists) return std::move(exists).error();
            if (*exists) return ok();
            return create_kafka_topic(topic, {}, compacted);
        });
        if (!shared) return make_error(shared.error().code, "shared state: " + shared.error().message);
        shared_ = std::move(*shared);
    }
    refresh();
    return ok();
}

void KafkaEngine::stop() {
    stopping_ = true;  // no new open() or publish() past their gate from now on
    if (!started_.exchange(false)) {
        if (producer_ || consumer_) {
            // start() failed part way: nothing is running yet, only clients to free.
            if (consumer_) rd_kafka_destroy(consumer_);
            if (producer_) rd_kafka_destroy(producer_);
            consumer_ = producer_ = nullptr;
        }
        return;
    }
    // Calls already inside open() or publish() finish with the clients still there.
    while (active_calls_.load(std::memory_order_acquire) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Every pending publish gets its answer: flush waits for the delivery reports (and runs their callbacks).
    rd_kafka_flush(producer_, static_cast<int>(options_.publish_timeout_ms));
    {
        std::lock_guard lock(control_mutex_);
        threads_stop_ = true;
    }
    control_cv_.notify_all();
    if (produce_thread_.joinable()) produce_thread_.join();
    if (consume_thread_.joinable()) consume_thread_.join();
    if (control_thread_.joinable()) control_thread_.join();
    // Whatever is still queued (the brokers went away) fails now rather than never.
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_, 0);
    {
        std::lock_guard lock(topics_mutex_);
        by_kafka_topic_.clear();
        for (auto& [n, t] : topics_)
            if (t->rkt) {
                rd_kafka_topic_destroy(t->rkt);
                t->rkt = nullptr;
            }
        topics_.clear();
    }
    shared_.reset();
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
    consumer_ = nullptr;
    std::vector<rd_kafka_s*> readers;
    {
        std::lock_guard lock(readers_mutex_);
        readers.swap(readers_);
    }
    for (auto* r : readers) {
        rd_kafka_consumer_close(r);
        rd_kafka_destroy(r);
    }
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
}

// ---- topics -------------------------------------------------------------------------------------------------

Result<bool> KafkaEngine::kafka_topic_exists(const std::string& kafka_topic) {
    // Listing every topic never asks the brokers to auto-create one (a request for one named topic may).
    const rd_kafka_metadata_t* md = nullptr;
    auto e = rd_kafka_metadata(producer_, 1, nullptr, &md, static_cast<int>(options_.request_timeout_ms));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_failure("Kafka metadata", e);
    bool found = false;
    for (int i = 0; i < md->topic_cnt; ++i)
        if (kafka_topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topics[i].partition_cnt > 0)
            found = true;
    rd_kafka_metadata_destroy(md);
    return found;
}

Result<void> KafkaEngine::create_kafka_topic(const std::string& kafka_topic, const TopicSettings& settings,
                                             bool compacted) {
    if (!options_.create_with_admin) {
        // The brokers create a topic that a producer asks metadata for (auto.create.topics.enable), with their
        // own defaults; wait until it is listed.
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer_, kafka_topic.c_str(), nullptr);
        const auto deadline = steady_ms() + options_.request_timeout_ms;
        Result<void> outcome = make_error(Errc::unavailable, "Kafka did not create topic " + kafka_topic +
                                                                 " (is auto.create.topics.enable on?)");
        while (steady_ms() < deadline) {
            const rd_kafka_metadata_t* md = nullptr;
            auto e = rd_kafka_metadata(producer_, 0, rkt, &md, static_cast<int>(options_.request_timeout_ms));
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                bool there = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                             md->topics[0].partition_cnt > 0;
                rd_kafka_metadata_destroy(md);
                if (there) {
                    outcome = ok();
                    break;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        rd_kafka_topic_destroy(rkt);
        return outcome;
    }
    char err[512];
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(kafka_topic.c_str(), 1, options_.replication_factor, err, sizeof err);
    if (!nt) return make_error(Errc::invalid_argument, err);
    if (compacted) rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    else if (settings.retention_ms)
        rd_kafka_NewTopic_set_config(nt, "retention.ms", std::to_string(*settings.retention_ms).c_str());
    else rd_kafka_NewTopic_set_config(nt, "retention.ms", "-1");
    if (settings.retention_bytes && !compacted)
        rd_kafka_NewTopic_set_config(nt, "retention.bytes", std::to_string(*settings.retention_bytes).c_str());
    auto answer = admin_request(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS, options_.request_timeout_ms,
                                "CreateTopics for " + kafka_topic,
                                [&](rd_kafka_AdminOptions_t* ao, rd_kafka_queue_t* q) {
                                    rd_kafka_CreateTopics(producer_, &nt, 1, ao, q);
                                });
    rd_kafka_NewTopic_destroy(nt);
    if (!answer) return std::move(answer).error();
    std::size_t n = 0;
    auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(answer->get()), &n);
    return topic_errors(results, n, "creating Kafka topic " + kafka_topic, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
}

Result<std::shared_ptr<TopicReader>> KafkaEngine::topic(std::string_view name, bool create) {
    auto t = open(name, create);
    if (!t) return std::move(t).error();
    return std::shared_ptr<TopicReader>(*t);
}

Result<std::shared_ptr<KafkaEngine::Topic>> KafkaEngine::open(std::string_view name, bool create) {
    {
        std::lock_guard lock(topics_mutex_);
        if (auto it = topics_.find(name); it != topics_.end()) return it->second;
    }
    CallGate gate(active_calls_);
    if (!started_ || stopping_) return make_error(Errc::unavailable, "the engine is stopping");
    std::lock_guard opening(open_mutex_);
    {
        std::lock_guard lock(topics_mutex_);
        if (auto it = topics_.find(name); it != topics_.end()) return it->second;
    }
    const std::string n(name);
    const auto bridge = options_.bridges.find(n);
    const bool bridged = bridge != options_.bridges.end();
    const std::string kt = kafka_topic_of(name);
    auto exists = kafka_topic_exists(kt);
    if (!exists) return std::move(exists).error();
    if (!*exists) {
        if (bridged) return make_error(Errc::not_found, "Kafka topic " + kt + " does not exist");
        bool allowed = create && (options_.auto_create || options_.declared.count(n));
        if (!allowed) return make_error(Errc::not_found, "no topic named '" + n + "'");
        if (auto made = create_kafka_topic(kt, settings_for(n)); !made) return std::move(made).error();
    }

    auto t = std::make_shared<Topic>(options_.dedup);
    t->engine = this;
    t->topic_name = n;
    t->kafka_topic = kt;
    t->settings = settings_for(n);
    if (bridged) {
        t->partition = bridge->second.partition;
        t->format = bridge->second.format;
        t->wrap = bridge->second.wrap;
    }
    t->topic_epoch = kafka::topic_epoch(cluster_id_, kt);
    t->rkt = rd_kafka_topic_new(producer_, kt.c_str(), nullptr);
    std::int64_t lo = 0, hi = 0;
    auto e = rd_kafka_query_watermark_offsets(producer_, kt.c_str(), t->partition, &lo, &hi,
                                              static_cast<int>(options_.request_timeout_ms));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_failure("offsets of Kafka topic " + kt, e);
    t->start = static_cast<std::uint64_t>(lo);
    t->end = static_cast<std::uint64_t>(hi);
    t->high = static_cast<std::uint64_t>(hi);

    // The dedup window survives a restart and covers other nodes' events: rebuild it from the topic's tail.
    const auto window = options_.dedup;
    if (window.max_entries > 0 && hi > lo) {
        const auto now = wall_ms();
        std::uint64_t from = std::max<std::uint64_t>(lo, hi > static_cast<std::int64_t>(window.max_entries)
                                                             ? static_cast<std::uint64_t>(hi) - window.max_entries
                                                             : 0);
        kafka::RequestRuns runs;
        while (from < static_cast<std::uint64_t>(hi)) {
            auto got = fetch(*t, from, 4096, 8u << 20);
            if (!got) {
                if (got.error().code == Errc::gone && from < t->start.load()) {
                    from = t->start.load();  // retention removed the oldest records meanwhile
                    continue;
                }
                return std::move(got).error();
            }
            if (got->empty()) break;
            for (auto& ev : *got) {
                from = ev.offset + 1;
                if (ev.timestamp_ms >= 0 && ev.timestamp_ms < now - window.window_ms) continue;
                t->dedup.insert(DedupWindow::event_key(ev.event.source, ev.event.id), {ev.offset, 1}, now);
                if (!ev.event.idempotency_key.empty() && ev.event.request_count > 0)
                    if (auto done = runs.add(ev.event.idempotency_key, ev.offset, ev.event.request_index,
                                             ev.event.request_count))
                        t->dedup.insert(DedupWindow::request_key(ev.event.idempotency_key), *done, now);
            }
        }
    }

    // From now on this node's consumer delivers the topic's new records; the maps hold the topic first, so
    // that the consumer thread finds it for the very first record.
    {
        std::lock_guard lock(topics_mutex_);
        by_kafka_topic_[kt] = t;
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, kt.c_str(), t->partition)->offset = hi;
    rd_kafka_error_t* aerr = rd_kafka_incremental_assign(consumer_, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    std::lock_guard lock(topics_mutex_);
    if (aerr) {
        by_kafka_topic_.erase(kt);
        std::string why = rd_kafka_error_string(aerr);
        rd_kafka_error_destroy(aerr);
        return make_error(Errc::unavailable, "cannot consume Kafka topic " + kt + ": " + why);
    }
    topics_.emplace(n, t);
    listed_.erase(n);
    return t;
}

// ---- publishing ---------------------------------------------------------------------------------------------

void KafkaEngine::publish(PublishRequest request, PublishCallback done) {
    CallGate gate(active_calls_);
    if (!started_ || stopping_) {
        done(make_error(Errc::unavailable, "the engine is stopping"));
        return;
    }
    auto t = open(request.topic, options_.auto_create);
    if (!t) {
        done(std::move(t).error());
        return;
    }
    for (auto& item : request.items)
        if (item.id.size() > 0xFFFF || item.type.size() > 0xFFFF) {
            done(make_error(Errc::invalid_argument, "id and type are limited to 65535 bytes"));
            return;
        }
    if (request.idempotency_key.size() > 0xFFFF) {
        done(make_error(Errc::invalid_argument, "Idempotency-Key is limited to 65535 bytes", "Idempotency-Key"));
        return;
    }
    auto req = std::make_shared<Request>();
    req->topic = *t;
    req->request = std::move(request);
    req->done = std::move(done);
    submit(std::move(req));
}

void KafkaEngine::submit(std::shared_ptr<Request> req) {
    auto& t = *req->topic;
    auto& items = req->request.items;
    const auto now = wall_ms();
    const std::string request_key =
        req->request.idempotency_key.empty() ? std::string() : DedupWindow::request_key(req->request.idempotency_key);
    {
        std::unique_lock lock(t.mutex);
        if (!request_key.empty()) {
            if (t.inflight.count(request_key)) {
                lock.unlock();
                req->done(make_error(Errc::conflict, "a request with this Idempotency-Key is being processed",
                                     "Idempotency-Key"));
                return;
            }
            if (auto hit = t.dedup.find(request_key, now)) {
                lock.unlock();
                // A retried request: answer with what the original got, read back from Kafka (off this thread).
                post_control([this, req, hit = *hit] {
                    PublishResult res;
                    res.epoch = req->topic->topic_epoch;
                    res.replayed = true;
                    // The request's records start at hit.offset; other nodes' records may sit between them.
                    std::uint64_t from = hit.offset;
                    const std::uint64_t scan_end = hit.offset + hit.count + 4096;
                    while (res.outcomes.size() < hit.count && from < scan_end) {
                        auto got = fetch(*req->topic, from, 512, 8u << 20);
                        if (!got) {
                            req->done(std::move(got).error());
                            return;
                        }
                        if (got->empty()) break;
                        for (auto& ev : *got) {
                            from = ev.offset + 1;
                            if (ev.event.idempotency_key == req->request.idempotency_key &&
                                res.outcomes.size() < hit.count)
                                res.outcomes.push_back(PublishOutcome{ev.offset, ev.event.id, true});
                        }
                    }
                    req->done(std::move(res));
                });
                return;
            }
        }
        req->keys.resize(items.size());
        req->copy_of.assign(items.size(), -1);
        req->fresh.assign(items.size(), false);
        req->offsets.assign(items.size(), std::nullopt);
        req->result.epoch = t.topic_epoch;
        req->result.outcomes.resize(items.size());
        std::unordered_map<std::string_view, std::size_t> seen;
        for (std::size_t i = 0; i < items.size(); ++i) {
            req->keys[i] = DedupWindow::event_key(items[i].source, items[i].id);
            if (t.inflight.count(req->keys[i])) {
                // Another request is storing this event right now: decide after it has its answer.
                t.deferred.push_back(std::move(req));
                deferred_.fetch_add(1, std::memory_order_relaxed);
                return;
            }
        }
        for (std::size_t i = 0; i < items.size(); ++i) {
            auto& out = req->result.outcomes[i];
            out.id = items[i].id;
            if (auto hit = t.dedup.find(req->keys[i], now)) {
                out.offset = hit->offset;
                out.duplicate = true;
            } else if (auto it = seen.find(req->keys[i]); it != seen.end()) {
                out.duplicate = true;  // the same event twice in this request: its offset is the first copy's
                req->copy_of[i] = static_cast<std::int64_t>(it->second);
            } else {
                seen.emplace(req->keys[i], i);
                req->fresh[i] = true;
            }
        }
        for (std::size_t i = 0; i < items.size(); ++i)
            if (req->fresh[i]) t.inflight.insert(req->keys[i]);
        if (!request_key.empty()) t.inflight.insert(request_key);
    }

    std::size_t count = std::count(req->fresh.begin(), req->fresh.end(), true);
    if (count == 0) {
        finish(*req);
        return;
    }
    req->remaining = count;
    // The request's last event refused here finishes it after the produce lock is released: finish() may
    // resubmit deferred requests of this topic, which take that lock again.
    bool finish_here = false;
    {
    std::lock_guard produce_lock(t.produce_mutex);
    const auto request_count = static_cast<std::uint32_t>(count);
    std::uint32_t request_index = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (!req->fresh[i]) continue;
        auto& item = items[i];
        kafka::RequestPart part{req->request.idempotency_key, request_index++, request_count};
        auto record = kafka::record_from_event(item.id, item.source, item.type, part, item.json, t.format);
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        auto* slot = new Slot{req, i};
        if (!record) {
            e = RD_KAFKA_RESP_ERR__INVALID_ARG;
        } else {
            rd_kafka_headers_t* hdrs = rd_kafka_headers_new(record->headers.size());
            for (auto& [name, value] : record->headers)
                rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                                    static_cast<ssize_t>(value.size()));
            e = rd_kafka_producev(producer_, RD_KAFKA_V_RKT(t.rkt), RD_KAFKA_V_PARTITION(t.partition),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(record->value.data(), record->value.size()),
                                  RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(hdrs);  // not handed over
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            // Refused before it left (queue full, producer failed): this event fails now, like a report would.
            delete slot;
            delivery_failures_.fetch_add(1, std::memory_order_relaxed);
            {
                std::lock_guard lock(req->error_mutex);
                if (!req->error) req->error = kafka_failure("Kafka refused event " + item.id, e);
            }
            if (--req->remaining == 0) finish_here = true;
        }
    }
    }
    if (finish_here) finish(*req);
}

void KafkaEngine::on_delivery(const rd_kafka_message_s& msg) {
    std::unique_ptr<Slot> slot(static_cast<Slot*>(msg._private));
    auto req = slot->request;
    if (msg.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        produced_.fetch_add(1, std::memory_order_relaxed);
        req->offsets[slot->item] = static_cast<std::uint64_t>(msg.offset);
        req->topic->advance_end(static_cast<std::uint64_t>(msg.offset) + 1);
    } else {
        delivery_failures_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(req->error_mutex);
        if (!req->error)
            req->error = make_error(Errc::unavailable, std::string("Kafka did not store the event: ") +
                                                           rd_kafka_err2str(msg.err));
    }
    if (--req->remaining == 0) finish(*req);
}

void KafkaEngine::finish(Request& req) {
    auto& t = *req.topic;
    auto& items = req.request.items;
    const auto now = wall_ms();
    std::deque<std::shared_ptr<Request>> retry;
    {
        std::lock_guard lock(t.mutex);
        std::optional<std::uint64_t> first;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (!req.fresh[i]) continue;
            t.inflight.erase(req.keys[i]);
            if (req.offsets[i]) {
                // Stored, whatever happened to the rest: a retry of the request must find it.
                t.dedup.insert(req.keys[i], {*req.offsets[i], 1}, now);
                req.result.outcomes[i].offset = *req.offsets[i];
                if (!first || *req.offsets[i] < *first) first = *req.offsets[i];
            }
        }
        for (std::size_t i = 0; i < items.size(); ++i)
            if (req.copy_of[i] >= 0)
                req.result.outcomes[i].offset = req.result.outcomes[static_cast<std::size_t>(req.copy_of[i])].offset;
        if (!req.request.idempotency_key.empty()) {
            auto key = DedupWindow::request_key(req.request.idempotency_key);
            t.inflight.erase(key);
            auto stored = static_cast<std::uint32_t>(std::count_if(req.offsets.begin(), req.offsets.end(),
                                                                   [](auto& o) { return o.has_value(); }));
            if (!req.error && first && stored > 0) t.dedup.insert(key, {*first, stored}, now);
        }
        retry.swap(t.deferred);
    }
    if (req.error) req.done(std::move(*req.error));
    else req.done(std::move(req.result));
    for (auto& r : retry) {
        if (stopping_) r->done(make_error(Errc::unavailable, "the engine is stopping"));  // never produced
        else submit(std::move(r));
    }
}

void KafkaEngine::produce_loop() {
    while (!threads_stop_) rd_kafka_poll(producer_, 50);
}

// ---- live events --------------------------------------------------------------------------------------------

void KafkaEngine::consume_loop() {
    std::vector<rd_kafka_message_t*> msgs;
    while (!threads_stop_) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 100);
        if (!m) continue;
        msgs.push_back(m);
        // Take what is already here too: one hub batch per run of records instead of one per record.
        while (msgs.size() < 1024) {
            rd_kafka_message_t* more = rd_kafka_consumer_poll(consumer_, 0);
            if (!more) break;
            msgs.push_back(more);
        }
        on_live(msgs);
        for (auto* x : msgs) rd_kafka_message_destroy(x);
        msgs.clear();
    }
}

void KafkaEngine::on_live(std::vector<rd_kafka_message_t*>& msgs) {
    std::shared_ptr<Topic> topic;
    CommittedBatch batch;
    auto hand_over = [&] {
        if (!topic || batch.events.empty()) return;
        topic->advance_end(batch.base_offset + batch.events.size());
        listener_->on_commit(std::move(batch));
        batch = CommittedBatch{};
    };
    const auto now = wall_ms();
    for (auto* m : msgs) {
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                std::lock_guard lock(health_mutex_);
                health_ = std::string("Kafka consumer: ") + rd_kafka_message_errstr(m);
            }
            continue;
        }
        const char* kt = rd_kafka_topic_name(m->rkt);
        std::shared_ptr<Topic> t;
        {
            std::lock_guard lock(topics_mutex_);
            if (auto it = by_kafka_topic_.find(kt); it != by_kafka_topic_.end()) t = it->second;
        }
        if (!t || m->partition != t->partition) continue;
        const auto offset = static_cast<std::uint64_t>(m->offset);
        if (t != topic || offset != batch.base_offset + batch.events.size()) {
            // A batch holds consecutive offsets of one topic (a gap — a transaction marker in a bridged
            // topic — starts a new one; the hub reads across it from Kafka).
            hand_over();
            topic = t;
            batch.topic = t->topic_name;
            batch.epoch = t->topic_epoch;
            batch.base_offset = offset;
            batch.commit_ns = steady_ns();
        }
        std::int64_t timestamp_ms = -1;
        auto ev = event_of(*m, kt, t->wrap, timestamp_ms);
        if (ev.wrapped) wrapped_.fetch_add(1, std::memory_order_relaxed);
        consumed_.fetch_add(1, std::memory_order_relaxed);
        {
            // Events other nodes stored join this node's dedup window (ours are there already), and so does a
            // request's Idempotency-Key once every part of it has been read (a request that failed part way is
            // never recorded, so its retry stores what is missing).
            std::lock_guard lock(t->mutex);
            t->dedup.insert(DedupWindow::event_key(ev.source, ev.id), {offset, 1}, now);
            if (!ev.idempotency_key.empty() && ev.request_count > 0) {
                if (auto done = t->runs.add(ev.idempotency_key, offset, ev.request_index, ev.request_count))
                    t->dedup.insert(DedupWindow::request_key(ev.idempotency_key), *done, now);
            }
        }
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(consumer_, kt, m->partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi > 0)
            t->high.store(static_cast<std::uint64_t>(hi), std::memory_order_relaxed);
        batch.events.push_back(CommittedEvent{offset, std::move(ev.type), std::move(ev.json)});
    }
    hand_over();
}

// ---- reading ------------------------------------------------------------------------------------------------

rd_kafka_s* KafkaEngine::borrow_reader() {
    {
        std::lock_guard lock(readers_mutex_);
        if (!readers_.empty()) {
            auto* r = readers_.back();
            readers_.pop_back();
            return r;
        }
    }
    auto conf = make_conf(options_, &client_context_, {{"group.id", "herald-reader"},
                                     {"enable.auto.commit", "false"},
                                     {"auto.offset.reset", "error"},
                                     {"enable.partition.eof", "true"},
                                     {"fetch.wait.max.ms", "10"}});
    if (!conf) return nullptr;
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(*conf);
        return nullptr;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

void KafkaEngine::return_reader(rd_kafka_s* rk) {
    rd_kafka_assign(rk, nullptr);
    std::lock_guard lock(readers_mutex_);
    if (readers_.size() < 8) {
        readers_.push_back(rk);
        return;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

Result<std::vector<KafkaEngine::Fetched>> KafkaEngine::fetch(const Topic& t, std::uint64_t from,
                                                             std::size_t max_records, std::size_t max_bytes) {
    std::vector<Fetched> out;
    if (from < t.start_offset())
        return make_error(Errc::gone, "offset " + std::to_string(from) + " of topic " + t.topic_name +
                                          " was removed by retention");
    const auto last = t.end_offset();
    if (from >= last || max_records == 0) return out;
    rd_kafka_t* rk = borrow_reader();
    if (!rk) return make_error(Errc::unavailable, "cannot create a Kafka reader");
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, t.kafka_topic.c_str(), t.partition)->offset =
        static_cast<std::int64_t>(from);
    auto e = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return_reader(rk);
        return kafka_failure("reading " + t.topic_name, e);
    }
    std::optional<Error> failure;
    std::size_t bytes = 0;
    const auto deadline = steady_ms() + options_.request_timeout_ms;
    while (out.size() < max_records && bytes < max_bytes) {
        auto left = deadline - steady_ms();
        if (left <= 0) {
            if (out.empty()) failure = make_error(Errc::unavailable, "Kafka did not answer a read of " + t.topic_name);
            break;
        }
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, static_cast<int>(std::min<std::int64_t>(left, 100)));
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
                std::int64_t lo = 0, hi = 0;
                if (rd_kafka_query_watermark_offsets(rk, t.kafka_topic.c_str(), t.partition, &lo, &hi,
                                                     static_cast<int>(options_.request_timeout_ms)) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR)
                    const_cast<Topic&>(t).start.store(static_cast<std::uint64_t>(lo), std::memory_order_release);
                failure = make_error(Errc::gone, "offset " + std::to_string(from) + " of topic " + t.topic_name +
                                                     " was removed by retention");
            } else {
                failure = make_error(Errc::unavailable, "reading " + t.topic_name + ": " + rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            break;
        }
        Fetched f;
        f.offset = static_cast<std::uint64_t>(m->offset);
        f.event = event_of(*m, t.kafka_topic, t.wrap, f.timestamp_ms);
        rd_kafka_message_destroy(m);
        if (f.offset >= last) break;  // past what this read was asked about
        bytes += f.event.json.size();
        out.push_back(std::move(f));
        if (out.back().offset + 1 >= last) break;
    }
    return_reader(rk);
    if (failure && (out.empty() || failure->code != Errc::unavailable)) return std::move(*failure);
    return out;
}

Result<std::vector<StoredEvent>> KafkaEngine::read(const Topic& t, std::uint64_t from, std::size_t max_records,
                                                   std::size_t max_bytes) {
    auto got = fetch(t, from, max_records, max_bytes);
    if (!got) return std::move(got).error();
    std::vector<StoredEvent> out;
    out.reserve(got->size());
    for (auto& f : *got) {
        auto rec = core::encode_event_record(f.event.id, f.event.type, f.event.idempotency_key, f.event.json);
        if (!rec) continue;  // a wrapped record's id and type are short; Herald's own were checked when published
        out.push_back(StoredEvent{f.offset, f.timestamp_ms, std::move(*rec)});
    }
    return out;
}

// ---- control: topic management, replays, refresh ------------------------------------------------------------

void KafkaEngine::post_control(std::function<void()> task) {
    {
        std::lock_guard lock(control_mutex_);
        control_tasks_.push_back(std::move(task));
    }
    control_cv_.notify_one();
}

void KafkaEngine::control_loop() {
    auto next_refresh = steady_ms() + options_.refresh_interval_ms;
    std::unique_lock lock(control_mutex_);
    for (;;) {
        control_cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(1, next_refresh - steady_ms())),
                             [this] { return threads_stop_.load() || !control_tasks_.empty(); });
        // Tasks still queued at stop are run: each one answers a caller who is waiting for it.
        while (!control_tasks_.empty()) {
            auto task = std::move(control_tasks_.front());
            control_tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
        if (threads_stop_) return;
        if (steady_ms() >= next_refresh) {
            lock.unlock();
            refresh();
            lock.lock();
            next_refresh = steady_ms() + options_.refresh_interval_ms;
        }
    }
}

void KafkaEngine::refresh() {
    const rd_kafka_metadata_t* md = nullptr;
    auto e = rd_kafka_metadata(producer_, 1, nullptr, &md, static_cast<int>(options_.request_timeout_ms));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::lock_guard lock(health_mutex_);
        health_ = std::string("Kafka is unreachable: ") + rd_kafka_err2str(e);
        return;
    }
    std::map<std::string, std::string> ours;  // Kafka topic → Herald topic, for topics this node has not opened
    for (int i = 0; i < md->topic_cnt; ++i) {
        std::string kt = md->topics[i].topic;
        if (kt.rfind(options_.topic_prefix, 0) != 0 || md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        // The shared-state topics (<prefix>__shared, __leases) are no Herald topic names: left out.
        auto name = kt.substr(options_.topic_prefix.size());
        if (is_valid_topic_name(name)) ours.emplace(kt, std::move(name));
    }
    rd_kafka_metadata_destroy(md);
    std::vector<std::shared_ptr<Topic>> opened;
    {
        std::lock_guard lock(topics_mutex_);
        for (auto& [n, t] : topics_) opened.push_back(t);
    }
    // Retention moves the start; the end moves with the consumer, and a publish on another node moves the
    // high watermark before this node's consumer has the record (the end follows the consumer, never ahead).
    for (auto& t : opened) {
        ours.erase(t->kafka_topic);
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(producer_, t->kafka_topic.c_str(), t->partition, &lo, &hi,
                                             static_cast<int>(options_.request_timeout_ms)) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            t->start.store(static_cast<std::uint64_t>(lo), std::memory_order_release);
            t->high.store(static_cast<std::uint64_t>(hi), std::memory_order_relaxed);
        }
    }
    std::map<std::string, TopicInfo, std::less<>> listed;
    for (auto& [kt, name] : ours) {
        TopicInfo info;
        info.name = name;
        info.epoch = kafka::topic_epoch(cluster_id_, kt);
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(producer_, kt.c_str(), 0, &lo, &hi,
                                             static_cast<int>(options_.request_timeout_ms)) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            info.start_offset = static_cast<std::uint64_t>(lo);
            info.end_offset = static_cast<std::uint64_t>(hi);
        }
        info.settings = settings_for(name);
        listed.emplace(name, std::move(info));
    }
    {
        std::lock_guard lock(topics_mutex_);
        listed_ = std::move(listed);
    }
    std::lock_guard lock(health_mutex_);
    health_.clear();
}

std::vector<TopicInfo> KafkaEngine::topics() const {
    std::vector<TopicInfo> out;
    std::lock_guard lock(topics_mutex_);
    for (auto& [n, t] : topics_) {
        TopicInfo info;
        info.name = n;
        info.epoch = t->topic_epoch;
        info.start_offset = t->start_offset();
        info.end_offset = t->end_offset();
        info.settings = t->settings;
        out.push_back(std::move(info));
    }
    for (auto& [n, info] : listed_)
        if (!topics_.count(n)) out.push_back(info);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
}

void KafkaEngine::configure_topic(std::string name, TopicSettings settings, ConfigureCallback done) {
    post_control([this, name = std::move(name), settings, done = std::move(done)] {
        const auto kt = kafka_topic_of(name);
        auto exists = kafka_topic_exists(kt);
        if (!exists) {
            done(std::move(exists).error());
            return;
        }
        if (options_.bridges.count(name)) {
            // AlterConfigs would replace the configuration another service gave its topic.
            done(make_error(Errc::conflict, "topic " + name + " is a bridge to a Kafka topic Herald does not own; "
                                            "configure it in Kafka"));
            return;
        }
        bool created = false;
        if (!*exists) {
            if (auto made = create_kafka_topic(kt, settings); !made) {
                done(std::move(made).error());
                return;
            }
            created = true;
        } else {
            // Kafka's AlterConfigs replaces the topic's dynamic configuration: both retention values are set.
            rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, kt.c_str());
            rd_kafka_ConfigResource_set_config(res, "retention.ms",
                                               settings.retention_ms ? std::to_string(*settings.retention_ms).c_str() : "-1");
            rd_kafka_ConfigResource_set_config(
                res, "retention.bytes",
                settings.retention_bytes ? std::to_string(*settings.retention_bytes).c_str() : "-1");
            auto altered = admin_request(producer_, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, options_.request_timeout_ms,
                                         "configuring Kafka topic " + kt,
                                         [&](rd_kafka_AdminOptions_t* ao, rd_kafka_queue_t* q) {
                                             rd_kafka_AlterConfigs(producer_, &res, 1, ao, q);
                                         });
            rd_kafka_ConfigResource_destroy(res);
            if (altered) {
                // The request can succeed while the resource is refused (authorisation, an invalid value).
                std::size_t n = 0;
                auto** resources =
                    rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(altered->get()), &n);
                for (std::size_t i = 0; i < n; ++i)
                    if (auto e = rd_kafka_ConfigResource_error(resources[i]); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        const char* why = rd_kafka_ConfigResource_error_string(resources[i]);
                        altered = make_error(Errc::unavailable, "configuring Kafka topic " + kt + ": " +
                                                                    (why ? why : rd_kafka_err2str(e)));
                    }
            }
            if (!altered) {
                done(std::move(altered).error());
                return;
            }
        }
        auto t = open(name, true);
        if (!t) {
            done(std::move(t).error());
            return;
        }
        {
            std::lock_guard lock(topics_mutex_);
            (*t)->settings = settings;
        }
        done(TopicConfigured{created, (*t)->topic_epoch});
    });
}

void KafkaEngine::delete_topic(std::string name, DeleteCallback done) {
    post_control([this, name = std::move(name), done = std::move(done)] {
        if (options_.bridges.count(name)) {
            done(make_error(Errc::conflict, "topic " + name + " is a bridge to a Kafka topic Herald does not own; "
                                            "remove the bridge from the configuration instead"));
            return;
        }
        const auto kt = kafka_topic_of(name);
        std::shared_ptr<Topic> t;
        {
            std::lock_guard lock(topics_mutex_);
            if (auto it = topics_.find(name); it != topics_.end()) {
                // This map and the handle below are the only owners when nobody reads it.
                if (auto users = it->second.use_count() - 2; users > 0) {
                    done(make_error(Errc::conflict, "topic '" + name + "' is in use by " + std::to_string(users) +
                                                        " reader(s)"));
                    return;
                }
                t = it->second;
            }
        }
        auto exists = kafka_topic_exists(kt);
        if (!exists) {
            done(std::move(exists).error());
            return;
        }
        if (!*exists) {
            done(make_error(Errc::not_found, "no topic named '" + name + "'"));
            return;
        }
        rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(kt.c_str());
        auto answer = admin_request(producer_, RD_KAFKA_ADMIN_OP_DELETETOPICS, options_.request_timeout_ms,
                                    "DeleteTopics for " + kt, [&](rd_kafka_AdminOptions_t* ao, rd_kafka_queue_t* q) {
                                        rd_kafka_DeleteTopics(producer_, &dt, 1, ao, q);
                                    });
        rd_kafka_DeleteTopic_destroy(dt);
        Result<void> deleted = ok();
        if (!answer) {
            deleted = std::move(answer).error();
        } else {
            std::size_t n = 0;
            auto** results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(answer->get()), &n);
            deleted = topic_errors(results, n, "deleting Kafka topic " + kt);
        }
        if (!deleted) {
            done(std::move(deleted).error());
            return;
        }
        if (t) {
            rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(parts, kt.c_str(), t->partition);
            if (auto* e = rd_kafka_incremental_unassign(consumer_, parts)) rd_kafka_error_destroy(e);
            rd_kafka_topic_partition_list_destroy(parts);
            std::lock_guard lock(topics_mutex_);
            topics_.erase(name);
            by_kafka_topic_.erase(kt);
        }
        done(ok());
    });
}

std::string KafkaEngine::health() const {
    if (producer_) {
        char why[512];
        if (auto e = rd_kafka_fatal_error(producer_, why, sizeof why); e != RD_KAFKA_RESP_ERR_NO_ERROR)
            return std::string("the Kafka producer failed and takes no more events (restart the node): ") + why;
    }
    std::lock_guard lock(health_mutex_);
    return health_;
}

std::vector<EngineStat> KafkaEngine::stats() const {
    std::vector<EngineStat> out;
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
        out.push_back(EngineStat{name, "counter", help, {}, v});
    };
    counter("kafka_produced_total", "Events Kafka acknowledged (delivery reports) from this node.",
            produced_.load(std::memory_order_relaxed));
    counter("kafka_delivery_failures_total", "Events Kafka did not store within the publish timeout, or refused.",
            delivery_failures_.load(std::memory_order_relaxed));
    counter("kafka_consumed_total", "Records this node's consumer read (every node's events).",
            consumed_.load(std::memory_order_relaxed));
    counter("kafka_records_wrapped_total", "Records that were not CloudEvents, wrapped into one (bridge mode).",
            wrapped_.load(std::memory_order_relaxed));
    counter("kafka_publishes_deferred_total",
            "Publish requests that waited because one of their events was being stored by another request.",
            deferred_.load(std::memory_order_relaxed));
    std::lock_guard lock(topics_mutex_);
    for (auto& [n, t] : topics_) {
        auto high = std::max(t->high.load(std::memory_order_relaxed), t->end_offset());
        out.push_back(EngineStat{"kafka_consumer_lag", "gauge",
                                 "Records in the topic's partition this node's consumer has not read yet.", n,
                                 high - t->end_offset()});
    }
    return out;
}

}  // namespace herald::engine
