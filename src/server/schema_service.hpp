#pragma once
// The schema registry as the server runs it: built from the configuration (naming rules, compatibility mode,
// schema files), persisted in the metadata database (every registered version, so numbers and documents survive
// restarts), and managed through the admin API (docs/schemas.md):
//
//   PUT    /schemas/{type}[?force=true]   register a new version (201), or the equal existing one (200);
//                                        409 with the compatibility report when it breaks consumers
//   GET    /schemas                       types with their versions
//   GET    /schemas/{type}                the latest version; /schemas/{type}/versions lists them
//   GET    /schemas/{type}/versions/{n}   one version
//   DELETE /schemas/{type}/versions/{n}   remove a version nothing refers to
//
// Several nodes (docs/deployment.md): with an engine that has shared state (JetStream, Kafka), every version is
// also a record "schema.<hex of type>.<version>" there — {"type","version","document"}, or {"type","version",
// "deleted":true} once removed, so a node that was away learns of the removal instead of bringing the version
// back. A registration is stored locally and then shared (undone and answered 503 when it cannot be shared); a
// removal likewise. Every node follows the records (server/shared_follower.hpp): versions it lacks are restored
// with their numbers, removed ones are removed, and versions only it has (configured files, versions from
// before it joined) are shared. Two nodes registering different documents as the same new version at the same
// moment: the last write wins everywhere.
//
// Threading: the registry is read lock-free by every worker; writes (admin API) are serialised by the
// registry, and the store's connection is used by the admin listener's thread only.

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/message.hpp"
#include "log/logger.hpp"
#include "meta/database.hpp"
#include "publish/contracts.hpp"
#include "schema/registry.hpp"

namespace herald::server {

class SchemaService {
public:
    // Opens its own connection to meta.db, restores the stored versions, registers the configured files.
    // Errors name the configuration key or the stored version at fault.
    static Result<std::unique_ptr<SchemaService>> open(const config::Config& config, const std::string& meta_path);

    const publish::Contracts& contracts() const noexcept { return *contracts_; }
    // For the topics admin API, which changes a topic's accepted types and default type at run time.
    publish::Contracts& contracts() noexcept { return *contracts_; }
    schema::Registry& registry() noexcept { return *registry_; }

    // The admin routes above; nullopt when the path is not under /schemas.
    std::optional<http::Response> handle(const http::Request& request);

    // Several nodes: registrations and removals are shared through `shared`. Before the admin listener starts.
    void attach_shared(engine::SharedState* shared, log::Logger* logger) {
        shared_ = shared;
        logger_ = logger;
    }
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    // Makes the registry match the records under "schema." (see above), unless a local change happened since
    // `generation` was read. Admin listener's thread.
    void apply_shared(const std::vector<engine::SharedEntry>& entries, std::uint64_t generation);

private:
    SchemaService() = default;
    Result<void> persist(const schema::SchemaVersion& v);
    void unpersist(const std::string& type, std::uint32_t version);

    std::unique_ptr<meta::Database> db_;
    std::shared_ptr<schema::Registry> registry_;
    std::unique_ptr<publish::Contracts> contracts_;
    engine::SharedState* shared_ = nullptr;
    log::Logger* logger_ = nullptr;
    std::atomic<std::uint64_t> generation_{0};
};

// The shared-state key of one version, and its parts back (nullopt for a key that is not one).
std::string schema_record_key(std::string_view type, std::uint32_t version);
std::optional<std::pair<std::string, std::uint32_t>> parse_schema_record_key(std::string_view key);

}  // namespace herald::server
