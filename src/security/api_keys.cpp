#include "security/api_keys.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "security/base64url.hpp"
#include "security/crypto.hpp"

namespace herald::security {

Result<void> check_api_key_name(std::string_view name) {
    if (name.empty() || name.size() > 128) {
        return make_error(Errc::invalid_argument, "API key name must be 1 to 128 characters",
                          "name");
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return make_error(Errc::invalid_argument,
                              "API key name \"" + std::string(name) +
                                  "\" may hold only letters, digits, '.', '_', '-'",
                              "name");
        }
    }
    return ok();
}

namespace {

Result<void> check_name(std::string_view name) { return check_api_key_name(name); }

bool is_hash_hex(std::string_view s) noexcept {
    if (s.size() != 64) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

ApiKeyInfo info_of(const ApiKeyRecord& r) {
    return ApiKeyInfo{r.name, r.hash_hex.substr(0, kApiKeyHashPrefixChars), r.scopes, r.created,
                      r.expires};
}

}  // namespace

std::string ApiKeyStore::generate_key() {
    std::string raw = random_bytes(kApiKeyRandomBytes);
    std::string key = std::string(kApiKeyPrefix) + base64url_encode(raw);
    OPENSSL_cleanse(raw.data(), raw.size());
    return key;
}

std::string ApiKeyStore::hash_key(std::string_view key) { return sha256_hex(key); }

Result<ApiKeyInfo> ApiKeyStore::add(ApiKeyRecord record) {
    if (auto r = check_name(record.name); !r) return std::move(r).error();
    if (!is_hash_hex(record.hash_hex)) {
        return make_error(Errc::invalid_argument,
                          "API key hash must be 64 lowercase hex characters", "hash");
    }
    if (hash_by_name_.count(record.name)) {
        return make_error(Errc::conflict, "an API key named \"" + record.name + "\" exists",
                          "name");
    }
    if (by_hash_.count(record.hash_hex)) {
        return make_error(Errc::conflict, "this API key is already stored under another name",
                          "hash");
    }
    ApiKeyInfo info = info_of(record);
    hash_by_name_.emplace(record.name, record.hash_hex);
    std::string hash = record.hash_hex;
    by_hash_.emplace(std::move(hash), std::move(record));
    return info;
}

Result<ApiKeyInfo> ApiKeyStore::add_key(
    std::string name, std::string_view key, std::vector<Scope> scopes,
    std::chrono::system_clock::time_point created,
    std::optional<std::chrono::system_clock::time_point> expires) {
    if (key.size() < 16 || key.size() > kMaxApiKeyBytes) {
        return make_error(Errc::invalid_argument, "API key must be 16 to 512 characters", "key");
    }
    return add(ApiKeyRecord{std::move(name), hash_key(key), std::move(scopes), created, expires});
}

Result<NewApiKey> ApiKeyStore::create(
    std::string name, std::vector<Scope> scopes, std::chrono::system_clock::time_point now,
    std::optional<std::chrono::system_clock::time_point> expires) {
    if (auto r = check_name(name); !r) return std::move(r).error();
    if (hash_by_name_.count(name))
        return make_error(Errc::conflict, "an API key named \"" + name + "\" exists", "name");
    NewApiKey out;
    out.key = generate_key();
    out.record = ApiKeyRecord{std::move(name), hash_key(out.key), std::move(scopes), now, expires};
    auto info = add(out.record);
    if (!info) return std::move(info).error();
    out.info = std::move(info).value();
    return out;
}

bool ApiKeyStore::remove(std::string_view name) {
    const auto it = hash_by_name_.find(std::string(name));
    if (it == hash_by_name_.end()) return false;
    by_hash_.erase(it->second);
    hash_by_name_.erase(it);
    return true;
}

std::vector<ApiKeyInfo> ApiKeyStore::list() const {
    std::vector<ApiKeyInfo> out;
    out.reserve(by_hash_.size());
    for (const auto& [hash, record] : by_hash_) out.push_back(info_of(record));
    std::sort(out.begin(), out.end(),
              [](const ApiKeyInfo& a, const ApiKeyInfo& b) { return a.name < b.name; });
    return out;
}

std::vector<ApiKeyRecord> ApiKeyStore::records() const {
    std::vector<ApiKeyRecord> out;
    out.reserve(by_hash_.size());
    for (const auto& [hash, record] : by_hash_) out.push_back(record);
    std::sort(out.begin(), out.end(),
              [](const ApiKeyRecord& a, const ApiKeyRecord& b) { return a.name < b.name; });
    return out;
}

Expected<const ApiKeyRecord*, Reason> ApiKeyStore::lookup(
    std::string_view presented, std::chrono::system_clock::time_point now) const {
    if (presented.empty() || presented.size() > kMaxApiKeyBytes) return Reason::invalid_api_key;
    const auto it = by_hash_.find(hash_key(presented));
    if (it == by_hash_.end()) return Reason::invalid_api_key;
    if (it->second.expires && now >= *it->second.expires) return Reason::api_key_expired;
    return &it->second;
}

}  // namespace herald::security
