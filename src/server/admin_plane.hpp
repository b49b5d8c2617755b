#pragma once
// The admin listener's API (DESIGN.md §5): /healthz, /readyz, /metrics (Prometheus text), /config, and the
// log level at run time (/admin/log/level, /admin/log/reopen). Resources in their own files plug in through
// add_resource (topics: topic_admin.hpp, API keys: key_admin.hpp).

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/listener.hpp"
#include "http/message.hpp"
#include "hub/hub.hpp"
#include "server/data_plane.hpp"
#include "server/access.hpp"
#include "server/admin_resource.hpp"
#include "server/health.hpp"
#include "log/logger.hpp"
#include "trace/otlp_exporter.hpp"
#include "server/schema_service.hpp"
#include "server/gateway_admin.hpp"
#include "gateway/gateway.hpp"
#include "webhook/service.hpp"

namespace herald::server {

struct AdminContext {
    const config::Config& config;
    engine::Engine& engine;
    DataPlaneStats& data;
    http::ConnectionStats& connections;
    std::vector<hub::WorkerHub*> worker_hubs;
    std::chrono::steady_clock::time_point started;
    webhook::Service* webhooks = nullptr;
    SecurityContext* security = nullptr;
    SchemaService* schemas = nullptr;
    log::Logger* logger = nullptr;                   // /admin/log/*; null: those answer 404
    Readiness* readiness = nullptr;                  // /readyz; null: the engine's health only
    const trace::OtlpExporter* exporter = nullptr;   // tracing metrics; null: tracing off
    GatewayAdmin* gateway = nullptr;                 // /admin/routes, /admin/upstreams; null: 404
    gateway::Gateway* gateway_state = nullptr;       // proxy metrics; null: none
    std::function<Result<std::string>()> reload;     // POST /admin/reload; empty: 404
    const hub::Hub* fanout = nullptr;                // herald_hub_unwatched_batches_total; null: not exported
};

class AdminPlane {
public:
    explicit AdminPlane(AdminContext context);
    boost::asio::awaitable<http::Response> handle(http::Request& request);
    std::string metrics_text() const;
    // A resource in its own file (topics, API keys): offered every authenticated request, asked for GET /config.
    // Call before the admin listener starts; the resource outlives the plane.
    void add_resource(AdminResource& resource) { resources_.push_back(&resource); }

private:
    http::Response log_level(http::Request& request);

    AdminContext ctx_;
    std::unique_ptr<Access> access_;  // runs on the admin listener's worker
    std::vector<AdminResource*> resources_;
};

}  // namespace herald::server
