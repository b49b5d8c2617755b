#pragma once
// Where log lines go. A sink receives whole lines (newline included) and writes each with one write(2), so
// lines from different threads never interleave: appends to a regular file (O_APPEND) are atomic per write, and
// so are writes to a pipe up to PIPE_BUF (4 KiB) — longer lines to a pipe are the one case where the kernel may
// split them, which log lines of Herald's size do not reach in practice.
//
// Writes are synchronous on the calling thread: a log consumer that stops reading a pipe stalls the writers.
// That is the usual contract of stderr logging (systemd, Docker and Kubernetes all drain it); a file is never
// blocked that way.
//
// Threading: write() and problem() from any thread; reopen() from any thread (it swaps the descriptor with
// dup2, which is atomic with respect to concurrent writes).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.hpp"

namespace herald::log {

class Sink {
public:
    virtual ~Sink() = default;
    // Writes the line now (with anything a buffering sink still holds before it, in order).
    virtual void write(std::string_view line) noexcept = 0;
    // Writes the line now or soon: the access log's lines, which a BufferedSink gathers.
    virtual void write_deferred(std::string_view line) noexcept { write(line); }
    // Writes what is held back, if anything.
    virtual void flush() noexcept {}
    // Reopens the output (a rotated file); a no-op for stderr.
    virtual Result<void> reopen() { return ok(); }
    // Why the last write failed ("No space left on device"), or empty once a write succeeds again.
    virtual std::string problem() const { return {}; }
    // "stderr" or the file's path, for /admin/log/level and /config.
    virtual std::string description() const = 0;
    // Writes that failed since the start.
    virtual std::uint64_t write_errors() const noexcept { return 0; }
};

// A file descriptor: standard error, or a file opened for appending.
class FdSink final : public Sink {
public:
    static std::unique_ptr<FdSink> standard_error();
    // Creates the file if needed (mode 0640); Errc::io_error naming "log.output".
    static Result<std::unique_ptr<FdSink>> open_file(const std::filesystem::path& path);
    ~FdSink() override;

    void write(std::string_view line) noexcept override;
    Result<void> reopen() override;
    std::string problem() const override;
    std::string description() const override;
    std::uint64_t write_errors() const noexcept override { return errors_.load(std::memory_order_relaxed); }

    FdSink(int fd, std::filesystem::path path, bool owned) noexcept;

private:
    const int fd_;
    const std::filesystem::path path_;  // empty: standard error
    const bool owned_;
    std::atomic<int> last_errno_{0};
    std::atomic<std::uint64_t> errors_{0};
    std::mutex reopen_mutex_;  // one reopen at a time; writers never take it
};

// Gathers deferred lines (the access log) in memory and writes them in one write(2) when `limit` bytes are held
// or `interval` has passed since the first of them, whichever comes first — a system call per busy second rather
// than per request, as Envoy's and nginx's buffered access logs do. write() (application lines: warnings and
// errors must not wait) writes at once, after what is held, so the output keeps the order of the calls. A
// process killed with SIGKILL loses at most `interval` of access lines; a clean exit, reopen() and the destructor
// flush first.
//
// Threading: any thread. Appending takes a mutex; the write(2) happens under it too, so lines never reorder.
// A thread of its own flushes on time.
class BufferedSink final : public Sink {
public:
    BufferedSink(std::unique_ptr<Sink> inner, std::size_t limit, std::chrono::milliseconds interval);
    ~BufferedSink() override;
    BufferedSink(const BufferedSink&) = delete;
    BufferedSink& operator=(const BufferedSink&) = delete;

    void write(std::string_view line) noexcept override;
    void write_deferred(std::string_view line) noexcept override;
    void flush() noexcept override;
    Result<void> reopen() override;
    std::string problem() const override { return inner_->problem(); }
    std::string description() const override { return inner_->description(); }
    std::uint64_t write_errors() const noexcept override { return inner_->write_errors(); }

private:
    void flush_locked() noexcept;
    void run_flusher();

    const std::unique_ptr<Sink> inner_;
    const std::size_t limit_;
    const std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::string buffer_;
    bool stopping_ = false;
    std::thread flusher_;  // last: started once everything above exists
};

// Keeps lines in memory: for tests.
class MemorySink final : public Sink {
public:
    void write(std::string_view line) noexcept override;
    std::string description() const override { return "memory"; }
    std::vector<std::string> lines() const;
    void clear();

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace herald::log
