// API keys: generation format and entropy, hash-only storage, lookup, expiry, listing without
// secrets, persistence records and their validation.

#include "security/api_keys.hpp"

#include <gtest/gtest.h>

#include <set>

#include "security/base64url.hpp"
#include "security/crypto.hpp"

namespace herald::security {
namespace {

using namespace std::chrono_literals;

const auto kT0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

TEST(ApiKeys, GeneratedKeysHaveThePrefixAnd256RandomBits) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string k = ApiKeyStore::generate_key();
        ASSERT_EQ(k.size(), 46u);
        ASSERT_EQ(k.substr(0, 3), "hk_");
        auto raw = base64url_decode(std::string_view(k).substr(3));
        ASSERT_TRUE(raw);
        EXPECT_EQ(raw->size(), 32u);
        EXPECT_TRUE(seen.insert(k).second);
    }
}

TEST(ApiKeys, HashIsSha256Hex) {
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    EXPECT_EQ(ApiKeyStore::hash_key("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeys, CreateThenLookup) {
    ApiKeyStore store;
    auto created = store.create("ci-bot", {{Action::publish, "builds.*"}}, kT0);
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(created->info.name, "ci-bot");
    EXPECT_EQ(created->record.hash_hex, ApiKeyStore::hash_key(created->key));
    EXPECT_EQ(created->info.hash_prefix, created->record.hash_hex.substr(0, 8));

    auto found = store.lookup(created->key, kT0);
    ASSERT_TRUE(found);
    EXPECT_EQ((*found)->name, "ci-bot");
    ASSERT_EQ((*found)->scopes.size(), 1u);
    EXPECT_EQ((*found)->scopes[0], (Scope{Action::publish, "builds.*"}));

    std::string wrong = created->key;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(store.lookup(wrong, kT0).error(), Reason::invalid_api_key);
    EXPECT_EQ(store.lookup("", kT0).error(), Reason::invalid_api_key);
    EXPECT_EQ(store.lookup(std::string(kMaxApiKeyBytes + 1, 'a'), kT0).error(),
              Reason::invalid_api_key);
    EXPECT_EQ(store.lookup(created->record.hash_hex, kT0).error(),
              Reason::invalid_api_key);  // the hash is no key
}

TEST(ApiKeys, StoreNeverHoldsTheKeyInClear) {
    ApiKeyStore store;
    auto created = store.create("a", {}, kT0);
    ASSERT_TRUE(created);
    for (const auto& r : store.records()) {
        EXPECT_EQ(r.hash_hex.find(created->key), std::string::npos);
        EXPECT_NE(r.hash_hex, created->key);
    }
    for (const auto& i : store.list()) {
        EXPECT_EQ(i.hash_prefix.size(), kApiKeyHashPrefixChars);
        EXPECT_EQ(created->key.find(i.hash_prefix), std::string::npos);
    }
}

TEST(ApiKeys, Expiry) {
    ApiKeyStore store;
    auto created = store.create("temp", {}, kT0, kT0 + 1h);
    ASSERT_TRUE(created);
    EXPECT_TRUE(store.lookup(created->key, kT0 + 59min));
    EXPECT_EQ(store.lookup(created->key, kT0 + 1h).error(), Reason::api_key_expired);
}

TEST(ApiKeys, RemoveAndList) {
    ApiKeyStore store;
    auto b = store.create("bravo", {{Action::subscribe, "*"}}, kT0);
    auto a = store.create("alpha", {}, kT0);
    ASSERT_TRUE(a && b);
    auto list = store.list();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "alpha");
    EXPECT_EQ(list[1].name, "bravo");
    EXPECT_EQ(list[1].scopes.size(), 1u);
    EXPECT_TRUE(store.remove("alpha"));
    EXPECT_FALSE(store.remove("alpha"));
    EXPECT_EQ(store.size(), 1u);
    EXPECT_EQ(store.lookup(a->key, kT0).error(), Reason::invalid_api_key);
    EXPECT_TRUE(store.lookup(b->key, kT0));
}

TEST(ApiKeys, NamesAreValidatedAndUnique) {
    ApiKeyStore store;
    ASSERT_TRUE(store.create("dup", {}, kT0));
    auto again = store.create("dup", {}, kT0);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
    for (const std::string& bad :
         std::vector<std::string>{"", "has space", "slash/x", "quote\"", std::string(129, 'a')}) {
        auto r = store.create(bad, {}, kT0);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::invalid_argument);
        EXPECT_EQ(r.error().attribute, "name");
    }
}

TEST(ApiKeys, RecordsRoundTripThroughPersistence) {
    ApiKeyStore store;
    auto created = store.create("svc", {{Action::publish, "x"}}, kT0, kT0 + 24h);
    ASSERT_TRUE(created);
    ApiKeyStore reloaded;
    for (auto& r : store.records()) ASSERT_TRUE(reloaded.add(r));
    auto found = reloaded.lookup(created->key, kT0);
    ASSERT_TRUE(found);
    EXPECT_EQ((*found)->name, "svc");
    EXPECT_EQ((*found)->created, kT0);
    EXPECT_EQ((*found)->expires, kT0 + 24h);
}

TEST(ApiKeys, AddValidatesRecords) {
    ApiKeyStore store;
    const std::string hash = ApiKeyStore::hash_key("some-long-key-material");
    EXPECT_TRUE(store.add({"one", hash, {}, kT0, std::nullopt}));
    auto dup_hash = store.add({"two", hash, {}, kT0, std::nullopt});
    ASSERT_FALSE(dup_hash);
    EXPECT_EQ(dup_hash.error().code, Errc::conflict);
    std::string upper = ApiKeyStore::hash_key("k2");
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_FALSE(store.add({"three", upper, {}, kT0, std::nullopt}));
    EXPECT_FALSE(store.add({"four", "abc", {}, kT0, std::nullopt}));
}

TEST(ApiKeys, ImportExistingKey) {
    ApiKeyStore store;
    ASSERT_TRUE(
        store.add_key("legacy", "legacy-secret-key-0123456789", {{Action::admin, ""}}, kT0));
    auto found = store.lookup("legacy-secret-key-0123456789", kT0);
    ASSERT_TRUE(found);
    EXPECT_EQ((*found)->name, "legacy");
    EXPECT_FALSE(store.add_key("short", "tiny", {}, kT0));
}

}  // namespace
}  // namespace herald::security
