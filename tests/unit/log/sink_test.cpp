#include "log/sink.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
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

}  // namespace
}  // namespace herald::log
