#pragma once
// One segment of the log: `<base>.log` holding record batches and its sparse `<base>.index`, plus
// the building blocks recovery, reads and the offline verifier share (buffered pread, a validating
// batch scanner, file naming). Private to the storage module.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "storage/format.hpp"
#include "storage/log.hpp"

namespace herald::storage {

class PreparedSync;  // log.hpp

// --- system call helpers: every failure becomes an Error naming the file -------------------------
namespace io {

// ENOSPC and EDQUOT become Errc::no_space, everything else Errc::io_error.
Error errno_error(int err, std::string_view what, const std::filesystem::path& path);
// Reads up to n bytes at pos, retrying short reads and EINTR; fewer than n only at end of file.
Result<std::size_t> pread_full(int fd, char* buf, std::size_t n, std::uint64_t pos,
                               const std::filesystem::path& path);
// Writes all n bytes at pos, retrying short writes and EINTR.
Result<void> pwrite_all(int fd, const char* buf, std::size_t n, std::uint64_t pos,
                        const std::filesystem::path& path);
Result<void> sync_fd(int fd, const std::filesystem::path& path);
Result<std::uint64_t> file_size(int fd, const std::filesystem::path& path);

// `<20-digit zero-padded base>` + ext, e.g. 00000000000000000042.log.
std::string segment_file_name(std::uint64_t base, std::string_view ext);
// The base offset of a file named like segment_file_name(base, ext); nothing for any other name.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name, std::string_view ext);

// Closes the descriptor on destruction. Move-only.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

}  // namespace io

// A read-ahead window over one file: view(pos, n) answers from the buffer when it can and otherwise
// preads at least `chunk` bytes, so walking batch headers costs one syscall per chunk rather than
// one per batch. Not thread-safe; each reader makes its own.
class FileWindow {
public:
    FileWindow(int fd, const std::filesystem::path& path, std::size_t chunk)
        : fd_(fd), path_(path), chunk_(chunk) {}
    // The bytes [pos, pos + n) clipped to `limit` (and to the end of the file): shorter than n only
    // when the data ends first.
    Result<std::string_view> view(std::uint64_t pos, std::size_t n, std::uint64_t limit);

private:
    int fd_;
    const std::filesystem::path& path_;
    std::size_t chunk_;
    std::unique_ptr<char[]> buf_;
    std::size_t capacity_ = 0;
    std::uint64_t start_ = 0;  // file position of buf_[0]
    std::size_t len_ = 0;
};

// Walks batches forward from a position, checking each one's bounds, structure, offset continuity
// and (optionally) CRC before handing it out. Used by recovery (which truncates where it stops) and
// by verify_log (which reports where it stops). Safe on arbitrary bytes: a length is never trusted
// before it is bounded.
class BatchScanner {
public:
    enum class StopReason { none, end, torn, invalid };

    BatchScanner(int fd, const std::filesystem::path& path, std::uint64_t pos, std::uint64_t end,
                 std::uint64_t expected_base, bool verify_crc);

    // Advances to the next batch. True when a good batch was read (see header/position/bytes);
    // false at the end or at the first bad batch (see reason/problem/position). Errors are I/O
    // failures only.
    Result<bool> next();

    const format::BatchHeader& header() const { return header_; }
    // Of the current batch, or where the scan stopped.
    std::uint64_t position() const { return pos_; }
    std::string_view bytes() const { return bytes_; }  // the whole current batch
    // The offset the next batch must start at: one past the last good record so far.
    std::uint64_t expected_base() const { return expected_base_; }
    StopReason reason() const { return reason_; }
    const std::string& problem() const { return problem_; }

private:
    FileWindow window_;
    std::uint64_t next_pos_;
    std::uint64_t pos_;
    std::uint64_t end_;
    std::uint64_t expected_base_;
    bool verify_crc_;
    format::BatchHeader header_;
    std::string_view bytes_;
    StopReason reason_ = StopReason::none;
    std::string problem_;
};

// What opening one segment found and did.
struct SegmentRecovery {
    std::uint64_t truncated_bytes = 0;  // cut from the end of the file (active segment only)
    // Bad bytes at the end of a closed segment: ignored, but left in place.
    std::uint64_t hidden_bytes = 0;
    std::vector<std::string> notes;  // sentences for RecoveryReport::detail
};

// Limits and progress of one Log::read call across segments.
struct ReadState {
    std::size_t max_records = 0;
    std::size_t max_bytes = 0;
    std::size_t bytes = 0;
    bool full = false;
};

// A segment: its .log file (one descriptor, kept open for its whole life so readers can pread it
// even after retention unlinked it) and its in-memory sparse index, mirrored to the .index file
// while the segment is active.
//
// Threading and ownership: owned by shared_ptr; the Log holds one in its segment list and readers
// pin one for the duration of a read. The writer thread alone appends, syncs and recovers; readers
// call read() and index_lookup() concurrently with it. What readers touch is immutable (base,
// descriptor, path), atomic (visible_bytes_) or guarded by index_mu_ (the in-memory index).
// Everything else is the writer's.
class Segment {
public:
    // Creates the empty files of a new segment (the .log must not exist; a stale .index is cut).
    static Result<std::shared_ptr<Segment>> create(const std::filesystem::path& dir,
                                                   std::uint64_t base);
    // Opens an existing segment and recovers it (see recover()). `active` segments are opened
    // read-write, verified with CRCs from their last good index entry on and truncated at the first
    // bad batch; closed ones are opened read-only, checked structurally from their last good index
    // entry on, and a bad tail is hidden rather than cut (it is not the end of the log).
    static Result<std::shared_ptr<Segment>> open(const std::filesystem::path& dir,
                                                 std::uint64_t base, bool active,
                                                 std::uint32_t index_interval,
                                                 SegmentRecovery& out);
    ~Segment() = default;
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

    std::uint64_t base_offset() const { return base_; }
    const std::filesystem::path& log_path() const { return log_path_; }
    const std::filesystem::path& index_path() const { return index_path_; }

    // --- any thread ---
    // Appends the records of this segment with offsets in [from, end) to `out`, within the limits
    // of `state`. Reads only bytes below the visible size. Structural damage found on the way is
    // Errc::corrupt.
    Result<void> read(std::uint64_t from, std::uint64_t end, ReadState& state,
                      std::vector<Record>& out) const;
    // The last index entry at or before `offset` (the implicit (0, 0) when there is none).
    format::IndexEntry index_lookup(std::uint64_t offset) const;
    std::uint64_t visible_bytes() const { return visible_bytes_.load(std::memory_order_acquire); }

    // --- writer thread ---
    // Writes one encoded batch at the end with one write, then its index entry when one is due. On
    // failure the files are cut back to their previous sizes; if even that fails the segment is
    // broken() and must not be written again.
    Result<void> append(std::string_view batch, std::uint64_t base_offset,
                        std::uint32_t record_count, std::int64_t timestamp_ms,
                        std::uint32_t index_interval);
    // Readers may read up to this byte position (a batch boundary). Release store.
    void publish(std::uint64_t bytes) { visible_bytes_.store(bytes, std::memory_order_release); }
    // fdatasync of the log and, when it is still open, the index.
    Result<void> sync();
    // Duplicates of the descriptors sync() flushes (the log's, and the index's while it is open), for a
    // PreparedSync.
    Result<void> dup_for_sync(PreparedSync& into) const;
    // The segment stops being active: its index descriptor is closed (sync_index reopens the file
    // by path).
    void seal() { index_fd_.reset(); }
    // fdatasync of the index file of a sealed segment (through a fresh descriptor). A missing file
    // is fine.
    Result<void> sync_index();
    // Unlink the files (the log first: once it is gone the segment is gone). Readers that pinned
    // the segment keep reading the open descriptor.
    Result<void> remove_log_file();
    Result<void> remove_index_file();

    bool broken() const { return broken_; }
    std::uint64_t size() const { return size_; }
    // One past the last good record in the file.
    std::uint64_t end_offset() const { return end_offset_; }
    bool empty() const { return size_ == 0; }
    std::int64_t last_timestamp_ms() const { return last_timestamp_ms_; }  // INT64_MIN when empty

private:
    Segment(const std::filesystem::path& dir, std::uint64_t base);
    Result<void> recover(bool active, std::uint32_t index_interval, SegmentRecovery& out);
    Result<std::vector<format::IndexEntry>> load_index_file(std::uint64_t max_entries,
                                                            bool& existed) const;
    Result<void> write_index_file(const std::vector<format::IndexEntry>& old_entries);
    bool entry_due(std::uint64_t pos, std::uint32_t interval) const;

    const std::uint64_t base_;
    const std::filesystem::path log_path_;
    const std::filesystem::path index_path_;
    io::UniqueFd fd_;
    io::UniqueFd index_fd_;  // open while the segment is active

    mutable std::mutex index_mu_;
    // Guarded by index_mu_ (the writer, its only mutator, reads it without the lock).
    std::vector<format::IndexEntry> index_;

    std::atomic<std::uint64_t> visible_bytes_{0};

    std::uint64_t size_ = 0;
    std::uint64_t end_offset_;
    std::int64_t last_timestamp_ms_ = INT64_MIN;
    std::uint64_t last_index_pos_ = 0;
    bool broken_ = false;
};

}  // namespace herald::storage
