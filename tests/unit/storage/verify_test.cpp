// verify_log: the offline check of a log directory. Clean logs pass; each kind of damage is
// reported with the file and byte position; nothing is ever modified.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
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
                ("herald-verify-" + std::string(info ? info->name() : "x") + "-" +
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

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<fs::path> segments(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A log of `batches` batches of 4 records (payloads 10..50 bytes) in segments of about
// `segment_bytes`.
struct Built {
    std::uint64_t end = 0;
    std::uint64_t batches = 0;
};

Built build(const fs::path& dir, int batches, std::uint32_t index_interval = 100,
            std::uint64_t segment_bytes = 400) {
    LogOptions opts;
    opts.segment_bytes = segment_bytes;
    opts.index_interval_bytes = index_interval;
    auto log = Log::open(dir, opts);
    if (!log) {
        ADD_FAILURE() << log.error().message;
        return {};
    }
    for (int i = 0; i < batches; ++i) {
        std::vector<std::string> data;
        for (int k = 0; k < 4; ++k) {
            data.push_back(std::string(10 + (i * 7 + k * 3) % 40, static_cast<char>('a' + k)));
        }
        std::vector<std::string_view> views(data.begin(), data.end());
        EXPECT_TRUE((*log)->append(views, 1000 + i));
    }
    EXPECT_TRUE((*log)->sync());
    return Built{(*log)->written_end(), static_cast<std::uint64_t>(batches)};
}

bool any_problem_mentions(const VerifyReport& r, const std::string& a, const std::string& b = {}) {
    return std::any_of(r.problems.begin(), r.problems.end(), [&](const std::string& p) {
        return p.find(a) != std::string::npos && p.find(b) != std::string::npos;
    });
}

std::string all_problems(const VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += p + "\n";
    return s;
}

TEST(Verify, CleanLogIsOk) {
    TempDir dir;
    auto built = build(dir.path(), 30);
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok) << all_problems(*r);
    EXPECT_TRUE(r->problems.empty());
    EXPECT_EQ(r->segments, segments(dir.path()).size());
    EXPECT_GT(r->segments, 3u);
    EXPECT_EQ(r->batches, built.batches);
    EXPECT_EQ(r->records, built.end);
    EXPECT_EQ(r->start_offset, 0u);
    EXPECT_EQ(r->end_offset, built.end);
}

TEST(Verify, NewEmptyLogIsOk) {
    TempDir dir;
    { ASSERT_TRUE(Log::open(dir.path(), {})); }
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok) << all_problems(*r);
    EXPECT_EQ(r->segments, 1u);
    EXPECT_EQ(r->records, 0u);
}

TEST(Verify, LogAfterRetentionIsOk) {
    TempDir dir;
    LogOptions opts;
    opts.segment_bytes = 300;
    opts.retention_bytes = 700;
    {
        auto log = Log::open(dir.path(), opts);
        ASSERT_TRUE(log);
        for (int i = 0; i < 30; ++i) {
            std::string_view one[] = {"retained?"};
            ASSERT_TRUE((*log)->append(one, i));
            (*log)->make_visible((*log)->written_end());
        }
        ASSERT_TRUE((*log)->apply_retention(0));
    }
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok) << all_problems(*r);
    EXPECT_GT(r->start_offset, 0u);
    EXPECT_EQ(r->end_offset, 30u);
}

TEST(Verify, FlippedByteInAMiddleSegmentIsReportedWithFileAndPosition) {
    TempDir dir;
    build(dir.path(), 30);
    auto segs = segments(dir.path());
    ASSERT_GT(segs.size(), 3u);
    const auto& middle = segs[segs.size() / 2];
    std::string bytes = slurp(middle);
    ASSERT_GT(bytes.size(), 60u);
    bytes[50] = static_cast<char>(bytes[50] ^ 0x10);  // inside the first batch's records
    spit(middle, bytes);

    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_TRUE(any_problem_mentions(*r, middle.filename().string(), "at byte 0, CRC mismatch"))
        << all_problems(*r);
    EXPECT_TRUE(any_problem_mentions(*r, "not the last segment")) << all_problems(*r);
    // The segments after it start where they should, but the damaged one ends early: that is an
    // offset gap.
    EXPECT_TRUE(any_problem_mentions(*r, "are missing")) << all_problems(*r);
}

TEST(Verify, OffsetGapBetweenSegmentsIsReported) {
    TempDir dir;
    build(dir.path(), 30);
    auto segs = segments(dir.path());
    ASSERT_GT(segs.size(), 3u);
    fs::remove(segs[2]);
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_TRUE(any_problem_mentions(*r, segs[3].filename().string(), "are missing"))
        << all_problems(*r);
    // Its index is now an orphan.
    EXPECT_TRUE(any_problem_mentions(*r, segs[2].stem().string() + ".index", "orphan"))
        << all_problems(*r);
}

TEST(Verify, OverlappingSegmentsAreReported) {
    TempDir dir;
    build(dir.path(), 30);
    auto segs = segments(dir.path());
    ASSERT_GT(segs.size(), 3u);
    // Rename segment 2 one offset lower: it now claims offsets segment 1 also holds.
    std::uint64_t base = std::stoull(segs[2].stem().string());
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(base - 1));
    fs::rename(segs[2], dir.path() / name);
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_TRUE(any_problem_mentions(*r, name, "overlap")) << all_problems(*r);
    EXPECT_TRUE(any_problem_mentions(*r, name, "at byte 0, base offset")) << all_problems(*r);
}

TEST(Verify, TornTailIsReported) {
    TempDir dir;
    build(dir.path(), 10);
    auto last = segments(dir.path()).back();
    const auto size = fs::file_size(last);
    fs::resize_file(last, size - 7);
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_TRUE(any_problem_mentions(*r, last.filename().string(), "open() cuts them off"))
        << all_problems(*r);
}

TEST(Verify, BadIndexEntriesAreReported) {
    TempDir dir;
    build(dir.path(), 30, 60, 1000);
    auto segs = segments(dir.path());
    auto index = segs[1];
    index.replace_extension(".index");
    std::string idx = slurp(index);
    ASSERT_GE(idx.size(), 16u) << "the test needs two entries";
    idx[4] = static_cast<char>(idx[4] + 3);  // entry 0 now points inside a batch
    idx[8] = static_cast<char>(idx[8] + 1);  // entry 1 claims the wrong offset
    idx += "abc";                            // and a torn entry at the end
    spit(index, idx);
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    const std::string name = index.filename().string();
    EXPECT_TRUE(any_problem_mentions(*r, name, "entry 0 points at byte")) << all_problems(*r);
    EXPECT_TRUE(any_problem_mentions(*r, name, "entry 1 claims offset")) << all_problems(*r);
    EXPECT_TRUE(any_problem_mentions(*r, name, "ends inside an entry")) << all_problems(*r);
}

TEST(Verify, MissingIndexIsReported) {
    TempDir dir;
    build(dir.path(), 10);
    auto index = segments(dir.path()).front();
    index.replace_extension(".index");
    fs::remove(index);
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_TRUE(any_problem_mentions(*r, index.filename().string(), "missing")) << all_problems(*r);
}

TEST(Verify, EpochProblemsAreReported) {
    TempDir dir;
    build(dir.path(), 2);
    spit(dir.path() / "epoch", "0000000000000000\n");  // zero is never chosen
    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_TRUE(any_problem_mentions(*r, "epoch", "malformed")) << all_problems(*r);
    fs::remove(dir.path() / "epoch");
    r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_TRUE(any_problem_mentions(*r, "epoch", "missing")) << all_problems(*r);
}

TEST(Verify, MissingDirectoryIsNotFound) {
    TempDir dir;
    auto r = verify_log(dir.path() / "nope");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
}

TEST(Verify, NeverModifiesAnything) {
    TempDir dir;
    build(dir.path(), 20);
    auto segs = segments(dir.path());
    fs::resize_file(segs.back(), fs::file_size(segs.back()) - 3);  // something open() would repair
    std::string idx_name = segs.front().stem().string() + ".index";
    spit(dir.path() / idx_name, "garbage!!");
    spit(dir.path() / "epoch.tmp", "x");
    std::map<std::string, std::string> before;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        before[e.path().filename().string()] = slurp(e.path());
    }

    auto r = verify_log(dir.path());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    std::map<std::string, std::string> after;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        after[e.path().filename().string()] = slurp(e.path());
    }
    EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace herald::storage
