// The API keys admin API's logic: the merge of the file's keys and the admin ones (the file wins, a
// clash is an error, never a silent choice), request validation naming the member, RFC 3339 expiry,
// and the start with stored keys published into the security context.
#include "server/key_admin.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "base/uuid.hpp"

namespace herald::server {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;
using security::ApiKeyRecord;
using security::ApiKeyStore;

ApiKeyRecord record(std::string name, std::string_view key, std::vector<std::string> scopes) {
    ApiKeyRecord r;
    r.name = std::move(name);
    r.hash_hex = ApiKeyStore::hash_key(key);
    for (auto& s : scopes) r.scopes.push_back(*security::parse_scope(s));
    r.created = Clock::now();
    return r;
}

TEST(SharedKeyRecord, RoundTripsWithoutTheKey) {
    auto r = record("ci", "hk_secret_key_material_0123", {"publish:orders.*", "subscribe:*"});
    r.created = Clock::time_point(std::chrono::milliseconds(1'764'000'000'123));
    r.expires = Clock::time_point(std::chrono::milliseconds(1'800'000'000'000));
    auto text = key_record_json(r);
    EXPECT_EQ(text.find("hk_secret"), std::string::npos) << "only the hash is shared";
    auto back = parse_key_record(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->name, "ci");
    EXPECT_EQ(back->hash_hex, r.hash_hex);
    ASSERT_EQ(back->scopes.size(), 2u);
    EXPECT_EQ(security::to_string(back->scopes[0]), "publish:orders.*");
    EXPECT_EQ(back->created, r.created);
    EXPECT_EQ(back->expires, r.expires);
    r.expires.reset();
    auto no_expiry = parse_key_record(key_record_json(r));
    ASSERT_TRUE(no_expiry);
    EXPECT_FALSE(no_expiry->expires);
}

TEST(SharedKeyRecord, WhatAnotherNodeCannotHaveWrittenIsRefused) {
    const char* bad[] = {
        "", "[]", R"({"hash":"00","scopes":[],"created_at_ms":1})",
        R"({"name":"a","hash":"abc","scopes":[],"created_at_ms":1})",
        R"({"name":"a","hash":"0000000000000000000000000000000000000000000000000000000000000000","scopes":["fly:x"],"created_at_ms":1})",
        R"({"name":"a","hash":"0000000000000000000000000000000000000000000000000000000000000000","scopes":[],"created_at_ms":"x"})",
        R"({"name":"a","hash":"0000000000000000000000000000000000000000000000000000000000000000","scopes":[],"created_at_ms":1,"expires_at_ms":"soon"})",
    };
    for (auto* text : bad) {
        auto r = parse_key_record(text);
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.error().code, Errc::corrupt);
    }
}

TEST(MergeApiKeys, FileKeysAndAdminKeysBothAuthenticate) {
    auto merged = merge_api_keys({record("file", "hk_file_key_0123456789", {"publish:a"})},
                                 {record("made", "hk_made_key_0123456789", {"subscribe:b"})});
    ASSERT_TRUE(merged) << merged.error().message;
    ASSERT_TRUE(*merged);
    auto now = Clock::now();
    auto f = (*merged)->lookup("hk_file_key_0123456789", now);
    ASSERT_TRUE(f);
    EXPECT_EQ((*f)->name, "file");
    auto m = (*merged)->lookup("hk_made_key_0123456789", now);
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)->name, "made");
    EXPECT_EQ((*merged)->size(), 2u);
}

TEST(MergeApiKeys, ANameInBothIsAConflictNamingIt) {
    auto merged = merge_api_keys({record("ci", "hk_file_key_0123456789", {"publish:a"})},
                                 {record("ci", "hk_made_key_0123456789", {"admin"})});
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().code, Errc::conflict);
    EXPECT_EQ(merged.error().attribute, "name");
    EXPECT_NE(merged.error().message.find("'ci'"), std::string::npos);
    EXPECT_NE(merged.error().message.find("the file wins"), std::string::npos);
}

TEST(MergeApiKeys, TheSameKeyUnderTwoNamesIsAConflict) {
    auto merged = merge_api_keys({record("a", "hk_same_key_0123456789", {"publish:a"})},
                                 {record("b", "hk_same_key_0123456789", {"publish:a"})});
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().code, Errc::conflict);
}

TEST(MergeApiKeys, NoKeysAtAllIsNoStore) {
    auto merged = merge_api_keys({}, {});
    ASSERT_TRUE(merged);
    EXPECT_FALSE(*merged);
}

std::string attribute_of(std::string_view body, bool rotate = false) {
    auto r = parse_key_request(json::parse(body), Clock::now(), rotate);
    if (r) return "(accepted)";
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    return r.error().attribute;
}

TEST(KeyRequest, ValidRequests) {
    const auto now = Clock::now();
    auto r = parse_key_request(
        json::parse(R"({"name":"ci.deploy-1","scopes":["publish:orders.*","admin"],
                                               "expires_in":"30d"})"),
        now);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->name, "ci.deploy-1");
    ASSERT_EQ(r->scopes.size(), 2u);
    EXPECT_EQ(security::to_string(r->scopes[0]), "publish:orders.*");
    ASSERT_TRUE(r->expires);
    EXPECT_EQ(*r->expires - now, std::chrono::hours(24 * 30));
    const auto next_year =
        std::chrono::floor<std::chrono::seconds>(now + std::chrono::hours(24 * 365));
    const std::string when = log::format_time(
        std::chrono::duration_cast<std::chrono::microseconds>(next_year.time_since_epoch())
            .count());
    json::object body{{"name", "x"}, {"scopes", json::array{"subscribe:*"}}, {"expires_at", when}};
    auto at = parse_key_request(body, now);
    ASSERT_TRUE(at) << when << ": " << at.error().message;
    EXPECT_EQ(*at->expires, next_year);
    auto forever = parse_key_request(json::parse(R"({"name":"x","scopes":["subscribe:*"]})"), now);
    ASSERT_TRUE(forever);
    EXPECT_FALSE(forever->expires);
}

TEST(KeyRequest, ErrorsNameTheMember) {
    EXPECT_EQ(attribute_of(R"({"scopes":["admin"]})"), "name");
    EXPECT_EQ(attribute_of(R"({"name":"has space","scopes":["admin"]})"), "name");
    EXPECT_EQ(attribute_of(R"({"name":"ci"})"), "scopes");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":[]})"), "scopes");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":"admin"})"), "scopes");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":["admin","read:users"]})"), "scopes[1]");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":["admin",3]})"), "scopes[1]");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":["admin"],"expires_at":"tomorrow"})"),
              "expires_at");
    EXPECT_EQ(
        attribute_of(R"({"name":"ci","scopes":["admin"],"expires_at":"2001-01-01T00:00:00Z"})"),
        "expires_at");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":["admin"],"expires_in":"-1s"})"), "expires_in");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":["admin"],"expires_in":"40000d"})"),
              "expires_in");
    EXPECT_EQ(
        attribute_of(
            R"({"name":"ci","scopes":["admin"],"expires_in":"1d","expires_at":"2099-01-01T00:00:00Z"})"),
        "expires_in");
    EXPECT_EQ(attribute_of(R"({"name":"ci","scopes":["admin"],"key":"hk_mine"})"), "key");
    // Rotation takes only an expiry: the name and scopes are the key's.
    EXPECT_EQ(attribute_of(R"({})", true), "(accepted)");
    EXPECT_EQ(attribute_of(R"({"expires_in":"1h"})", true), "(accepted)");
    EXPECT_EQ(attribute_of(R"({"scopes":["admin"]})", true), "scopes");
}

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), std::optional<std::int64_t>(0));
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:01.5Z"), std::optional<std::int64_t>(1500));
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T02:00:00+02:00"), std::optional<std::int64_t>(0));
    EXPECT_EQ(parse_rfc3339_ms("1969-12-31T23:00:00-01:00"), std::optional<std::int64_t>(0));
    EXPECT_EQ(parse_rfc3339_ms("2024-02-29T12:00:00Z"), std::optional<std::int64_t>(1709208000000));
    for (auto bad : {"2023-02-29T12:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01 00:00:00Z",
                     "2024-01-01T00:00:00", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00.Z",
                     "2024-01-01T00:00:00+0200", "", "2024-01-01T00:00:00Zjunk"})
        EXPECT_FALSE(parse_rfc3339_ms(bad)) << bad;
}

class KeyAdminStart : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("herald-key-admin-" + random_hex(8));
        fs::create_directories(dir_);
        meta_ = (dir_ / "meta.db").string();
        config_.auth.enabled = true;
        config_.auth.api_keys.push_back({"file", "", "hk_file_key_0123456789", {"publish:a"}});
    }
    void TearDown() override { fs::remove_all(dir_); }
    void store_row(const std::string& name, std::string_view key) {
        auto db = meta::Database::open(meta_);
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->exec(
            "CREATE TABLE IF NOT EXISTS api_keys (name TEXT PRIMARY KEY, hash TEXT NOT NULL "
            "UNIQUE, scopes TEXT NOT NULL, created_at_ms INTEGER NOT NULL, expires_at_ms "
            "INTEGER)"));
        auto st =
            (*db)->prepare("INSERT INTO api_keys VALUES (?1, ?2, '[\"subscribe:b\"]', 0, NULL)");
        ASSERT_TRUE(st);
        st->bind(1, std::string_view(name)).bind(2, std::string_view(ApiKeyStore::hash_key(key)));
        ASSERT_TRUE(st->run());
    }

    fs::path dir_;
    std::string meta_;
    config::Config config_;
};

TEST_F(KeyAdminStart, StoredKeysJoinTheFileKeysInTheSecurityContext) {
    store_row("made", "hk_made_key_0123456789");
    auto security = make_security_context(config_);
    ASSERT_TRUE(security);
    const auto generation = (*security)->generation();
    auto admin = KeyAdmin::open(**security, true, meta_, nullptr);
    ASSERT_TRUE(admin) << admin.error().message;
    EXPECT_GT((*security)->generation(), generation) << "workers must pick the new store up";
    auto store = (*security)->keys().second;
    ASSERT_TRUE(store);
    EXPECT_EQ(store->size(), 2u);
    auto made = store->lookup("hk_made_key_0123456789", Clock::now());
    ASSERT_TRUE(made);
    EXPECT_EQ(security::to_string((*made)->scopes.at(0)), "subscribe:b");

    json::object dump{{"auth", json::object{}}};
    (*admin)->dump(dump);
    EXPECT_EQ(json::serialize(dump.at("auth").at("api_keys")), R"(["file","made"])");
    auto text = json::serialize(dump);
    EXPECT_NE(text.find(R"("source":"admin")"), std::string::npos);
    EXPECT_EQ(text.find(ApiKeyStore::hash_key("hk_made_key_0123456789").substr(0, 16)),
              std::string::npos)
        << "no key material in the dump";
}

TEST_F(KeyAdminStart, AStoredKeyWithAFileKeysNameStopsTheStart) {
    store_row("file", "hk_made_key_0123456789");
    auto security = make_security_context(config_);
    ASSERT_TRUE(security);
    auto admin = KeyAdmin::open(**security, true, meta_, nullptr);
    ASSERT_FALSE(admin);
    EXPECT_EQ(admin.error().code, Errc::conflict);
    EXPECT_NE(admin.error().message.find("'file'"), std::string::npos) << admin.error().message;
}

}  // namespace
}  // namespace herald::server
