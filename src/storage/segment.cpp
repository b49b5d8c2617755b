#include "storage/segment.hpp"
#include "storage/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/crc32c.hpp"

namespace herald::storage {

namespace fs = std::filesystem;
using format::BatchHeader;
using format::IndexEntry;

// --- io ------------------------------------------------------------------------------------------

namespace io {

Error errno_error(int err, std::string_view what, const fs::path& path) {
    Errc code = (err == ENOSPC || err == EDQUOT) ? Errc::no_space : Errc::io_error;
    return make_error(code, std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

Result<std::size_t> pread_full(int fd, char* buf, std::size_t n, std::uint64_t pos,
                               const fs::path& path) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(pos + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno_error(errno, "cannot read", path);
        }
        if (r == 0) break;  // end of file
        done += static_cast<std::size_t>(r);
    }
    return done;
}

Result<void> pwrite_all(int fd, const char* buf, std::size_t n, std::uint64_t pos,
                        const fs::path& path) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::pwrite(fd, buf + done, n - done, static_cast<off_t>(pos + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno_error(errno, "cannot write", path);
        }
        // A zero-byte write of a non-empty buffer would loop forever; the kernel does not do that
        // for regular files, but treat it as the device being full rather than trusting that.
        if (r == 0) return errno_error(ENOSPC, "cannot write", path);
        done += static_cast<std::size_t>(r);
    }
    return ok();
}

Result<void> sync_fd(int fd, const fs::path& path) {
    // fdatasync is enough for data and for the file size (which is needed to read the data back).
    // No retry on EINTR-free failures: after a failed fsync the dirty pages may be gone, so the
    // caller must not pretend.
    while (::fdatasync(fd) != 0) {
        if (errno == EINTR) continue;
        return errno_error(errno, "cannot fsync", path);
    }
    return ok();
}

Result<std::uint64_t> file_size(int fd, const fs::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return errno_error(errno, "cannot stat", path);
    return static_cast<std::uint64_t>(st.st_size);
}

std::string segment_file_name(std::uint64_t base, std::string_view ext) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(base));
    std::string name(digits);
    name.append(ext);
    return name;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name, std::string_view ext) {
    if (name.size() != 20 + ext.size() || name.substr(20) != ext) return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 20; ++i) {
        char c = name[i];
        if (c < '0' || c > '9') return std::nullopt;
        auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;  // 20 digits can exceed 2^64
        v = v * 10 + d;
    }
    return v;
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
}

void UniqueFd::reset(int fd) {
    // close() errors are not actionable here: data durability is decided by the explicit fsyncs.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

}  // namespace io

// --- FileWindow ----------------------------------------------------------------------------------

Result<std::string_view> FileWindow::view(std::uint64_t pos, std::size_t n, std::uint64_t limit) {
    if (pos >= limit) return std::string_view{};
    std::uint64_t avail = limit - pos;
    if (n > avail) n = static_cast<std::size_t>(avail);
    if (pos >= start_ && pos + n <= start_ + len_) {
        return std::string_view(buf_.get() + (pos - start_), n);
    }
    std::size_t want = std::max(n, chunk_);
    if (want > avail) want = static_cast<std::size_t>(avail);
    if (want > capacity_) {
        buf_ = std::make_unique_for_overwrite<char[]>(want);
        capacity_ = want;
    }
    start_ = pos;
    len_ = 0;
    auto got = io::pread_full(fd_, buf_.get(), want, pos, path_);
    if (!got) return std::move(got).error();
    len_ = *got;
    return std::string_view(buf_.get(), std::min(n, len_));
}

// --- BatchScanner --------------------------------------------------------------------------------

BatchScanner::BatchScanner(int fd, const fs::path& path, std::uint64_t pos, std::uint64_t end,
                           std::uint64_t expected_base, bool verify_crc)
    : window_(fd, path, 1u << 20),
      next_pos_(pos),
      pos_(pos),
      end_(end),
      expected_base_(expected_base),
      verify_crc_(verify_crc) {}

Result<bool> BatchScanner::next() {
    if (reason_ != StopReason::none) return false;
    pos_ = next_pos_;
    bytes_ = {};
    auto stop = [&](StopReason r, std::string what) -> Result<bool> {
        reason_ = r;
        problem_ = std::move(what);
        return false;
    };
    if (pos_ >= end_) return stop(StopReason::end, {});
    auto head = window_.view(pos_, format::kBatchHeaderSize, end_);
    if (!head) return std::move(head).error();
    if (head->size() < format::kBatchHeaderSize) {
        // A partial header is torn only if what is there could be the start of a batch; otherwise
        // it is junk.
        bool magic_prefix =
            std::memcmp(head->data(), "HLB1", std::min<std::size_t>(4, head->size())) == 0;
        return stop(magic_prefix ? StopReason::torn : StopReason::invalid,
                    std::to_string(head->size()) + " bytes remain, too few for a batch header");
    }
    header_ = format::decode_header(head->data());
    if (auto bad = format::check_header(header_)) return stop(StopReason::invalid, *bad);
    if (header_.base_offset != expected_base_) {
        return stop(StopReason::invalid, "base offset " + std::to_string(header_.base_offset) +
                                             ", expected " + std::to_string(expected_base_));
    }
    if (header_.length > end_ - pos_) {
        return stop(StopReason::torn, "batch of " + std::to_string(header_.length) +
                                          " bytes runs past the end (" +
                                          std::to_string(end_ - pos_) + " bytes remain)");
    }
    auto whole = window_.view(pos_, header_.length, end_);
    if (!whole) return std::move(whole).error();
    if (whole->size() < header_.length) {
        return stop(StopReason::torn, "the file ended while reading the batch");
    }
    if (verify_crc_) {
        std::uint32_t crc = crc32c_extend(0, whole->data() + format::kCrcCoverageStart,
                                          header_.length - format::kCrcCoverageStart);
        if (crc != header_.crc) return stop(StopReason::invalid, "CRC mismatch");
    }
    if (auto bad = format::check_records(*whole, header_.record_count)) {
        return stop(StopReason::invalid, *bad);
    }
    bytes_ = *whole;
    next_pos_ = pos_ + header_.length;
    expected_base_ = header_.end_offset();
    return true;
}

// --- Segment -------------------------------------------------------------------------------------

Segment::Segment(const fs::path& dir, std::uint64_t base)
    : base_(base),
      log_path_(dir / io::segment_file_name(base, ".log")),
      index_path_(dir / io::segment_file_name(base, ".index")),
      end_offset_(base) {}

Result<std::shared_ptr<Segment>> Segment::create(const fs::path& dir, std::uint64_t base) {
    std::shared_ptr<Segment> seg(new Segment(dir, base));
    // O_EXCL: a file at the new base means the directory is not what we think; never overwrite.
    int fd = ::open(seg->log_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io::errno_error(errno, "cannot create", seg->log_path_);
    seg->fd_.reset(fd);
    // A stale index of that name (an interrupted retention) describes another file: truncate it.
    int ifd = ::open(seg->index_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ifd < 0) {
        auto err = io::errno_error(errno, "cannot create", seg->index_path_);
        ::unlink(seg->log_path_.c_str());
        return err;
    }
    seg->index_fd_.reset(ifd);
    return seg;
}

Result<std::shared_ptr<Segment>> Segment::open(const fs::path& dir, std::uint64_t base, bool active,
                                               std::uint32_t index_interval, SegmentRecovery& out) {
    std::shared_ptr<Segment> seg(new Segment(dir, base));
    int fd = ::open(seg->log_path_.c_str(), (active ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return io::errno_error(errno, "cannot open", seg->log_path_);
    seg->fd_.reset(fd);
    auto recovered = seg->recover(active, index_interval, out);
    if (!recovered) return std::move(recovered).error();
    seg->publish(seg->size_);
    return seg;
}

Result<std::vector<IndexEntry>> Segment::load_index_file(std::uint64_t max_entries,
                                                         bool& existed) const {
    std::vector<IndexEntry> entries;
    existed = false;
    io::UniqueFd fd(::open(index_path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return entries;
        return io::errno_error(errno, "cannot open", index_path_);
    }
    existed = true;
    auto size = io::file_size(fd.get(), index_path_);
    if (!size) return std::move(size).error();
    // A trailing partial entry (torn append) is simply not an entry. No segment can use more
    // entries than it has room for batches, so a (damaged) huge index file is not read beyond that.
    std::size_t n =
        static_cast<std::size_t>(std::min(*size / format::kIndexEntrySize, max_entries));
    std::string raw(n * format::kIndexEntrySize, '\0');
    auto got = io::pread_full(fd.get(), raw.data(), raw.size(), 0, index_path_);
    if (!got) return std::move(got).error();
    n = *got / format::kIndexEntrySize;
    entries.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const char* p = raw.data() + i * format::kIndexEntrySize;
        entries.push_back(IndexEntry{format::load_u32(p), format::load_u32(p + 4)});
    }
    // An impossible entry, so the file compares unequal to any valid index and gets rewritten.
    if (*size != n * format::kIndexEntrySize) entries.push_back(IndexEntry{0, 0});
    return entries;
}

bool Segment::entry_due(std::uint64_t pos, std::uint32_t interval) const {
    return pos > last_index_pos_ && pos - last_index_pos_ >= std::max<std::uint32_t>(interval, 1);
}

Result<void> Segment::recover(bool active, std::uint32_t index_interval, SegmentRecovery& out) {
    auto size = io::file_size(fd_.get(), log_path_);
    if (!size) return std::move(size).error();
    const std::uint64_t file_size = *size;
    const std::string name = log_path_.filename().string();

    bool index_existed = false;
    auto loaded = load_index_file(file_size / format::kMinBatchBytes, index_existed);
    if (!loaded) return std::move(loaded).error();
    const std::vector<IndexEntry> on_disk = *loaded;

    // Keep the prefix of entries that is plausible on its face: strictly increasing, past the
    // implicit (0, 0), and pointing inside the file with room for a batch.
    std::vector<IndexEntry> entries;
    for (const auto& e : on_disk) {
        IndexEntry prev = entries.empty() ? IndexEntry{0, 0} : entries.back();
        if (e.relative_offset <= prev.relative_offset || e.position <= prev.position) break;
        if (e.position + format::kMinBatchBytes > file_size) break;
        entries.push_back(e);
    }
    // The scan starts at the last entry whose position really holds a batch header with the offset
    // it claims; entries that do not are dropped (the index is only an accelerator).
    FileWindow probe(fd_.get(), log_path_, format::kBatchHeaderSize);
    while (!entries.empty()) {
        const auto& e = entries.back();
        auto head = probe.view(e.position, format::kBatchHeaderSize, file_size);
        if (!head) return std::move(head).error();
        if (head->size() == format::kBatchHeaderSize) {
            auto h = format::decode_header(head->data());
            if (!format::check_header(h) && h.base_offset == base_ + e.relative_offset) break;
        }
        entries.pop_back();
    }
    // Active segments are the end of the log, where a crash tears writes: verify CRCs there.
    // Closed segments are trusted structurally (their tail is scanned only to learn their last
    // offset and timestamp).
    //
    // Only the tail from the starting entry on is checked; the bytes before it are trusted. When
    // nothing is good from the starting entry on, its batch is cut and the entry dropped, so the
    // next open would start from an earlier entry and check from there: do that now, by scanning
    // again from the entry before. Trusting those batches instead would make records readable that
    // the next open cuts (found by the log_recovery fuzz target).
    std::uint64_t start_pos = 0;
    std::uint64_t valid_end = 0;
    std::string problem;
    for (;;) {
        start_pos = entries.empty() ? 0 : entries.back().position;
        const std::uint64_t start_offset =
            entries.empty() ? base_ : base_ + entries.back().relative_offset;
        last_index_pos_ = start_pos;
        BatchScanner scan(fd_.get(), log_path_, start_pos, file_size, start_offset, active);
        valid_end = start_pos;
        for (;;) {
            auto more = scan.next();
            if (!more) return std::move(more).error();
            if (!*more) break;
            std::uint64_t rel = scan.header().base_offset - base_;
            if (entry_due(scan.position(), index_interval) && scan.position() <= UINT32_MAX &&
                rel <= UINT32_MAX) {
                entries.push_back(IndexEntry{static_cast<std::uint32_t>(rel),
                                             static_cast<std::uint32_t>(scan.position())});
                last_index_pos_ = scan.position();
            }
            last_timestamp_ms_ = scan.header().timestamp_ms;
            valid_end = scan.position() + scan.header().length;
        }
        end_offset_ = scan.expected_base();
        problem = scan.problem();
        if (valid_end > start_pos || start_pos == 0) break;
        entries.pop_back();  // nothing was added: the scan found no good batch
    }
    size_ = valid_end;

    if (valid_end < file_size) {
        std::string why = problem.empty() ? "unreadable bytes" : problem;
        if (active) {
            if (::ftruncate(fd_.get(), static_cast<off_t>(valid_end)) != 0) {
                return io::errno_error(errno, "cannot truncate", log_path_);
            }
            auto synced = io::sync_fd(fd_.get(), log_path_);
            if (!synced) return synced;
            out.truncated_bytes += file_size - valid_end;
            out.notes.push_back("Cut " + std::to_string(file_size - valid_end) +
                                " bytes from the end of " + name + " at byte " +
                                std::to_string(valid_end) + " (" + why + ").");
        } else {
            out.hidden_bytes += file_size - valid_end;
            out.notes.push_back("Ignored " + std::to_string(file_size - valid_end) +
                                " bad bytes at the end of " + "closed segment " + name +
                                " from byte " + std::to_string(valid_end) + " (" + why +
                                "); left in place for inspection.");
        }
    }
    // Entries at or past the valid end point at nothing (e.g. the starting entry, if its batch was
    // the bad one).
    while (!entries.empty() && entries.back().position >= valid_end) entries.pop_back();
    last_index_pos_ = entries.empty() ? 0 : entries.back().position;

    {
        std::lock_guard lock(index_mu_);
        index_ = entries;
    }
    if (entries != on_disk || !index_existed) {
        auto written = write_index_file(on_disk);
        if (!written) return written;
        // Entries merely added for the scanned tail are routine after a crash; anything else is
        // worth a sentence in the report.
        bool extended = on_disk.size() <= entries.size() &&
                        std::equal(on_disk.begin(), on_disk.end(), entries.begin());
        if (!index_existed) {
            out.notes.push_back("Rebuilt the missing index of " + name + ".");
        } else if (!extended) {
            out.notes.push_back("Repaired the index of " + name + ".");
        }
    }
    if (active) {
        int ifd = ::open(index_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (ifd < 0) return io::errno_error(errno, "cannot open", index_path_);
        index_fd_.reset(ifd);
    }
    return ok();
}

Result<void> Segment::write_index_file(const std::vector<IndexEntry>& old_entries) {
    // Rewrite from the first entry that differs; the common case (an active segment whose tail
    // entries were appended but not yet indexed on disk) writes only the new entries.
    std::size_t first = 0;
    while (first < index_.size() && first < old_entries.size() &&
           index_[first] == old_entries[first]) {
        ++first;
    }
    int ifd = ::open(index_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (ifd < 0) return io::errno_error(errno, "cannot open", index_path_);
    io::UniqueFd fd(ifd);
    std::string raw((index_.size() - first) * format::kIndexEntrySize, '\0');
    for (std::size_t i = first; i < index_.size(); ++i) {
        char* p = raw.data() + (i - first) * format::kIndexEntrySize;
        format::store_u32(p, index_[i].relative_offset);
        format::store_u32(p + 4, index_[i].position);
    }
    auto written = io::pwrite_all(fd.get(), raw.data(), raw.size(), first * format::kIndexEntrySize,
                                  index_path_);
    if (!written) return written;
    if (::ftruncate(fd.get(), static_cast<off_t>(index_.size() * format::kIndexEntrySize)) != 0) {
        return io::errno_error(errno, "cannot truncate", index_path_);
    }
    auto synced = io::sync_fd(fd.get(), index_path_);
    return synced;
}

IndexEntry Segment::index_lookup(std::uint64_t offset) const {
    if (offset <= base_) return IndexEntry{0, 0};
    std::uint64_t rel = offset - base_;
    std::lock_guard lock(index_mu_);
    auto it = std::upper_bound(
        index_.begin(), index_.end(), rel,
        [](std::uint64_t r, const IndexEntry& e) { return r < e.relative_offset; });
    if (it == index_.begin()) return IndexEntry{0, 0};
    return *std::prev(it);
}

Result<void> Segment::read(std::uint64_t from, std::uint64_t end, ReadState& state,
                           std::vector<Record>& out) const {
    const std::uint64_t limit = visible_bytes();
    IndexEntry entry = index_lookup(from);
    std::uint64_t pos = entry.position;
    std::uint64_t expected = base_ + entry.relative_offset;
    bool via_index = pos != 0;
    // Reads are usually small pages near the end of the log: a modest window (grown for a large
    // batch).
    FileWindow window(fd_.get(), log_path_, 64u << 10);

    while (pos < limit && expected < end) {
        auto head = window.view(pos, format::kBatchHeaderSize, limit);
        if (!head) return std::move(head).error();
        std::optional<std::string> bad;
        BatchHeader h;
        if (head->size() < format::kBatchHeaderSize) {
            bad = "a batch header runs past the visible data";
        } else {
            h = format::decode_header(head->data());
            bad = format::check_header(h);
            if (!bad && h.base_offset != expected) {
                bad = "base offset " + std::to_string(h.base_offset) + ", expected " +
                      std::to_string(expected);
            } else if (!bad && h.length > limit - pos) {
                bad = "the batch runs past the visible data";
            }
        }
        if (bad) {
            if (via_index) {
                // A stale or damaged index entry: the batches chain from the start of the segment,
                // so walk them.
                via_index = false;
                pos = 0;
                expected = base_;
                continue;
            }
            return make_error(Errc::corrupt,
                              log_path_.string() + " at byte " + std::to_string(pos) + ": " + *bad);
        }
        via_index = false;
        if (h.end_offset() <= from) {
            // Wholly before the wanted offset: skip it without reading the body.
            pos += h.length;
            expected = h.end_offset();
            continue;
        }
        auto whole = window.view(pos, h.length, limit);
        if (!whole) return std::move(whole).error();
        if (whole->size() < h.length) {
            return make_error(Errc::corrupt, log_path_.string() + " at byte " +
                                                 std::to_string(pos) +
                                                 ": the file is shorter than its visible data");
        }
        const char* p = whole->data() + format::kBatchHeaderSize;
        const char* stop = whole->data() + h.length;
        for (std::uint32_t i = 0; i < h.record_count; ++i) {
            std::uint64_t offset = h.base_offset + i;
            std::size_t len = 0;
            bool fits = stop - p >= static_cast<std::ptrdiff_t>(format::kRecordOverhead);
            if (fits) {
                len = format::load_u32(p);
                p += format::kRecordOverhead;
                fits = len <= static_cast<std::size_t>(stop - p);
            }
            if (!fits) {
                return make_error(Errc::corrupt, log_path_.string() + " at byte " +
                                                     std::to_string(pos) + ": record " +
                                                     std::to_string(i) + " runs past its batch");
            }
            if (offset >= end) return ok();
            if (offset >= from) {
                if (out.size() >= state.max_records ||
                    (!out.empty() && state.bytes + len > state.max_bytes)) {
                    state.full = true;
                    return ok();
                }
                out.push_back(Record{offset, h.timestamp_ms, std::string(p, len)});
                state.bytes += len;
            }
            p += len;
        }
        pos += h.length;
        expected = h.end_offset();
    }
    return ok();
}

Result<void> Segment::append(std::string_view batch, std::uint64_t base_offset,
                             std::uint32_t record_count, std::int64_t timestamp_ms,
                             std::uint32_t index_interval) {
    if (broken_) {
        return make_error(Errc::io_error,
                          log_path_.string() + " is unusable after a failed rollback");
    }
    const std::uint64_t pos = size_;
    const bool index_due = entry_due(pos, index_interval);

    auto cut_back = [&](Error err) -> Result<void> {
        // The log must stay a sequence of whole batches: cut any partial write off. If even that
        // fails the file ends in garbage we cannot remove, so refuse further writes (reopening
        // recovers by truncation).
        if (::ftruncate(fd_.get(), static_cast<off_t>(pos)) != 0) broken_ = true;
        return err;
    };

    auto written = io::pwrite_all(fd_.get(), batch.data(), batch.size(), pos, log_path_);
    if (!written) return cut_back(std::move(written).error());

    if (index_due && index_fd_) {
        IndexEntry e{static_cast<std::uint32_t>(base_offset - base_),
                     static_cast<std::uint32_t>(pos)};
        char raw[format::kIndexEntrySize];
        format::store_u32(raw, e.relative_offset);
        format::store_u32(raw + 4, e.position);
        const std::uint64_t index_pos = index_.size() * format::kIndexEntrySize;
        auto indexed = io::pwrite_all(index_fd_.get(), raw, sizeof raw, index_pos, index_path_);
        if (!indexed) {
            // Keep the index file a whole number of entries so later appends stay aligned.
            if (::ftruncate(index_fd_.get(), static_cast<off_t>(index_pos)) != 0) broken_ = true;
            return cut_back(std::move(indexed).error());
        }
        std::lock_guard lock(index_mu_);
        index_.push_back(e);
    }
    if (index_due) last_index_pos_ = pos;
    size_ = pos + batch.size();
    end_offset_ = base_offset + record_count;
    last_timestamp_ms_ = timestamp_ms;
    return ok();
}

Result<void> Segment::sync() {
    auto synced = io::sync_fd(fd_.get(), log_path_);
    if (!synced) return synced;
    if (index_fd_) return io::sync_fd(index_fd_.get(), index_path_);
    return ok();
}

Result<void> Segment::dup_for_sync(PreparedSync& into) const {
    for (const auto* held : {&fd_, &index_fd_}) {
        if (!*held) continue;
        const int fd = ::fcntl(held->get(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return io::errno_error(errno, "cannot duplicate the descriptor of", held == &fd_ ? log_path_ : index_path_);
        into.add_fd(fd, held == &fd_ ? log_path_ : index_path_);
    }
    return ok();
}

Result<void> Segment::sync_index() {
    // On Linux fsync flushes the file's dirty pages whichever descriptor asks: a fresh one does.
    io::UniqueFd fd(::open(index_path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return ok();
        return io::errno_error(errno, "cannot open", index_path_);
    }
    return io::sync_fd(fd.get(), index_path_);
}

Result<void> Segment::remove_log_file() {
    if (::unlink(log_path_.c_str()) != 0 && errno != ENOENT) {
        return io::errno_error(errno, "cannot delete", log_path_);
    }
    return ok();
}

Result<void> Segment::remove_index_file() {
    if (::unlink(index_path_.c_str()) != 0 && errno != ENOENT) {
        return io::errno_error(errno, "cannot delete", index_path_);
    }
    return ok();
}

}  // namespace herald::storage
