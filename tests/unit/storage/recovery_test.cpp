// Recovery of a log after a crash or damage: the tail of the last segment is verified and cut at
// the first bad batch, whatever the bad bytes are, and the log carries on at the right offset.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "storage/log.hpp"

namespace herald::storage {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = fs::temp_directory_path() /
                ("herald-recovery-" + std::string(info ? info->name() : "x") + "-" +
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

std::string payload_for(std::uint64_t offset) {
    std::string s = "r" + std::to_string(offset) + "/";
    for (std::size_t i = 0; i < (offset * 5) % 23; ++i) {
        s.push_back(static_cast<char>('a' + (offset + i) % 26));
    }
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

std::uint64_t append_batch(Log& log, std::size_t count, std::int64_t ts = 1000) {
    std::vector<std::string> data;
    for (std::size_t i = 0; i < count; ++i) data.push_back(payload_for(log.written_end() + i));
    std::vector<std::string_view> views(data.begin(), data.end());
    auto r = log.append(views, ts);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    log.make_visible(log.written_end());
    return r ? *r : UINT64_MAX;
}

// Every record from `from` on; a read error is returned as a failure message in `error`.
std::vector<Record> read_all(const Log& log, std::uint64_t from, std::string* error = nullptr) {
    std::vector<Record> all;
    for (;;) {
        auto r = log.read(from, 1000, 1 << 20);
        if (!r) {
            if (error) {
                *error = r.error().message;
            } else {
                ADD_FAILURE() << "read failed: " << r.error().message;
            }
            return all;
        }
        if (r->empty()) return all;
        from = r->back().offset + 1;
        for (auto& rec : *r) all.push_back(std::move(rec));
    }
}

::testing::AssertionResult records_are(const std::vector<Record>& recs, std::uint64_t first,
                                       std::uint64_t end) {
    if (recs.size() != end - first) {
        return ::testing::AssertionFailure() << recs.size() << " records, expected " << end - first;
    }
    for (std::size_t i = 0; i < recs.size(); ++i) {
        if (recs[i].offset != first + i || recs[i].payload != payload_for(first + i)) {
            return ::testing::AssertionFailure()
                   << "record " << i << " is offset " << recs[i].offset;
        }
    }
    return ::testing::AssertionSuccess();
}

fs::path last_segment(const fs::path& dir) {
    fs::path last;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".log" &&
            (last.empty() || e.path().filename() > last.filename()))
            last = e.path();
    }
    return last;
}

std::vector<fs::path> segments(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void append_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void copy_dir(const fs::path& from, const fs::path& to) {
    fs::remove_all(to);
    fs::copy(from, to, fs::copy_options::recursive);
}

// A template log whose last batch is the one under test. `alone` puts that batch in a segment of
// its own, so cutting it leaves an empty active segment; otherwise it follows another batch in the
// same segment.
struct Template {
    LogOptions options;
    fs::path dir;
    fs::path last;             // the segment holding the last batch
    std::uint64_t before = 0;  // size of `last` before the last batch (where recovery must cut)
    std::uint64_t after = 0;   // size of `last` with it
    std::uint64_t prev_end = 0;
    std::uint64_t end = 0;
};

Template make_template(const fs::path& dir, std::uint32_t index_interval, bool alone) {
    Template t;
    t.dir = dir;
    t.options.segment_bytes = 300;  // two batches of about 100 bytes per segment
    t.options.index_interval_bytes = index_interval;
    auto log = open_log(dir, t.options);
    if (!log) return t;
    fs::path seg_before;
    std::uint64_t size_before = 0;
    for (int i = 0; i < 100; ++i) {
        t.prev_end = log->written_end();
        seg_before = last_segment(dir);
        size_before = fs::file_size(seg_before);
        append_batch(*log, 3, 100 + i);
        bool rolled = last_segment(dir) != seg_before;
        if (i >= 4 && rolled == alone) break;
    }
    t.end = log->written_end();
    EXPECT_TRUE(log->sync());
    log.reset();
    t.last = last_segment(dir);
    EXPECT_EQ(t.last != seg_before, alone) << "the template does not have the intended layout";
    t.before = t.last == seg_before ? size_before : 0;
    t.after = fs::file_size(t.last);
    EXPECT_GT(t.after, t.before + 40);
    return t;
}

// Opens the damaged copy and checks recovery gave back exactly the batches before the last one,
// then that the log takes new appends at the right offset and reopens cleanly.
void expect_recovered_to_previous(const Template& t, const fs::path& work, std::uint64_t cut_bytes,
                                  const std::string& what) {
    SCOPED_TRACE(what);
    RecoveryReport report;
    auto log = open_log(work, t.options, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(report.truncated_bytes, cut_bytes);
    if (cut_bytes > 0) {
        EXPECT_NE(report.detail.find("Cut"), std::string::npos) << report.detail;
    }
    EXPECT_EQ(report.end_offset, t.prev_end);
    EXPECT_EQ(log->end_offset(), t.prev_end);
    EXPECT_EQ(log->written_end(), t.prev_end);
    EXPECT_EQ(fs::file_size(work / t.last.filename()), t.before);
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, t.prev_end));

    EXPECT_EQ(append_batch(*log, 2), t.prev_end);
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, t.prev_end + 2));
    log.reset();

    RecoveryReport again;
    log = open_log(work, t.options, &again);
    ASSERT_TRUE(log);
    EXPECT_EQ(again.truncated_bytes, 0u);
    EXPECT_EQ(again.detail, "");
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, t.prev_end + 2));
    log.reset();
    auto verified = verify_log(work);
    ASSERT_TRUE(verified);
    EXPECT_TRUE(verified->ok) << (verified->problems.empty() ? "" : verified->problems.front());
}

struct Layout {
    std::uint32_t index_interval;
    bool alone;
};
// An interval of 1 indexes every batch, so recovery starts at an entry pointing at the damaged
// batch itself; 4096 leaves the segment unindexed, so recovery scans it from the start.
const Layout kLayouts[] = {{1, false}, {1, true}, {4096, false}, {4096, true}};

TEST(Recovery, LastBatchTornAtEveryLength) {
    TempDir root;
    for (const auto& layout : kLayouts) {
        auto t = make_template(root.path() / "template", layout.index_interval, layout.alone);
        ASSERT_FALSE(t.last.empty());
        for (std::uint64_t len = t.before; len < t.after; ++len) {
            copy_dir(t.dir, root.path() / "work");
            fs::resize_file(root.path() / "work" / t.last.filename(), len);
            expect_recovered_to_previous(t, root.path() / "work", len - t.before,
                                         "interval " + std::to_string(layout.index_interval) +
                                             ", alone " + std::to_string(layout.alone) +
                                             ", length " + std::to_string(len));
            if (HasFatalFailure()) return;
        }
        fs::remove_all(t.dir);
    }
}

TEST(Recovery, LastBatchWithAFlippedByteAnywhere) {
    TempDir root;
    for (const auto& layout : kLayouts) {
        auto t = make_template(root.path() / "template", layout.index_interval, layout.alone);
        ASSERT_FALSE(t.last.empty());
        const std::string original = slurp(t.last);
        for (std::uint64_t pos = t.before; pos < t.after; ++pos) {
            copy_dir(t.dir, root.path() / "work");
            std::string bytes = original;
            bytes[pos] = static_cast<char>(bytes[pos] ^ 0xFF);
            spit(root.path() / "work" / t.last.filename(), bytes);
            expect_recovered_to_previous(t, root.path() / "work", t.after - t.before,
                                         "interval " + std::to_string(layout.index_interval) +
                                             ", alone " + std::to_string(layout.alone) + ", byte " +
                                             std::to_string(pos));
            if (HasFatalFailure()) return;
        }
        fs::remove_all(t.dir);
    }
}

TEST(Recovery, RandomGarbageAfterTheLastBatchIsCut) {
    TempDir root;
    auto t = make_template(root.path() / "template", 4096, false);
    std::mt19937 rng(42);
    for (int round = 0; round < 60; ++round) {
        copy_dir(t.dir, root.path() / "work");
        std::string garbage(1 + rng() % 700, '\0');
        for (auto& c : garbage) c = static_cast<char>(rng());
        if (round % 3 == 0 && garbage.size() >= 36) {
            // Looks like the start of a batch: right magic, version and offset, wrong the rest.
            std::memcpy(garbage.data(), "HLB1", 4);
            garbage[12] = 1;
            garbage[13] = garbage[14] = garbage[15] = 0;
            for (int i = 0; i < 8; ++i) garbage[16 + i] = static_cast<char>(t.end >> (8 * i));
        }
        if (round % 5 == 1) {
            garbage.assign(garbage.size(), '\0');  // what a filesystem shows after a crash
        }
        append_bytes(root.path() / "work" / t.last.filename(), garbage);

        RecoveryReport report;
        auto log = open_log(root.path() / "work", t.options, &report);
        ASSERT_TRUE(log);
        EXPECT_EQ(report.truncated_bytes, garbage.size()) << "round " << round;
        EXPECT_EQ(log->end_offset(), t.end);
        EXPECT_TRUE(records_are(read_all(*log, 0), 0, t.end));
        EXPECT_EQ(append_batch(*log, 1), t.end);
    }
}

TEST(Recovery, ABadBatchCutsEverythingAfterIt) {
    // Recovery truncates at the first invalid batch of the scanned tail, even if intact batches
    // follow: the log must stay one contiguous run of offsets. (verify_log is the tool to look at
    // such a file before opening.)
    TempDir root;
    auto t = make_template(root.path() / "template", 4096, false);
    ASSERT_GT(t.before, 0u);
    std::string bytes = slurp(t.last);
    // Flip the last byte of the batch before the last one.
    bytes[t.before - 1] = static_cast<char>(bytes[t.before - 1] ^ 1);
    spit(t.last, bytes);
    RecoveryReport report;
    auto log = open_log(t.dir, t.options, &report);
    ASSERT_TRUE(log);
    const std::uint64_t new_end = t.prev_end - 3;
    EXPECT_EQ(log->end_offset(), new_end);
    EXPECT_GT(report.truncated_bytes,
              t.after - t.before);  // the bad batch and the good one after it
    EXPECT_EQ(fs::file_size(t.last), t.after - report.truncated_bytes);
    EXPECT_NE(report.detail.find("CRC mismatch"), std::string::npos) << report.detail;
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, new_end));
    EXPECT_EQ(append_batch(*log, 1), new_end);
}

TEST(Recovery, EmptyDirectoryWithOnlyAnEpoch) {
    TempDir dir;
    std::uint64_t epoch = 0;
    {
        auto log = open_log(dir.path());
        ASSERT_TRUE(log);
        epoch = log->epoch();
    }
    for (const auto& seg : segments(dir.path())) fs::remove(seg);
    for (const auto& e : fs::directory_iterator(dir.path())) {
        if (e.path().extension() == ".index") fs::remove(e.path());
    }
    auto log = open_log(dir.path());
    ASSERT_TRUE(log);
    EXPECT_EQ(log->epoch(), epoch);
    EXPECT_EQ(log->end_offset(), 0u);
    EXPECT_EQ(append_batch(*log, 2), 0u);
}

TEST(Recovery, EmptyLastSegmentFileIsTheActiveSegment) {
    TempDir dir;
    {
        auto log = open_log(dir.path());
        ASSERT_TRUE(log);
        append_batch(*log, 5);
    }
    spit(dir.path() / "00000000000000000005.log",
         "");  // a roll that crashed before its first write
    RecoveryReport report;
    auto log = open_log(dir.path(), {}, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(report.segments, 2u);
    EXPECT_EQ(log->end_offset(), 5u);
    EXPECT_EQ(append_batch(*log, 2), 5u);
    EXPECT_GT(fs::file_size(dir.path() / "00000000000000000005.log"), 0u);
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, 7));
}

TEST(Recovery, MissingEpochGetsANewOneAndSaysSo) {
    TempDir dir;
    std::uint64_t epoch = 0;
    {
        auto log = open_log(dir.path());
        ASSERT_TRUE(log);
        epoch = log->epoch();
        append_batch(*log, 1);
    }
    fs::remove(dir.path() / "epoch");
    spit(dir.path() / "epoch.tmp", "half-writ");  // an interrupted epoch write
    RecoveryReport report;
    auto log = open_log(dir.path(), {}, &report);
    ASSERT_TRUE(log);
    EXPECT_NE(log->epoch(), epoch);
    EXPECT_NE(report.detail.find("epoch"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir.path() / "epoch.tmp"));
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, 1));
}

TEST(Recovery, MalformedEpochIsCorrupt) {
    TempDir dir;
    { ASSERT_TRUE(open_log(dir.path())); }
    spit(dir.path() / "epoch", "not an epoch\n");
    auto log = Log::open(dir.path(), {});
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error().code, Errc::corrupt);
}

TEST(Recovery, GarbageIndexFilesAreRepaired) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 600;
    opts.index_interval_bytes = 80;
    std::uint64_t end = 0;
    {
        auto log = open_log(dir.path(), opts);
        ASSERT_TRUE(log);
        for (int i = 0; i < 40; ++i) append_batch(*log, 2);
        end = log->written_end();
    }
    std::mt19937 rng(3);
    for (const auto& e : fs::directory_iterator(dir.path())) {
        if (e.path().extension() != ".index") continue;
        std::string junk(8 * (1 + rng() % 20) + rng() % 8, '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        spit(e.path(), junk);
    }
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    EXPECT_TRUE(records_are(read_all(*log, 0), 0, end));
    for (std::uint64_t from = 0; from < end; ++from) {
        auto r = log->read(from, 1, 100);
        ASSERT_TRUE(r);
        ASSERT_TRUE(records_are(*r, from, from + 1));
    }
    log.reset();
    auto verified = verify_log(dir.path());
    ASSERT_TRUE(verified);
    EXPECT_TRUE(verified->ok) << verified->problems.front();
}

TEST(Recovery, AWrongEntryInAClosedSegmentIndexDoesNotMisleadReads) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 2000;
    opts.index_interval_bytes = 100;
    std::uint64_t end = 0;
    {
        auto log = open_log(dir.path(), opts);
        ASSERT_TRUE(log);
        for (int i = 0; i < 60; ++i) append_batch(*log, 2);
        end = log->written_end();
    }
    // Closed segments are trusted structurally at open, so a plausible but wrong middle entry
    // survives it; the read path notices the mismatch and walks the segment from its start instead.
    auto first_index = dir.path() / "00000000000000000000.index";
    std::string idx = slurp(first_index);
    ASSERT_GE(idx.size(), 24u);
    idx[8] = static_cast<char>(
        idx[8] + 1);  // entry 1 claims one offset more than the batch it points at holds
    spit(first_index, idx);
    auto log = open_log(dir.path(), opts);
    ASSERT_TRUE(log);
    for (std::uint64_t from = 0; from < end; ++from) {
        auto r = log->read(from, 3, 1000);
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_TRUE(records_are(*r, from, std::min<std::uint64_t>(from + 3, end))) << from;
    }
}

TEST(Recovery, AMissingMiddleSegmentLeavesAGapThatReadsSkip) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 300;
    std::uint64_t end = 0;
    {
        auto log = open_log(dir.path(), opts);
        ASSERT_TRUE(log);
        for (int i = 0; i < 12; ++i) append_batch(*log, 3);
        end = log->written_end();
    }
    auto segs = segments(dir.path());
    ASSERT_GE(segs.size(), 4u);
    const std::uint64_t gap_from = std::stoull(segs[1].stem().string());
    const std::uint64_t gap_to = std::stoull(segs[2].stem().string());
    fs::remove(segs[1]);
    RecoveryReport report;
    auto log = open_log(dir.path(), opts, &report);
    ASSERT_TRUE(log);
    EXPECT_NE(report.detail.find("missing"), std::string::npos) << report.detail;
    auto all = read_all(*log, 0);
    ASSERT_EQ(all.size(), end - (gap_to - gap_from));
    for (const auto& rec : all) {
        EXPECT_TRUE(rec.offset < gap_from || rec.offset >= gap_to);
        EXPECT_EQ(rec.payload, payload_for(rec.offset));
    }
    auto in_gap = log->read(gap_from + 1, 1, 100);
    ASSERT_TRUE(in_gap);
    ASSERT_EQ(in_gap->size(), 1u);
    EXPECT_EQ((*in_gap)[0].offset, gap_to);
}

TEST(Recovery, ATornClosedSegmentIsHiddenNotCut) {
    // With fsync=never a power loss can tear an older segment while a newer one survives.
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 300;
    std::uint64_t end = 0;
    {
        auto log = open_log(dir.path(), opts);
        ASSERT_TRUE(log);
        for (int i = 0; i < 8; ++i) append_batch(*log, 3);
        end = log->written_end();
    }
    auto segs = segments(dir.path());
    ASSERT_GE(segs.size(), 3u);
    const auto torn_size = fs::file_size(segs[1]) - 10;
    fs::resize_file(segs[1], torn_size);
    RecoveryReport report;
    auto log = open_log(dir.path(), opts, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(report.truncated_bytes, 0u);
    EXPECT_NE(report.detail.find("closed segment"), std::string::npos) << report.detail;
    EXPECT_EQ(fs::file_size(segs[1]), torn_size);
    EXPECT_EQ(log->end_offset(), end);
    auto all = read_all(*log, 0);
    EXPECT_EQ(all.size(), end - 3);  // the torn batch of three records is skipped
    for (const auto& rec : all) EXPECT_EQ(rec.payload, payload_for(rec.offset));
}

TEST(Recovery, OrphanIndexIsRemoved) {
    TempDir dir;
    { ASSERT_TRUE(open_log(dir.path())); }
    spit(dir.path() / "00000000000000000777.index", std::string(16, '\x01'));
    RecoveryReport report;
    auto log = open_log(dir.path(), {}, &report);
    ASSERT_TRUE(log);
    EXPECT_FALSE(fs::exists(dir.path() / "00000000000000000777.index"));
    EXPECT_NE(report.detail.find("orphan"), std::string::npos);
}

TEST(Recovery, ArbitraryBytesNeverCrashOpenReadOrVerify) {
    TempDir root;
    std::mt19937 rng(2024);
    std::string valid;
    {
        auto log = open_log(root.path() / "seed");
        ASSERT_TRUE(log);
        for (int i = 0; i < 6; ++i) append_batch(*log, 1 + i);
    }
    valid = slurp(root.path() / "seed" / "00000000000000000000.log");
    for (int round = 0; round < 200; ++round) {
        const fs::path dir = root.path() / "fuzz";
        fs::remove_all(dir);
        fs::create_directories(dir);
        spit(dir / "epoch", "0123456789abcdef\n");
        int files = 1 + static_cast<int>(rng() % 3);
        for (int f = 0; f < files; ++f) {
            // Mutations of a valid segment find deeper paths than pure noise.
            std::string bytes = valid;
            int flips = static_cast<int>(rng() % 8);
            for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
            if (rng() % 2) bytes.resize(rng() % (bytes.size() + 1));
            if (rng() % 4 == 0) {
                bytes.assign(rng() % 400, '\0');
                for (auto& c : bytes) c = static_cast<char>(rng());
            }
            std::uint64_t base = f == 0 ? 0 : rng() % 40;
            char name[32];
            std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(base));
            spit(dir / (std::string(name) + ".log"), bytes);
            if (rng() % 2) {
                std::string idx(rng() % 64, '\0');
                // Small byte values make entries that look plausible.
                for (auto& c : idx) c = static_cast<char>(rng() % 64);
                spit(dir / (std::string(name) + ".index"), idx);
            }
        }
        auto verified = verify_log(dir);
        ASSERT_TRUE(verified);
        auto log = Log::open(dir, {});
        ASSERT_TRUE(log) << log.error().message;
        std::string error;
        for (std::uint64_t from = (*log)->start_offset(); from < (*log)->end_offset(); ++from) {
            auto r = (*log)->read(from, 3, 100);
            if (r) {
                for (const auto& rec : *r) ASSERT_GE(rec.offset, from);
            }
        }
        (void)read_all(**log, (*log)->start_offset(), &error);
        EXPECT_TRUE(append_batch(**log, 2) != UINT64_MAX);
    }
}

}  // namespace
}  // namespace herald::storage
