#include "storage/log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "base/crc32c.hpp"
#include "base/uuid.hpp"
#include "storage/format.hpp"
#include "storage/segment.hpp"

namespace herald::storage {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEpochFile = "epoch";
constexpr const char* kEpochTempFile = "epoch.tmp";

Error unexpected(const fs::path& dir, const char* what, const std::exception& e) {
    return make_error(Errc::io_error, std::string(what) + " " + dir.string() + ": " + e.what());
}

// The epoch in `dir`, or nothing when the file does not exist. A file that exists but is not a
// valid epoch is Errc::corrupt: guessing would risk accepting cursors of another topic incarnation.
Result<std::optional<std::uint64_t>> read_epoch(const fs::path& dir) {
    const fs::path path = dir / kEpochFile;
    io::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::optional<std::uint64_t>{};
        return io::errno_error(errno, "cannot open", path);
    }
    char buf[64];
    auto got = io::pread_full(fd.get(), buf, sizeof buf, 0, path);
    if (!got) return std::move(got).error();
    auto epoch = format::decode_epoch(std::string_view(buf, *got));
    if (!epoch) {
        return make_error(
            Errc::corrupt,
            "epoch file " + path.string() + " is malformed (expected 16 hex digits and a newline)");
    }
    return std::optional<std::uint64_t>(*epoch);
}

// Writes the epoch atomically: a reader (or a crash) sees either no epoch file or the whole of it.
Result<void> write_epoch(int dir_fd, const fs::path& dir, std::uint64_t epoch) {
    const fs::path tmp = dir / kEpochTempFile;
    const fs::path path = dir / kEpochFile;
    io::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return io::errno_error(errno, "cannot create", tmp);
    std::string text = format::encode_epoch(epoch);
    auto written = io::pwrite_all(fd.get(), text.data(), text.size(), 0, tmp);
    if (!written) return written;
    auto synced = io::sync_fd(fd.get(), tmp);
    if (!synced) return synced;
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return io::errno_error(errno, "cannot rename", tmp);
    }
    return io::sync_fd(dir_fd, dir);
}

// The disk implementation of Log.
//
// Threading: one writer thread calls append/sync/make_visible/apply_retention; any thread calls
// read and the offset getters. The segment list is guarded by segments_mu_: the writer takes it
// exclusively only to add (roll) or remove (retention) a segment, readers take it shared just long
// enough to copy one shared_ptr. The writer reads the list without the lock (it is the only one
// that changes it). visible_end_ is the publication point: make_visible first publishes each newly
// visible batch's byte end into its segment, then release-stores visible_end_; a reader
// acquire-loads visible_end_ and so never reads a byte the writer has not finished.
//
// Ownership: the Log owns its segments through shared_ptr; a reader pins the segment it reads, so
// retention can unlink files under it (the open descriptor keeps the data readable). dir_fd_ holds
// an exclusive flock on the directory for the life of the Log so two Logs (or processes) never
// write one topic.
class DiskLog final : public Log {
public:
    DiskLog(fs::path dir, LogOptions options, io::UniqueFd dir_fd, std::uint64_t epoch,
            std::vector<std::shared_ptr<Segment>> segments)
        : dir_(std::move(dir)),
          options_(options),
          dir_fd_(std::move(dir_fd)),
          epoch_(epoch),
          segments_(std::move(segments)) {
        std::uint64_t total = 0;
        for (const auto& s : segments_) total += s->size();
        total_bytes_.store(total);
        start_offset_.store(segments_.front()->base_offset());
        written_end_.store(segments_.back()->end_offset());
        // Everything recovered is visible (each segment published its size when it was opened).
        visible_end_.store(segments_.back()->end_offset());
    }

    Result<std::uint64_t> append(std::span<const std::string_view> payloads,
                                 std::int64_t timestamp_ms) override;
    Result<void> sync() override;
    Result<PreparedSync> prepare_sync() override;
    void sync_failed(const Error& error) override;
    void make_visible(std::uint64_t end) override;
    Result<RetentionReport> apply_retention(std::int64_t now_ms) override;
    void set_options(LogOptions options) override { options_ = options; }
    LogOptions options() const override { return options_; }
    std::uint64_t written_end() const override {
        return written_end_.load(std::memory_order_relaxed);
    }
    std::uint64_t size_bytes() const override {
        return total_bytes_.load(std::memory_order_relaxed);
    }

    std::uint64_t epoch() const override { return epoch_; }
    std::uint64_t start_offset() const override {
        return start_offset_.load(std::memory_order_acquire);
    }
    std::uint64_t end_offset() const override {
        return visible_end_.load(std::memory_order_acquire);
    }
    Result<std::vector<Record>> read(std::uint64_t from, std::size_t max_records,
                                     std::size_t max_bytes) const override;

private:
    // A written batch readers may not see yet: make_visible publishes end_pos into its segment.
    struct Unpublished {
        std::uint64_t base_offset;
        std::shared_ptr<Segment> segment;
        std::uint64_t end_pos;
    };

    Result<std::uint64_t> append_impl(std::span<const std::string_view> payloads,
                                      std::int64_t timestamp_ms);
    Result<std::vector<Record>> read_impl(std::uint64_t from, std::size_t max_records,
                                          std::size_t max_bytes) const;
    Result<RetentionReport> retention_impl(std::int64_t now_ms);
    Result<void> roll();
    Error broken_error() const {
        return make_error(Errc::io_error, "log " + dir_.string() + " " + broken_);
    }

    const fs::path dir_;
    LogOptions options_;  // writer thread only (set_options is a writer-side call)
    const io::UniqueFd dir_fd_;
    const std::uint64_t epoch_;

    mutable std::shared_mutex segments_mu_;
    // By base offset; never empty; the last one is the active segment.
    std::vector<std::shared_ptr<Segment>> segments_;
    std::atomic<std::uint64_t> start_offset_{0};  // changed under segments_mu_ (exclusive)
    std::atomic<std::uint64_t> visible_end_{0};
    // Written by the writer only; atomic so a stats call from another thread is not a data race.
    std::atomic<std::uint64_t> written_end_{0};
    std::atomic<std::uint64_t> total_bytes_{0};

    // --- writer thread only ---
    // Reused (and never cleared) so a steady append rate does not allocate.
    std::unique_ptr<char[]> encode_buf_;
    std::size_t encode_capacity_ = 0;
    std::deque<Unpublished> unpublished_;
    std::vector<std::shared_ptr<Segment>> unsynced_;  // sealed by a roll since the last sync
    bool dir_dirty_ = false;  // a segment was created or deleted since the last sync
    // Why writes are refused (a failed fsync or rollback); empty while healthy.
    std::string broken_;
};

Result<std::uint64_t> DiskLog::append(std::span<const std::string_view> payloads,
                                      std::int64_t timestamp_ms) {
    try {
        return append_impl(payloads, timestamp_ms);
    } catch (const std::exception& e) {
        return unexpected(dir_, "cannot append to", e);
    }
}

Result<std::uint64_t> DiskLog::append_impl(std::span<const std::string_view> payloads,
                                           std::int64_t timestamp_ms) {
    if (!broken_.empty()) return broken_error();
    if (payloads.empty()) {
        return make_error(Errc::invalid_argument, "a batch needs at least one record");
    }
    std::size_t total = format::kBatchHeaderSize;
    for (auto p : payloads) {
        // Checked one by one so the sum cannot overflow before it is compared.
        if (p.size() > format::kMaxBatchBytes ||
            total + format::kRecordOverhead + p.size() > format::kMaxBatchBytes) {
            return make_error(
                Errc::payload_too_large,
                "a batch may hold at most " + std::to_string(format::kMaxBatchBytes) + " bytes");
        }
        total += format::kRecordOverhead + p.size();
    }
    // At most 16 Mi records: each takes at least 4 bytes of the 64 MiB.
    const auto count = static_cast<std::uint32_t>(payloads.size());
    const std::uint64_t base = written_end_.load(std::memory_order_relaxed);

    Segment* active = segments_.back().get();
    const std::uint64_t segment_bytes =
        std::clamp<std::uint64_t>(options_.segment_bytes, 1, format::kMaxSegmentBytes);
    // Index entries hold offsets relative to the segment base in a u32: roll before they overflow.
    const bool offsets_full = base + count - active->base_offset() > UINT32_MAX;
    if (!active->empty() && (active->size() + total > segment_bytes || offsets_full)) {
        auto rolled = roll();
        if (!rolled) return std::move(rolled).error();
        active = segments_.back().get();
    }

    // Encode the whole batch into one buffer so it reaches the file with one write.
    if (encode_capacity_ < total) {
        encode_buf_ = std::make_unique_for_overwrite<char[]>(total);
        encode_capacity_ = total;
    }
    char* buf = encode_buf_.get();
    format::BatchHeader h;
    h.magic = format::kBatchMagic;
    h.length = static_cast<std::uint32_t>(total);
    h.version = format::kBatchVersion;
    h.base_offset = base;
    h.record_count = count;
    h.timestamp_ms = timestamp_ms;
    format::encode_header(buf, h);
    char* p = buf + format::kBatchHeaderSize;
    for (auto payload : payloads) {
        format::store_u32(p, static_cast<std::uint32_t>(payload.size()));
        p += format::kRecordOverhead;
        if (!payload.empty()) std::memcpy(p, payload.data(), payload.size());
        p += payload.size();
    }
    format::store_u32(buf + format::kCrcOffset, crc32c_extend(0, buf + format::kCrcCoverageStart,
                                                              total - format::kCrcCoverageStart));

    auto written = active->append(std::string_view(buf, total), base, count, timestamp_ms,
                                  options_.index_interval_bytes);
    if (!written) {
        if (active->broken()) {
            broken_ = "refuses writes: a failed append could not be cut back; reopen it";
        }
        return std::move(written).error();
    }
    unpublished_.push_back(Unpublished{base, segments_.back(), active->size()});
    written_end_.store(base + count, std::memory_order_relaxed);
    total_bytes_.fetch_add(total, std::memory_order_relaxed);
    return base;
}

Result<void> DiskLog::roll() {
    auto created = Segment::create(dir_, written_end_.load(std::memory_order_relaxed));
    if (!created) return std::move(created).error();
    auto old = segments_.back();
    old->seal();
    unsynced_.push_back(old);
    {
        std::unique_lock lock(segments_mu_);
        segments_.push_back(std::move(*created));
    }
    dir_dirty_ = true;
    return ok();
}

Result<void> DiskLog::sync() {
    if (!broken_.empty()) return broken_error();
    // After a failed fsync the kernel may have dropped the dirty pages and a retry could report
    // success for data that is gone, so the log refuses writes from then on; reopening re-verifies
    // the tail.
    auto fail = [&](Error err) -> Result<void> {
        broken_ = "refuses writes after a failed fsync (" + err.message + "); reopen it";
        return err;
    };
    // Segments sealed by a roll since the last sync still hold unsynced data at their end.
    for (const auto& seg : unsynced_) {
        auto synced = seg->sync();
        if (!synced) return fail(std::move(synced).error());
        synced = seg->sync_index();
        if (!synced) return fail(std::move(synced).error());
    }
    unsynced_.clear();
    auto synced = segments_.back()->sync();
    if (!synced) return fail(std::move(synced).error());
    if (dir_dirty_) {
        synced = io::sync_fd(dir_fd_.get(), dir_);
        if (!synced) return fail(std::move(synced).error());
        dir_dirty_ = false;
    }
    return ok();
}

Result<PreparedSync> DiskLog::prepare_sync() {
    if (!broken_.empty()) return broken_error();
    // What sync() flushes, taken now: sealed segments' data and index, the active segment, the directory.
    PreparedSync job;
    for (const auto& seg : unsynced_) {
        if (auto d = seg->dup_for_sync(job); !d) return std::move(d).error();
        job.add_path(seg->index_path());
    }
    if (auto d = segments_.back()->dup_for_sync(job); !d) return std::move(d).error();
    if (dir_dirty_) {
        const int fd = ::fcntl(dir_fd_.get(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return io::errno_error(errno, "cannot duplicate the descriptor of", dir_);
        job.add_fd(fd, dir_);
    }
    // Handed over: a later failure comes back through sync_failed, which stops the log as sync() would.
    unsynced_.clear();
    dir_dirty_ = false;
    return job;
}

void DiskLog::sync_failed(const Error& error) {
    if (broken_.empty()) broken_ = "refuses writes after a failed fsync (" + error.message + "); reopen it";
}

void DiskLog::make_visible(std::uint64_t end) {
    end = std::min(end, written_end_.load(std::memory_order_relaxed));
    if (end <= visible_end_.load(std::memory_order_relaxed)) return;
    // Publish byte ends first: a reader that sees the new visible_end_ must also see the bytes
    // behind it.
    while (!unpublished_.empty() && unpublished_.front().base_offset < end) {
        unpublished_.front().segment->publish(unpublished_.front().end_pos);
        unpublished_.pop_front();
    }
    visible_end_.store(end, std::memory_order_release);
}

Result<RetentionReport> DiskLog::apply_retention(std::int64_t now_ms) {
    try {
        return retention_impl(now_ms);
    } catch (const std::exception& e) {
        return unexpected(dir_, "cannot apply retention to", e);
    }
}

Result<RetentionReport> DiskLog::retention_impl(std::int64_t now_ms) {
    RetentionReport report;
    std::optional<std::int64_t> cutoff;  // batches stamped before this are expired
    if (options_.retention_age) {
        std::int64_t age = std::max<std::int64_t>(0, options_.retention_age->count());
        cutoff = now_ms < INT64_MIN + age ? INT64_MIN : now_ms - age;
    }
    const std::uint64_t visible = visible_end_.load(std::memory_order_relaxed);
    // Only a prefix of closed segments goes, so the log never has a hole in the middle.
    while (segments_.size() > 1) {
        auto front = segments_.front();
        // Never delete data readers have not been allowed to see yet.
        if (front->end_offset() > visible) break;
        bool expired = cutoff && (front->empty() || front->last_timestamp_ms() < *cutoff);
        bool too_big = options_.retention_bytes &&
                       total_bytes_.load(std::memory_order_relaxed) > *options_.retention_bytes;
        if (!expired && !too_big) break;
        auto removed = front->remove_log_file();
        if (!removed) return std::move(removed).error();
        {
            std::unique_lock lock(segments_mu_);
            segments_.erase(segments_.begin());
            start_offset_.store(segments_.front()->base_offset(), std::memory_order_release);
        }
        dir_dirty_ = true;
        total_bytes_.fetch_sub(front->size(), std::memory_order_relaxed);
        ++report.segments_deleted;
        report.bytes_deleted += front->size();
        // The segment is already gone from the log; a stray index is removed by the next open.
        removed = front->remove_index_file();
        if (!removed) return std::move(removed).error();
    }
    report.new_start_offset = start_offset_.load(std::memory_order_relaxed);
    return report;
}

Result<std::vector<Record>> DiskLog::read(std::uint64_t from, std::size_t max_records,
                                          std::size_t max_bytes) const {
    try {
        return read_impl(from, max_records, max_bytes);
    } catch (const std::exception& e) {
        return unexpected(dir_, "cannot read", e);
    }
}

Result<std::vector<Record>> DiskLog::read_impl(std::uint64_t from, std::size_t max_records,
                                               std::size_t max_bytes) const {
    std::vector<Record> out;
    const std::uint64_t visible = visible_end_.load(std::memory_order_acquire);
    ReadState state{max_records, max_bytes};
    std::uint64_t cur = from;
    for (;;) {
        std::shared_ptr<Segment> seg;
        std::uint64_t next_base = UINT64_MAX;
        {
            std::shared_lock lock(segments_mu_);
            std::uint64_t start = start_offset_.load(std::memory_order_relaxed);
            if (cur < start) {
                // Retention may also overtake a read in progress; what was collected is still good.
                if (!out.empty()) break;
                return make_error(Errc::gone, "offset " + std::to_string(from) +
                                                  " was deleted by retention; " +
                                                  "the log now starts at " + std::to_string(start));
            }
            if (cur >= visible || max_records == 0) break;
            auto it = std::upper_bound(
                segments_.begin(), segments_.end(), cur,
                [](std::uint64_t o, const auto& s) { return o < s->base_offset(); });
            // cur >= start_offset (the first segment's base): some segment starts at or before it.
            seg = *std::prev(it);
            if (it != segments_.end()) next_base = (*it)->base_offset();
        }
        // No lock during the preads: the shared_ptr keeps the segment (and its descriptor) alive. A
        // later segment owns every offset from its base on, even if an earlier file (wrongly) runs
        // past it.
        auto r = seg->read(cur, std::min(visible, next_base), state, out);
        if (!r) return std::move(r).error();
        if (state.full || next_base >= visible) break;
        cur = next_base;
    }
    return out;
}

Result<std::unique_ptr<Log>> open_log(const fs::path& dir, LogOptions options,
                                      RecoveryReport* report) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return make_error(Errc::io_error,
                          "cannot create log directory " + dir.string() + ": " + ec.message());
    }
    io::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) return io::errno_error(errno, "cannot open log directory", dir);
    if (::flock(dir_fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return make_error(Errc::conflict, "log " + dir.string() +
                                                  " is already open (in this or another process)");
        }
        return io::errno_error(errno, "cannot lock log directory", dir);
    }

    std::vector<std::uint64_t> bases;
    std::set<std::uint64_t> index_bases;
    std::vector<std::string> notes;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (auto b = io::parse_segment_file_name(name, ".log")) {
            bases.push_back(*b);
        } else if (auto b = io::parse_segment_file_name(name, ".index")) {
            index_bases.insert(*b);
        } else if (name == kEpochTempFile) {
            // An epoch write that never reached its rename; the epoch file itself is whole.
            ::unlink(it->path().c_str());
        }
    }
    if (ec) {
        return make_error(Errc::io_error,
                          "cannot list log directory " + dir.string() + ": " + ec.message());
    }
    std::sort(bases.begin(), bases.end());

    auto epoch = read_epoch(dir);
    if (!epoch) return std::move(epoch).error();
    if (!*epoch) {
        std::uint64_t fresh = random_u64();
        auto written = write_epoch(dir_fd.get(), dir, fresh);
        if (!written) return std::move(written).error();
        if (!bases.empty()) {
            notes.push_back("The epoch file was missing; chose a new epoch, so cursors issued "
                            "before are answered with a reset.");
        }
        *epoch = fresh;
    }

    for (std::uint64_t b : index_bases) {
        if (std::binary_search(bases.begin(), bases.end(), b)) continue;
        // Left by a retention that stopped between its two unlinks.
        fs::path orphan = dir / io::segment_file_name(b, ".index");
        if (::unlink(orphan.c_str()) == 0) {
            notes.push_back("Removed orphan index " + orphan.filename().string() + ".");
        }
    }

    RecoveryReport rep;
    std::vector<std::shared_ptr<Segment>> segments;
    segments.reserve(bases.size() + 1);
    for (std::size_t i = 0; i < bases.size(); ++i) {
        SegmentRecovery rec;
        auto seg =
            Segment::open(dir, bases[i], i + 1 == bases.size(), options.index_interval_bytes, rec);
        if (!seg) return std::move(seg).error();
        rep.truncated_bytes += rec.truncated_bytes;
        notes.insert(notes.end(), rec.notes.begin(), rec.notes.end());
        if (!segments.empty()) {
            const auto& prev = *segments.back();
            std::uint64_t b = bases[i];
            if (prev.end_offset() < b) {
                notes.push_back("Offsets " + std::to_string(prev.end_offset()) + " to " +
                                std::to_string(b - 1) + " are missing between " +
                                prev.log_path().filename().string() + " and " +
                                (*seg)->log_path().filename().string() + "; reads skip them.");
            } else if (prev.end_offset() > b) {
                notes.push_back(
                    "Segment " + prev.log_path().filename().string() +
                    " runs past the base offset of " + (*seg)->log_path().filename().string() +
                    "; its records from offset " + std::to_string(b) + " on are ignored.");
            }
        }
        segments.push_back(std::move(*seg));
    }
    if (segments.empty()) {
        auto seg = Segment::create(dir, 0);
        if (!seg) return std::move(seg).error();
        segments.push_back(std::move(*seg));
    }
    // Make what was created or removed above (epoch, first segment, indexes) durable before use.
    auto synced = io::sync_fd(dir_fd.get(), dir);
    if (!synced) return std::move(synced).error();

    auto log =
        std::make_unique<DiskLog>(dir, options, std::move(dir_fd), **epoch, std::move(segments));
    if (report) {
        rep.segments = std::max<std::size_t>(bases.size(), 1);
        rep.start_offset = log->start_offset();
        rep.end_offset = log->end_offset();
        for (const auto& n : notes) {
            if (!rep.detail.empty()) rep.detail += ' ';
            rep.detail += n;
        }
        *report = std::move(rep);
    }
    return std::unique_ptr<Log>(std::move(log));
}

}  // namespace

Result<std::unique_ptr<Log>> Log::open(const std::filesystem::path& dir, LogOptions options,
                                       RecoveryReport* report) {
    try {
        return open_log(dir, options, report);
    } catch (const std::exception& e) {
        return unexpected(dir, "cannot open log", e);
    }
}

PreparedSync::PreparedSync(PreparedSync&& other) noexcept
    : fds_(std::move(other.fds_)), paths_(std::move(other.paths_)) {
    other.fds_.clear();
    other.paths_.clear();
}

PreparedSync& PreparedSync::operator=(PreparedSync&& other) noexcept {
    if (this != &other) {
        close_all();
        fds_ = std::move(other.fds_);
        paths_ = std::move(other.paths_);
        other.fds_.clear();
        other.paths_.clear();
    }
    return *this;
}

PreparedSync::~PreparedSync() { close_all(); }

void PreparedSync::add_fd(int fd, std::filesystem::path path) {
    try {
        fds_.push_back({fd, std::move(path)});
    } catch (...) {
        ::close(fd);
        throw;
    }
}

void PreparedSync::close_all() noexcept {
    for (auto& h : fds_) ::close(h.fd);
    fds_.clear();
}

Result<void> PreparedSync::run() {
    for (auto& h : fds_)
        if (auto synced = io::sync_fd(h.fd, h.path); !synced) return synced;
    for (auto& p : paths_) {
        // A sealed index, through a fresh descriptor (as Segment::sync_index); gone means retention took it.
        io::UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            if (errno == ENOENT) continue;
            return io::errno_error(errno, "cannot open", p);
        }
        if (auto synced = io::sync_fd(fd.get(), p); !synced) return synced;
    }
    return ok();
}

}  // namespace herald::storage
