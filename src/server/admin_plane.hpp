#pragma once
// The admin listener's API (DESIGN.md §5): /healthz, /readyz, /metrics (Prometheus text), /config, and the
// log level at run time (/admin/log/level, /admin/log/reopen).

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/listener.hpp"
#include "http/message.hpp"
#include "hub/hub.hpp"
#include "server/data_plane.hpp"
#include "server/access.hpp"
#include "server/health.hpp"
#include "log/logger.hpp"
#include "trace/otlp_exporter.hpp"
#include "server/schema_service.hpp"
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
};

class AdminPlane {
public:
    explicit AdminPlane(AdminContext context);
    boost::asio::awaitable<http::Response> handle(http::Request& request);
    std::string metrics_text() const;

private:
    http::Response log_level(http::Request& request);

    AdminContext ctx_;
    std::unique_ptr<Access> access_;  // runs on the admin listener's worker
};

}  // namespace herald::server
