#include "storage/log.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace herald::storage {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = fs::temp_directory_path() /
                ("herald-log-" + std::string(info ? info->name() : "x") + "-" +
                 std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// Deterministic payload of a given offset, of varying length (0 to 40 bytes) and with binary bytes.
std::string payload_for(std::uint64_t offset) {
    std::string s = "p" + std::to_string(offset) + ":";
    std::size_t extra = (offset * 7) % 37;
    for (std::size_t i = 0; i < extra; ++i) {
        s.push_back(static_cast<char>((offset + i * 13) & 0xFF));
    }
    if (offset % 11 == 5) s.clear();  // empty payloads are legal
    return s;
}

std::unique_ptr<Log> open_log(const fs::path& dir, LogOptions options = {},
                              RecoveryReport* report = nullptr) {
    auto log = Log::open(dir, options, report);
    if (!log) {
        ADD_FAILURE() << "open failed: " << log.error().message;
        return nullptr;
    }
    return std::move(*log);
}

// Appends `count` records (payload_for their offsets) as one batch and makes them visible.
std::uint64_t append_batch(Log& log, std::size_t count, std::int64_t ts = 1000) {
    std::vector<std::string> data;
    for (std::size_t i = 0; i < count; ++i) data.push_back(payload_for(log.written_end() + i));
    std::vector<std::string_view> views(data.begin(), data.end());
    auto r = log.append(views, ts);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    log.make_visible(log.written_end());
    return r ? *r : UINT64_MAX;
}

std::vector<Record> read_all(const Log& log, std::uint64_t from, std::size_t page = 1000) {
    std::vector<Record> all;
    for (;;) {
        auto r = log.read(from, page, 1 << 20);
        if (!r) {
            ADD_FAILURE() << "read failed: " << r.error().message;
            return all;
        }
        if (r->empty()) return all;
        from = r->back().offset + 1;
        for (auto& rec : *r) all.push_back(std::move(rec));
    }
}

void expect_records(const std::vector<Record>& recs, std::uint64_t first, std::uint64_t end) {
    ASSERT_EQ(recs.size(), end - first);
    for (std::size_t i = 0; i < recs.size(); ++i) {
        ASSERT_EQ(recs[i].offset, first + i);
        ASSERT_EQ(recs[i].payload, payload_for(first + i)) << "offset " << first + i;
    }
}

std::size_t count_files(const fs::path& dir, const std::string& ext) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
    return n;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Log, AppendAndReadOneRecord) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->start_offset(), 0u);
    EXPECT_EQ(log->end_offset(), 0u);
    std::string_view one[] = {"hello"};
    auto off = log->append(one, 1234);
    ASSERT_TRUE(off);
    EXPECT_EQ(*off, 0u);
    EXPECT_EQ(log->written_end(), 1u);
    log->make_visible(1);
    EXPECT_EQ(log->end_offset(), 1u);
    auto recs = log->read(0, 10, 1 << 20);
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 1u);
    EXPECT_EQ((*recs)[0].offset, 0u);
    EXPECT_EQ((*recs)[0].timestamp_ms, 1234);
    EXPECT_EQ((*recs)[0].payload, "hello");
    EXPECT_GT(log->size_bytes(), 0u);
    EXPECT_TRUE(log->sync());
}

TEST(Log, AppendBatchesAndReadThemBack) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    std::uint64_t expected = 0;
    for (std::size_t n : {1, 5, 3, 100, 1, 17}) {
        EXPECT_EQ(append_batch(*log, n, static_cast<std::int64_t>(n)), expected);
        expected += n;
    }
    EXPECT_EQ(log->end_offset(), expected);
    expect_records(read_all(*log, 0), 0, expected);
    // A read at or past the end is empty, not an error.
    auto past = log->read(expected + 5, 10, 100);
    ASSERT_TRUE(past);
    EXPECT_TRUE(past->empty());
}

TEST(Log, ReadFromTheMiddleOfABatch) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    append_batch(*log, 4);
    append_batch(*log, 10, 77);
    append_batch(*log, 4);
    for (std::uint64_t from = 0; from < 18; ++from) {
        expect_records(read_all(*log, from), from, 18);
        auto two = log->read(from, 2, 1 << 20);
        ASSERT_TRUE(two);
        expect_records(*two, from, std::min<std::uint64_t>(from + 2, 18));
    }
    auto mid = log->read(7, 1, 1 << 20);
    ASSERT_TRUE(mid);
    ASSERT_EQ(mid->size(), 1u);
    EXPECT_EQ((*mid)[0].timestamp_ms, 77);
}

TEST(Log, ReadHonoursRecordAndByteLimits) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    std::vector<std::string> big(10, std::string(100, 'x'));
    std::vector<std::string_view> views(big.begin(), big.end());
    ASSERT_TRUE(log->append(views, 1));
    ASSERT_TRUE(log->append(views, 2));
    log->make_visible(log->written_end());

    auto r = log->read(0, 3, 1 << 20);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 3u);
    r = log->read(0, 100, 350);  // 3 payloads fit in 350 bytes, a fourth would not
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 3u);
    r = log->read(5, 100, 1000);  // across the batch boundary
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 10u);
    EXPECT_EQ(r->front().offset, 5u);
    EXPECT_EQ(r->back().offset, 14u);
    r = log->read(0, 100, 1);  // at least one record even when it alone exceeds max_bytes
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 1u);
    r = log->read(0, 0, 1000);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());
}

TEST(Log, NothingIsReadableBeforeMakeVisible) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    std::vector<std::string> data = {"a", "b", "c", "d", "e"};
    std::vector<std::string_view> views(data.begin(), data.end());
    ASSERT_TRUE(log->append(views, 1));
    EXPECT_EQ(log->written_end(), 5u);
    EXPECT_EQ(log->end_offset(), 0u);
    auto r = log->read(0, 10, 1000);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());

    log->make_visible(2);  // part of a batch
    r = log->read(0, 10, 1000);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[1].payload, "b");

    log->make_visible(1);  // never goes backwards
    EXPECT_EQ(log->end_offset(), 2u);
    log->make_visible(100);  // clamped to the written end
    EXPECT_EQ(log->end_offset(), 5u);
    r = log->read(2, 10, 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 3u);
}

TEST(Log, RejectsEmptyAndOversizedBatches) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    auto r = log->append({}, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    std::string huge(65u << 20, 'x');
    std::string_view one[] = {huge};
    r = log->append(one, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::payload_too_large);
    EXPECT_EQ(log->written_end(), 0u);
    EXPECT_EQ(append_batch(*log, 2), 0u);  // the log is still usable
}

TEST(Log, RollsAcrossSmallSegmentsAndReadsAcrossBoundaries) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 300;
    opts.index_interval_bytes = 100;
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (int i = 0; i < 120; ++i) append_batch(*log, 1 + i % 4);
    const std::uint64_t total = log->written_end();
    EXPECT_GT(count_files(dir.path(), ".log"), 20u);
    EXPECT_EQ(count_files(dir.path(), ".log"), count_files(dir.path(), ".index"));
    expect_records(read_all(*log, 0), 0, total);
    for (std::uint64_t from = 0; from < total; ++from) {
        auto r = log->read(from, 7, 1 << 20);
        ASSERT_TRUE(r);
        expect_records(*r, from, std::min<std::uint64_t>(from + 7, total));
    }
    // A single batch larger than segment_bytes still goes in (alone in its segment).
    std::string large(1000, 'L');
    std::string_view one[] = {large};
    auto off = log->append(one, 5);
    ASSERT_TRUE(off);
    log->make_visible(log->written_end());
    auto r = log->read(*off, 1, 1 << 20);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].payload, large);
    EXPECT_TRUE(log->sync());
}

TEST(Log, ReopenPreservesOffsetsEpochAndData) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 500;
    opts.index_interval_bytes = 64;
    std::uint64_t epoch = 0;
    std::uint64_t end = 0;
    {
        auto log = open_log(dir.path(), opts);
        ASSERT_TRUE(log);
        epoch = log->epoch();
        EXPECT_NE(epoch, 0u);
        for (int i = 0; i < 50; ++i) append_batch(*log, 3);
        end = log->written_end();
        ASSERT_TRUE(log->sync());
    }
    std::string epoch_text = slurp(dir.path() / "epoch");
    ASSERT_EQ(epoch_text.size(), 17u);
    EXPECT_EQ(epoch_text.back(), '\n');
    EXPECT_EQ(std::stoull(epoch_text.substr(0, 16), nullptr, 16), epoch);

    RecoveryReport report;
    auto log = open_log(dir.path(), opts, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->epoch(), epoch);
    EXPECT_EQ(log->start_offset(), 0u);
    EXPECT_EQ(log->end_offset(), end);
    EXPECT_EQ(log->written_end(), end);
    EXPECT_EQ(report.end_offset, end);
    EXPECT_EQ(report.truncated_bytes, 0u);
    EXPECT_EQ(report.segments, count_files(dir.path(), ".log"));
    EXPECT_EQ(report.detail, "") << "a clean reopen has nothing to say";
    expect_records(read_all(*log, 0), 0, end);
    EXPECT_EQ(append_batch(*log, 2), end);
    expect_records(read_all(*log, end - 3), end - 3, end + 2);
}

TEST(Log, EveryOpenOfANewDirectoryGetsItsOwnEpoch) {
    TempDir a, b;
    auto la = open_log(a.path() / "nested" / "topic");
    auto lb = open_log(b.path());
    ASSERT_TRUE(la && lb);
    EXPECT_NE(la->epoch(), lb->epoch());
}

TEST(Log, ASecondOpenOfTheSameDirectoryIsRefused) {
    TempDir dir;
    auto first = open_log(dir.path());
    ASSERT_TRUE(first);
    auto second = Log::open(dir.path(), {});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::conflict);
    first.reset();
    EXPECT_TRUE(open_log(dir.path()));
}

// Builds a multi-segment log; returns the bytes of every index file, to compare after a rebuild.
std::map<std::string, std::string> build_indexed_log(const fs::path& dir, const LogOptions& opts,
                                                     std::uint64_t& end) {
    auto log = open_log(dir, opts);
    if (!log) return {};
    for (int i = 0; i < 80; ++i) append_batch(*log, 1 + i % 3);
    end = log->written_end();
    std::map<std::string, std::string> indexes;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".index") {
            indexes[e.path().filename().string()] = slurp(e.path());
        }
    }
    return indexes;
}

TEST(Log, IndexIsRebuiltWhenDeleted) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 700;
    opts.index_interval_bytes = 90;
    std::uint64_t end = 0;
    auto before = build_indexed_log(dir.path(), opts, end);
    ASSERT_GT(before.size(), 3u);
    std::size_t non_empty = 0;
    for (const auto& [name, bytes] : before) non_empty += !bytes.empty();
    ASSERT_GT(non_empty, 3u) << "the test needs real index entries";
    for (const auto& [name, bytes] : before) fs::remove(dir.path() / name);

    RecoveryReport report;
    auto log = open_log(dir.path(), opts, &report);
    ASSERT_TRUE(log);
    EXPECT_NE(report.detail.find("Rebuilt the missing index"), std::string::npos) << report.detail;
    for (const auto& [name, bytes] : before) EXPECT_EQ(slurp(dir.path() / name), bytes) << name;
    expect_records(read_all(*log, 0), 0, end);
    for (std::uint64_t from = 0; from < end; from += 3) {
        auto r = log->read(from, 2, 1 << 20);
        ASSERT_TRUE(r);
        expect_records(*r, from, std::min<std::uint64_t>(from + 2, end));
    }
}

TEST(Log, IndexIsRebuiltWhenTruncated) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 700;
    opts.index_interval_bytes = 90;
    std::uint64_t end = 0;
    auto before = build_indexed_log(dir.path(), opts, end);
    ASSERT_GT(before.size(), 3u);
    int k = 0;
    for (const auto& [name, bytes] : before) {
        // Cut at entry boundaries and inside entries.
        fs::resize_file(dir.path() / name, bytes.size() / 2 + (k++ % 3));
        if (fs::file_size(dir.path() / name) > bytes.size()) {
            fs::resize_file(dir.path() / name, bytes.size());
        }
    }
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (const auto& [name, bytes] : before) EXPECT_EQ(slurp(dir.path() / name), bytes) << name;
    expect_records(read_all(*log, 0), 0, end);
}

TEST(Log, RetentionByBytesDeletesOldestClosedSegments) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 400;
    opts.retention_bytes = 1500;
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (int i = 0; i < 100; ++i) append_batch(*log, 2);
    const std::uint64_t end = log->written_end();
    const std::uint64_t before_bytes = log->size_bytes();
    const std::size_t before_files = count_files(dir.path(), ".log");
    ASSERT_GT(before_bytes, 1500u);

    auto rep = log->apply_retention(0);
    ASSERT_TRUE(rep) << rep.error().message;
    EXPECT_GT(rep->segments_deleted, 0u);
    EXPECT_EQ(rep->bytes_deleted, before_bytes - log->size_bytes());
    EXPECT_LE(log->size_bytes(), 1500u);
    EXPECT_GT(log->size_bytes() + 400, 1500u) << "deleted more than needed";
    EXPECT_EQ(count_files(dir.path(), ".log"), before_files - rep->segments_deleted);
    EXPECT_EQ(count_files(dir.path(), ".index"), count_files(dir.path(), ".log"));
    EXPECT_EQ(rep->new_start_offset, log->start_offset());
    EXPECT_GT(log->start_offset(), 0u);

    auto gone = log->read(log->start_offset() - 1, 10, 1000);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, Errc::gone);
    expect_records(read_all(*log, log->start_offset()), log->start_offset(), end);
    ASSERT_TRUE(log->sync());

    // A second pass has nothing to do; a reopen keeps the new start.
    auto again = log->apply_retention(0);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->segments_deleted, 0u);
    const std::uint64_t start = log->start_offset();
    log.reset();
    log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->start_offset(), start);
    expect_records(read_all(*log, start), start, end);
}

TEST(Log, RetentionByAgeUsesBatchTimestampsAndKeepsTheActiveSegment) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 300;
    opts.retention_age = std::chrono::milliseconds(1000);
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (int i = 0; i < 60; ++i) append_batch(*log, 2, 10'000 + i * 100);  // 10.0 s .. 15.9 s
    const std::uint64_t end = log->written_end();

    // Nothing is older than 1 s at t = 10.5 s.
    auto rep = log->apply_retention(10'500);
    ASSERT_TRUE(rep);
    EXPECT_EQ(rep->segments_deleted, 0u);

    // At t = 13 s everything stamped before 12 s may go: whole segments only, so some of it stays.
    rep = log->apply_retention(13'000);
    ASSERT_TRUE(rep);
    EXPECT_GT(rep->segments_deleted, 0u);
    // Batch i (offsets 2i, 2i + 1) is stamped 10 s + i * 100 ms: the record before the new start
    // was in a deleted segment, so it is older than 12 s; the first batch stamped 12 s (offset 40)
    // must remain.
    const std::uint64_t start = log->start_offset();
    ASSERT_GT(start, 0u);
    EXPECT_LT(10'000 + static_cast<std::int64_t>((start - 1) / 2) * 100, 12'000);
    EXPECT_LE(start, 40u);
    auto gone = log->read(0, 1, 100);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, Errc::gone);

    // Far in the future every closed segment goes, the active one stays.
    rep = log->apply_retention(1'000'000);
    ASSERT_TRUE(rep);
    EXPECT_EQ(count_files(dir.path(), ".log"), 1u);
    EXPECT_EQ(log->end_offset(), end);
    expect_records(read_all(*log, log->start_offset()), log->start_offset(), end);
    EXPECT_EQ(append_batch(*log, 1), end);
}

TEST(Log, RetentionNeverDeletesDataNotYetVisible) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 200;
    opts.retention_bytes = 1;
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    std::vector<std::string> data(5, std::string(30, 'v'));
    std::vector<std::string_view> views(data.begin(), data.end());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->append(views, 1));
    auto rep = log->apply_retention(0);
    ASSERT_TRUE(rep);
    EXPECT_EQ(rep->segments_deleted, 0u);
    log->make_visible(log->written_end());
    rep = log->apply_retention(0);
    ASSERT_TRUE(rep);
    EXPECT_GT(rep->segments_deleted, 0u);
}

// Reads the number of write syscalls this process made so far (Linux task I/O accounting).
std::optional<std::uint64_t> write_syscalls() {
    std::ifstream in("/proc/self/io");
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value) {
        if (key == "syscw:") return value;
    }
    return std::nullopt;
}

TEST(Log, AppendOfABatchIsOneWriteSyscall) {
    TempDir dir;
    LogOptions opts;
    opts.index_interval_bytes = 1u << 30;  // no index entry due, so exactly the batch is written
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    std::vector<std::string> data(100, std::string(1024, 'k'));
    std::vector<std::string_view> views(data.begin(), data.end());
    ASSERT_TRUE(log->append(views, 1));  // warm up (buffer allocation)
    auto before = write_syscalls();
    if (!before) GTEST_SKIP() << "no /proc/self/io";
    ASSERT_TRUE(log->append(views, 2));
    auto after = write_syscalls();
    ASSERT_TRUE(after);
    EXPECT_EQ(*after - *before, 1u);
}

TEST(Log, FailedWriteLeavesTheLogUnchanged) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    append_batch(*log, 3);
    const auto seg = dir.path() / "00000000000000000000.log";
    const auto size_before = fs::file_size(seg);

    // Let the file grow by only 100 more bytes: a 4 KiB batch is written partially, then fails.
    struct rlimit old {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = size_before + 100;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    std::string big(4096, 'b');
    std::string_view one[] = {big};
    auto r = log->append(one, 1);
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, old_handler);

    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io_error);
    EXPECT_EQ(fs::file_size(seg), size_before);
    EXPECT_EQ(log->written_end(), 3u);
    EXPECT_EQ(append_batch(*log, 2), 3u);
    expect_records(read_all(*log, 0), 0, 5);
    log.reset();
    RecoveryReport report;
    log = open_log(dir.path(), {}, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(report.truncated_bytes, 0u);
    expect_records(read_all(*log, 0), 0, 5);
}

TEST(Log, ConcurrentReadersSeeContiguousOffsetsWhileTheWriterAppends) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 2048;
    opts.index_interval_bytes = 256;
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    constexpr std::uint64_t kTotal = 6000;
    std::atomic<bool> failed{false};

    auto reader = [&](std::size_t page, std::size_t bytes) {
        std::uint64_t next = 0;
        while (next < kTotal && !failed) {
            auto r = log->read(next, page, bytes);
            if (!r) {
                ADD_FAILURE() << r.error().message;
                failed = true;
                return;
            }
            for (const auto& rec : *r) {
                if (rec.offset != next || rec.payload != payload_for(rec.offset)) {
                    ADD_FAILURE() << "expected offset " << next << ", got " << rec.offset;
                    failed = true;
                    return;
                }
                ++next;
            }
            if (r->empty()) std::this_thread::yield();
        }
    };
    std::thread r1(reader, 50, 4096);
    std::thread r2(reader, 1, 1);
    std::thread r3(reader, 1000, 1 << 20);

    std::mt19937 rng(7);
    while (log->written_end() < kTotal && !failed) {
        std::size_t n = std::min<std::uint64_t>(1 + rng() % 6, kTotal - log->written_end());
        std::vector<std::string> data;
        for (std::size_t i = 0; i < n; ++i) data.push_back(payload_for(log->written_end() + i));
        std::vector<std::string_view> views(data.begin(), data.end());
        auto a = log->append(views, 1);
        ASSERT_TRUE(a);
        // Sometimes publish only part of the batch first, as a lagging make_visible would.
        if (n > 1 && rng() % 3 == 0) log->make_visible(*a + 1);
        log->make_visible(log->written_end());
    }
    r1.join();
    r2.join();
    r3.join();
    EXPECT_FALSE(failed);
}

TEST(Log, ReadersRacingRetentionGetGoneOrContiguousData) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 1024;
    opts.retention_bytes = 4096;
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    constexpr std::uint64_t kTotal = 5000;
    std::atomic<bool> failed{false};
    std::atomic<bool> done{false};
    std::thread reader([&] {
        std::uint64_t next = 0;
        std::uint64_t gone = 0;
        while (!done && !failed) {
            auto r = log->read(next, 20, 1 << 20);
            if (!r) {
                if (r.error().code != Errc::gone) {
                    ADD_FAILURE() << r.error().message;
                    failed = true;
                }
                ++gone;
                next = log->start_offset();  // resume at the new start, as a cursor reset would
                continue;
            }
            for (const auto& rec : *r) {
                if (rec.offset != next || rec.payload != payload_for(rec.offset)) {
                    ADD_FAILURE() << "expected offset " << next << ", got " << rec.offset;
                    failed = true;
                    return;
                }
                ++next;
            }
        }
    });
    while (log->written_end() < kTotal && !failed) {
        append_batch(*log, 3);
        auto rep = log->apply_retention(0);
        ASSERT_TRUE(rep);
    }
    done = true;
    reader.join();
    EXPECT_FALSE(failed);
    EXPECT_LE(log->size_bytes(), 4096u + 1024u);
}

// Topic settings changed at run time (the admin API): the open log takes new options without a reopen.
TEST(Log, SetOptionsAppliesRetentionAndSegmentSizeToTheOpenLog) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 400;
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (int i = 0; i < 40; ++i) append_batch(*log, 2);
    const std::size_t segments = count_files(dir.path(), ".log");
    ASSERT_GT(segments, 2u);
    // No retention yet: nothing goes.
    auto rep = log->apply_retention(0);
    ASSERT_TRUE(rep);
    EXPECT_EQ(rep->segments_deleted, 0u);

    auto changed = log->options();
    changed.retention_bytes = 800;
    changed.segment_bytes = 1u << 20;
    log->set_options(changed);
    EXPECT_EQ(log->options().retention_bytes, std::optional<std::uint64_t>(800));
    rep = log->apply_retention(0);
    ASSERT_TRUE(rep);
    EXPECT_GT(rep->segments_deleted, 0u);
    EXPECT_LE(log->size_bytes(), 800u + 400u);
    EXPECT_GT(log->start_offset(), 0u);

    // The larger segment size applies from the next append: no new segment for a while.
    const std::size_t now = count_files(dir.path(), ".log");
    for (int i = 0; i < 20; ++i) append_batch(*log, 2);
    EXPECT_EQ(count_files(dir.path(), ".log"), now);
}

}  // namespace
}  // namespace herald::storage

namespace herald::storage {
namespace {

// The two-halves fsync (fsync: interval on a background thread): prepared on the writer, run elsewhere while
// appends go on; a failure handed back stops the log as a failed sync() does.
TEST(Log, APreparedSyncRunsElsewhereWhileAppendsGoOn) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 300;  // rolls, so sealed segments and the directory are part of the job
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (int i = 0; i < 30; ++i) append_batch(*log, 3);
    EXPECT_GT(count_files(dir.path(), ".log"), 3u);
    auto job = log->prepare_sync();
    ASSERT_TRUE(job) << job.error().message;
    EXPECT_FALSE(job->empty());
    std::thread other([&] { EXPECT_TRUE(job->run()); });
    for (int i = 0; i < 10; ++i) append_batch(*log, 1);
    other.join();
    EXPECT_EQ(log->end_offset(), 100u);
    expect_records(read_all(*log, 0), 0, 100);
    // What the job did not cover is still flushed by the next one.
    auto next = log->prepare_sync();
    ASSERT_TRUE(next);
    EXPECT_TRUE(next->run());
}

TEST(Log, AFailedPreparedSyncStopsTheLog) {
    TempDir dir;
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    append_batch(*log, 1);
    auto job = log->prepare_sync();
    ASSERT_TRUE(job);
    log->sync_failed(make_error(Errc::io_error, "disk gone"));
    const std::string p = "two";
    std::string_view v(p);
    auto refused = log->append(std::span(&v, 1), 1000);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::io_error);
    EXPECT_NE(refused.error().message.find("disk gone"), std::string::npos) << refused.error().message;
    EXPECT_FALSE(log->sync());
    EXPECT_FALSE(log->prepare_sync());
}

}  // namespace
}  // namespace herald::storage
