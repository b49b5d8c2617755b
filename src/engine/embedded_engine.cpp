#include "engine/embedded_engine.hpp"

#include <atomic>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "core/event_record.hpp"
#include "engine/topic_name.hpp"
#include "storage/log.hpp"

namespace herald::engine {

namespace fs = std::filesystem;

// One topic's state. The writer thread owns `dedup`, `failed`, `dirty` and the write side of `log`; readers
// use only the thread-safe read side of `log`.
struct EmbeddedEngine::Topic final : TopicReader {
    std::string topic_name;
    TopicSettings settings;
    std::unique_ptr<storage::Log> log;
    DedupWindow dedup;
    std::string failed;            // why the topic refuses writes (after an fsync error); empty when fine
    bool dirty = false;            // written but not fsynced
    std::int64_t last_sync_ms = 0;
    // An interval fsync handed to the BackgroundSync: `in_flight` set by the writer when it hands one over,
    // cleared by the sync thread when it ran; a failure is left in `error` for the writer
    // (absorb_sync_failure). A separate object, so a job in flight does not hold the Topic itself (topic
    // deletion counts the Topic's other holders as open readers).
    struct SyncState {
        std::atomic<bool> in_flight{false};
        std::atomic<bool> failed{false};
        std::mutex mu;
        std::string error;
    };
    std::shared_ptr<SyncState> sync = std::make_shared<SyncState>();

    Topic(std::string n, TopicSettings s, std::unique_ptr<storage::Log> l, DedupOptions d)
        : topic_name(std::move(n)), settings(s), log(std::move(l)), dedup(d) {}

    const std::string& name() const override { return topic_name; }
    std::uint64_t epoch() const override { return log->epoch(); }
    std::uint64_t start_offset() const override { return log->start_offset(); }
    std::uint64_t end_offset() const override { return log->end_offset(); }
    Result<std::vector<StoredEvent>> read(std::uint64_t from, std::size_t max_records,
                                          std::size_t max_bytes) const override {
        auto records = log->read(from, max_records, max_bytes);
        if (!records) return std::move(records).error();
        std::vector<StoredEvent> out;
        out.reserve(records->size());
        for (auto& r : *records) out.push_back(StoredEvent{r.offset, r.timestamp_ms, std::move(r.payload)});
        return out;
    }
};

namespace {

// The dedup window must survive a restart: replay the tail of the log that is still inside the window.
void rebuild_dedup(EmbeddedEngine::Topic& topic, std::int64_t now_ms) {
    auto& log = *topic.log;
    auto max_entries = topic.dedup.options().max_entries;
    if (max_entries == 0 || log.end_offset() == log.start_offset()) return;
    std::uint64_t from = log.end_offset() > max_entries ? log.end_offset() - max_entries : 0;
    from = std::max(from, log.start_offset());
    std::string run_key;
    std::uint64_t run_start = 0;
    std::uint32_t run_count = 0;
    std::int64_t run_ts = 0;
    auto flush_run = [&] {
        if (!run_key.empty()) topic.dedup.insert(DedupWindow::request_key(run_key), {run_start, run_count}, run_ts);
        run_key.clear();
    };
    while (from < log.end_offset()) {
        auto records = log.read(from, 4096, 8u << 20);
        if (!records || records->empty()) break;
        for (auto& r : *records) {
            from = r.offset + 1;
            if (r.timestamp_ms < now_ms - topic.dedup.options().window_ms) continue;
            auto rec = core::decode_event_record(r.payload);
            if (!rec) continue;
            std::string source;
            boost::system::error_code ec;
            auto v = boost::json::parse(rec->json, ec);
            if (!ec && v.is_object())
                if (auto* s = v.as_object().if_contains("source"); s && s->is_string()) source = s->as_string();
            topic.dedup.insert(DedupWindow::event_key(source, rec->id), {r.offset, 1}, r.timestamp_ms);
            if (!rec->idempotency_key.empty() && rec->idempotency_key == run_key &&
                run_start + run_count == r.offset) {
                ++run_count;
            } else {
                flush_run();
                if (!rec->idempotency_key.empty()) {
                    run_key = std::string(rec->idempotency_key);
                    run_start = r.offset;
                    run_count = 1;
                    run_ts = r.timestamp_ms;
                }
            }
        }
    }
    flush_run();
}

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

EmbeddedEngine::EmbeddedEngine(EmbeddedOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

EmbeddedEngine::~EmbeddedEngine() { stop(); }

Result<void> EmbeddedEngine::start(CommitListener& listener) {
    listener_ = &listener;
    std::error_code ec;
    fs::create_directories(options_.data_dir / "topics", ec);
    if (ec)
        return make_error(Errc::io_error, "cannot create data directory " + options_.data_dir.string() + ": " +
                                              ec.message(), "data_dir");
    // Existing topics first, so a restart serves everything it had, then the declared ones. Tombstones of
    // deletions a crash interrupted are finished now.
    std::vector<std::string> names;
    std::vector<fs::path> tombstones;
    for (auto& entry : fs::directory_iterator(options_.data_dir / "topics", ec)) {
        auto name = entry.path().filename().string();
        if (entry.is_directory() && is_valid_topic_name(name)) names.push_back(name);
        else if (entry.is_directory() && name.rfind(".deleted-", 0) == 0) tombstones.push_back(entry.path());
    }
    for (auto& t : tombstones) fs::remove_all(t, ec);
    for (auto& [name, settings] : options_.declared) names.push_back(name);
    for (auto& name : names) {
        auto t = open_topic(name, true);
        if (!t) return std::move(t).error();
    }
    next_retention_ms_ = clock_.wall_ms() + options_.retention_check_ms;
    background_sync_ = std::make_unique<BackgroundSync>();
    writer_ = std::thread([this] { writer_loop(); });
    return ok();
}

void EmbeddedEngine::stop() {
    {
        std::lock_guard lock(queue_mutex_);
        if (stopping_ || !writer_.joinable()) {
            stopping_ = true;
            return;
        }
        stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_.join();
    // background_sync_ stays until the destructor: the writer drained it before its last fsync, and stats()
    // may still be reading it.
}

Result<std::shared_ptr<EmbeddedEngine::Topic>> EmbeddedEngine::open_topic(const std::string& name, bool create,
                                                                          const TopicSettings* explicit_settings,
                                                                          bool* created) {
    std::lock_guard lock(topics_mutex_);
    if (auto it = topics_.find(name); it != topics_.end()) return it->second;
    if (!is_valid_topic_name(name))
        return make_error(Errc::invalid_argument,
                          "topic names must match [a-z0-9][a-z0-9._-]{0,199}", "topic");
    auto dir = options_.data_dir / "topics" / name;
    std::error_code ec;
    bool exists = fs::is_directory(dir, ec);
    bool declared = options_.declared.count(name) > 0;
    if (!exists && !(create && (explicit_settings || declared || options_.auto_create)))
        return make_error(Errc::not_found, "topic '" + name + "' does not exist", "topic");
    TopicSettings settings = explicit_settings ? *explicit_settings
                             : declared        ? options_.declared.at(name)
                                               : options_.defaults;
    storage::LogOptions lo;
    lo.segment_bytes = settings.segment_bytes;
    if (settings.retention_ms) lo.retention_age = std::chrono::milliseconds(*settings.retention_ms);
    lo.retention_bytes = settings.retention_bytes;
    storage::RecoveryReport report;
    auto log = storage::Log::open(dir, lo, &report);
    if (!log) {
        auto e = std::move(log).error();
        e.message = "topic '" + name + "': " + e.message;
        return e;
    }
    auto topic = std::make_shared<Topic>(name, settings, std::move(*log), options_.dedup);
    rebuild_dedup(*topic, clock_.wall_ms());
    topic->last_sync_ms = clock_.wall_ms();
    topics_.emplace(name, topic);
    if (created) *created = true;
    return topic;
}

namespace {

storage::LogOptions log_options(storage::LogOptions lo, const TopicSettings& s) {
    lo.segment_bytes = s.segment_bytes;
    lo.retention_age.reset();
    if (s.retention_ms) lo.retention_age = std::chrono::milliseconds(*s.retention_ms);
    lo.retention_bytes = s.retention_bytes;
    return lo;
}

}  // namespace

bool EmbeddedEngine::enqueue_control(std::function<void()> control) {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return false;
    controls_.push_back(std::move(control));
    queue_cv_.notify_one();
    return true;
}

void EmbeddedEngine::configure_topic(std::string name, TopicSettings settings, ConfigureCallback done) {
    auto shared_done = std::make_shared<ConfigureCallback>(std::move(done));
    auto control = [this, name = std::move(name), settings, shared_done] {
        (*shared_done)(apply_configure(name, settings));
    };
    if (!enqueue_control(std::move(control)))
        (*shared_done)(make_error(Errc::unavailable, "the server is shutting down"));
}

void EmbeddedEngine::delete_topic(std::string name, DeleteCallback done) {
    auto shared_done = std::make_shared<DeleteCallback>(std::move(done));
    auto control = [this, name = std::move(name), shared_done] { (*shared_done)(apply_delete(name)); };
    if (!enqueue_control(std::move(control)))
        (*shared_done)(make_error(Errc::unavailable, "the server is shutting down"));
}

Result<TopicConfigured> EmbeddedEngine::apply_configure(const std::string& name, const TopicSettings& settings) {
    if (!is_valid_topic_name(name))
        return make_error(Errc::invalid_argument, "topic names must match [a-z0-9][a-z0-9._-]{0,199}", "topic");
    bool created = false;
    auto opened = open_topic(name, true, &settings, &created);
    if (!opened) return std::move(opened).error();
    auto& t = **opened;
    // Also for a topic this call created: a publish may have created it with the defaults a moment earlier.
    const bool now_always = settings.fsync == FsyncPolicy::always && t.settings.fsync != FsyncPolicy::always;
    t.log->set_options(log_options(t.log->options(), settings));
    {
        std::lock_guard lock(topics_mutex_);
        t.settings = settings;
    }
    const auto now = clock_.wall_ms();
    // From `always` on, an acknowledgement means "on disk": the data written under the old policy is made so too.
    if (now_always) settle_background_sync(t);
    if (now_always && t.dirty && t.failed.empty()) {
        auto synced = t.log->sync();
        if (!synced) t.failed = "fsync failed: " + synced.error().message;
        t.dirty = false;
        t.last_sync_ms = now;
    }
    if (settings.retention_ms || settings.retention_bytes) {
        if (auto r = t.log->apply_retention(now); !r) return std::move(r).error();
    }
    return TopicConfigured{created, t.log->epoch()};
}

Result<void> EmbeddedEngine::apply_delete(const std::string& name) {
    std::shared_ptr<Topic> topic;
    {
        std::lock_guard lock(topics_mutex_);
        auto it = topics_.find(name);
        if (it == topics_.end()) return make_error(Errc::not_found, "topic '" + name + "' does not exist", "topic");
        // Readers get their shared_ptr from this map under this mutex, so a count of one here means nobody
        // holds the topic and nobody can get it once it is erased.
        if (auto users = it->second.use_count() - 1; users > 0)
            return make_error(Errc::conflict,
                              "topic '" + name + "' has " + std::to_string(users) +
                                  " open readers (streams, long-polls or webhook dispatchers); close them first",
                              "topic");
        topic = std::move(it->second);
        topics_.erase(it);
    }
    const auto epoch = topic->log->epoch();
    topic.reset();  // closes the log and releases its directory lock
    const auto dir = options_.data_dir / "topics" / name;
    char epoch_hex[17];
    std::snprintf(epoch_hex, sizeof epoch_hex, "%016llx", static_cast<unsigned long long>(epoch));
    const auto tombstone = options_.data_dir / "topics" / (".deleted-" + name + "-" + epoch_hex);
    std::error_code ec;
    fs::rename(dir, tombstone, ec);
    if (ec) {
        // Still whole: serve it again rather than lose track of it.
        auto reopened = open_topic(name, false);
        return make_error(Errc::io_error, "cannot delete topic '" + name + "': " + ec.message() +
                                              (reopened ? "" : "; it could not be reopened either"));
    }
    fs::remove_all(tombstone, ec);  // a leftover is removed at the next start
    return ok();
}

Result<std::shared_ptr<TopicReader>> EmbeddedEngine::topic(std::string_view name, bool create) {
    auto t = open_topic(std::string(name), create);
    if (!t) return std::move(t).error();
    return std::shared_ptr<TopicReader>(std::move(*t));
}

std::vector<TopicInfo> EmbeddedEngine::topics() const {
    std::lock_guard lock(topics_mutex_);
    std::vector<TopicInfo> out;
    for (auto& [name, t] : topics_)
        out.push_back(TopicInfo{name, t->log->epoch(), t->log->start_offset(), t->log->end_offset(),
                                t->log->size_bytes(), t->settings});
    return out;
}

std::vector<EngineStat> EmbeddedEngine::stats() const {
    EngineStat fsyncs;
    fsyncs.name = "background_fsyncs_total";
    fsyncs.help = "Interval fsyncs run on the background sync thread while the writer kept appending.";
    fsyncs.value = background_sync_ ? background_sync_->completed() : 0;
    return {std::move(fsyncs)};
}

std::string EmbeddedEngine::health() const {
    std::lock_guard lock(topics_mutex_);
    for (auto& [name, t] : topics_)
        if (!t->failed.empty()) return "topic '" + name + "': " + t->failed;
    return {};
}

void EmbeddedEngine::publish(PublishRequest request, PublishCallback done) {
    // Workers hand requests over in batches (publish/outbox.hpp); a single request is a batch of one.
    std::vector<PendingPublish> one;
    one.push_back(PendingPublish{std::move(request), std::move(done)});
    publish_batch(one);
}

void EmbeddedEngine::publish_batch(std::vector<PendingPublish>& batch) {
    {
        std::lock_guard lock(queue_mutex_);
        if (!stopping_) {
            if (queue_.empty())
                queue_.swap(batch);
            else
                for (auto& p : batch) queue_.push_back(std::move(p));
            batch.clear();
            queue_cv_.notify_one();
            return;
        }
    }
    for (auto& p : batch) p.done(make_error(Errc::unavailable, "the server is shutting down"));
    batch.clear();
}

void EmbeddedEngine::writer_loop() {
    std::vector<Pending> batch;
    std::vector<std::function<void()>> controls;
    for (;;) {
        bool stop_now = false;
        {
            std::unique_lock lock(queue_mutex_);
            // Wake at least every 10 ms to run interval fsyncs; a sleeping writer costs nothing otherwise.
            queue_cv_.wait_for(lock, std::chrono::milliseconds(10),
                               [&] { return stopping_ || !queue_.empty() || !controls_.empty(); });
            batch.swap(queue_);
            controls.swap(controls_);
            stop_now = stopping_;
        }
        for (auto& c : controls) c();
        controls.clear();
        if (!batch.empty()) {
            // Group by topic, keeping arrival order within each topic.
            std::map<std::string, std::vector<Pending>> groups;
            for (auto& p : batch) groups[p.request.topic].push_back(std::move(p));
            batch.clear();
            for (auto& [name, group] : groups) {
                auto t = open_topic(name, true);
                if (!t) {
                    for (auto& p : group) p.done(t.error());
                    continue;
                }
                commit_topic(**t, group);
            }
        }
        periodic_work(clock_.wall_ms(), stop_now);
        if (stop_now) {
            std::lock_guard lock(queue_mutex_);
            if (queue_.empty() && controls_.empty()) return;
        }
    }
}

// A background fsync of the topic failed: from now on it refuses writes, as after a failed inline fsync.
// (Everything it acknowledged since the last good fsync was acknowledged under `fsync: interval`, which never
// waited for the disk.)
void EmbeddedEngine::absorb_sync_failure(Topic& topic) {
    if (!topic.sync->failed.load(std::memory_order_acquire)) return;
    topic.sync->failed.store(false, std::memory_order_relaxed);
    std::string why;
    {
        std::lock_guard lock(topic.sync->mu);
        why = topic.sync->error;
    }
    if (topic.failed.empty()) topic.failed = "fsync failed: " + why;
    topic.log->sync_failed(make_error(Errc::io_error, why));
}

// Before an inline fsync of a topic that may have a background one running: the two flush the same files through
// descriptors sharing one writeback-error state, and Linux reports such an error once, so wait for the
// background job and take its result first.
void EmbeddedEngine::settle_background_sync(Topic& topic) {
    if (background_sync_ && topic.sync->in_flight.load(std::memory_order_acquire)) background_sync_->drain();
    absorb_sync_failure(topic);
}

void EmbeddedEngine::commit_topic(Topic& topic, std::vector<Pending>& group) {
    absorb_sync_failure(topic);
    const auto now = clock_.wall_ms();
    struct Slot {
        std::size_t request;
        std::size_t item;
    };
    // The round's records are encoded back to back into one buffer (`records`, record k ending at
    // record_ends[k]) rather than one string each. Each event is looked up in the dedup window and, when new,
    // recorded there at once with the offset it will get (base + its slot: the round appends its records as
    // one batch at the log's end), so one probe serves both and a second copy later in the round finds the
    // first. If the append fails, the round's entries are taken back (erase_newest).
    std::size_t items = 0, record_bytes = 0;
    for (auto& p : group)
        for (auto& item : p.request.items) {
            ++items;
            record_bytes += core::event_record_size(item.id, item.type, p.request.idempotency_key, item.json);
        }
    const std::uint64_t base_expected = topic.log->written_end();
    std::string records;
    records.reserve(record_bytes);
    std::vector<std::size_t> record_ends;
    record_ends.reserve(items);
    std::vector<Slot> slots;  // where each appended record's outcome goes
    slots.reserve(items);
    std::vector<Result<PublishResult>> results;
    results.reserve(group.size());
    std::unordered_set<std::string> round_request_keys;  // Idempotency-Key values of this round's requests
    struct InRoundDup {
        std::size_t request;
        std::size_t item;
        std::uint64_t slot;
    };
    std::vector<InRoundDup> in_round_dups;

    for (std::size_t r = 0; r < group.size(); ++r) {
        auto& req = group[r].request;
        if (!topic.failed.empty()) {
            results.emplace_back(make_error(Errc::unavailable, "topic '" + topic.topic_name +
                                                                   "' refuses writes: " + topic.failed));
            continue;
        }
        PublishResult res;
        res.epoch = topic.log->epoch();
        if (!req.idempotency_key.empty()) {
            auto key = DedupWindow::request_key(req.idempotency_key);
            if (auto hit = topic.dedup.find(key, now)) {
                // A retried request: answer with what the original got, read back from the log.
                res.replayed = true;
                auto recs = topic.log->read(hit->offset, hit->count, 64u << 20);
                if (recs)
                    for (auto& rec : *recs) {
                        auto view = core::decode_event_record(rec.payload);
                        res.outcomes.push_back(
                            PublishOutcome{rec.offset, view ? std::string(view->id) : std::string(), true});
                    }
                results.emplace_back(std::move(res));
                continue;
            }
            if (round_request_keys.count(key)) {
                results.emplace_back(make_error(Errc::conflict,
                                                "a request with this Idempotency-Key is being processed",
                                                "Idempotency-Key"));
                continue;
            }
        }
        // The record format bounds these fields; check before anything of the request enters the round, so
        // a request is either wholly in the round or wholly out.
        bool fits = req.idempotency_key.size() <= 0xFFFF;
        for (auto& item : req.items) fits &= item.id.size() <= 0xFFFF && item.type.size() <= 0xFFFF;
        if (!fits) {
            results.emplace_back(make_error(Errc::invalid_argument,
                                            "id, type and Idempotency-Key are limited to 65535 bytes"));
            continue;
        }
        res.outcomes.resize(req.items.size());
        for (std::size_t i = 0; i < req.items.size(); ++i) {
            auto& item = req.items[i];
            res.outcomes[i].id = item.id;
            const DedupWindow::Hit offset_to_be{base_expected + slots.size(), 1};
            if (auto hit = topic.dedup.find_or_insert(DedupWindow::event_key(item.source, item.id), offset_to_be,
                                                      now)) {
                res.outcomes[i].offset = hit->offset;
                res.outcomes[i].duplicate = true;
                // Every committed offset is below base_expected: at or above it is an earlier copy in this
                // round, stored only if the round's append succeeds.
                if (hit->offset >= base_expected) in_round_dups.push_back(InRoundDup{r, i, hit->offset - base_expected});
                continue;
            }
            if (!core::append_event_record(records, item.id, item.type, req.idempotency_key, item.json)) {
                topic.dedup.erase_newest(1);  // unreachable: sizes were checked above
                continue;
            }
            record_ends.push_back(records.size());
            slots.push_back(Slot{r, i});
        }
        if (!req.idempotency_key.empty()) round_request_keys.insert(DedupWindow::request_key(req.idempotency_key));
        results.emplace_back(std::move(res));
    }

    std::uint64_t base = topic.log->written_end();
    Result<void> write_ok = ok();
    if (!slots.empty()) {
        std::vector<std::string_view> views;
        views.reserve(record_ends.size());
        for (std::size_t k = 0, begin = 0; k < record_ends.size(); begin = record_ends[k++])
            views.emplace_back(records.data() + begin, record_ends[k] - begin);
        auto appended = topic.log->append(views, now);
        if (!appended) {
            write_ok = std::move(appended).error();
        } else {
            base = *appended;
            topic.dirty = true;
            if (topic.settings.fsync == FsyncPolicy::always) {
                settle_background_sync(topic);
                auto synced = topic.failed.empty() ? topic.log->sync() : Result<void>(make_error(Errc::io_error, topic.failed));
                if (!synced) {
                    // After a failed fsync the page cache cannot be trusted (the kernel may have dropped the
                    // dirty pages), so nothing written since the last good sync may be acknowledged or shown,
                    // and the topic stops taking writes until an operator restarts it (recovery re-verifies).
                    topic.failed = "fsync failed: " + synced.error().message;
                    write_ok = make_error(Errc::unavailable, topic.failed);
                } else {
                    topic.dirty = false;
                    topic.last_sync_ms = now;
                }
            }
        }
    }

    if (write_ok && !slots.empty() && base != base_expected) {
        // Not expected (one writer appends at the end), but the window must hold the offsets actually given.
        topic.dedup.erase_newest(slots.size());
        for (std::size_t k = 0; k < slots.size(); ++k) {
            auto& item = group[slots[k].request].request.items[slots[k].item];
            topic.dedup.insert(DedupWindow::event_key(item.source, item.id), {base + k, 1}, now);
        }
    }
    if (!write_ok) topic.dedup.erase_newest(slots.size());
    topic.dedup.trim();  // the round is decided: now the count bound applies
    if (!write_ok) {
        // Every request that stored something, or that named an event only this round would have stored,
        // gets the error.
        std::vector<bool> failed(group.size(), false);
        for (auto& s : slots) failed[s.request] = true;
        for (auto& d : in_round_dups) failed[d.request] = true;
        for (std::size_t r = 0; r < group.size(); ++r)
            if (failed[r]) results[r] = write_ok.error();
    } else if (!slots.empty()) {
        topic.log->make_visible(topic.log->written_end());
        CommittedBatch batch;
        batch.topic = topic.topic_name;
        batch.epoch = topic.log->epoch();
        batch.base_offset = base;
        batch.commit_ns = steady_ns();
        batch.events.reserve(slots.size());
        for (std::size_t k = 0; k < slots.size(); ++k) {
            auto [r, i] = slots[k];
            auto& item = group[r].request.items[i];
            auto& res = results[r].value();
            res.outcomes[i].offset = base + k;
            batch.events.push_back(CommittedEvent{base + k, std::move(item.type), std::move(item.json)});
        }
        for (auto& d : in_round_dups)
            if (results[d.request]) results[d.request]->outcomes[d.item].offset = base + d.slot;
        for (std::size_t r = 0; r < group.size(); ++r) {
            auto& req = group[r].request;
            if (req.idempotency_key.empty() || !results[r] || results[r]->replayed) continue;
            // A request's new records are contiguous: no other request's records interleave in a round.
            std::uint64_t first = UINT64_MAX;
            std::uint32_t count = 0;
            for (std::size_t k = 0; k < slots.size(); ++k)
                if (slots[k].request == r) {
                    first = std::min(first, base + k);
                    ++count;
                }
            if (count > 0) topic.dedup.insert(DedupWindow::request_key(req.idempotency_key), {first, count}, now);
        }
        listener_->on_commit(std::move(batch));
    }
    for (std::size_t r = 0; r < group.size(); ++r) group[r].done(std::move(results[r]));
}

void EmbeddedEngine::periodic_work(std::int64_t now_ms, bool force_sync) {
    std::vector<std::shared_ptr<Topic>> all;
    {
        std::lock_guard lock(topics_mutex_);
        for (auto& [n, t] : topics_) all.push_back(t);
    }
    bool retention_due = now_ms >= next_retention_ms_;
    if (retention_due) next_retention_ms_ = now_ms + options_.retention_check_ms;
    // The last fsync (stopping) must come after every background one and see their failures.
    if (force_sync && background_sync_) background_sync_->drain();
    for (auto& t : all) {
        absorb_sync_failure(*t);
        const bool due = force_sync || (t->settings.fsync == FsyncPolicy::interval &&
                                        now_ms - t->last_sync_ms >= t->settings.fsync_interval_ms);
        if (!(t->dirty && t->failed.empty() && due)) {
            // nothing to flush, or not yet
        } else if (force_sync || !background_sync_) {
            auto synced = t->log->sync();
            if (!synced) t->failed = "fsync failed: " + synced.error().message;
            t->dirty = false;
            t->last_sync_ms = now_ms;
        } else if (!t->sync->in_flight.load(std::memory_order_acquire)) {
            // Prepared here, flushed on the sync thread while this thread goes on appending. One at a time
            // per topic: while one runs, the topic stays dirty and the next is prepared once it is done.
            auto job = t->log->prepare_sync();
            if (!job) {
                // Could not even duplicate a descriptor (EMFILE, say): nothing is lost yet, flush inline.
                auto synced = t->log->sync();
                if (!synced) t->failed = "fsync failed: " + synced.error().message;
            } else {
                t->sync->in_flight.store(true, std::memory_order_release);
                background_sync_->submit(std::move(*job), [state = t->sync](Result<void> r) {
                    if (!r) {
                        {
                            std::lock_guard lock(state->mu);
                            state->error = r.error().message;
                        }
                        state->failed.store(true, std::memory_order_release);
                    }
                    state->in_flight.store(false, std::memory_order_release);
                });
            }
            t->dirty = false;
            t->last_sync_ms = now_ms;
        }
        if (retention_due && (t->settings.retention_ms || t->settings.retention_bytes))
            (void)t->log->apply_retention(now_ms);
    }
}

}  // namespace herald::engine
