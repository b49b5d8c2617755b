#include "engine/background_sync.hpp"

namespace herald::engine {

BackgroundSync::BackgroundSync() : thread_([this] { run(); }) {}

BackgroundSync::~BackgroundSync() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void BackgroundSync::submit(storage::PreparedSync job, Done done) {
    {
        std::lock_guard lock(mu_);
        jobs_.push_back(Job{std::move(job), std::move(done)});
        ++submitted_;
    }
    wake_.notify_one();
}

void BackgroundSync::drain() {
    std::unique_lock lock(mu_);
    const auto target = submitted_;
    drained_.wait(lock, [&] { return completed_ >= target; });
}

std::uint64_t BackgroundSync::completed() const {
    std::lock_guard lock(mu_);
    return completed_;
}

void BackgroundSync::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and nothing left
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        Result<void> result = job.sync.run();
        if (job.done) job.done(std::move(result));
        job = Job{};  // close the descriptors before counting the job done
        lock.lock();
        ++completed_;
        drained_.notify_all();
    }
}

}  // namespace herald::engine
