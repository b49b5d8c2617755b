#pragma once
// Routes and upstreams as the server manages them (docs/gateway.md, docs/api.md): the configuration file's
// entries plus the ones made through the admin API, composed into the gateway's one snapshot.
//
//   GET    /admin/upstreams            every upstream: name, source (config | admin), definition, targets' state
//   GET    /admin/upstreams/{name}
//   PUT    /admin/upstreams/{name}     create or replace (body: the upstream as JSON, the herald.yaml shape)
//   DELETE /admin/upstreams/{name}     refused (409) while a route uses it
//   GET    /admin/routes               every route in declaration order (file first, then admin)
//   GET    /admin/routes/{name}
//   PUT    /admin/routes/{name}        create or replace (body: the route as JSON; `name` may be left out)
//   DELETE /admin/routes/{name}
//
// Precedence: the configuration file is the baseline and wins. Its entries cannot be changed or deleted through
// the API (409: edit the file and reload); the API cannot create a name the file uses (409). Admin entries are
// kept in meta.db and survive restarts and reloads; a reload whose file would clash with them, or remove an
// upstream an admin route uses, is refused as a whole.
//
// Every change is validated exactly like the file (same parser, same messages), then compiled into a new
// snapshot; only when that succeeds is it stored and installed. Requests in flight finish on the snapshot they
// started with; established connections and streams are untouched.
//
// Several nodes (docs/deployment.md): with an engine that has shared state (JetStream, Kafka), admin entries are
// records there — "gw.upstream.<hex name>" {"definition"} and "gw.route.<hex name>" {"definition","position"} —
// written after validation and before the local change (503 when they cannot be, and nothing changes). Every
// node follows them (server/shared_follower.hpp) and makes its admin entries match, in the records' route order
// (creation time, then name). The shared records are the truth: admin entries a node had only locally are
// dropped when it joins. A shared entry that clashes with a node's own file is not applied there (logged).
//
// Threading: all calls on one thread (the admin listener's); a mutex makes a SIGHUP reload from elsewhere safe.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "log/logger.hpp"
#include "gateway/gateway.hpp"
#include "http/message.hpp"
#include "meta/database.hpp"

namespace herald::server {

class GatewayAdmin {
public:
    // Opens its own meta.db connection, loads the stored admin entries and installs file + admin entries.
    // Errors: a stored entry that no longer validates names it (fix it through the API after removing the
    // file's clash, or delete it with the meta tool); a file entry that does not compile.
    static Result<std::unique_ptr<GatewayAdmin>> open(gateway::Gateway& gateway, const std::string& meta_path,
                                                      const config::Config& file);

    // The file's part replaced (SIGHUP, POST /admin/reload); admin entries kept. On error nothing changes.
    Result<void> reload_file(const config::Config& file);

    // The routes above; nullopt when the path is not one of them.
    std::optional<http::Response> handle(const http::Request& request);

    // {"routes":[...], "upstreams":[...]} with sources and definitions: for GET /config.
    std::string dump_json();

    // Several nodes: changes go to `shared` first. Before the admin listener starts.
    void attach_shared(engine::SharedState* shared, log::Logger* logger) {
        shared_ = shared;
        logger_ = logger;
    }
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    // Makes the admin entries those of `entries` (records under "gw."), unless a local change happened since
    // `generation` was read. Admin listener's thread.
    void apply_shared(const std::vector<engine::SharedEntry>& entries, std::uint64_t generation);

private:
    GatewayAdmin(gateway::Gateway& gateway) : gateway_(gateway) {}
    struct Composition {
        std::vector<config::RouteSettings> file_routes;
        std::map<std::string, config::UpstreamSettings> file_upstreams;
        std::vector<config::RouteSettings> admin_routes;  // in creation order
        std::map<std::string, config::UpstreamSettings> admin_upstreams;
    };
    // File + admin entries compiled into a snapshot, or why they cannot be (clashing names, unknown upstream).
    static Result<std::shared_ptr<const gateway::Snapshot>> compose(const gateway::Gateway& gateway,
                                                                   const Composition& c);
    Result<void> migrate();
    Result<void> load();

    http::Response put_upstream(const std::string& name, const std::string& body);
    http::Response delete_upstream(const std::string& name);
    http::Response put_route(const std::string& name, const std::string& body);
    http::Response delete_route(const std::string& name);
    http::Response list(bool routes, const std::string* name);

    // The shared write of one change; an error response when it failed (nullopt: written, or no shared state).
    std::optional<http::Response> share(const std::string& key, const std::string* value);
    Result<void> store_all(const Composition& c);

    gateway::Gateway& gateway_;
    std::unique_ptr<meta::Database> db_;
    std::mutex mutex_;
    Composition current_;
    engine::SharedState* shared_ = nullptr;
    log::Logger* logger_ = nullptr;
    std::atomic<std::uint64_t> generation_{0};
    std::map<std::string, std::int64_t> route_positions_;  // shared route order: creation time (ms)
};

// The shared-state key of an admin route or upstream, and the name back (nullopt when it is not one).
std::string gateway_record_key(bool route, std::string_view name);
std::optional<std::pair<bool, std::string>> parse_gateway_record_key(std::string_view key);

}  // namespace herald::server
