#include "engine/jetstream_engine.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>

#include "core/event_record.hpp"
#include "engine/jetstream_protocol.hpp"
#include "engine/topic_name.hpp"

namespace herald::engine {

namespace js = jetstream;

namespace {

// Reads of more events than this are split by the caller's loop: one read is one pipelined round of requests.
constexpr std::size_t kMaxReadBatch = 256;
// Reads of the shared stream up to this many events are message lookups, not a consumer (Topic::read_subject).
constexpr int kLookupReadMax = 3;
// Live events are handed to the listener in batches of at most this many.
constexpr std::size_t kMaxLiveBatch = 256;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string nats_error(natsStatus s) {
    const char* last = nats_GetLastError(nullptr);
    std::string text = natsStatus_GetText(s);
    if (last && *last && text != last) text += " (" + std::string(last) + ")";
    return text;
}

Error api_failure(const std::string& what, natsStatus s, jsErrCode jerr) {
    std::string message = what + ": " + nats_error(s);
    if (jerr != 0) message += " [JetStream error " + std::to_string(static_cast<int>(jerr)) + "]";
    const bool transient = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_CLOSED ||
                           s == NATS_CONNECTION_DISCONNECTED || s == NATS_NO_SERVER;
    return make_error(transient ? Errc::unavailable : Errc::io_error, std::move(message));
}

// On the shared stream: is `m` of the topic's current epoch (js::kEpochHeader)?
bool of_epoch(natsMsg* m, const std::string& epoch) {
    const char* value = nullptr;
    return natsMsgHeader_Get(m, js::kEpochHeader, &value) == NATS_OK && value && epoch == value;
}

std::string_view message_data(natsMsg* m) {
    const char* d = natsMsg_GetData(m);
    return d ? std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(m))) : std::string_view();
}

// The suffix after the last '.' of a reply subject: the token the request was sent with.
std::optional<std::uint64_t> reply_token(const char* subject) {
    if (!subject) return std::nullopt;
    std::string_view s(subject);
    auto dot = s.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::uint64_t token = 0;
    auto [p, ec] = std::from_chars(s.data() + dot + 1, s.data() + s.size(), token);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return token;
}

void on_ack_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    static_cast<JetStreamEngine*>(closure)->on_ack(msg);
    natsMsg_Destroy(msg);
}

struct LiveClosure {
    JetStreamEngine* engine;
    JetStreamEngine::Topic* topic;
};

void on_live_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);

void on_subscription_complete(void* closure) { static_cast<JetStreamEngine*>(closure)->subscription_closed(); }

TopicSettings settings_of(const jsStreamConfig* c) {
    TopicSettings s;
    if (!c) return s;
    if (c->MaxAge > 0) s.retention_ms = c->MaxAge / 1'000'000;
    if (c->MaxBytes > 0) s.retention_bytes = static_cast<std::uint64_t>(c->MaxBytes);
    return s;
}

}  // namespace

// One topic as this node sees it. `start`/`end`/`size` are refreshed from the stream's state and advanced by
// acknowledgements and live events; the live-batch fields belong to libnats's delivery thread.
struct JetStreamEngine::Topic final : TopicReader {
    JetStreamEngine* engine = nullptr;
    std::string topic_name;
    std::string stream;
    std::string subject;
    std::uint64_t topic_epoch = 0;
    std::string epoch_header;  // shared stream: the Herald-Epoch value of this topic's messages
    std::uint64_t record_revision = 0;  // shared stream: the revision of the record it was opened with
    std::atomic<std::uint64_t> start{0};
    std::atomic<std::uint64_t> end{0};
    std::atomic<std::uint64_t> size{0};
    std::atomic<std::uint64_t> live_pending{0};  // what the live consumer reported still to deliver
    TopicSettings settings;  // under topics_mutex_
    natsSubscription* live = nullptr;
    LiveClosure closure{};
    std::int64_t opened_ms = 0;    // when this node opened it (a refresh older than that may not list it)

    CommittedBatch batch;          // delivery thread: live events not yet handed over
    std::uint64_t delivered = 0;   // delivery thread: the offset after the last event handed over
    std::uint64_t covered = 0;     // delivery thread: where the next live batch starts (shared stream)

    const std::string& name() const override { return topic_name; }
    std::uint64_t epoch() const override { return topic_epoch; }
    // On the shared stream `start` is the stream's first offset and `end` the position after the topic's last
    // event: every position at or after either one has lost nothing to retention (the stream holds everything
    // from the first, and the topic has nothing after its end), so the smaller is where a reset is due.
    std::uint64_t start_offset() const override {
        auto first = start.load(std::memory_order_acquire);
        return engine->shared_layout() ? std::min(first, end.load(std::memory_order_acquire)) : first;
    }
    std::uint64_t end_offset() const override { return end.load(std::memory_order_acquire); }
    void advance_end(std::uint64_t e) {
        auto cur = end.load(std::memory_order_relaxed);
        while (cur < e && !end.compare_exchange_weak(cur, e, std::memory_order_acq_rel)) {
        }
    }
    Result<std::vector<StoredEvent>> read(std::uint64_t from, std::size_t max_records,
                                          std::size_t max_bytes) const override;
    // read() on the shared stream: the topic's messages from `from` on, through a pull consumer on its subject,
    // or — when that fails (a consumer needs the cluster's metadata leader as well as the stream's, so it fails
    // longer during elections) — one message lookup at a time.
    Result<std::vector<StoredEvent>> read_subject(std::uint64_t from, std::size_t max_records,
                                                  std::size_t max_bytes) const;
    Result<std::vector<StoredEvent>> read_by_consumer(std::uint64_t from, int n, std::uint64_t last,
                                                      std::size_t max_bytes) const;
    Result<std::vector<StoredEvent>> read_by_lookup(std::uint64_t from, int n, std::uint64_t last,
                                                    std::size_t max_bytes) const;
    // The stream's first/last sequence and size, asked of the leader.
    Result<void> refresh_state() const;
};

namespace {

void on_live_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* c = static_cast<LiveClosure*>(closure);
    c->engine->on_live(*c->topic, msg);
    natsMsg_Destroy(msg);
}

}  // namespace

Result<void> JetStreamEngine::Topic::refresh_state() const {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    natsStatus s = js_GetStreamInfo(&si, engine->js_, stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return api_failure("stream info of " + stream, s, jerr);
    auto* self = const_cast<Topic*>(this);
    self->start.store(si->State.FirstSeq > 0 ? si->State.FirstSeq - 1 : 0, std::memory_order_release);
    if (!engine->shared_layout()) {  // on the shared stream the end is the topic's, not the stream's
        self->advance_end(si->State.LastSeq);
        self->size.store(si->State.Bytes, std::memory_order_relaxed);
    }
    jsStreamInfo_Destroy(si);
    return ok();
}

Result<std::vector<StoredEvent>> JetStreamEngine::Topic::read(std::uint64_t from, std::size_t max_records,
                                                              std::size_t max_bytes) const {
    if (engine->shared_layout()) return read_subject(from, max_records, max_bytes);
    std::vector<StoredEvent> out;
    if (from < start_offset())
        return make_error(Errc::gone, "offset " + std::to_string(from) + " of topic " + topic_name +
                                          " was removed by retention");
    const auto last = end_offset();
    if (from >= last || max_records == 0) return out;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({max_records, last - from, kMaxReadBatch}));

    natsInbox* inbox = nullptr;
    if (natsInbox_Create(&inbox) != NATS_OK) return make_error(Errc::unavailable, "cannot create a NATS inbox");
    const std::string prefix = std::string(inbox) + ".";
    natsInbox_Destroy(inbox);
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_SubscribeSync(&sub, engine->nc_, (prefix + "*").c_str());
    if (s != NATS_OK) return api_failure("reading " + topic_name, s, {});
    natsSubscription_SetPendingLimits(sub, -1, -1);
    const std::string api = "$JS.API.STREAM.MSG.GET." + stream;
    for (std::size_t i = 0; i < n && s == NATS_OK; ++i) {
        const std::string body = "{\"seq\":" + std::to_string(from + 1 + i) + "}";
        s = natsConnection_PublishRequest(engine->nc_, api.c_str(), (prefix + std::to_string(i)).c_str(),
                                          body.data(), static_cast<int>(body.size()));
    }
    std::vector<std::optional<Result<js::StoredMessage>>> got(n);
    std::size_t received = 0;
    const auto deadline = now_ms() + engine->options_.request_timeout_ms;
    while (s == NATS_OK && received < n) {
        natsMsg* m = nullptr;
        s = natsSubscription_NextMsg(&m, sub, std::max<std::int64_t>(1, deadline - now_ms()));
        if (s != NATS_OK) break;
        auto token = reply_token(natsMsg_GetSubject(m));
        if (token && *token < n && !got[*token]) {
            if (natsMsg_IsNoResponders(m))
                got[*token] = make_error(Errc::unavailable, "JetStream has no leader for " + stream);
            else
                got[*token] = js::parse_msg_get(message_data(m));
            ++received;
        }
        natsMsg_Destroy(m);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);

    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!got[i]) {
            if (!out.empty()) break;  // what arrived in order is still worth returning
            return api_failure("reading " + topic_name, s == NATS_OK ? NATS_TIMEOUT : s, {});
        }
        auto& r = *got[i];
        if (!r) {
            if (!out.empty()) break;
            if (r.error().code == Errc::not_found) {
                // Either retention removed it since the last refresh, or there is nothing there (yet).
                if (auto refreshed = refresh_state(); refreshed && from < start_offset())
                    return make_error(Errc::gone, "offset " + std::to_string(from) + " of topic " + topic_name +
                                                      " was removed by retention");
                return out;
            }
            return r.error();
        }
        if (r->sequence != from + 1 + i) break;
        if (!out.empty() && bytes + r->data.size() > max_bytes) break;
        bytes += r->data.size();
        out.push_back(StoredEvent{r->sequence - 1, r->timestamp_ms, std::move(r->data)});
    }
    return out;
}

Result<std::vector<StoredEvent>> JetStreamEngine::Topic::read_subject(std::uint64_t from, std::size_t max_records,
                                                                      std::size_t max_bytes) const {
    if (from < start_offset())
        return make_error(Errc::gone, "offset " + std::to_string(from) + " of topic " + topic_name +
                                          " was removed by retention");
    const auto last = end_offset();
    if (from >= last || max_records == 0) return std::vector<StoredEvent>();
    const int n = static_cast<int>(std::min<std::size_t>(max_records, kMaxReadBatch));
    // A consumer costs four round trips (create, count, fetch, remove) whatever the read's size: reads of a few
    // events (long-polls with a small limit) are cheaper one lookup per event.
    const bool small = n <= kLookupReadMax;
    Result<std::vector<StoredEvent>> out = small ? Result<std::vector<StoredEvent>>(std::vector<StoredEvent>())
                                                 : read_by_consumer(from, n, last, max_bytes);
    if (small || !out) {
        engine->lookup_reads_.fetch_add(1, std::memory_order_relaxed);
        out = read_by_lookup(from, n, last, max_bytes);
    }
    if (out && out->empty()) {
        // Nothing from here to the end: retention may have passed `from` since the last refresh.
        if (auto refreshed = refresh_state(); refreshed && from < start_offset())
            return make_error(Errc::gone, "offset " + std::to_string(from) + " of topic " + topic_name +
                                              " was removed by retention");
    }
    return out;
}

Result<std::vector<StoredEvent>> JetStreamEngine::Topic::read_by_lookup(std::uint64_t from, int n, std::uint64_t last,
                                                                        std::size_t max_bytes) const {
    std::vector<StoredEvent> out;
    const std::string api = "$JS.API.STREAM.MSG.GET." + stream;
    std::size_t bytes = 0;
    for (std::uint64_t seq = from + 1; static_cast<int>(out.size()) < n && seq <= last;) {
        // The first message of the topic's subject at or after `seq`, from the stream leader.
        const std::string body = "{\"seq\":" + std::to_string(seq) + ",\"next_by_subj\":\"" + subject + "\"}";
        natsMsg* reply = nullptr;
        natsStatus s = natsConnection_Request(&reply, engine->nc_, api.c_str(), body.data(),
                                              static_cast<int>(body.size()), engine->options_.request_timeout_ms);
        if (s != NATS_OK) {
            if (!out.empty()) break;  // what arrived is still worth returning
            return api_failure("reading " + topic_name, s, {});
        }
        auto m = js::parse_msg_get(message_data(reply));
        natsMsg_Destroy(reply);
        if (!m) {
            if (m.error().code == Errc::not_found || !out.empty()) break;
            return m.error();
        }
        if (m->sequence < seq || m->sequence > last) break;  // past what this node knows of: it comes live
        seq = m->sequence + 1;
        if (js::header_value(m->headers, js::kEpochHeader) != epoch_header) continue;  // a deleted topic's
        if (!out.empty() && bytes + m->data.size() > max_bytes) break;
        bytes += m->data.size();
        out.push_back(StoredEvent{m->sequence - 1, m->timestamp_ms, std::move(m->data)});
    }
    return out;
}

Result<std::vector<StoredEvent>> JetStreamEngine::Topic::read_by_consumer(std::uint64_t from, int n,
                                                                          std::uint64_t last,
                                                                          std::size_t max_bytes) const {
    std::vector<StoredEvent> out;
    // The topic's next messages are somewhere after `from` among other topics' ones: a consumer filtered on its
    // subject finds them in one request instead of one message lookup per sequence. It lives for this read only.
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = engine->options_.request_timeout_ms;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from + 1;
    so.Config.AckPolicy = js_AckExplicit;  // a pull consumer must have one; nothing is acknowledged
    so.Config.MaxAckPending = n;
    so.Config.InactiveThreshold = 30'000'000'000;  // the server removes it even if this node dies mid-read
    natsSubscription* sub = nullptr;
    jsErrCode jerr{};
    natsStatus s = js_PullSubscribe(&sub, engine->js_, subject.c_str(), nullptr, &jo, &so, &jerr);
    if (s != NATS_OK) return api_failure("reading " + topic_name, s, jerr);
    // How many of the topic's messages follow `from` — the consumer counted them when it was made. A fetch that
    // does not wait could come back empty from a consumer still being set up; one that waits for exactly what
    // is there returns as soon as it has it, and never waits on an empty topic.
    jsConsumerInfo* ci = nullptr;
    jerr = {};
    s = natsSubscription_GetConsumerInfo(&ci, sub, &jo, &jerr);
    std::uint64_t pending = 0;
    if (s == NATS_OK) {
        pending = ci->NumPending;
        jsConsumerInfo_Destroy(ci);
    }
    if (s != NATS_OK || pending == 0) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
        if (s != NATS_OK) return api_failure("reading " + topic_name, s, jerr);
        return out;
    }
    jsFetchRequest fr;
    jsFetchRequest_Init(&fr);
    fr.Batch = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(n), pending));
    fr.Expires = engine->options_.request_timeout_ms * 1'000'000;
    natsMsgList list{};
    s = natsSubscription_FetchRequest(&list, sub, &fr);
    const int list_count = list.Count;
    std::size_t bytes = 0;
    std::uint64_t scanned = from;  // the offset after the last message looked at
    bool unreadable = false;
    for (int i = 0; i < list.Count; ++i) {
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, list.Msgs[i]) != NATS_OK) {
            unreadable = true;
            break;
        }
        const std::uint64_t seq = meta->Sequence.Stream;
        const std::int64_t ts = meta->Timestamp / 1'000'000;
        jsMsgMetaData_Destroy(meta);
        auto data = message_data(list.Msgs[i]);
        if (seq == 0 || seq > last) break;  // past what this node knows of: it comes live
        scanned = seq;
        if (!of_epoch(list.Msgs[i], epoch_header)) continue;  // published to a deleted topic of this name
        if (!out.empty() && bytes + data.size() > max_bytes) break;
        bytes += data.size();
        out.push_back(StoredEvent{seq - 1, ts, std::string(data)});
    }
    natsMsgList_Destroy(&list);
    natsSubscription_Unsubscribe(sub);  // deletes the consumer the library made
    natsSubscription_Destroy(sub);
    // Messages were there: coming back with none of them is a failure, not an empty topic.
    if (out.empty() && unreadable) return make_error(Errc::unavailable, "reading " + topic_name + ": unreadable metadata");
    if (list_count == 0 && s != NATS_OK) return api_failure("reading " + topic_name, s, {});
    // Every message fetched was another epoch's (a deleted topic of this name): the rest of the way, up to the
    // topic's end, one lookup at a time — never an empty answer while events of the topic lie ahead.
    if (out.empty() && scanned > from && scanned < last) {
        engine->lookup_reads_.fetch_add(1, std::memory_order_relaxed);
        return read_by_lookup(scanned, n, last, max_bytes);
    }
    return out;
}

struct JetStreamEngine::Request {
    struct Item {
        std::string id;
        std::string message_id;
        std::string record;
        std::optional<PublishOutcome> outcome;
        std::uint64_t token = 0;      // the attempt in flight; 0 while waiting to be sent again
        std::int64_t sent_ms = 0;
        std::int64_t retry_at_ms = 0;
        int attempts = 0;
    };
    std::shared_ptr<Topic> topic;  // until the request is answered (complete() releases it)
    std::string subject;           // the topic's, fixed at publish: send() reads them without the lock
    std::string stream;
    std::string epoch;             // shared stream: the Herald-Epoch header (under flight_mutex_)
    std::string idempotency_key;
    PublishCallback done;
    std::vector<Item> items;
    std::size_t remaining = 0;
    std::int64_t deadline_ms = 0;
    std::optional<Error> failure;
    bool finished = false;
    bool topic_suspect = false;  // answered "no responders": does the stream still exist?
};

JetStreamEngine::JetStreamEngine(JetStreamOptions options) : options_(std::move(options)) {}

void JetStreamEngine::track(natsSubscription* sub) {
    std::lock_guard lock(subs_mutex_);
    if (natsSubscription_SetOnCompleteCB(sub, &on_subscription_complete, this) == NATS_OK) ++open_subscriptions_;
}

void JetStreamEngine::subscription_closed() {
    {
        std::lock_guard lock(subs_mutex_);
        --open_subscriptions_;
    }
    subs_cv_.notify_all();
}

void JetStreamEngine::close_subscription(natsSubscription*& sub) {
    if (!sub) return;
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);  // libnats keeps its own reference until the handler has returned
    sub = nullptr;
}

void JetStreamEngine::retire(std::shared_ptr<Topic> topic) {
    close_subscription(topic->live);
    // Its live handler may still be running on the delivery thread: the topic stays allocated until stop(),
    // which waits for every subscription's completion.
    std::lock_guard lock(topics_mutex_);
    retired_.push_back(std::move(topic));
}

JetStreamEngine::~JetStreamEngine() { stop(); }

Result<void> JetStreamEngine::start(CommitListener& listener) {
    listener_ = &listener;
    if (options_.servers.empty()) return make_error(Errc::invalid_argument, "no NATS server given", "engine.jetstream.servers");
    natsOptions* opts = nullptr;
    if (natsOptions_Create(&opts) != NATS_OK) return make_error(Errc::unavailable, "cannot create NATS options");
    std::vector<const char*> urls;
    for (auto& s : options_.servers) urls.push_back(s.c_str());
    natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
    natsOptions_SetName(opts, "herald");
    natsOptions_SetTimeout(opts, options_.connect_timeout_ms);
    natsOptions_SetMaxReconnect(opts, -1);  // a node keeps trying for as long as it runs; health says why
    natsOptions_SetReconnectWait(opts, 250);
    // One delivery thread for every subscription: the listener is called from one thread, in order per topic.
    natsOptions_UseGlobalMessageDelivery(opts, true);
    natsStatus s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        nc_ = nullptr;
        return make_error(Errc::unavailable, "cannot connect to NATS at " + options_.servers.front() +
                                                 (options_.servers.size() > 1 ? " (and the others listed)" : "") +
                                                 ": " + nats_error(s), "engine.jetstream.servers");
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = options_.request_timeout_ms;
    if ((s = natsConnection_JetStream(&js_, nc_, &jo)) != NATS_OK) {
        stop();
        return make_error(Errc::unavailable, "JetStream context: " + nats_error(s));
    }
    natsInbox* inbox = nullptr;
    natsInbox_Create(&inbox);
    ack_prefix_ = std::string(inbox) + ".";
    natsInbox_Destroy(inbox);
    if ((s = natsConnection_Subscribe(&ack_sub_, nc_, (ack_prefix_ + "*").c_str(), &on_ack_message, this)) != NATS_OK) {
        stop();
        return make_error(Errc::unavailable, "cannot subscribe to publish acknowledgements: " + nats_error(s));
    }
    // A burst of acknowledgements must not be dropped as a slow consumer (they would only come back as retries).
    natsSubscription_SetPendingLimits(ack_sub_, -1, -1);
    track(ack_sub_);

    // Is JetStream there at all? A clear refusal at start beats 503s later.
    jsAccountInfo* ai = nullptr;
    jsErrCode jerr{};
    if ((s = js_GetAccountInfo(&ai, js_, nullptr, &jerr)) != NATS_OK) {
        auto e = api_failure("JetStream is not available on " + options_.servers.front(), s, jerr);
        stop();
        return e;
    }
    jsAccountInfo_Destroy(ai);

    auto shared = JetStreamSharedState::open(
        js_, SharedStateOptions{options_.stream_prefix, options_.replicas, options_.lease_ttl_ms});
    if (!shared) {
        stop();
        return std::move(shared).error();
    }
    shared_ = std::move(*shared);

    // The shared stream, then the declared topics. Several nodes starting together over a cluster that is still
    // electing stream leaders see timeouts: those are retried for a while, anything else stops the start.
    if (shared_layout()) {
        auto ready = retry_while_forming([this]() -> Result<void> {
            if (auto watch = shared_->start_watch("topic.>"); !watch) return watch;
            return put_stream_config(js::shared_stream_name(options_.stream_prefix), options_.subject_prefix + ">",
                                     options_.defaults, nullptr);
        });
        if (!ready) {
            stop();
            return ready;
        }
    }
    for (auto& [name, settings] : options_.declared) {
        auto ready = retry_while_forming([&, n = &name, st = &settings]() -> Result<void> {
            if (shared_layout()) {
                if (auto fits = check_shared_settings(*st); !fits)
                    return make_error(Errc::invalid_argument, "topic " + *n + ": " + fits.error().message,
                                      "topics." + *n + ".retention");
                if (auto t = open_topic(*n, true, st, nullptr); !t) return std::move(t).error();
                return ok();
            }
            if (auto put = put_stream(*n, *st, nullptr); !put) return put;
            if (auto t = open_topic(*n, false, nullptr, nullptr); !t) return std::move(t).error();
            return ok();
        });
        if (!ready) {
            stop();
            return ready;
        }
    }
    if (shared_layout()) apply_topic_changes();  // the topic records read when the watch started
    refresh_topics();
    maintenance_ = std::thread([this] { maintenance_loop(); });
    return ok();
}

void JetStreamEngine::stop() {
    if (closed_.exchange(true)) return;
    // Requests in flight get until their deadline to be acknowledged; then whatever is left fails.
    if (nc_) {
        std::unique_lock lock(flight_mutex_);
        const auto give_up = now_ms() + options_.publish_timeout_ms;
        while (pending_requests_ > 0 && now_ms() < give_up) {
            lock.unlock();
            retry_expired(now_ms());
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            lock.lock();
        }
    }
    retry_expired(std::numeric_limits<std::int64_t>::max());
    {
        std::lock_guard lock(control_mutex_);
        stopping_ = true;
    }
    control_cv_.notify_all();
    if (maintenance_.joinable()) maintenance_.join();
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics;
    {
        std::lock_guard lock(topics_mutex_);
        topics.swap(topics_);
    }
    for (auto& [name, t] : topics) close_subscription(t->live);
    close_subscription(ack_sub_);
    {
        // Handlers still running hold pointers to this engine and its topics: wait until libnats says they are
        // done (bounded: a wedged connection must not hang the shutdown).
        std::unique_lock lock(subs_mutex_);
        subs_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return open_subscriptions_ <= 0; });
    }
    shared_.reset();
    if (js_) jsCtx_Destroy(js_);
    js_ = nullptr;
    if (nc_) {
        natsConnection_Close(nc_);
        natsConnection_Destroy(nc_);
    }
    nc_ = nullptr;
    std::lock_guard lock(topics_mutex_);
    retired_.clear();
}

Result<void> JetStreamEngine::put_stream(const std::string& name, const TopicSettings& settings, bool* created) {
    auto put = put_stream_config(js::stream_name(options_.stream_prefix, name), options_.subject_prefix + name,
                                 settings, created);
    if (!put) return put;
    std::lock_guard lock(topics_mutex_);
    if (auto it = topics_.find(name); it != topics_.end()) it->second->settings = settings;
    return ok();
}

Result<void> JetStreamEngine::check_shared_settings(const TopicSettings& settings) const {
    if (settings.retention_ms == options_.defaults.retention_ms &&
        settings.retention_bytes == options_.defaults.retention_bytes)
        return ok();
    return make_error(Errc::invalid_argument,
                      "with engine.jetstream.streams: shared every topic keeps the shared stream's retention "
                      "(topic_defaults); a retention of its own needs streams: per_topic",
                      "retention");
}

Result<void> JetStreamEngine::retry_while_forming(const std::function<Result<void>()>& step) {
    Result<void> ready = ok();
    const auto give_up = now_ms() + 30'000;
    for (std::int64_t wait = 250;; wait = std::min<std::int64_t>(wait * 2, 2'000)) {
        ready = step();
        if (ready || ready.error().code != Errc::unavailable || now_ms() + wait > give_up) return ready;
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
}

Result<void> JetStreamEngine::put_stream_config(const std::string& stream, const std::string& subject,
                                                const TopicSettings& settings, bool* created) {
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardOld;
    cfg.Replicas = options_.replicas;
    cfg.MaxAge = settings.retention_ms ? *settings.retention_ms * 1'000'000 : 0;
    cfg.MaxBytes = settings.retention_bytes ? static_cast<std::int64_t>(*settings.retention_bytes) : -1;
    // The duplicate window may not be longer than the messages are kept.
    auto window_ms = options_.dedup_window_ms;
    if (settings.retention_ms) window_ms = std::min(window_ms, *settings.retention_ms);
    cfg.Duplicates = std::max<std::int64_t>(window_ms, 1) * 1'000'000;

    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
        // Every node applies the declared topics at start: only a real change is an update (concurrent
        // updates of one stream while the cluster forms time out).
        const auto* have = si->Config;
        const bool same = have && have->MaxAge == cfg.MaxAge && have->MaxBytes == cfg.MaxBytes &&
                          have->Duplicates == cfg.Duplicates && have->Replicas == cfg.Replicas;
        jsStreamInfo_Destroy(si);
        si = nullptr;
        if (!same) {
            s = js_UpdateStream(&si, js_, &cfg, nullptr, &jerr);
            if (s != NATS_OK) return api_failure("updating stream " + stream, s, jerr);
        }
        if (created) *created = false;
    } else if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jerr = {};
        s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
        if (s != NATS_OK && jerr != JSStreamNameExistErr) return api_failure("creating stream " + stream, s, jerr);
        if (created) *created = s == NATS_OK;
    } else {
        return api_failure("stream info of " + stream, s, jerr);
    }
    if (si) jsStreamInfo_Destroy(si);
    return ok();
}

Result<JetStreamEngine::Located> JetStreamEngine::locate_stream(const std::string& name, bool create,
                                                                const TopicSettings* settings, bool* created) {
    const auto stream = js::stream_name(options_.stream_prefix, name);
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        if (!create) return make_error(Errc::not_found, "no topic " + name, "topic");
        TopicSettings initial = options_.defaults;
        if (settings) initial = *settings;
        else if (auto d = options_.declared.find(name); d != options_.declared.end()) initial = d->second;
        bool made = false;
        if (auto put = put_stream(name, initial, &made); !put) return std::move(put).error();
        if (created) *created = made;
        jerr = {};
        s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
    }
    if (s != NATS_OK) return api_failure("stream info of " + stream, s, jerr);
    Located at{stream, js::stream_epoch(stream, si->Created), si->State.FirstSeq, si->State.LastSeq,
               si->State.Bytes, si->State.LastSeq, 0, settings_of(si->Config)};
    jsStreamInfo_Destroy(si);
    return at;
}

Result<JetStreamEngine::Located> JetStreamEngine::locate_subject(const std::string& name, bool create,
                                                                 const TopicSettings* settings, bool* created) {
    const auto stream = js::shared_stream_name(options_.stream_prefix);
    const auto key = js::topic_record_key(name);
    auto record = shared_->get(key);
    if (!record) return std::move(record).error();
    std::optional<std::uint64_t> epoch;
    std::uint64_t revision = 0;
    if (*record) {
        epoch = js::parse_topic_record((*record)->value);
        revision = (*record)->revision;
    } else {
        if (!create) return make_error(Errc::not_found, "no topic " + name, "topic");
        const TopicSettings* initial = settings;
        if (auto d = options_.declared.find(name); !initial && d != options_.declared.end()) initial = &d->second;
        if (initial) {
            if (auto fits = check_shared_settings(*initial); !fits) return std::move(fits).error();
        }
        // Nodes creating the same topic at once: one record wins and every node reads its epoch.
        auto made = shared_->create(key, js::topic_record(js::new_topic_epoch(stream, name)));
        if (!made) return std::move(made).error();
        if (created) *created = made->mine;
        epoch = js::parse_topic_record(made->value);
        revision = made->revision;
    }
    if (!epoch) return make_error(Errc::corrupt, "the shared record of topic " + name + " is unreadable", "topic");
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return api_failure("stream info of " + stream, s, jerr);
    // Sizes are the stream's, shared by every topic: a topic's own is not known without counting.
    Located at{stream, *epoch, si->State.FirstSeq, si->State.LastSeq, 0, 0, revision, settings_of(si->Config)};
    jsStreamInfo_Destroy(si);
    // Where the topic ends: its last message, whatever its epoch (a position after it has nothing of the topic
    // ahead, which is all the end promises).
    const std::string api = "$JS.API.STREAM.MSG.GET." + stream;
    const std::string body = "{\"last_by_subj\":\"" + options_.subject_prefix + name + "\"}";
    natsMsg* reply = nullptr;
    s = natsConnection_Request(&reply, nc_, api.c_str(), body.data(), static_cast<int>(body.size()),
                               options_.request_timeout_ms);
    if (s != NATS_OK) return api_failure("the last message of " + name, s, {});
    auto last = js::parse_msg_get(message_data(reply));
    natsMsg_Destroy(reply);
    if (last) at.topic_last = last->sequence;
    else if (last.error().code != Errc::not_found) return last.error();
    return at;
}

Result<std::shared_ptr<JetStreamEngine::Topic>> JetStreamEngine::open_topic(const std::string& name, bool create,
                                                                           const TopicSettings* settings,
                                                                           bool* created) {
    {
        std::lock_guard lock(topics_mutex_);
        if (auto it = topics_.find(name); it != topics_.end()) return it->second;
    }
    if (closed_.load()) return make_error(Errc::unavailable, "the engine is stopping");
    if (!is_valid_topic_name(name)) return make_error(Errc::invalid_argument, "invalid topic name", "topic");
    auto at = shared_layout() ? locate_subject(name, create, settings, created)
                              : locate_stream(name, create, settings, created);
    if (!at) return std::move(at).error();

    auto t = std::make_shared<Topic>();
    t->engine = this;
    t->topic_name = name;
    t->stream = at->stream;
    t->subject = options_.subject_prefix + name;
    t->topic_epoch = at->epoch;
    t->epoch_header = js::epoch_text(at->epoch);
    t->record_revision = at->record_revision;
    t->start.store(at->first_seq > 0 ? at->first_seq - 1 : 0);
    t->end.store(at->topic_last);
    t->size.store(at->bytes);
    t->settings = at->settings;
    t->delivered = at->last_seq;
    // The topic has nothing between its last message and the stream's end: a live batch may start there.
    t->covered = at->topic_last;

    std::lock_guard lock(topics_mutex_);
    if (auto it = topics_.find(name); it != topics_.end()) return it->second;  // another thread was first
    // The live consumer starts after what the stream held at open: earlier events are read, not pushed.
    t->closure = LiveClosure{this, t.get()};
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = t->stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = t->delivered + 1;
    // The consumer lives on one server; when that server dies, missing heartbeats are how libnats notices and
    // makes a new one. 1 s instead of the default 5 s keeps a node's live stream stalled for seconds, not tens.
    so.Config.Heartbeat = 1'000'000'000;
    jsErrCode jerr{};
    natsStatus s = js_Subscribe(&t->live, js_, t->subject.c_str(), &on_live_message, &t->closure, nullptr, &so, &jerr);
    if (s != NATS_OK) return api_failure("live consumer of " + t->subject, s, jerr);
    natsSubscription_SetPendingLimits(t->live, -1, -1);
    track(t->live);
    t->opened_ms = now_ms();
    topics_.emplace(name, t);
    if (shared_layout()) topic_records_[name] = t->topic_epoch;  // listed at once, before the watcher says so
    return t;
}

Result<std::shared_ptr<TopicReader>> JetStreamEngine::topic(std::string_view name, bool create) {
    auto t = open_topic(std::string(name), create, nullptr, nullptr);
    if (!t) return std::move(t).error();
    return std::shared_ptr<TopicReader>(std::move(*t));
}

std::vector<TopicInfo> JetStreamEngine::topics() const {
    std::lock_guard lock(topics_mutex_);
    std::vector<TopicInfo> out = known_;
    for (auto& entry : topics_) {
        const std::string& name = entry.first;
        const auto& t = entry.second;
        auto it = std::find_if(out.begin(), out.end(), [&](const TopicInfo& i) { return i.name == name; });
        if (it == out.end()) it = out.insert(out.end(), TopicInfo{name, t->topic_epoch, 0, 0, 0, t->settings});
        it->epoch = t->topic_epoch;
        it->start_offset = t->start_offset();
        it->end_offset = shared_layout() ? t->end_offset() : std::max(it->end_offset, t->end_offset());
        it->size_bytes = t->size.load(std::memory_order_relaxed);
        it->settings = t->settings;
    }
    std::sort(out.begin(), out.end(), [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
    return out;
}

std::string JetStreamEngine::health() const {
    if (!nc_) return "not connected to NATS";
    auto st = natsConnection_Status(nc_);
    if (st != NATS_CONN_STATUS_CONNECTED)
        return st == NATS_CONN_STATUS_RECONNECTING ? "reconnecting to NATS" : "not connected to NATS";
    std::lock_guard lock(topics_mutex_);
    return refresh_error_;
}

std::vector<EngineStat> JetStreamEngine::stats() const {
    std::vector<EngineStat> out;
    out.push_back({"jetstream_republished_total", "counter",
                   "Events published to JetStream again (no acknowledgement within ack_timeout, or no leader).", {},
                   republished_.load(std::memory_order_relaxed)});
    out.push_back({"jetstream_lookup_reads_total", "counter",
                   "Reads of a topic on the shared stream done one message lookup at a time: reads of at most 3 "
                   "events, and reads for which no consumer could be made (during elections).", {},
                   lookup_reads_.load(std::memory_order_relaxed)});
    out.push_back({"jetstream_publish_timeouts_total", "counter",
                   "Publish requests answered 503 because JetStream did not acknowledge within publish_timeout.", {},
                   timed_out_.load(std::memory_order_relaxed)});
    std::uint64_t in_flight = 0;
    {
        std::lock_guard lock(flight_mutex_);
        in_flight = in_flight_.size();
    }
    out.push_back({"jetstream_acks_outstanding", "gauge", "Events published and waiting for their acknowledgement.",
                   {}, in_flight});
    out.push_back({"jetstream_connected", "gauge", "1 while the NATS connection is up.", {},
                   nc_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED ? 1u : 0u});
    std::lock_guard lock(topics_mutex_);
    for (auto& [name, t] : topics_)
        out.push_back({"jetstream_live_pending_events", "gauge",
                       "Events of the topic stored in JetStream but not yet delivered to this node (its consumer lag).",
                       name, t->live_pending.load(std::memory_order_relaxed)});
    return out;
}

void JetStreamEngine::publish(PublishRequest request, PublishCallback done) {
    if (closed_.load()) {
        done(make_error(Errc::unavailable, "the engine is stopping"));
        return;
    }
    auto topic = open_topic(request.topic, auto_create(), nullptr, nullptr);
    if (!topic) {
        done(std::move(topic).error());
        return;
    }
    auto req = std::make_shared<Request>();
    req->topic = std::move(*topic);
    req->subject = req->topic->subject;
    req->stream = req->topic->stream;
    if (shared_layout()) req->epoch = req->topic->epoch_header;
    req->idempotency_key = request.idempotency_key;
    req->done = std::move(done);
    req->items.reserve(request.items.size());
    for (std::size_t i = 0; i < request.items.size(); ++i) {
        auto& item = request.items[i];
        auto record = core::encode_event_record(item.id, item.type, request.idempotency_key, item.json);
        if (!record) {
            req->done(std::move(record).error());
            return;
        }
        Request::Item it;
        it.id = item.id;
        // On the shared stream the duplicate window spans topics, and outlives a topic's delete (a purge keeps the
        // stream's window): the topic and its epoch are part of the id.
        const std::string scope = shared_layout() ? request.topic + "/" + req->topic->epoch_header : std::string();
        it.message_id = request.idempotency_key.empty()
                            ? js::event_message_id(scope, item.source, item.id)
                            : js::idempotency_message_id(scope, request.idempotency_key, i);
        it.record = std::move(*record);
        req->items.push_back(std::move(it));
    }
    req->remaining = req->items.size();
    req->deadline_ms = now_ms() + options_.publish_timeout_ms;
    if (req->items.empty()) {
        req->done(PublishResult{req->topic->topic_epoch, {}, false});
        return;
    }
    {
        std::lock_guard lock(flight_mutex_);
        ++pending_requests_;
        requests_.push_back(req);
        const auto now = now_ms();
        for (std::size_t i = 0; i < req->items.size(); ++i) {
            auto& it = req->items[i];
            it.token = next_token_++;
            it.sent_ms = now;
            it.attempts = 1;
            in_flight_.emplace(it.token, InFlight{req, i});
        }
    }
    // Sent outside the lock: an acknowledgement can arrive before the loop ends and must find its entry.
    for (std::size_t i = 0; i < req->items.size(); ++i) send(req, i);
}

void JetStreamEngine::send(const std::shared_ptr<Request>& req, std::size_t index) {
    std::string reply;
    std::string_view record;
    std::string message_id;
    std::string epoch;
    {
        std::lock_guard lock(flight_mutex_);
        auto& it = req->items[index];
        if (req->finished || it.token == 0) return;
        reply = ack_prefix_ + std::to_string(it.token);
        record = it.record;  // items are never resized after publish() built them
        message_id = it.message_id;
        epoch = req->epoch;
    }
    natsMsg* m = nullptr;
    if (natsMsg_Create(&m, req->subject.c_str(), reply.c_str(), record.data(),
                       static_cast<int>(record.size())) != NATS_OK)
        return;  // retried when its acknowledgement times out
    natsMsgHeader_Set(m, "Nats-Msg-Id", message_id.c_str());
    natsMsgHeader_Set(m, "Nats-Expected-Stream", req->stream.c_str());
    if (!epoch.empty()) natsMsgHeader_Set(m, js::kEpochHeader, epoch.c_str());
    // A failure here (disconnected with a full reconnect buffer) is the same as a lost acknowledgement.
    natsConnection_PublishMsg(nc_, m);
    natsMsg_Destroy(m);
}

void JetStreamEngine::on_ack(natsMsg* msg) {
    auto token = reply_token(natsMsg_GetSubject(msg));
    if (!token) return;
    std::shared_ptr<Request> finished;
    {
        std::lock_guard lock(flight_mutex_);
        auto found = in_flight_.find(*token);
        if (found == in_flight_.end()) return;  // an attempt already given up on
        auto req = found->second.request;
        auto index = found->second.item;
        in_flight_.erase(found);
        auto& it = req->items[index];
        it.token = 0;
        if (req->finished) return;
        const auto now = now_ms();
        auto retry_later = [&] {
            // The cluster is electing a leader or has none: back off, double each time, at most a second.
            it.retry_at_ms = now + std::min<std::int64_t>(1000, 50ll << std::min(it.attempts, 5));
        };
        if (natsMsg_IsNoResponders(msg)) {
            // No stream listens on the subject: an election in progress, or the stream was deleted (perhaps by
            // another node). The maintenance thread looks which (retry_expired).
            req->topic_suspect = true;
            retry_later();
            return;
        }
        auto ack = js::parse_pub_ack(message_data(msg));
        if (!ack) {
            retry_later();
            return;
        }
        if (!ack->ok()) {
            if (ack->retryable()) {
                retry_later();
                return;
            }
            req->failure = make_error(ack->error_code == 404 ? Errc::not_found : Errc::io_error,
                                      "JetStream refused the event: " + ack->description);
            req->finished = true;
        } else {
            it.outcome = PublishOutcome{ack->sequence - 1, it.id, ack->duplicate};
            req->topic->advance_end(ack->sequence);
            if (--req->remaining == 0) req->finished = true;
        }
        if (req->finished) {
            --pending_requests_;
            finished = std::move(req);
        }
    }
    if (finished) complete(finished);
}

void JetStreamEngine::complete(const std::shared_ptr<Request>& req) {
    // Called once per request, after `finished` was set under the lock; nothing else touches it any more. The
    // topic reference goes with the answer: a finished request waiting for the sweep must not count as a reader
    // (delete_topic refuses topics with readers).
    auto topic = std::move(req->topic);
    if (req->failure) {
        req->done(*req->failure);
        return;
    }
    if (shared_layout()) {
        // The topic was deleted (or deleted and created again) on another node while this request was in
        // flight: its events went in under the old epoch and went with it, so they must not be acknowledged.
        // Published again, they land in the topic as it now is (the ids carry the epoch).
        bool current = false;
        {
            std::lock_guard lock(topics_mutex_);
            auto it = topics_.find(topic->topic_name);
            current = it != topics_.end() && it->second == topic;
        }
        if (!current) {
            req->done(make_error(Errc::unavailable, "topic " + topic->topic_name +
                                                        " was deleted on another node while the request was in "
                                                        "flight; publish again"));
            return;
        }
    }
    PublishResult result;
    result.epoch = topic->topic_epoch;
    result.outcomes.reserve(req->items.size());
    bool all_duplicates = true;
    for (auto& it : req->items) {
        result.outcomes.push_back(*it.outcome);
        all_duplicates = all_duplicates && it.outcome->duplicate;
    }
    result.replayed = !req->idempotency_key.empty() && all_duplicates;
    req->done(std::move(result));
}

void JetStreamEngine::retry_expired(std::int64_t now) {
    recover_deleted_topics();
    std::vector<std::shared_ptr<Request>> failed;
    std::vector<std::pair<std::shared_ptr<Request>, std::size_t>> resend;
    {
        std::lock_guard lock(flight_mutex_);
        // Attempts without an answer within ack_timeout are abandoned (a late answer finds no entry).
        for (auto it = in_flight_.begin(); it != in_flight_.end();) {
            auto& item = it->second.request->items[it->second.item];
            if (it->second.request->finished || now - item.sent_ms >= options_.ack_timeout_ms) {
                item.token = 0;
                item.retry_at_ms = std::min(item.retry_at_ms, now);
                it = in_flight_.erase(it);
            } else {
                ++it;
            }
        }
        std::erase_if(requests_, [](const std::shared_ptr<Request>& r) { return r->finished; });
        for (auto& req : requests_) {
            bool waiting = false;
            for (auto& item : req->items) waiting = waiting || (!item.outcome && item.token == 0);
            if (!waiting) continue;
            if (now >= req->deadline_ms) {
                timed_out_.fetch_add(1, std::memory_order_relaxed);
                req->failure = make_error(Errc::unavailable, "JetStream did not acknowledge the event within " +
                                                                 std::to_string(options_.publish_timeout_ms) + " ms");
                req->finished = true;
                --pending_requests_;
                failed.push_back(req);
                continue;
            }
            for (std::size_t i = 0; i < req->items.size(); ++i) {
                auto& item = req->items[i];
                if (item.outcome || item.token != 0 || item.retry_at_ms > now) continue;
                item.token = next_token_++;
                item.sent_ms = now;
                ++item.attempts;
                in_flight_.emplace(item.token, InFlight{req, i});
                resend.emplace_back(req, i);
                republished_.fetch_add(1, std::memory_order_relaxed);
            }
        }
        std::erase_if(requests_, [](const std::shared_ptr<Request>& r) { return r->finished; });
    }
    for (auto& [req, i] : resend) send(req, i);
    for (auto& req : failed) complete(req);
}

void JetStreamEngine::recover_deleted_topics() {
    if (closed_.load()) return;
    // Which requests wait on a topic that refresh_topics() found deleted (retired: no longer in topics_)? The
    // check uses the topic list, not a stream-info request per retry: during an election that request would
    // itself wait for the leader and hold up every other retry.
    std::vector<std::shared_ptr<Request>> moved;
    {
        std::scoped_lock lock(flight_mutex_, topics_mutex_);
        for (auto& req : requests_) {
            if (req->finished || !req->topic_suspect) continue;
            auto it = topics_.find(req->topic->topic_name);
            if (it != topics_.end() && it->second == req->topic) continue;  // still current: an election
            req->topic_suspect = false;
            moved.push_back(req);
        }
    }
    std::vector<std::shared_ptr<Request>> failed;
    for (auto& req : moved) {
        std::string name;
        {
            std::lock_guard lock(flight_mutex_);
            name = req->topic->topic_name;
        }
        // Opened again: created (a new stream, a new epoch) when auto_create allows, as a publish to a missing
        // topic does on any engine.
        auto fresh = open_topic(name, options_.auto_create, nullptr, nullptr);
        std::lock_guard lock(flight_mutex_);
        if (req->finished) continue;
        if (fresh && !(shared_layout() && (*fresh)->topic_epoch != req->topic->topic_epoch)) {
            req->topic = std::move(*fresh);
            continue;
        }
        if (fresh)  // its message ids name the old epoch: the client publishes again, into the new topic
            fresh = make_error(Errc::unavailable, "topic " + name + " was created again while the request was in flight");
        req->failure = fresh.error();
        req->finished = true;
        --pending_requests_;
        failed.push_back(req);
    }
    for (auto& req : failed) complete(req);
}

void JetStreamEngine::on_live(Topic& topic, natsMsg* msg) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return;
    const std::uint64_t seq = meta->Sequence.Stream;
    const std::uint64_t pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    topic.live_pending.store(pending, std::memory_order_relaxed);
    if (seq == 0 || seq <= topic.delivered) return;  // a consumer reset may deliver again what was handed over
    const bool shared = shared_layout();
    auto flush = [&] {
        if (topic.batch.events.empty()) return;
        topic.batch.commit_ns = steady_ns();
        topic.covered = topic.batch.events.back().offset + 1;
        CommittedBatch out;
        std::swap(out, topic.batch);
        listener_->on_commit(std::move(out));
    };
    // A stream of its own: a batch is consecutive offsets. The shared stream: the consumer delivers this topic's
    // messages in order, skipping the others', so a batch starts where the previous one ended.
    if (!shared && !topic.batch.events.empty() &&
        topic.batch.base_offset + topic.batch.events.size() != seq - 1)
        flush();
    auto record = core::decode_event_record(message_data(msg));
    const bool ours = !shared || of_epoch(msg, topic.epoch_header);  // not a deleted topic's of this name
    if (record && ours) {
        if (topic.batch.events.empty()) {
            topic.batch.topic = topic.topic_name;
            topic.batch.epoch = topic.topic_epoch;
            topic.batch.base_offset = shared ? topic.covered : seq - 1;
        }
        topic.batch.events.push_back(CommittedEvent{seq - 1, std::string(record->type), std::string(record->json)});
    } else {
        // Not written by Herald: readers skip it too. On a stream of its own, flush what is before it, so offsets
        // stay contiguous.
        if (!shared) flush();
    }
    topic.delivered = seq;
    topic.advance_end(seq);
    if (pending == 0 || topic.batch.events.size() >= kMaxLiveBatch) flush();
}

bool JetStreamEngine::enqueue_control(std::function<void()> control) {
    {
        std::lock_guard lock(control_mutex_);
        if (stopping_ || closed_.load()) return false;
        controls_.push_back(std::move(control));
    }
    control_cv_.notify_one();
    return true;
}

void JetStreamEngine::configure_topic(std::string name, TopicSettings settings, ConfigureCallback done) {
    auto run = [this, name, settings, done] {
        if (!is_valid_topic_name(name)) {
            done(make_error(Errc::invalid_argument, "invalid topic name", "topic"));
            return;
        }
        bool created = false;
        if (shared_layout()) {
            if (auto fits = check_shared_settings(settings); !fits) {
                done(std::move(fits).error());
                return;
            }
            auto t = open_topic(name, true, &settings, &created);
            if (!t) {
                done(std::move(t).error());
                return;
            }
            done(TopicConfigured{created, (*t)->topic_epoch});
            return;
        }
        if (auto put = put_stream(name, settings, &created); !put) {
            done(std::move(put).error());
            return;
        }
        auto t = open_topic(name, false, nullptr, nullptr);
        if (!t) {
            done(std::move(t).error());
            return;
        }
        {
            std::lock_guard lock(topics_mutex_);
            (*t)->settings = settings;
        }
        (void)(*t)->refresh_state();  // a shorter retention may have removed events already
        done(TopicConfigured{created, (*t)->topic_epoch});
    };
    if (!enqueue_control(run)) done(make_error(Errc::unavailable, "the engine is stopping"));
}

void JetStreamEngine::delete_topic(std::string name, DeleteCallback done) {
    auto run = [this, name, done] {
        std::shared_ptr<Topic> t;
        {
            std::lock_guard lock(topics_mutex_);
            if (auto it = topics_.find(name); it != topics_.end()) {
                // The map holds one reference; any other is a reader (a stream, a long-poll, a dispatcher).
                if (it->second.use_count() > 1) {
                    done(make_error(Errc::conflict, "topic " + name + " has open readers on this node", "topic"));
                    return;
                }
                t = it->second;
                topics_.erase(it);
            }
        }
        if (t) retire(std::move(t));
        if (shared_layout()) {
            delete_subject(name, done);
            return;
        }
        jsErrCode jerr{};
        const auto stream = js::stream_name(options_.stream_prefix, name);
        natsStatus s = js_DeleteStream(js_, stream.c_str(), nullptr, &jerr);
        if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
            done(make_error(Errc::not_found, "no topic " + name, "topic"));
            return;
        }
        if (s != NATS_OK) {
            done(api_failure("deleting stream " + stream, s, jerr));
            return;
        }
        {
            std::lock_guard lock(topics_mutex_);
            std::erase_if(known_, [&](const TopicInfo& i) { return i.name == name; });
        }
        done(ok());
    };
    if (!enqueue_control(run)) done(make_error(Errc::unavailable, "the engine is stopping"));
}

void JetStreamEngine::delete_subject(const std::string& name, DeleteCallback done) {
    const auto stream = js::shared_stream_name(options_.stream_prefix);
    const auto subject = options_.subject_prefix + name;
    const auto key = js::topic_record_key(name);
    auto record = shared_->get(key);
    if (!record) {
        done(std::move(record).error());
        return;
    }
    if (!*record) {
        done(make_error(Errc::not_found, "no topic " + name, "topic"));
        return;
    }
    auto purge = [&]() -> Result<void> {
        jsOptions o;
        jsOptions_Init(&o);
        o.Stream.Purge.Subject = subject.c_str();
        jsErrCode jerr{};
        natsStatus s = js_PurgeStream(js_, stream.c_str(), &o, &jerr);
        if (s != NATS_OK) return api_failure("purging " + subject + " from " + stream, s, jerr);
        return ok();
    };
    // Events first, record second: a failure leaves the topic existing (and perhaps empty), never gone with its
    // events left for a topic of the same name to show later. The second purge takes what a node that had not
    // yet noticed published in between.
    if (auto p = purge(); !p) {
        done(std::move(p).error());
        return;
    }
    if (auto r = shared_->remove(key); !r) {
        done(std::move(r).error());
        return;
    }
    (void)purge();
    {
        std::lock_guard lock(topics_mutex_);
        std::erase_if(known_, [&](const TopicInfo& i) { return i.name == name; });
        topic_records_.erase(name);
    }
    done(ok());
}

Result<std::vector<TopicInfo>> JetStreamEngine::list_topics() {
    std::vector<TopicInfo> known;
    jsErrCode jerr{};
    if (shared_layout()) {
        // The topics are the records the watcher keeps (apply_topic_changes): one stream-info request however
        // many topics there are.
        const auto stream = js::shared_stream_name(options_.stream_prefix);
        jsStreamInfo* si = nullptr;
        natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
        if (s != NATS_OK) return api_failure("stream info of " + stream, s, jerr);
        std::lock_guard lock(topics_mutex_);
        for (auto& [name, epoch] : topic_records_)
            known.push_back(TopicInfo{name, epoch, si->State.FirstSeq > 0 ? si->State.FirstSeq - 1 : 0,
                                      si->State.LastSeq, 0, settings_of(si->Config)});
        jsStreamInfo_Destroy(si);
        return known;
    }
    jsStreamInfoList* list = nullptr;
    natsStatus s = js_Streams(&list, js_, nullptr, &jerr);
    if (s == NATS_NOT_FOUND) return known;
    if (s != NATS_OK) return api_failure("listing streams", s, jerr);
    for (int i = 0; i < list->Count; ++i) {
        auto* si = list->List[i];
        if (!si->Config || !si->Config->Name) continue;
        auto name = js::topic_of_stream(options_.stream_prefix, si->Config->Name);
        if (!name) continue;
        TopicInfo info;
        info.name = *name;
        info.epoch = js::stream_epoch(si->Config->Name, si->Created);
        info.start_offset = si->State.FirstSeq > 0 ? si->State.FirstSeq - 1 : 0;
        info.end_offset = si->State.LastSeq;
        info.size_bytes = si->State.Bytes;
        info.settings = settings_of(si->Config);
        known.push_back(std::move(info));
    }
    jsStreamInfoList_Destroy(list);
    return known;
}

void JetStreamEngine::refresh_topics() {
    const auto started_ms = now_ms();
    std::vector<TopicInfo> known;
    std::string error;
    if (auto listed = list_topics()) known = std::move(*listed);
    else error = "JetStream: " + listed.error().message;
    std::vector<std::shared_ptr<Topic>> recreated;  // listed with another epoch: deleted and created again
    std::vector<std::shared_ptr<Topic>> unlisted;   // missing from the list: deleted, or leaderless right now
    {
        std::lock_guard lock(topics_mutex_);
        refresh_error_ = std::move(error);
        if (!refresh_error_.empty()) return;
        for (auto& [name, t] : topics_) {
            if (t->opened_ms >= started_ms) continue;  // opened after the list was asked for
            auto info = std::find_if(known.begin(), known.end(), [&, n = &name](const TopicInfo& i) { return i.name == *n; });
            if (shared_layout()) {
                // Deletes and re-creations arrive through the watcher, which also made this list; here only the
                // stream's start moves (a record not yet seen by the watcher is no reason to drop a topic).
                if (info != known.end() && info->epoch == t->topic_epoch)
                    t->start.store(info->start_offset, std::memory_order_release);
                continue;
            }
            if (info == known.end()) {
                unlisted.push_back(t);
            } else if (info->epoch != t->topic_epoch) {
                recreated.push_back(t);
            } else {
                t->start.store(info->start_offset, std::memory_order_release);
                t->size.store(info->size_bytes, std::memory_order_relaxed);
                // Bounds how stale this node's end can be when its live consumer is being re-created (reads and
                // pages use it as the end). On the shared stream the listed end is the stream's, not the topic's.
                if (!shared_layout()) t->advance_end(info->end_offset);
            }
        }
        known_ = std::move(known);
    }
    // A stream without a leader (an election) can be left out of the list: only an explicit "not found" counts
    // as deleted. The short wait keeps an election from holding up the retries this thread also runs.
    for (auto& t : unlisted) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = 500;
        jsStreamInfo* si = nullptr;
        jsErrCode jerr{};
        natsStatus s = js_GetStreamInfo(&si, js_, t->stream.c_str(), &jo, &jerr);
        if (si) jsStreamInfo_Destroy(si);
        if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) recreated.push_back(t);
    }
    // This node's view of these is stale: the next use opens them afresh; readers still holding the old object
    // read nothing new.
    for (auto& t : recreated) retire_if_current(t->topic_name, t);
}

bool JetStreamEngine::retire_if_current(const std::string& name, const std::shared_ptr<Topic>& expected) {
    std::shared_ptr<Topic> t;
    {
        std::lock_guard lock(topics_mutex_);
        auto it = topics_.find(name);
        if (it == topics_.end() || (expected && it->second != expected)) return false;
        t = it->second;
        topics_.erase(it);
    }
    retire(std::move(t));
    return true;
}

void JetStreamEngine::apply_topic_changes() {
    for (auto& change : shared_->changes()) {
        const std::string_view prefix = "topic.";
        if (!change.key.starts_with(prefix)) continue;
        const std::string name = change.key.substr(prefix.size());
        auto epoch = change.value ? js::parse_topic_record(*change.value) : std::nullopt;
        std::shared_ptr<Topic> open;
        {
            std::lock_guard lock(topics_mutex_);
            if (epoch && is_valid_topic_name(name)) topic_records_[name] = *epoch;
            else topic_records_.erase(name);
            if (auto it = topics_.find(name); it != topics_.end()) open = it->second;
        }
        if (!open) continue;
        // A change at or before the record this node opened the topic with is history (a delete that came
        // before the topic was created again); a record of the topic's own epoch is the topic as opened. A later
        // delete, or another epoch, is a topic this node must open afresh.
        if (change.revision <= open->record_revision) continue;
        if (epoch && *epoch == open->topic_epoch) continue;
        retire_if_current(name, open);
    }
}

void JetStreamEngine::maintenance_loop() {
    auto next_refresh = now_ms() + options_.refresh_interval_ms;
    for (;;) {
        std::function<void()> control;
        {
            std::unique_lock lock(control_mutex_);
            control_cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_ || !controls_.empty(); });
            if (stopping_) {
                // Nothing new is queued once stopping_ is set; what was queued is answered, not dropped.
                for (auto& c : controls_) c();
                controls_.clear();
                return;
            }
            if (!controls_.empty()) {
                control = std::move(controls_.front());
                controls_.pop_front();
            }
        }
        if (control) control();
        if (shared_layout()) apply_topic_changes();
        const auto now = now_ms();
        retry_expired(now);
        if (now >= next_refresh) {
            refresh_topics();
            next_refresh = now + options_.refresh_interval_ms;
        }
    }
}

}  // namespace herald::engine
