#pragma once
// The embedded append-only log of one topic (DESIGN.md §3.1): a directory of segments
// `<20-digit base offset>.log` with a sparse `<base>.index` beside each, plus an `epoch` file holding the
// topic's random epoch. The byte layout is in storage/format.hpp and docs/formats/log.md.
//
// Threading: exactly one writer thread calls append/sync/make_visible/apply_retention. Any number of threads
// call read/start_offset/end_offset/epoch concurrently with it; readers never see bytes past the visible end
// and never hold a lock during disk I/O (they pin a segment by shared_ptr and pread).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::storage {

struct LogOptions {
    std::uint64_t segment_bytes = 64ull << 20;     // roll to a new segment past this size
    std::uint32_t index_interval_bytes = 4096;     // one index entry per this many bytes of log
    std::optional<std::chrono::milliseconds> retention_age;  // delete segments whose newest record is older
    std::optional<std::uint64_t> retention_bytes;  // delete oldest segments while the total exceeds this
};

struct Record {
    std::uint64_t offset = 0;
    std::int64_t timestamp_ms = 0;  // append time of the batch it was written in
    std::string payload;
};

struct RecoveryReport {
    std::size_t segments = 0;
    std::uint64_t start_offset = 0;
    std::uint64_t end_offset = 0;
    std::uint64_t truncated_bytes = 0;  // bytes cut from the tail of the last segment (torn or corrupt)
    std::string detail;                 // human sentence on what recovery did; empty when nothing
};

struct RetentionReport {
    std::size_t segments_deleted = 0;
    std::uint64_t bytes_deleted = 0;
    std::uint64_t new_start_offset = 0;
};

// An fsync prepared on a log's writer thread and run on another (Log::prepare_sync). It holds duplicates of the
// descriptors to flush — a duplicate shares the open file's writeback-error state, so an error from before it
// runs is still reported, which a fresh descriptor would not do — and the paths of sealed index files, flushed
// through a fresh descriptor as sync() does. Move-only; closes its descriptors.
class PreparedSync {
public:
    PreparedSync() = default;
    PreparedSync(PreparedSync&& other) noexcept;
    PreparedSync& operator=(PreparedSync&& other) noexcept;
    PreparedSync(const PreparedSync&) = delete;
    PreparedSync& operator=(const PreparedSync&) = delete;
    ~PreparedSync();

    // fdatasync of everything held, in order; stops at the first failure.
    Result<void> run();
    bool empty() const noexcept { return fds_.empty() && paths_.empty(); }

    // Filled by the log.
    // Takes ownership of `fd` (closed even if recording it throws).
    void add_fd(int fd, std::filesystem::path path);
    void add_path(std::filesystem::path path) { paths_.push_back(std::move(path)); }

private:
    struct Held {
        int fd;
        std::filesystem::path path;
    };
    void close_all() noexcept;
    std::vector<Held> fds_;
    std::vector<std::filesystem::path> paths_;
};

class Log {
public:
    // Opens the log in `dir`, creating it (and a fresh random epoch) when absent. Recovers the tail of the last
    // segment: verifies CRCs from its last index entry on, truncates at the first invalid or torn batch,
    // rebuilds the index tail. Everything recovered is visible. The directory is locked (flock) while the Log
    // lives: a second open of it fails with Errc::conflict. Offsets missing between segments (a middle segment
    // deleted or damaged by hand) are skipped by reads and named in report->detail; verify_log reports them.
    static Result<std::unique_ptr<Log>> open(const std::filesystem::path& dir, LogOptions options,
                                             RecoveryReport* report = nullptr);
    virtual ~Log() = default;

    // --- writer thread only ---
    // Writes `payloads` as one batch (one write syscall) at the end of the log, rolling the segment first when
    // it is full. Returns the offset of the first payload. Written data is not yet visible to readers (see
    // make_visible) nor durable (see sync). On an I/O error (Errc::io_error or Errc::no_space) the log is
    // unchanged: a partial write is cut back so the next append starts at a clean boundary. An empty batch is
    // Errc::invalid_argument, one over 64 MiB encoded (format::kMaxBatchBytes) Errc::payload_too_large.
    virtual Result<std::uint64_t> append(std::span<const std::string_view> payloads, std::int64_t timestamp_ms) = 0;
    // fsync of the written data (and of the directory after a segment was created or deleted). After a failed
    // fsync the kernel may have dropped the unsynced pages, so the log then refuses append and sync with
    // Errc::io_error until it is reopened (recovery re-verifies the tail).
    virtual Result<void> sync() = 0;
    // The same fsync in two halves, so the writer can go on appending while the disk works (fsync: interval):
    // prepare_sync (writer thread) takes what sync() would flush, run() (any thread, once) flushes it, and a
    // failure must be handed back to sync_failed (writer thread), after which the log refuses writes as after a
    // failed sync(). Data appended after prepare_sync is not covered by that run.
    virtual Result<PreparedSync> prepare_sync() = 0;
    virtual void sync_failed(const Error& error) = 0;
    // Readers may now read every offset below `end` (end <= written end). Called after sync for fsync=always,
    // right after append otherwise.
    virtual void make_visible(std::uint64_t end) = 0;
    // Deletes whole closed segments per the retention options; never the active one.
    virtual Result<RetentionReport> apply_retention(std::int64_t now_ms) = 0;
    // Replaces the options of the open log (topic settings changed at run time): segment_bytes and
    // index_interval_bytes apply from the next append, retention from the next apply_retention. Nothing already
    // written is rewritten. Both writer thread only.
    virtual void set_options(LogOptions options) = 0;
    virtual LogOptions options() const = 0;
    // These two are also safe to call from other threads (for stats); they may lag the writer slightly.
    virtual std::uint64_t written_end() const = 0;
    virtual std::uint64_t size_bytes() const = 0;  // bytes of all .log files

    // --- any thread ---
    virtual std::uint64_t epoch() const = 0;
    virtual std::uint64_t start_offset() const = 0;  // first retained offset
    virtual std::uint64_t end_offset() const = 0;    // one past the last visible offset
    // Records with offset >= from, in order, at most max_records and about max_bytes of payload (at least one
    // record when any is available). `from` below start_offset: Errc::gone. `from` >= end_offset: empty.
    virtual Result<std::vector<Record>> read(std::uint64_t from, std::size_t max_records,
                                             std::size_t max_bytes) const = 0;
};

struct VerifyReport {
    bool ok = true;
    std::size_t segments = 0;
    std::uint64_t batches = 0;
    std::uint64_t records = 0;
    std::uint64_t start_offset = 0;
    std::uint64_t end_offset = 0;
    std::vector<std::string> problems;  // each a sentence naming the file, byte position and what is wrong
};

// Offline check of one topic directory: every batch of every segment (CRC, offsets contiguous across batches and
// segments, lengths), every index entry (points at a batch boundary with the offset it claims), the epoch file.
// Never modifies anything.
Result<VerifyReport> verify_log(const std::filesystem::path& dir);

}  // namespace herald::storage
