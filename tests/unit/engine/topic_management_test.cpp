// Topics managed at run time (Engine::configure_topic, Engine::delete_topic), as the admin API uses
// them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "base/uuid.hpp"
#include "engine/embedded_engine.hpp"

namespace herald::engine {
namespace {

namespace fs = std::filesystem;

struct NullListener : CommitListener {
    void on_commit(CommittedBatch&&) override {}
};

class TopicManagementTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-topics-" + random_hex(8));
        options_.data_dir = dir_;
        options_.dedup = {60'000, 1000};
    }
    void TearDown() override {
        engine_.reset();
        fs::remove_all(dir_);
    }
    void start() {
        engine_ = std::make_unique<EmbeddedEngine>(options_, clock_);
        ASSERT_TRUE(engine_->start(listener_));
    }
    Result<TopicConfigured> configure(const std::string& name, TopicSettings s) {
        std::promise<Result<TopicConfigured>> p;
        auto f = p.get_future();
        engine_->configure_topic(name, s,
                                 [&](Result<TopicConfigured> r) { p.set_value(std::move(r)); });
        return f.get();
    }
    Result<void> remove(const std::string& name) {
        std::promise<Result<void>> p;
        auto f = p.get_future();
        engine_->delete_topic(name, [&](Result<void> r) { p.set_value(std::move(r)); });
        return f.get();
    }
    Result<PublishResult> publish(const std::string& topic, int n) {
        PublishRequest req{topic, {}, ""};
        for (int i = 0; i < n; ++i) {
            auto id = random_hex(8);
            req.items.push_back(PublishItem{id, "/s", "t.happened.v1",
                                            "{\"id\":\"" + id + "\",\"source\":\"/s\",\"pad\":\"" +
                                                std::string(100, 'x') + "\"}"});
        }
        std::promise<Result<PublishResult>> p;
        auto f = p.get_future();
        engine_->publish(std::move(req),
                         [&](Result<PublishResult> r) { p.set_value(std::move(r)); });
        return f.get();
    }
    std::optional<TopicInfo> info(const std::string& name) {
        for (auto& t : engine_->topics())
            if (t.name == name) return t;
        return std::nullopt;
    }

    fs::path dir_;
    EmbeddedOptions options_;
    ManualClock clock_;
    NullListener listener_;
    std::unique_ptr<EmbeddedEngine> engine_;
};

TEST_F(TopicManagementTest, ConfigureCreatesATopicEvenWhenAutoCreateIsOff) {
    options_.auto_create = false;
    start();
    ASSERT_FALSE(publish("made", 1)) << "auto-create is off";
    TopicSettings s;
    s.fsync = FsyncPolicy::always;
    s.retention_ms = 3'600'000;
    auto r = configure("made", s);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->created);
    EXPECT_NE(r->epoch, 0u);
    auto t = info("made");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->settings.fsync, FsyncPolicy::always);
    EXPECT_EQ(t->settings.retention_ms, std::optional<std::int64_t>(3'600'000));
    EXPECT_TRUE(fs::is_directory(dir_ / "topics" / "made"));
    auto p = publish("made", 2);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->outcomes[1].offset, 1u);
}

TEST_F(TopicManagementTest, ConfigureChangesTheSettingsOfAnExistingTopicInPlace) {
    start();
    ASSERT_TRUE(publish("t", 3));
    const auto epoch = info("t")->epoch;
    TopicSettings s;
    s.fsync = FsyncPolicy::never;
    s.retention_bytes = 1u << 30;
    s.segment_bytes = 1u << 20;
    auto r = configure("t", s);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->created);
    EXPECT_EQ(r->epoch, epoch) << "the same log, not a new one";
    auto t = info("t");
    EXPECT_EQ(t->settings.fsync, FsyncPolicy::never);
    EXPECT_EQ(t->settings.retention_bytes, std::optional<std::uint64_t>(1u << 30));
    EXPECT_EQ(t->settings.segment_bytes, 1u << 20);
    EXPECT_EQ(t->end_offset, 3u);
    ASSERT_TRUE(publish("t", 1));
    EXPECT_EQ(info("t")->end_offset, 4u);
}

TEST_F(TopicManagementTest, AShorterRetentionDeletesOldSegmentsAtOnce) {
    options_.defaults.segment_bytes = 600;
    options_.retention_check_ms = 3'600'000;  // the periodic pass would not run during the test
    start();
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(publish("t", 2));
    ASSERT_EQ(info("t")->start_offset, 0u);
    TopicSettings s = options_.defaults;
    s.retention_bytes = 1500;
    ASSERT_TRUE(configure("t", s));
    auto t = info("t");
    EXPECT_GT(t->start_offset, 0u) << "retention must apply before configure_topic answers";
    EXPECT_LE(t->size_bytes, 1500u + 600u);
    EXPECT_EQ(t->end_offset, 60u);
}

TEST_F(TopicManagementTest, DeleteIsRefusedWhileAReaderHoldsTheTopic) {
    start();
    ASSERT_TRUE(publish("t", 2));
    auto reader = engine_->topic("t", false);
    ASSERT_TRUE(reader);
    auto refused = remove("t");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::conflict);
    EXPECT_NE(refused.error().message.find("1 open readers"), std::string::npos)
        << refused.error().message;
    EXPECT_TRUE(info("t")) << "still there";
    reader = make_error(Errc::not_found, "dropped");
    ASSERT_TRUE(remove("t"));
    EXPECT_FALSE(info("t"));
}

TEST_F(TopicManagementTest, DeleteRemovesTheEventsAndARecreatedTopicHasANewEpoch) {
    options_.auto_create = false;
    start();
    ASSERT_TRUE(configure("t", TopicSettings{}));
    ASSERT_TRUE(publish("t", 5));
    const auto epoch = info("t")->epoch;
    ASSERT_TRUE(remove("t"));
    EXPECT_FALSE(fs::exists(dir_ / "topics" / "t"));
    for (auto& e : fs::directory_iterator(dir_ / "topics"))
        ADD_FAILURE() << "left behind: " << e.path();
    auto gone = engine_->topic("t", true);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, Errc::not_found);
    auto again = remove("t");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::not_found);

    auto r = configure("t", TopicSettings{});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->created);
    EXPECT_NE(r->epoch, epoch);
    EXPECT_EQ(info("t")->end_offset, 0u);
}

TEST_F(TopicManagementTest, AnInterruptedDeleteIsFinishedAtTheNextStart) {
    fs::create_directories(dir_ / "topics" / ".deleted-t-00000000000000ab");
    std::ofstream(dir_ / "topics" / ".deleted-t-00000000000000ab" / "00000000000000000000.log")
        << "x";
    start();
    EXPECT_FALSE(fs::exists(dir_ / "topics" / ".deleted-t-00000000000000ab"));
    EXPECT_TRUE(engine_->topics().empty());
}

TEST_F(TopicManagementTest, BadNamesAndAStoppedEngineAreRefused) {
    start();
    auto bad = configure("Bad/Name", TopicSettings{});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::invalid_argument);
    engine_->stop();
    auto late = configure("t", TopicSettings{});
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, Errc::unavailable);
    auto late_delete = remove("t");
    ASSERT_FALSE(late_delete);
    EXPECT_EQ(late_delete.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace herald::engine
