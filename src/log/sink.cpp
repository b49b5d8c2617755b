#include "log/sink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace herald::log {

namespace {

int open_append(const std::filesystem::path& path) {
    return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

}  // namespace

FdSink::FdSink(int fd, std::filesystem::path path, bool owned) noexcept
    : fd_(fd), path_(std::move(path)), owned_(owned) {}

FdSink::~FdSink() {
    if (owned_) ::close(fd_);
}

std::unique_ptr<FdSink> FdSink::standard_error() { return std::make_unique<FdSink>(STDERR_FILENO, "", false); }

Result<std::unique_ptr<FdSink>> FdSink::open_file(const std::filesystem::path& path) {
    int fd = open_append(path);
    if (fd < 0)
        return make_error(Errc::io_error, "log.output: cannot open " + path.string() + ": " + std::strerror(errno),
                          "log.output");
    return std::make_unique<FdSink>(fd, path, true);
}

void FdSink::write(std::string_view line) noexcept {
    const char* p = line.data();
    std::size_t n = line.size();
    while (n > 0) {
        ssize_t w = ::write(fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            last_errno_.store(errno, std::memory_order_relaxed);
            errors_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    // Read before writing: the common case (no earlier failure) then never dirties the shared cache line.
    if (last_errno_.load(std::memory_order_relaxed) != 0) last_errno_.store(0, std::memory_order_relaxed);
}

Result<void> FdSink::reopen() {
    if (path_.empty()) return ok();
    std::lock_guard lock(reopen_mutex_);
    int fresh = open_append(path_);
    if (fresh < 0)
        return make_error(Errc::io_error, "cannot reopen " + path_.string() + ": " + std::strerror(errno), "log.output");
    // dup2 replaces the descriptor in one step: a concurrent write goes to the old file or the new, never nowhere.
    int r = ::dup2(fresh, fd_);
    int saved = errno;
    ::close(fresh);
    if (r < 0) return make_error(Errc::io_error, "cannot reopen " + path_.string() + ": " + std::strerror(saved), "log.output");
    return ok();
}

std::string FdSink::problem() const {
    int e = last_errno_.load(std::memory_order_relaxed);
    if (e == 0) return {};
    return "writing to " + description() + " failed: " + std::strerror(e);
}

std::string FdSink::description() const { return path_.empty() ? "stderr" : path_.string(); }

void MemorySink::write(std::string_view line) noexcept {
    try {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(line);
    } catch (...) {
    }
}

std::vector<std::string> MemorySink::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

void MemorySink::clear() {
    std::lock_guard lock(mutex_);
    lines_.clear();
}

BufferedSink::BufferedSink(std::unique_ptr<Sink> inner, std::size_t limit, std::chrono::milliseconds interval)
    : inner_(std::move(inner)), limit_(limit), interval_(interval) {
    buffer_.reserve(limit_ + 4096);
    flusher_ = std::thread([this] { run_flusher(); });
}

BufferedSink::~BufferedSink() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    flusher_.join();
    std::lock_guard lock(mutex_);
    flush_locked();
}

void BufferedSink::write(std::string_view line) noexcept {
    std::lock_guard lock(mutex_);
    flush_locked();
    inner_->write(line);
}

void BufferedSink::write_deferred(std::string_view line) noexcept {
    std::unique_lock lock(mutex_);
    const bool was_empty = buffer_.empty();
    try {
        buffer_.append(line);
    } catch (...) {
        // No memory for the buffer: write the line on its own rather than lose it.
        flush_locked();
        inner_->write(line);
        return;
    }
    if (buffer_.size() >= limit_) {
        flush_locked();
    } else if (was_empty) {
        lock.unlock();
        wake_.notify_one();  // the flusher starts timing this batch
    }
}

void BufferedSink::flush() noexcept {
    std::lock_guard lock(mutex_);
    flush_locked();
}

Result<void> BufferedSink::reopen() {
    std::lock_guard lock(mutex_);
    flush_locked();  // what was logged before the rotation goes to the old file
    return inner_->reopen();
}

void BufferedSink::flush_locked() noexcept {
    if (buffer_.empty()) return;
    inner_->write(buffer_);
    buffer_.clear();
}

void BufferedSink::run_flusher() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (buffer_.empty()) {
            wake_.wait(lock, [this] { return stopping_ || !buffer_.empty(); });
            continue;
        }
        // Something is held: write it `interval` after it started to wait (or earlier, when full or stopping).
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
        flush_locked();
    }
}

}  // namespace herald::log
