#pragma once
// Runs prepared fsyncs (storage::PreparedSync) one after another on a thread of its own. With `fsync: interval`
// the embedded engine's writer used to fsync inline every interval, and every publish waiting for a commit
// round waited for the disk too (a flush of 100 ms of writes took about 5 ms, an eighth of the writer's time
// when publishing batches). Now the writer prepares the fsync, hands it over and goes on appending.
//
// Threading: submit() and drain() from any thread; `done` callbacks run on the sync thread, in order.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/result.hpp"
#include "storage/log.hpp"

namespace herald::engine {

class BackgroundSync {
public:
    using Done = std::function<void(Result<void>)>;

    BackgroundSync();
    // Runs what is still queued, then joins the thread.
    ~BackgroundSync();
    BackgroundSync(const BackgroundSync&) = delete;
    BackgroundSync& operator=(const BackgroundSync&) = delete;

    // Queues `job`; `done` gets its result (on the sync thread) once it ran.
    void submit(storage::PreparedSync job, Done done);
    // Returns once every job submitted before the call has run and its `done` returned.
    void drain();
    std::uint64_t completed() const;

private:
    struct Job {
        storage::PreparedSync sync;
        Done done;
    };
    void run();

    mutable std::mutex mu_;
    std::condition_variable wake_;     // a job was queued, or stopping
    std::condition_variable drained_;  // a job finished
    std::deque<Job> jobs_;
    std::uint64_t submitted_ = 0;
    std::uint64_t completed_ = 0;
    bool stopping_ = false;
    std::thread thread_;  // last: started once the members above exist
};

}  // namespace herald::engine
