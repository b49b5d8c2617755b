// Offline verification of a log directory (`herald log verify`). Read-only: opens every file
// O_RDONLY and never takes the directory lock, so it can also inspect the directory of a running
// server (whose newest batches may then show up as a torn tail).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "storage/format.hpp"
#include "storage/log.hpp"
#include "storage/segment.hpp"

namespace herald::storage {
namespace {

namespace fs = std::filesystem;

// Collects the problems of one file, keeping the report readable when a file is damaged everywhere.
class FileProblems {
public:
    FileProblems(std::vector<std::string>& out, std::string file)
        : out_(out), file_(std::move(file)) {}
    ~FileProblems() {
        if (dropped_ > 0) {
            out_.push_back(file_ + ": " + std::to_string(dropped_) + " more problems not listed.");
        }
    }
    void add(const std::string& what) {
        if (count_++ < kMaxPerFile) {
            out_.push_back(file_ + ": " + what + ".");
        } else {
            ++dropped_;
        }
    }
    void add_at(std::uint64_t pos, const std::string& what) {
        add("at byte " + std::to_string(pos) + ", " + what);
    }

private:
    static constexpr std::size_t kMaxPerFile = 20;
    std::vector<std::string>& out_;
    std::string file_;
    std::size_t count_ = 0;
    std::size_t dropped_ = 0;
};

void check_epoch(const fs::path& dir, std::vector<std::string>& problems) {
    const fs::path path = dir / "epoch";
    io::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        problems.push_back(errno == ENOENT
                               ? "epoch: the file is missing (open() would choose a new epoch and "
                                 "reset every cursor)."
                               : "epoch: cannot open: " + std::string(std::strerror(errno)) + ".");
        return;
    }
    char buf[64];
    auto got = io::pread_full(fd.get(), buf, sizeof buf, 0, path);
    if (!got) {
        problems.push_back("epoch: " + got.error().message + ".");
    } else if (!format::decode_epoch(std::string_view(buf, *got))) {
        problems.push_back(
            "epoch: malformed (expected 16 hex digits and a newline, not all zero).");
    }
}

// Index entries of one segment, in file order; `partial` when the file ends inside an entry.
struct IndexFile {
    bool exists = false;
    bool partial = false;
    std::vector<format::IndexEntry> entries;
    std::string error;
};

IndexFile load_index(const fs::path& path) {
    IndexFile f;
    io::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno != ENOENT) f.error = std::strerror(errno);
        return f;
    }
    f.exists = true;
    auto size = io::file_size(fd.get(), path);
    if (!size) {
        f.error = size.error().message;
        return f;
    }
    std::string raw(static_cast<std::size_t>(*size), '\0');
    auto got = io::pread_full(fd.get(), raw.data(), raw.size(), 0, path);
    if (!got) {
        f.error = got.error().message;
        return f;
    }
    std::size_t n = *got / format::kIndexEntrySize;
    f.partial = *got % format::kIndexEntrySize != 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char* p = raw.data() + i * format::kIndexEntrySize;
        f.entries.push_back(format::IndexEntry{format::load_u32(p), format::load_u32(p + 4)});
    }
    return f;
}

struct SegmentResult {
    std::uint64_t end_offset = 0;  // one past the last good record
    std::uint64_t batches = 0;
    std::uint64_t records = 0;
};

SegmentResult check_segment(const fs::path& dir, std::uint64_t base, bool last,
                            std::vector<std::string>& problems) {
    SegmentResult result{base, 0, 0};
    const fs::path log_path = dir / io::segment_file_name(base, ".log");
    const fs::path index_path = dir / io::segment_file_name(base, ".index");
    FileProblems log_problems(problems, log_path.filename().string());
    FileProblems index_problems(problems, index_path.filename().string());

    io::UniqueFd fd(::open(log_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        log_problems.add("cannot open: " + std::string(std::strerror(errno)));
        return result;
    }
    auto size = io::file_size(fd.get(), log_path);
    if (!size) {
        log_problems.add(size.error().message);
        return result;
    }
    if (*size > format::kMaxSegmentBytes + format::kMaxBatchBytes) {
        log_problems.add("the file is " + std::to_string(*size) +
                         " bytes, more than a segment can reach");
    }

    // Index entries, sorted and de-duplicated for the merge with the batches below; the ones out of
    // order are reported here.
    IndexFile index = load_index(index_path);
    std::vector<std::pair<format::IndexEntry, std::size_t>>
        entries;  // entry, its number in the file
    if (!index.error.empty()) {
        index_problems.add("cannot read: " + index.error);
    } else if (!index.exists) {
        if (*size > 0) index_problems.add("the file is missing (open() rebuilds it)");
    } else {
        if (index.partial) {
            index_problems.add("the file ends inside an entry (a torn index append)");
        }
        format::IndexEntry prev{0, 0};
        for (std::size_t i = 0; i < index.entries.size(); ++i) {
            const auto& e = index.entries[i];
            if (e.relative_offset <= prev.relative_offset || e.position <= prev.position) {
                index_problems.add("entry " + std::to_string(i) + " (offset +" +
                                   std::to_string(e.relative_offset) + ", byte " +
                                   std::to_string(e.position) +
                                   ") does not increase on the one before");
                continue;
            }
            entries.emplace_back(e, i);
            prev = e;
        }
    }

    BatchScanner scan(fd.get(), log_path, 0, *size, base, /*verify_crc=*/true);
    std::size_t next_entry = 0;
    for (;;) {
        auto more = scan.next();
        if (!more) {
            log_problems.add_at(scan.position(), more.error().message);
            break;
        }
        if (!*more) break;
        ++result.batches;
        result.records += scan.header().record_count;
        const std::uint64_t pos = scan.position();
        for (; next_entry < entries.size() && entries[next_entry].first.position <= pos;
             ++next_entry) {
            const auto& [e, i] = entries[next_entry];
            if (e.position < pos) {
                index_problems.add("entry " + std::to_string(i) + " points at byte " +
                                   std::to_string(e.position) +
                                   ", which is not the start of a batch");
            } else if (base + e.relative_offset != scan.header().base_offset) {
                index_problems.add("entry " + std::to_string(i) + " claims offset " +
                                   std::to_string(base + e.relative_offset) + " at byte " +
                                   std::to_string(pos) + " but the batch there starts at offset " +
                                   std::to_string(scan.header().base_offset));
            }
        }
    }
    result.end_offset = scan.expected_base();
    if (scan.reason() == BatchScanner::StopReason::torn ||
        scan.reason() == BatchScanner::StopReason::invalid) {
        std::uint64_t lost = *size - scan.position();
        std::string what =
            scan.problem() + "; the " + std::to_string(lost) + " bytes from here on are unreadable";
        if (last) {
            what += " (open() cuts them off)";
        } else {
            what += " (this is not the last segment, so these are lost records, not a torn write)";
        }
        log_problems.add_at(scan.position(), what);
    }
    for (; next_entry < entries.size(); ++next_entry) {
        const auto& [e, i] = entries[next_entry];
        index_problems.add("entry " + std::to_string(i) + " points at byte " +
                           std::to_string(e.position) + ", past the last good batch");
    }
    return result;
}

Result<VerifyReport> verify(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return make_error(Errc::not_found, "no log directory at " + dir.string());
    }
    VerifyReport report;
    std::vector<std::uint64_t> bases;
    std::vector<std::uint64_t> index_bases;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (auto b = io::parse_segment_file_name(name, ".log")) {
            bases.push_back(*b);
        } else if (auto b = io::parse_segment_file_name(name, ".index")) {
            index_bases.push_back(*b);
        } else if (name.ends_with(".log") || name.ends_with(".index")) {
            report.problems.push_back(
                name + ": not a segment name (20 decimal digits of base offset); ignored.");
        }
    }
    if (ec) {
        return make_error(Errc::io_error,
                          "cannot list log directory " + dir.string() + ": " + ec.message());
    }
    std::sort(bases.begin(), bases.end());

    check_epoch(dir, report.problems);
    for (std::uint64_t b : index_bases) {
        if (!std::binary_search(bases.begin(), bases.end(), b)) {
            report.problems.push_back(io::segment_file_name(b, ".index") +
                                      ": no segment of that base (an orphan; "
                                      "open() removes it).");
        }
    }

    report.segments = bases.size();
    report.start_offset = bases.empty() ? 0 : bases.front();
    std::optional<std::uint64_t> prev_end;
    std::string prev_name;
    for (std::size_t i = 0; i < bases.size(); ++i) {
        const std::string name = io::segment_file_name(bases[i], ".log");
        if (prev_end && *prev_end != bases[i]) {
            if (*prev_end < bases[i]) {
                report.problems.push_back(name + ": starts at offset " + std::to_string(bases[i]) +
                                          " but " + prev_name + " ends at offset " +
                                          std::to_string(*prev_end) + "; offsets " +
                                          std::to_string(*prev_end) + " to " +
                                          std::to_string(bases[i] - 1) + " are missing.");
            } else {
                report.problems.push_back(name + ": starts at offset " + std::to_string(bases[i]) +
                                          " but " + prev_name + " runs on to offset " +
                                          std::to_string(*prev_end) + "; the segments overlap.");
            }
        }
        SegmentResult seg = check_segment(dir, bases[i], i + 1 == bases.size(), report.problems);
        report.batches += seg.batches;
        report.records += seg.records;
        prev_end = seg.end_offset;
        prev_name = name;
    }
    report.end_offset = prev_end.value_or(report.start_offset);
    report.ok = report.problems.empty();
    return report;
}

}  // namespace

Result<VerifyReport> verify_log(const std::filesystem::path& dir) {
    try {
        return verify(dir);
    } catch (const std::exception& e) {
        return make_error(Errc::io_error, "cannot verify " + dir.string() + ": " + e.what());
    }
}

}  // namespace herald::storage
