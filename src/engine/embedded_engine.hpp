#pragma once
// The embedded engine: one storage::Log per topic under <data_dir>/topics/<topic>, one writer thread that
// group-commits every topic's pending publishes, and the per-topic dedup windows.
//
// Group commit: publishers enqueue requests; the writer takes everything queued, appends each topic's requests
// as one batch (one write), fsyncs the topics whose policy is `always`, makes the data visible, tells the commit
// listener, then completes the callbacks. Topics with `fsync: interval` are flushed every interval on a
// BackgroundSync thread, from an fsync the writer prepares, so appends go on while the disk works. Requests that arrive while a write or fsync is in flight wait for the
// next round and are committed together.
//
// Threading: publish() and topic() from any thread; everything that mutates a Log or a DedupWindow runs on the
// writer thread. The topics map is guarded by a mutex held only for lookups and inserts, never during I/O.
//
// Topic management (configure_topic, delete_topic) is queued like a publish and runs on the writer thread at
// the start of a round, so it never races a write or an fsync of the topic it changes. A topic's `settings` are
// written there under the topics mutex (topics() reads them under it); the writer reads them without it.
//
// A deleted topic's directory is first renamed to `topics/.deleted-<name>-<epoch>` (not a valid topic name, so
// never opened as one), then removed: a crash in between leaves a tombstone that the next start removes, never a
// half-deleted topic.

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "engine/background_sync.hpp"
#include "engine/dedup_window.hpp"
#include "engine/engine.hpp"

namespace herald::engine {

struct EmbeddedOptions {
    std::filesystem::path data_dir = "herald-data";
    TopicSettings defaults;
    std::map<std::string, TopicSettings> declared;  // topics the config names, created at start
    bool auto_create = true;
    DedupOptions dedup;
    std::int64_t retention_check_ms = 5000;
};

class EmbeddedEngine final : public Engine {
public:
    explicit EmbeddedEngine(EmbeddedOptions options, const Clock& clock = SystemClock::instance());
    ~EmbeddedEngine() override;

    Result<void> start(CommitListener& listener) override;
    void stop() override;
    void publish(PublishRequest request, PublishCallback done) override;
    void publish_batch(std::vector<PendingPublish>& batch) override;
    Result<std::shared_ptr<TopicReader>> topic(std::string_view name, bool create) override;
    std::vector<TopicInfo> topics() const override;
    void configure_topic(std::string name, TopicSettings settings, ConfigureCallback done) override;
    void delete_topic(std::string name, DeleteCallback done) override;
    bool auto_create() const override { return options_.auto_create; }
    std::string health() const override;
    // background_fsyncs_total: interval fsyncs run on the BackgroundSync thread.
    std::vector<EngineStat> stats() const override;

    struct Topic;  // defined in the .cpp

private:
    using Pending = PendingPublish;

    // `settings`: create with these (even when auto_create is off) instead of the declared or default ones.
    // `created`: set to true when this call created the topic's entry.
    Result<std::shared_ptr<Topic>> open_topic(const std::string& name, bool create,
                                              const TopicSettings* settings = nullptr, bool* created = nullptr);
    void writer_loop();
    // Writer thread: the bodies of configure_topic and delete_topic.
    Result<TopicConfigured> apply_configure(const std::string& name, const TopicSettings& settings);
    Result<void> apply_delete(const std::string& name);
    // Queues `control` for the writer; false when the engine is stopping (nothing was queued).
    bool enqueue_control(std::function<void()> control);
    void commit_topic(Topic& topic, std::vector<Pending>& group);
    void absorb_sync_failure(Topic& topic);
    void settle_background_sync(Topic& topic);
    void periodic_work(std::int64_t now_ms, bool force_sync);

    EmbeddedOptions options_;
    const Clock& clock_;
    CommitListener* listener_ = nullptr;

    mutable std::mutex topics_mutex_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;

    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::vector<Pending> queue_;
    std::vector<std::function<void()>> controls_;  // topic management, run by the writer before publishes
    bool stopping_ = false;
    std::unique_ptr<BackgroundSync> background_sync_;  // interval fsyncs (always: inline, before the answer)
    std::thread writer_;
    std::int64_t next_retention_ms_ = 0;
};

}  // namespace herald::engine
