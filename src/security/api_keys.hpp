#pragma once
// API keys, stored hashed (DESIGN.md §6). A key is "hk_" followed by 32 random bytes in base64url
// (256 bits of entropy); it is shown once, when created, and only its SHA-256 is kept. Because the
// key is uniformly random and long, a fast unsalted hash is the right tool (there is nothing to
// brute-force; password hashing such as Argon2 would only cost CPU on every request). Lookup hashes
// the presented key and finds the hash in a table: the comparison happens on digests, so its timing
// reveals nothing usable about any stored key.
//
// list() shows a short prefix of the hash (to tell keys apart in an admin UI and match them with
// logs), never the full hash; records() exposes full hashes for persistence only (meta.db), which
// is safe in the sense that a SHA-256 of 256 random bits cannot be inverted, but should still not
// be printed.
//
// Threading: lookups (const) may run concurrently; add/remove must not run concurrently with
// anything. The intended use is copy-on-write: the admin plane builds a new store and publishes a
// std::shared_ptr<const ApiKeyStore> to the workers.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "security/error.hpp"
#include "security/scopes.hpp"

namespace herald::security {

inline constexpr std::string_view kApiKeyPrefix = "hk_";
inline constexpr std::size_t kApiKeyRandomBytes = 32;
inline constexpr std::size_t kMaxApiKeyBytes =
    512;  // longer presented keys are refused without hashing
inline constexpr std::size_t kApiKeyHashPrefixChars = 8;  // what list() shows of the hash

// What is persisted: never the key itself.
struct ApiKeyRecord {
    std::string name;      // unique; [A-Za-z0-9._-], 1..128 characters
    std::string hash_hex;  // SHA-256 of the full key string, 64 lowercase hex characters
    std::vector<Scope> scopes;
    std::chrono::system_clock::time_point created;
    std::optional<std::chrono::system_clock::time_point> expires;
};

// What is shown: enough to identify a key, not enough to use or recover it.
struct ApiKeyInfo {
    std::string name;
    std::string hash_prefix;  // the first kApiKeyHashPrefixChars hex characters of the hash
    std::vector<Scope> scopes;
    std::chrono::system_clock::time_point created;
    std::optional<std::chrono::system_clock::time_point> expires;
};

// The result of create(): the key in clear (show it once, then drop it) and what was stored.
struct NewApiKey {
    std::string key;
    ApiKeyInfo info;
    ApiKeyRecord record;  // persist this
};

// The naming rule of API keys: 1 to 128 of letters, digits, '.', '_', '-'. Errc::invalid_argument, attribute
// "name".
Result<void> check_api_key_name(std::string_view name);

class ApiKeyStore {
public:
    // "hk_" + base64url(32 random bytes): 46 characters.
    static std::string generate_key();
    // SHA-256 of the key, lowercase hex.
    static std::string hash_key(std::string_view key);

    // Generates a key and stores its hash. Errc::invalid_argument for a bad name, Errc::conflict if
    // the name is taken.
    Result<NewApiKey> create(
        std::string name, std::vector<Scope> scopes, std::chrono::system_clock::time_point now,
        std::optional<std::chrono::system_clock::time_point> expires = std::nullopt);

    // Adds a stored record (start-up load from meta.db). Validates the name and that hash_hex is 64
    // lowercase hex characters; Errc::conflict on a duplicate name or hash.
    Result<ApiKeyInfo> add(ApiKeyRecord record);

    // Imports a key whose clear text the operator already has (configuration file). Stores only its
    // hash.
    Result<ApiKeyInfo> add_key(
        std::string name, std::string_view key, std::vector<Scope> scopes,
        std::chrono::system_clock::time_point created,
        std::optional<std::chrono::system_clock::time_point> expires = std::nullopt);

    // False when no key has this name.
    bool remove(std::string_view name);

    // Sorted by name.
    std::vector<ApiKeyInfo> list() const;
    // Full records, for persistence.
    std::vector<ApiKeyRecord> records() const;
    std::size_t size() const noexcept { return by_hash_.size(); }

    // Finds the key presented by a client. Errors: Reason::invalid_api_key (unknown, empty or
    // oversized), Reason::api_key_expired. The pointer stays valid until the store is next
    // modified.
    Expected<const ApiKeyRecord*, Reason> lookup(std::string_view presented,
                                                 std::chrono::system_clock::time_point now) const;

private:
    std::unordered_map<std::string, ApiKeyRecord> by_hash_;      // hash_hex -> record
    std::unordered_map<std::string, std::string> hash_by_name_;  // name -> hash_hex
};

}  // namespace herald::security
