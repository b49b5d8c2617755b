#include "engine/background_sync.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace herald::engine {
namespace {

namespace fs = std::filesystem;

// A job flushing one freshly written temporary file.
storage::PreparedSync file_job(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, "x", 1), 1);
    storage::PreparedSync job;
    job.add_fd(fd, path);
    return job;
}

fs::path temp_file(const char* name) {
    return fs::temp_directory_path() / (std::string("herald-bgsync-") + name + "-" + std::to_string(::getpid()));
}

TEST(BackgroundSync, RunsJobsInOrderAndDrainWaitsForThem) {
    const auto path = temp_file("order");
    std::mutex mu;
    std::vector<int> order;
    {
        BackgroundSync sync;
        for (int i = 0; i < 20; ++i)
            sync.submit(file_job(path), [&, i](Result<void> r) {
                EXPECT_TRUE(r) << r.error().message;
                std::lock_guard lock(mu);
                order.push_back(i);
            });
        sync.drain();
        EXPECT_EQ(sync.completed(), 20u);
        std::lock_guard lock(mu);
        ASSERT_EQ(order.size(), 20u);
        for (int i = 0; i < 20; ++i) EXPECT_EQ(order[i], i);
    }
    fs::remove(path);
}

TEST(BackgroundSync, AFailedFlushIsReportedToItsJob) {
    // fdatasync of a pipe fails (EINVAL): a descriptor that cannot be flushed stands in for a failing disk.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    storage::PreparedSync job;
    job.add_fd(fds[0], "pipe");
    ::close(fds[1]);
    BackgroundSync sync;
    std::string error;
    sync.submit(std::move(job), [&](Result<void> r) {
        ASSERT_FALSE(r);
        error = r.error().message;
    });
    sync.drain();
    EXPECT_NE(error.find("pipe"), std::string::npos) << error;
}

TEST(BackgroundSync, DestructionRunsWhatIsStillQueued) {
    const auto path = temp_file("queued");
    int done = 0;
    {
        BackgroundSync sync;
        for (int i = 0; i < 5; ++i) sync.submit(file_job(path), [&](Result<void>) { ++done; });
    }
    EXPECT_EQ(done, 5);
    fs::remove(path);
}

TEST(BackgroundSync, AnEmptyJobSucceeds) {
    BackgroundSync sync;
    bool ok = false;
    sync.submit(storage::PreparedSync{}, [&](Result<void> r) { ok = static_cast<bool>(r); });
    sync.drain();
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace herald::engine
