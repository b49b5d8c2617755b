// Fuzz target: recovery of the embedded log (storage::Log::open) from arbitrary segment and index
// bytes, then reads of everything it recovered, the offline verifier (storage::verify_log), a
// reopen and an append. This is the path a crash, a torn write or a damaged disk takes: it must
// never crash, hang or read out of bounds, only truncate or reject.
//
// Input layout, so seeds can be built from real segments (tests/fuzz/make_binary_seeds.py):
//   byte 0        flags
//                   0x01  an index file follows: u16 (little-endian) length, then its bytes
//                   0x02  two segments: u16 length of the first (closed, base 0) segment's bytes
//                         and u8 base of the second (active) segment (0 is taken as 1) come first
//                   0x04  index_interval_bytes = 64 (else 4096), so short logs get index entries
//                   0x08  no epoch file: open must create one
//                   0x10  the index belongs to the first segment instead of the last
//                   0x20  before writing, set the CRC of every batch in the chain from the start
//                         of each segment, so mutations of lengths, counts, offsets and records
//                         get past the checksum and reach the structural checks and the reads
//   [u16 first_len, u8 second_base]   with 0x02
//   [u16 index_len, index bytes]      with 0x01
//   rest          segment bytes (with 0x02: the first first_len bytes are the first segment's)
//
// Files go to a directory on tmpfs (/dev/shm when it exists) that each process creates once and
// empties before every input, so an execution costs a few system calls and no disk I/O. libFuzzer
// often ends with _Exit, which skips the removal at exit, so each start also removes the
// directories of processes that no longer exist.
//
// Invariants beyond "no crash, no sanitizer report, no timeout":
//  - open succeeds (recovery truncates or hides bad bytes; arbitrary bytes are not an open error);
//  - the active segment loses exactly the bytes the report says it truncated;
//  - reads return records in strictly increasing offsets within [start, end); with one segment and
//    no index given, every offset in [start, end) is readable and verify_log finds nothing wrong;
//  - a second open recovers nothing more and ends at the same offset (recovery is idempotent);
//  - the recovered log accepts an append at its end, and the record reads back.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/crc32c.hpp"
#include "fuzz_check.hpp"
#include "storage/log.hpp"

using namespace herald;
namespace fs = std::filesystem;

namespace {

// HERALD_FUZZ_VERBOSE=1 prints what each recovery did (for replaying a reproducer).
const bool verbose = std::getenv("HERALD_FUZZ_VERBOSE") != nullptr;

void print_report(const char* which, const storage::RecoveryReport& r) {
    if (!verbose) return;
    std::fprintf(stderr, "%s: segments %zu, offsets [%llu, %llu), truncated %llu bytes. %s\n",
                 which, r.segments, static_cast<unsigned long long>(r.start_offset),
                 static_cast<unsigned long long>(r.end_offset),
                 static_cast<unsigned long long>(r.truncated_bytes), r.detail.c_str());
}

// Directories of earlier runs whose process is gone (a crash, or an exit that skipped atexit).
void remove_stale_dirs(const fs::path& base) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(base, ec)) {
        const std::string name = entry.path().filename().string();
        const std::string prefix = "herald-fuzz-log-";
        if (name.rfind(prefix, 0) != 0) continue;
        const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
            fs::remove_all(entry.path(), ec);
        }
    }
}

const fs::path& work_dir() {
    static const fs::path dir = [] {
        fs::path base =
            fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        remove_stale_dirs(base);
        fs::path d = base / ("herald-fuzz-log-" + std::to_string(::getpid()));
        fs::remove_all(d);
        fs::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(work_dir(), ec);
        });
        return d;
    }();
    return dir;
}

std::string segment_name(std::uint64_t base, const char* ext) {
    std::string digits = std::to_string(base);
    return std::string(20 - digits.size(), '0') + digits + ext;
}

void write_file(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    HERALD_FUZZ_CHECK(out.good());
}

// Consumes a little-endian integer of `n` bytes; false when the input ends first.
bool take(std::string_view& in, int n, std::uint32_t& v) {
    if (in.size() < static_cast<std::size_t>(n)) return false;
    v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(n);
    return true;
}

std::uint32_t load_u32(const char* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

// Follows the batch chain from the start (magic "HLB1", a length that fits) and stores the CRC32C
// of bytes [8, length) of each batch at byte 4, as the writer does (storage/format.hpp).
std::string with_fixed_crcs(std::string_view segment) {
    std::string s(segment);
    std::size_t pos = 0;
    while (s.size() - pos >= 40 && s.compare(pos, 4, "HLB1") == 0) {
        const std::uint32_t length = load_u32(s.data() + pos + 8);
        if (length < 40 || length > s.size() - pos) break;
        const std::uint32_t crc = crc32c_extend(0, s.data() + pos + 8, length - 8);
        for (int i = 0; i < 4; ++i) s[pos + 4 + i] = static_cast<char>(crc >> (8 * i));
        pos += length;
    }
    return s;
}

struct ReadAll {
    bool failed = false;
    std::uint64_t records = 0;
    bool contiguous = true;
};

ReadAll read_everything(const storage::Log& log) {
    ReadAll r;
    const std::uint64_t start = log.start_offset();
    const std::uint64_t end = log.end_offset();
    std::uint64_t from = start;
    std::uint64_t expected = start;
    while (from < end) {
        auto batch = log.read(from, 64, 1 << 16);
        if (!batch) {
            HERALD_FUZZ_CHECK(batch.error().code == Errc::corrupt);
            HERALD_FUZZ_CHECK(!batch.error().message.empty());
            r.failed = true;
            return r;
        }
        if (batch->empty()) break;  // a gap up to the end (offsets missing between segments)
        HERALD_FUZZ_CHECK(batch->size() <= 64);
        for (const storage::Record& rec : *batch) {
            HERALD_FUZZ_CHECK(rec.offset >= from && rec.offset < end);
            if (rec.offset != expected) r.contiguous = false;
            expected = rec.offset + 1;
            from = rec.offset + 1;
            ++r.records;
        }
    }
    if (expected != end) r.contiguous = false;
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in = fuzz::as_text(data, size);
    std::uint32_t flags = 0;
    if (!take(in, 1, flags)) return 0;
    const bool two = (flags & 0x02) != 0;
    std::uint32_t first_len = 0;
    std::uint32_t second_base = 0;
    if (two && (!take(in, 2, first_len) || !take(in, 1, second_base))) return 0;
    if (second_base == 0) second_base = 1;
    std::string_view index;
    if (flags & 0x01) {
        std::uint32_t index_len = 0;
        if (!take(in, 2, index_len)) return 0;
        index = in.substr(0, index_len);
        in.remove_prefix(index.size());
    }
    std::string first(two ? in.substr(0, first_len) : std::string_view{});
    std::string last(two ? in.substr(first.size()) : in);
    if (flags & 0x20) {
        first = with_fixed_crcs(first);
        last = with_fixed_crcs(last);
    }
    const std::uint64_t last_base = two ? second_base : 0;

    const fs::path dir = work_dir() / "topic";
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (!(flags & 0x08)) write_file(dir / "epoch", "9f86d081884c7d65\n");
    if (two) write_file(dir / segment_name(0, ".log"), first);
    write_file(dir / segment_name(last_base, ".log"), last);
    if (flags & 0x01) {
        const std::uint64_t owner = (two && (flags & 0x10)) ? 0 : last_base;
        write_file(dir / segment_name(owner, ".index"), index);
    }

    storage::LogOptions options;
    options.index_interval_bytes = (flags & 0x04) ? 64 : 4096;
    const bool simple = !two && !(flags & 0x01);

    std::uint64_t end = 0;
    {
        storage::RecoveryReport report;
        auto log = storage::Log::open(dir, options, &report);
        if (!log) {
            std::fprintf(stderr, "open failed: %s\n", log.error().message.c_str());
        }
        HERALD_FUZZ_CHECK(log.has_value());
        print_report("first open", report);
        HERALD_FUZZ_CHECK(report.truncated_bytes <= last.size());
        HERALD_FUZZ_CHECK(fs::file_size(dir / segment_name(last_base, ".log")) ==
                          last.size() - report.truncated_bytes);
        HERALD_FUZZ_CHECK((*log)->start_offset() <= (*log)->end_offset());
        HERALD_FUZZ_CHECK((*log)->start_offset() == (two ? 0 : last_base));
        const ReadAll r = read_everything(**log);
        if (simple) {
            HERALD_FUZZ_CHECK(!r.failed);
            HERALD_FUZZ_CHECK(r.contiguous);
            HERALD_FUZZ_CHECK(r.records == (*log)->end_offset() - (*log)->start_offset());
        }
        end = (*log)->end_offset();
    }

    auto verified = storage::verify_log(dir);
    HERALD_FUZZ_CHECK(verified.has_value());
    if (simple) {
        for (const auto& p : verified->problems) std::fprintf(stderr, "verify: %s\n", p.c_str());
        HERALD_FUZZ_CHECK(verified->ok);
        HERALD_FUZZ_CHECK(verified->end_offset == end);
    }

    storage::RecoveryReport again;
    auto log = storage::Log::open(dir, options, &again);
    HERALD_FUZZ_CHECK(log.has_value());
    print_report("second open", again);
    HERALD_FUZZ_CHECK(again.truncated_bytes == 0);
    HERALD_FUZZ_CHECK((*log)->end_offset() == end);

    const std::string_view payload = "appended after recovery";
    auto appended = (*log)->append(std::span(&payload, 1), 1'700'000'000'000);
    HERALD_FUZZ_CHECK(appended.has_value());
    HERALD_FUZZ_CHECK(*appended == end);
    (*log)->make_visible(end + 1);
    auto back = (*log)->read(end, 1, 1 << 16);
    if (back) {
        HERALD_FUZZ_CHECK(back->size() == 1 && (*back)[0].offset == end &&
                          (*back)[0].payload == payload);
    } else {
        // Only a damaged index can make a read of the new record fail: it is structural damage the
        // read reports instead of skipping.
        HERALD_FUZZ_CHECK(!simple && back.error().code == Errc::corrupt);
    }
    return 0;
}
