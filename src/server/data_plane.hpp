#pragma once
// The data-plane HTTP API (DESIGN.md §5, docs/api.md): publishing, reading pages with long-poll, SSE streams, and
// the topic catalog. One DataPlane per worker: it knows its worker's hub, so streams and long-polls it starts
// live on the worker that accepted the connection.
//
// Threading: handle() runs on the worker's thread; the shared state it touches (engine, config) is thread-safe
// or immutable.

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/cors.hpp"
#include "http/message.hpp"
#include "hub/hub.hpp"
#include "portal/site.hpp"
#include "publish/pipeline.hpp"
#include "server/access.hpp"
#include "gateway/gateway.hpp"
#include "server/health.hpp"
#include "server/request_metrics.hpp"
#include "sse/stream.hpp"
#include "webhook/service.hpp"
#include "websocket/session.hpp"

namespace herald::server {

// Counters shared by all workers' data planes.
struct DataPlaneStats {
    publish::Stats publish;
    std::atomic<std::uint64_t> pages_served{0};
    sse::StreamStats sse;
    websocket::SessionStats websocket;
    // HTTP exchanges by route, one table per listener: the data plane's and, so that /metrics finds both in
    // one place, the admin listener's.
    RequestMetrics http_data;
    RequestMetrics http_admin;
};

struct DataPlaneContext {
    const config::Config& config;
    engine::Engine& engine;
    publish::Pipeline& pipeline;
    hub::Hub& hub;
    DataPlaneStats& stats;
    sse::StreamOptions sse_options;
    websocket::SessionContext& websocket;
    webhook::Service& webhooks;
    boost::asio::io_context& webhook_io;  // the thread the webhook service lives on
    SecurityContext& security;
    const publish::Contracts* contracts = nullptr;  // schemas and topic contracts, for the catalog documents
    log::Logger* logger = nullptr;                  // debug lines; null: none
    Readiness* readiness = nullptr;                 // GET /readyz; null: always ready
    const gateway::Gateway* gateway = nullptr;      // REST routes for the OpenAPI document; null: none
};

class DataPlane {
public:
    DataPlane(DataPlaneContext context, hub::WorkerHub& worker_hub);
    boost::asio::awaitable<http::Response> handle(http::Request& request);

private:
    boost::asio::awaitable<http::Response> route(http::Request& request);
    boost::asio::awaitable<http::Response> publish(http::Request& request, const std::string& topic,
                                                   const security::Principal& principal);
    boost::asio::awaitable<http::Response> read_page(http::Request& request, const std::string& topic);
    http::Response open_stream(http::Request& request, const std::string& topic,
                               const security::PrincipalPtr& principal);
    http::Response open_websocket(http::Request& request, const std::string* topic, security::PrincipalPtr principal);
    http::Response list_topics(const security::Principal& principal);
    // GET /asyncapi.json, /asyncapi.yaml, /openapi.json: generated live, showing only what the caller may see.
    http::Response catalog_document(const http::Request& request, const security::Principal& principal,
                                    std::string_view which);
    http::Response topic_info(const std::string& topic);

    DataPlaneContext ctx_;
    hub::WorkerHub& worker_hub_;
    http::CorsPolicy cors_;
    portal::Site portal_;
    Access access_;
};

}  // namespace herald::server
