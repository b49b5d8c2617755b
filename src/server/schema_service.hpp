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
// Threading: the registry is read lock-free by every worker; writes (admin API) are serialised by the
// registry, and the store's connection is used by the admin listener's thread only.

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "http/message.hpp"
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

private:
    SchemaService() = default;
    Result<void> persist(const schema::SchemaVersion& v);

    std::unique_ptr<meta::Database> db_;
    std::shared_ptr<schema::Registry> registry_;
    std::unique_ptr<publish::Contracts> contracts_;
};

}  // namespace herald::server
