#include "server/app.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "engine/embedded_engine.hpp"
#include "http/listener.hpp"
#include "hub/hub.hpp"
#include "server/admin_plane.hpp"
#include "server/jwks_refresher.hpp"
#include "server/schema_service.hpp"
#include "server/data_plane.hpp"
#include "sse/frame.hpp"
#include "meta/database.hpp"
#include "webhook/client_transport.hpp"
#include "webhook/service.hpp"
#include "websocket/session.hpp"

namespace herald::server {

namespace asio = boost::asio;

namespace {

// One worker: a thread running its own io_context, with the hub and data plane that live on it.
struct Worker {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::unique_ptr<hub::WorkerHub> hub;
    std::unique_ptr<DataPlane> data_plane;
    std::shared_ptr<http::Listener> listener;
    std::thread thread;
};

Result<webhook::ClientOptions> webhook_client_options(const config::WebhookSettings& w) {
    webhook::ClientOptions o;
    o.request_timeout = std::chrono::milliseconds(w.timeout_ms);
    o.connect_timeout = std::min(o.connect_timeout, o.request_timeout);
    o.ca_file = w.ca_file;
    o.user_agent = w.user_agent;
    o.max_idle_per_origin = w.max_idle_per_origin;
    auto guard = webhook::SsrfGuard::from_strings(w.allow_destinations);
    if (!guard) {
        auto e = std::move(guard).error();
        e.attribute = "allow_destinations";
        return e;
    }
    o.guard = std::move(*guard);
    if (auto r = webhook::check_options(o); !r) return std::move(r).error();
    return o;
}

webhook::ServiceOptions webhook_options(const config::Config& c) {
    webhook::ServiceOptions o;
    auto& w = c.webhooks;
    o.defaults.retry.schedule.clear();
    for (auto ms : w.retry_schedule_ms) o.defaults.retry.schedule.emplace_back(ms);
    o.defaults.retry.jitter = w.retry_jitter;
    o.defaults.retry.disable_after = std::chrono::milliseconds(w.disable_after_ms);
    o.defaults.user_agent = w.user_agent;
    o.rotation_overlap = std::chrono::milliseconds(w.rotation_overlap_ms);
    o.max_subscriptions = w.max_subscriptions;
    o.handshake_origin = w.handshake_origin;
    o.default_timeout = std::chrono::milliseconds(w.timeout_ms);
    return o;
}

engine::EmbeddedOptions engine_options(const config::Config& c) {
    engine::EmbeddedOptions o;
    o.data_dir = c.data_dir;
    o.defaults = c.topic_defaults.settings;
    for (auto& [name, t] : c.topics) o.declared.emplace(name, t.settings);
    o.auto_create = c.auto_create_topics;
    o.dedup.window_ms = c.dedup_window_ms;
    o.dedup.max_entries = c.dedup_max_entries;
    return o;
}

http::ListenerOptions listener_options(const config::Config& c) {
    http::ListenerOptions o;
    o.header_limit = c.http.header_limit;
    o.body_limit = c.http.body_limit;
    o.header_timeout = std::chrono::milliseconds(c.http.header_timeout_ms);
    o.body_timeout = std::chrono::milliseconds(c.http.body_timeout_ms);
    o.idle_timeout = std::chrono::milliseconds(c.http.idle_timeout_ms);
    o.max_connections = c.http.max_connections;
    o.max_connections_per_address = c.http.max_connections_per_address;
    return o;
}

std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
    auto a = ep.address().to_string();
    if (ep.address().is_v6()) a = "[" + a + "]";
    return a + ":" + std::to_string(ep.port());
}

// Runs `f` on the worker's thread and waits for it.
template <class F>
void run_on(Worker& w, F&& f) {
    std::promise<void> done;
    asio::post(w.io, [&] {
        f();
        done.set_value();
    });
    done.get_future().wait();
}

}  // namespace

int serve(ServeOptions options) {
    const config::Config& cfg = options.config;
    auto data_ep = http::parse_endpoint(cfg.listen, "listen");
    if (!data_ep) {
        std::cerr << "herald: " << data_ep.error().message << '\n';
        return 2;
    }
    auto admin_ep = http::parse_endpoint(cfg.admin_listen, "admin_listen");
    if (!admin_ep) {
        std::cerr << "herald: " << admin_ep.error().message << '\n';
        return 2;
    }
    // Keys, API keys and limits are checked before anything starts: a bad key is a configuration error.
    auto security = make_security_context(cfg);
    if (!security) {
        std::cerr << "herald: " << security.error().message << '\n';
        return 2;
    }
    // Catch the stop signals from the very start, so a signal during start-up still shuts down cleanly.
    asio::io_context signals_io;
    asio::signal_set signals(signals_io, SIGINT, SIGTERM);

    unsigned n_workers = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());

    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<hub::WorkerHub*> hubs;
    const auto tick = std::chrono::milliseconds(std::max<std::int64_t>(100, cfg.sse.heartbeat_ms / 3));
    for (unsigned i = 0; i < n_workers; ++i) {
        auto w = std::make_unique<Worker>();
        w->hub = std::make_unique<hub::WorkerHub>(w->io, tick);
        hubs.push_back(w->hub.get());
        workers.push_back(std::move(w));
    }
    hub::Encoders encoders;
    encoders[static_cast<std::size_t>(hub::WireFormat::sse)] = &sse::encode_event;
    encoders[static_cast<std::size_t>(hub::WireFormat::websocket)] = &websocket::encode_event_tail;
    // The webhook thread: its own io_context and WorkerHub (dispatchers are woken by commits like any subscriber).
    Worker webhook_worker;
    webhook_worker.hub = std::make_unique<hub::WorkerHub>(webhook_worker.io, tick);
    auto fanout_hubs = hubs;
    fanout_hubs.push_back(webhook_worker.hub.get());
    hub::Hub hub(encoders, fanout_hubs);

    engine::EmbeddedEngine engine(engine_options(cfg));
    if (auto started = engine.start(hub); !started) {
        std::cerr << "herald: cannot start the embedded log: " << started.error().message << '\n';
        return 1;
    }

    const auto meta_path = (std::filesystem::path(cfg.data_dir) / "meta.db").string();
    auto schemas = SchemaService::open(cfg, meta_path);
    if (!schemas) {
        std::cerr << "herald: schemas: " << schemas.error().message << '\n';
        engine.stop();
        return 2;
    }
    auto meta_db = meta::Database::open(meta_path);
    if (!meta_db) {
        std::cerr << "herald: " << meta_db.error().message << '\n';
        engine.stop();
        return 1;
    }
    auto transport_opts = webhook_client_options(cfg.webhooks);
    if (!transport_opts) {
        std::cerr << "herald: webhooks." << transport_opts.error().attribute << ": " << transport_opts.error().message
                  << '\n';
        engine.stop();
        return 1;
    }
    webhook::ClientTransport webhook_transport(webhook_worker.io, std::move(*transport_opts));
    webhook::Service webhooks(webhook_worker.io, *webhook_worker.hub, engine, **meta_db, webhook_transport,
                              webhook_options(cfg));
    {
        Result<void> started = ok();
        webhook_worker.thread = std::thread([io = &webhook_worker.io] { io->run(); });
        run_on(webhook_worker, [&] { started = webhooks.start(); });
        if (!started) {
            std::cerr << "herald: webhooks: " << started.error().message << '\n';
            webhook_worker.guard.reset();
            webhook_worker.io.stop();
            webhook_worker.thread.join();
            engine.stop();
            return 1;
        }
    }
    // JWKS URLs: fetched on the webhook thread; an unknown kid asks for an early refetch.
    JwksRefresher jwks(webhook_worker.io, **security, cfg.auth);
    if (!jwks.empty()) {
        (*security)->authenticator.on_unknown_kid = [&jwks](const std::string& issuer, const std::string& kid) {
            jwks.unknown_kid(issuer, kid);
        };
        run_on(webhook_worker, [&] { jwks.start(); });
    }
    DataPlaneStats stats;
    publish::Pipeline pipeline(engine, stats.publish, &(*schemas)->contracts());
    auto connections = std::make_shared<http::ConnectionStats>();
    auto admin_connections = std::make_shared<http::ConnectionStats>();
    sse::StreamOptions sse_options;
    sse_options.heartbeat = std::chrono::milliseconds(cfg.sse.heartbeat_ms);
    sse_options.retry = std::chrono::milliseconds(cfg.sse.retry_ms);
    auto lopts = listener_options(cfg);
    websocket::SessionOptions ws_options;
    {
        auto& w = cfg.websocket;
        ws_options.ping_interval = std::chrono::milliseconds(w.ping_interval_ms);
        ws_options.pong_timeout = std::chrono::milliseconds(w.pong_timeout_ms);
        ws_options.limits.max_frame_bytes = w.max_frame_bytes;
        ws_options.limits.max_message_bytes = w.max_message_bytes;
        ws_options.max_subscriptions = w.max_subscriptions;
        ws_options.max_inflight_publishes = w.max_inflight_publishes;
        ws_options.publish_rate = static_cast<double>(w.publish_rate);
        ws_options.publish_burst = static_cast<double>(w.publish_burst);
        ws_options.high_water_bytes = w.high_water_bytes;
    }
    websocket::SessionContext ws_context{engine, pipeline, hub.encoder(hub::WireFormat::websocket), ws_options,
                                         stats.websocket, cfg.auto_create_topics};

    // Listeners: the first binds (port 0 becomes a real port), the others join it with SO_REUSEPORT.
    asio::ip::tcp::endpoint bound = *data_ep;
    for (auto& w : workers) {
        w->data_plane = std::make_unique<DataPlane>(DataPlaneContext{cfg, engine, pipeline, hub, stats, sse_options, ws_context, webhooks, webhook_worker.io, **security, &(*schemas)->contracts()}, *w->hub);
        auto* dp = w->data_plane.get();
        auto l = http::Listener::create(w->io, bound, lopts, [dp](http::Request& r) { return dp->handle(r); },
                                        connections);
        if (!l) {
            std::cerr << "herald: " << l.error().message << '\n';
            engine.stop();
            return 1;
        }
        w->listener = *l;
        bound = w->listener->local_endpoint();
    }
    AdminPlane admin(AdminContext{cfg, engine, stats, *connections, hubs, std::chrono::steady_clock::now(), &webhooks, security->get(), schemas->get()});
    auto admin_opts = lopts;
    admin_opts.max_connections = 256;
    admin_opts.max_connections_per_address = 0;
    auto admin_listener = http::Listener::create(workers[0]->io, *admin_ep, admin_opts,
                                                 [&admin](http::Request& r) { return admin.handle(r); },
                                                 admin_connections);
    if (!admin_listener) {
        std::cerr << "herald: admin listener: " << admin_listener.error().message << '\n';
        engine.stop();
        return 1;
    }
    auto admin_bound = (*admin_listener)->local_endpoint();

    for (auto& w : workers) w->listener->start();
    (*admin_listener)->start();
    for (auto& w : workers) w->thread = std::thread([io = &w->io] { io->run(); });

    if (options.ready_file) {
        auto tmp = *options.ready_file;
        tmp += ".tmp";
        {
            std::ofstream out(tmp);
            out << "{\"listen\":\"" << endpoint_text(bound) << "\",\"admin\":\"" << endpoint_text(admin_bound)
                << "\"}\n";
        }
        std::filesystem::rename(tmp, *options.ready_file);
    }
    std::cerr << "herald " << HERALD_VERSION << " serving\n"
              << "  data plane   http://" << endpoint_text(bound) << "  (" << n_workers << " workers)\n"
              << "  admin        http://" << endpoint_text(admin_bound) << "  (/healthz /readyz /metrics)\n"
              << "  data dir     " << std::filesystem::absolute(cfg.data_dir).string() << '\n'
              << "  config       " << (cfg.source_file.empty() ? "built-in defaults" : cfg.source_file) << '\n'
              << "  publish      curl -H 'Content-Type: application/json' -d '{\"hello\":\"world\"}' "
                 "'http://"
              << endpoint_text(bound) << "/v1/topics/demo/events?type=demo.greeted.v1'\n"
              << "  subscribe    curl -N -H 'Accept: text/event-stream' 'http://" << endpoint_text(bound)
              << "/v1/topics/demo/events?from=earliest'\n"
              << std::flush;
    if (!cfg.auth.enabled)
        std::cerr << "WARNING: authentication is off: anyone who can reach these ports can publish and subscribe "
                     "(auth.enabled in the config turns it on).\n";
    else
        std::cerr << "  auth         on: " << cfg.auth.issuers.size() << " JWT issuers, " << cfg.auth.api_keys.size()
                  << " API keys" << (cfg.auth.anonymous_scopes.empty() ? "" : ", anonymous access for some scopes")
                  << '\n';

    // Wait for SIGINT/SIGTERM on the main thread.
    signals.async_wait([](auto, int) {});
    signals_io.run();
    std::cerr << "herald: shutting down\n";

    // 1. Stop accepting. 2. Streams get their final cursor and close once flushed. 3. Flush the logs.
    for (auto& w : workers) run_on(*w, [&] { w->listener->stop(); });
    run_on(*workers[0], [&] { (*admin_listener)->stop(); });
    for (auto& w : workers) run_on(*w, [&] { w->hub->shutdown(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while ((stats.sse.open.load() > 0 || stats.websocket.open.load() > 0) &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // Webhooks: stop the dispatchers (in-flight attempts end within their timeout), save their progress.
    run_on(webhook_worker, [&] {
        jwks.stop();
        webhooks.stop();
        webhook_worker.hub->shutdown();
    });
    engine.stop();
    webhook_worker.guard.reset();
    webhook_worker.io.stop();
    webhook_worker.thread.join();
    for (auto& w : workers) {
        w->guard.reset();
        w->io.stop();
    }
    for (auto& w : workers) w->thread.join();
    std::cerr << "herald: stopped\n";
    return 0;
}

}  // namespace herald::server
