#pragma once
// The embedded engine: one storage::Log per topic under <data_dir>/topics/<topic>, one writer thread that
// group-commits every topic's pending publishes, and the per-topic dedup windows.
//
// Group commit: publishers enqueue requests; the writer takes everything queued, appends each topic's requests
// as one batch (one write), fsyncs the topics whose policy is `always`, makes the data visible, tells the commit
// listener, then completes the callbacks. Requests that arrive while a write or fsync is in flight wait for the
// next round and are committed together.
//
// Threading: publish() and topic() from any thread; everything that mutates a Log or a DedupWindow runs on the
// writer thread. The topics map is guarded by a mutex held only for lookups and inserts, never during I/O.

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
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
    Result<std::shared_ptr<TopicReader>> topic(std::string_view name, bool create) override;
    std::vector<TopicInfo> topics() const override;
    bool auto_create() const override { return options_.auto_create; }
    std::string health() const override;

    struct Topic;  // defined in the .cpp

private:
    struct Pending {
        PublishRequest request;
        PublishCallback done;
    };

    Result<std::shared_ptr<Topic>> open_topic(const std::string& name, bool create);
    void writer_loop();
    void commit_topic(Topic& topic, std::vector<Pending>& group);
    void periodic_work(std::int64_t now_ms, bool force_sync);

    EmbeddedOptions options_;
    const Clock& clock_;
    CommitListener* listener_ = nullptr;

    mutable std::mutex topics_mutex_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;

    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::vector<Pending> queue_;
    bool stopping_ = false;
    std::thread writer_;
    std::int64_t next_retention_ms_ = 0;
};

}  // namespace herald::engine
