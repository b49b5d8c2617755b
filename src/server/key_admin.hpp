#pragma once
// API keys managed through the admin API (DESIGN.md §5, §6; docs/api.md "API keys"):
//
//   GET    /admin/api-keys                 every key: name, source (config | admin), scopes,
//   created/expiry,
//                                          hash prefix. Never the key, never the full hash.
//   GET    /admin/api-keys/{name}
//   POST   /admin/api-keys                 {name, scopes, expires_at | expires_in}: generates a
//   random key and
//                                          answers it once (201, Cache-Control: no-store); only its
//                                          SHA-256 is kept
//   POST   /admin/api-keys/{name}/rotate   a new key for the same name and scopes (expiry from the
//   body, none when
//                                          absent); the old key stops working at once
//   DELETE /admin/api-keys/{name}          the key stops working at once (204)
//
// Precedence: the configuration file wins. Its keys cannot be deleted or rotated here, and its
// names cannot be created here (409 defined-in-config). Admin keys live in meta.db (`api_keys`) and
// survive restarts. If the file later names a key stored here, the start is refused naming it (as
// for routes and upstreams): two definitions of one credential must not be resolved silently;
// delete the admin one first.
//
// Several nodes (docs/deployment.md): with an engine that has shared state (JetStream, Kafka), admin keys are
// records "key.<name>" there. A change is written to the shared state first (503 when it cannot be) and then
// locally; every node follows the records (server/shared_follower.hpp) and makes its meta.db copy match them,
// so a key created on one node works on all within a round, and a deleted or rotated one stops working on all.
// The shared records are the truth: admin keys a node had only locally are dropped when it joins.
//
// Every change builds a new immutable ApiKeyStore (file keys + admin keys) and publishes it through
// SecurityContext::set_api_keys; each worker picks it up on its next authentication.
//
// Threading: the admin listener's worker only (its own meta.db connection).

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "log/logger.hpp"
#include "meta/database.hpp"
#include "security/api_keys.hpp"
#include "server/access.hpp"
#include "server/admin_resource.hpp"

namespace herald::server {

// The store the server runs with: the file's keys, then the admin ones. Errc::conflict (attribute
// "name") when an admin key has a file key's name or the same key; null when there is no key at all
// (API keys are then refused as "not accepted", as without the admin API).
Result<std::shared_ptr<const security::ApiKeyStore>> merge_api_keys(
    const std::vector<security::ApiKeyRecord>& file,
    const std::vector<security::ApiKeyRecord>& admin);

// A request to create (or rotate) a key, validated. Errc::invalid_argument naming the member.
struct KeyRequest {
    std::string name;
    std::vector<security::Scope> scopes;
    std::optional<std::chrono::system_clock::time_point> expires;
};
// `rotate`: no name or scopes (they are the key's); only the expiry.
Result<KeyRequest> parse_key_request(const boost::json::value& body,
                                     std::chrono::system_clock::time_point now,
                                     bool rotate = false);
// The shared-state form of an admin key ("key.<name>"): JSON with the hash, never the key.
std::string key_record_json(const security::ApiKeyRecord& record);
Result<security::ApiKeyRecord> parse_key_record(std::string_view json);

// RFC 3339 date-time ("2030-01-31T12:00:00Z", "...+02:00", fractions allowed) to Unix milliseconds.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

class KeyAdmin final : public AdminResource {
public:
    // Reads the file's keys from `security` (as make_security_context built them), loads the stored
    // ones and publishes the merged store. Errors: meta.db, a stored row that no longer parses, a
    // clash with the file.
    static Result<std::unique_ptr<KeyAdmin>> open(SecurityContext& security, bool auth_enabled,
                                                  const std::string& meta_path,
                                                  log::Logger* logger);

    boost::asio::awaitable<std::optional<http::Response>> handle(http::Request& request) override;
    std::string_view route(std::string_view path) const override;
    void dump(boost::json::object& config) const override;

    // Several nodes: changes go to `shared` first. Call before the admin listener starts.
    void attach_shared(engine::SharedState* shared) { shared_ = shared; }
    // Bumped by every local change (read from any thread).
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    // Makes the admin keys those of `entries` (the records under "key."), unless a local change happened since
    // `generation` was read. Admin listener's thread.
    void apply_shared(const std::vector<engine::SharedEntry>& entries, std::uint64_t generation);

private:
    KeyAdmin(SecurityContext& security, bool auth_enabled, log::Logger* logger)
        : security_(security), auth_enabled_(auth_enabled), logger_(logger) {}
    Result<void> load();
    Result<void> publish();
    Result<void> store(const security::ApiKeyRecord& record);
    Result<void> unstore(const std::string& name);
    bool in_file(const std::string& name) const;
    boost::json::object view(const security::ApiKeyRecord& record, const char* source) const;

    http::Response list() const;
    http::Response get(const std::string& name) const;
    http::Response create(const http::Request& request);
    http::Response rotate(const std::string& name, const http::Request& request);
    http::Response remove(const std::string& name);

    SecurityContext& security_;
    bool auth_enabled_;
    log::Logger* logger_;
    std::unique_ptr<meta::Database> db_;
    std::vector<security::ApiKeyRecord> file_keys_;             // sorted by name
    std::map<std::string, security::ApiKeyRecord> admin_keys_;  // as in meta.db
    engine::SharedState* shared_ = nullptr;
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace herald::server
