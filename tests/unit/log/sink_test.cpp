#include "log/sink.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <fstream>
#include <thread>

#include "log/logger.hpp"

namespace herald::log {
namespace {

namespace fs = std::filesystem;

class SinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-log-test-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    static std::vector<std::string> read_lines(const fs::path& p) {
        std::ifstream in(p);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }
    fs::path dir_;
};

TEST_F(SinkTest, AFileIsAppendedToAndReopenedAfterRotation) {
    const auto path = dir_ / "herald.log";
    {
        std::ofstream pre(path);
        pre << "earlier\n";
    }
    auto sink = FdSink::open_file(path);
    ASSERT_TRUE(sink);
    EXPECT_EQ((*sink)->description(), path.string());
    (*sink)->write("one\n");
    fs::rename(path, dir_ / "herald.log.1");
    (*sink)->write("two\n");  // still the old file until reopened
    ASSERT_TRUE((*sink)->reopen());
    (*sink)->write("three\n");
    EXPECT_EQ(read_lines(dir_ / "herald.log.1"), (std::vector<std::string>{"earlier", "one", "two"}));
    EXPECT_EQ(read_lines(path), (std::vector<std::string>{"three"}));
    EXPECT_TRUE((*sink)->problem().empty());
}

TEST_F(SinkTest, AnUnopenableFileNamesTheKey) {
    auto sink = FdSink::open_file(dir_ / "missing" / "herald.log");
    ASSERT_FALSE(sink);
    EXPECT_EQ(sink.error().attribute, "log.output");
}

TEST_F(SinkTest, WriteFailuresAreReportedAndClearOnSuccess) {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
    auto full = FdSink::open_file("/dev/full");
    ASSERT_TRUE(full);
    (*full)->write("lost\n");
    EXPECT_NE((*full)->problem().find("No space"), std::string::npos) << (*full)->problem();
    EXPECT_EQ((*full)->write_errors(), 1u);
    // A logger over it says so (the readiness check reads this).
    Logger logger(std::move(*full));
    EXPECT_FALSE(logger.problem().empty());
}

TEST_F(SinkTest, ConcurrentWritersNeverInterleaveLines) {
    const auto path = dir_ / "concurrent.log";
    auto sink = FdSink::open_file(path);
    ASSERT_TRUE(sink);
    Logger logger(std::move(*sink), LoggerOptions{Level::debug, Format::json, true});
    std::vector<std::thread> threads;
    const std::string payload(900, 'x');
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) logger.info("test", payload, {{"thread", t}, {"i", i}});
        });
    for (auto& t : threads) t.join();
    auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 2000u);
    for (auto& l : lines) {
        auto o = boost::json::parse(l).as_object();
        EXPECT_EQ(o.at("msg").as_string().size(), payload.size());
    }
}

TEST(MemorySink, KeepsLines) {
    MemorySink s;
    s.write("a\n");
    s.write("b\n");
    EXPECT_EQ(s.lines(), (std::vector<std::string>{"a\n", "b\n"}));
    s.clear();
    EXPECT_TRUE(s.lines().empty());
}

// What a BufferedSink hands down: each write(2) it would make, and reopen calls in between.
class Recorder final : public Sink {
public:
    void write(std::string_view chunk) noexcept override {
        std::lock_guard lock(mutex_);
        calls_.emplace_back(chunk);
    }
    Result<void> reopen() override {
        std::lock_guard lock(mutex_);
        calls_.emplace_back("<reopen>");
        return ok();
    }
    std::string description() const override { return "recorder"; }
    std::vector<std::string> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> calls_;
};

// Waits (bounded) for `pred`; true when it came true.
template <class Pred>
bool eventually(Pred pred) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > limit) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

TEST(BufferedSink, DeferredLinesGoOutTogetherAfterTheInterval) {
    auto recorder = std::make_unique<Recorder>();
    Recorder* out = recorder.get();
    BufferedSink sink(std::move(recorder), 1 << 20, std::chrono::milliseconds(100));
    sink.write_deferred("a\n");
    sink.write_deferred("b\n");
    EXPECT_TRUE(out->calls().empty());  // held: no system call per line
    ASSERT_TRUE(eventually([&] { return !out->calls().empty(); }));
    EXPECT_EQ(out->calls(), (std::vector<std::string>{"a\nb\n"}));
    // The flusher keeps going for later batches.
    sink.write_deferred("c\n");
    ASSERT_TRUE(eventually([&] { return out->calls().size() == 2; }));
    EXPECT_EQ(out->calls()[1], "c\n");
}

TEST(BufferedSink, AFullBufferIsWrittenAtOnce) {
    auto recorder = std::make_unique<Recorder>();
    Recorder* out = recorder.get();
    BufferedSink sink(std::move(recorder), 10, std::chrono::seconds(60));
    sink.write_deferred("12345\n");
    EXPECT_TRUE(out->calls().empty());
    sink.write_deferred("67890\n");  // 12 bytes held: over the limit
    EXPECT_EQ(out->calls(), (std::vector<std::string>{"12345\n67890\n"}));
}

TEST(BufferedSink, ImmediateLinesComeAfterWhatIsHeldAndAreNotDelayed) {
    auto recorder = std::make_unique<Recorder>();
    Recorder* out = recorder.get();
    BufferedSink sink(std::move(recorder), 1 << 20, std::chrono::seconds(60));
    sink.write_deferred("access 1\n");
    sink.write_deferred("access 2\n");
    sink.write("error\n");
    EXPECT_EQ(out->calls(), (std::vector<std::string>{"access 1\naccess 2\n", "error\n"}));
}

// Hands everything to a Recorder that outlives the sink, to see what the sink's destructor writes.
class Forward final : public Sink {
public:
    explicit Forward(std::shared_ptr<Recorder> to) : to_(std::move(to)) {}
    void write(std::string_view chunk) noexcept override { to_->write(chunk); }
    Result<void> reopen() override { return to_->reopen(); }
    std::string description() const override { return "forward"; }

private:
    std::shared_ptr<Recorder> to_;
};

TEST(BufferedSink, ReopenAndDestructionWriteWhatIsHeldFirst) {
    auto out = std::make_shared<Recorder>();
    {
        BufferedSink sink(std::make_unique<Forward>(out), 1 << 20, std::chrono::seconds(60));
        sink.write_deferred("before rotation\n");
        ASSERT_TRUE(sink.reopen());
        EXPECT_EQ(out->calls(), (std::vector<std::string>{"before rotation\n", "<reopen>"}));
        sink.write_deferred("last words\n");
        EXPECT_EQ(out->calls().size(), 2u);  // held right up to the destructor
    }
    EXPECT_EQ(out->calls(), (std::vector<std::string>{"before rotation\n", "<reopen>", "last words\n"}));
}

TEST_F(SinkTest, BufferedFileKeepsEveryLineWholeUnderConcurrentWriters) {
    const auto path = dir_ / "access.log";
    {
        auto file = FdSink::open_file(path);
        ASSERT_TRUE(file);
        BufferedSink sink(std::move(*file), 4096, std::chrono::milliseconds(20));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&sink, t] {
                for (int i = 0; i < 2000; ++i) {
                    const std::string line = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}\n";
                    if (i % 500 == 499) sink.write(line);  // an application line now and then
                    else sink.write_deferred(line);
                }
            });
        }
        for (auto& th : threads) th.join();
    }  // the destructor writes the rest
    const auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 8000u);
    std::vector<int> next(4, 0);
    for (const auto& l : lines) {
        const auto o = boost::json::parse(l).as_object();  // whole lines only
        const auto t = static_cast<std::size_t>(o.at("t").as_int64());
        EXPECT_EQ(o.at("i").as_int64(), next[t]++);  // each writer's lines in its order
    }
}

}  // namespace
}  // namespace herald::log
