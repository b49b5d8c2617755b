// The topics admin API's logic: reading a topic body (validation naming the member, PUT and PATCH
// bases, units), the round trip of its JSON form, and what happens at start to stored topics the
// file now declares.
#include "server/topic_admin.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "base/uuid.hpp"

namespace herald::server {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

Result<config::TopicConfig> parse(std::string_view body, config::TopicConfig base = {}) {
    return parse_topic_settings(json::parse(body), std::move(base));
}

std::string attribute_of(std::string_view body) {
    auto r = parse(body);
    if (r) return "(accepted)";
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().message.rfind(r.error().attribute + ": ", 0), 0u)
        << "the detail starts with the member: " << r.error().message;
    return r.error().attribute;
}

TEST(TopicSettings, ReadsEveryMemberWithUnitsOrNumbers) {
    auto t = parse(R"({"fsync":"always","fsync_interval":"250ms","segment_bytes":"1MiB",
                       "retention":{"max_age":"7d","max_bytes":8192},
                       "accepted_types":["shop.*","billing.invoicePaid.v1"],
                       "default_type":"shop.orderPlaced.v1","allow_unknown_types":false})");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->settings.fsync, engine::FsyncPolicy::always);
    EXPECT_EQ(t->settings.fsync_interval_ms, 250);
    EXPECT_EQ(t->settings.segment_bytes, 1u << 20);
    EXPECT_EQ(t->settings.retention_ms, std::optional<std::int64_t>(7ll * 24 * 3600 * 1000));
    EXPECT_EQ(t->settings.retention_bytes, std::optional<std::uint64_t>(8192));
    EXPECT_EQ(t->accepted_types, (std::vector<std::string>{"shop.*", "billing.invoicePaid.v1"}));
    EXPECT_EQ(t->default_type, "shop.orderPlaced.v1");
    EXPECT_FALSE(t->allow_unknown_types);
}

TEST(TopicSettings, MembersLeftOutKeepTheBase) {
    config::TopicConfig base;
    base.settings.fsync = engine::FsyncPolicy::never;
    base.settings.retention_ms = 60'000;
    base.settings.retention_bytes = 1u << 30;
    base.accepted_types = {"a.*"};
    base.default_type = "a.b.v1";
    auto t = parse(R"({"retention":{"max_bytes":"2GiB"}})", base);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->settings.fsync, engine::FsyncPolicy::never);
    EXPECT_EQ(t->settings.retention_ms, std::optional<std::int64_t>(60'000))
        << "max_age was not named";
    EXPECT_EQ(t->settings.retention_bytes, std::optional<std::uint64_t>(2ull << 30));
    EXPECT_EQ(t->accepted_types, std::vector<std::string>{"a.*"});
    EXPECT_EQ(t->default_type, "a.b.v1");
}

TEST(TopicSettings, NullClearsALimitOrAList) {
    config::TopicConfig base;
    base.settings.retention_ms = 60'000;
    base.settings.retention_bytes = 1u << 30;
    base.accepted_types = {"a.*"};
    base.default_type = "a.b.v1";
    auto t =
        parse(R"({"retention":{"max_age":null},"accepted_types":null,"default_type":null})", base);
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->settings.retention_ms);
    EXPECT_TRUE(t->settings.retention_bytes);
    EXPECT_TRUE(t->accepted_types.empty());
    EXPECT_TRUE(t->default_type.empty());
    auto none = parse(R"({"retention":null})", base);
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->settings.retention_ms);
    EXPECT_FALSE(none->settings.retention_bytes);
}

TEST(TopicSettings, ErrorsNameTheMember) {
    EXPECT_EQ(attribute_of(R"({"fsync":"sometimes"})"), "fsync");
    EXPECT_EQ(attribute_of(R"({"fsync":true})"), "fsync");
    EXPECT_EQ(attribute_of(R"({"fsync_interval":0})"), "fsync_interval");
    EXPECT_EQ(attribute_of(R"({"fsync_interval":"2h"})"), "fsync_interval");
    EXPECT_EQ(attribute_of(R"({"segment_bytes":100})"), "segment_bytes");
    EXPECT_EQ(attribute_of(R"({"segment_bytes":"lots"})"), "segment_bytes");
    EXPECT_EQ(attribute_of(R"({"segment_bytes":-5})"), "segment_bytes");
    EXPECT_EQ(attribute_of(R"({"retention":{"max_age":"10ms"}})"), "retention.max_age");
    EXPECT_EQ(attribute_of(R"({"retention":{"max_age":1.5}})"), "retention.max_age");
    EXPECT_EQ(attribute_of(R"({"retention":{"max_bytes":"bad"}})"), "retention.max_bytes");
    EXPECT_EQ(attribute_of(R"({"retention":{"max_count":3}})"), "retention.max_count");
    EXPECT_EQ(attribute_of(R"({"retention":"7d"})"), "retention");
    EXPECT_EQ(attribute_of(R"({"accepted_types":"shop.*"})"), "accepted_types");
    EXPECT_EQ(attribute_of(R"({"accepted_types":["shop.*",7]})"), "accepted_types[1]");
    EXPECT_EQ(attribute_of(R"({"accepted_types":["shop .*"]})"), "accepted_types[0]");
    EXPECT_EQ(attribute_of(R"({"accepted_types":[""]})"), "accepted_types[0]");
    EXPECT_EQ(attribute_of(R"({"default_type":5})"), "default_type");
    EXPECT_EQ(attribute_of(R"({"allow_unknown_types":"no"})"), "allow_unknown_types");
    EXPECT_EQ(attribute_of(R"({"retention_days":7})"), "retention_days");
    EXPECT_FALSE(parse(R"([1,2])"));
    EXPECT_EQ(attribute_of(R"({})"), "(accepted)");
}

TEST(TopicSettings, TheJsonFormReadsBackToTheSameSettings) {
    auto t = parse(R"({"fsync":"never","fsync_interval":"2s","segment_bytes":"8MiB",
                       "retention":{"max_age":"1h"},"accepted_types":["x.*"],"default_type":"x.y.v1",
                       "allow_unknown_types":false})");
    ASSERT_TRUE(t);
    auto j = topic_settings_json(*t);
    EXPECT_EQ(j.at("fsync_interval").as_int64(), 2000);
    EXPECT_TRUE(j.at("retention").at("max_bytes").is_null());
    config::TopicConfig other;
    other.settings.retention_bytes = 1;  // must be cleared by the explicit null
    auto back = parse_topic_settings(j, other);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(json::serialize(topic_settings_json(*back)), json::serialize(j));
}

class TopicAdminStore : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-topic-admin-" + random_hex(8));
        meta_ = (dir_ / "meta.db").string();
    }
    void TearDown() override { fs::remove_all(dir_); }
    void put_row(const std::string& name, const std::string& settings) {
        auto db = meta::Database::open(meta_);
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->exec(
            "CREATE TABLE IF NOT EXISTS topic_settings (name TEXT PRIMARY KEY, settings TEXT "
            "NOT NULL, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL)"));
        auto st = (*db)->prepare("INSERT INTO topic_settings VALUES (?1, ?2, 0, 0)");
        ASSERT_TRUE(st);
        st->bind(1, std::string_view(name)).bind(2, std::string_view(settings));
        ASSERT_TRUE(st->run());
    }
    std::size_t rows() {
        auto db = meta::Database::open(meta_);
        auto st = (*db)->prepare("SELECT count(*) FROM topic_settings");
        EXPECT_TRUE(st && *st->step());
        return static_cast<std::size_t>(st->int64(0));
    }

    fs::path dir_;
    std::string meta_;
};

TEST_F(TopicAdminStore, StoredTopicsAreDeclaredAndTheFileAdoptsItsOwnNames) {
    fs::create_directories(dir_);
    put_row("orders", R"({"fsync":"always","retention":{"max_age":60000}})");
    put_row("audit", R"({"fsync":"never"})");
    config::Config file;
    file.topics["orders"].settings.fsync = engine::FsyncPolicy::interval;
    auto admin = TopicAdmin::open(file, meta_, nullptr);
    ASSERT_TRUE(admin) << admin.error().message;
    std::map<std::string, engine::TopicSettings> declared;
    declared["orders"] = file.topics["orders"].settings;
    (*admin)->declare(declared);
    ASSERT_EQ(declared.size(), 2u);
    EXPECT_EQ(declared["orders"].fsync, engine::FsyncPolicy::interval) << "the file wins";
    EXPECT_EQ(declared["audit"].fsync, engine::FsyncPolicy::never);
    EXPECT_EQ(rows(), 1u) << "the adopted topic's stored settings are dropped";
}

TEST_F(TopicAdminStore, AStoredEntryThatNoLongerParsesStopsTheStartNamingIt) {
    fs::create_directories(dir_);
    put_row("audit", R"({"fsync":"sometimes"})");
    auto admin = TopicAdmin::open(config::Config{}, meta_, nullptr);
    ASSERT_FALSE(admin);
    EXPECT_EQ(admin.error().code, Errc::corrupt);
    EXPECT_NE(admin.error().message.find("topic_settings 'audit'"), std::string::npos)
        << admin.error().message;
}

TEST_F(TopicAdminStore, OpenCreatesTheDataDirectory) {
    auto admin = TopicAdmin::open(config::Config{}, meta_, nullptr);
    ASSERT_TRUE(admin) << admin.error().message;
    EXPECT_TRUE(fs::exists(meta_));
}

}  // namespace
}  // namespace herald::server
