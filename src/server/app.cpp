#include "server/app.hpp"

#include <unistd.h>

#include <cstdio>
#include <random>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "engine/embedded_engine.hpp"
#include "engine/jetstream_engine.hpp"
#include "engine/kafka_engine.hpp"
#include "http/listener.hpp"
#include "http/tls.hpp"
#include "hub/hub.hpp"
#include "log/logger.hpp"
#include "server/admin_plane.hpp"
#include "server/health.hpp"
#include "server/observability.hpp"
#include "trace/otlp_exporter.hpp"
#include "trace/tracer.hpp"
#include "server/jwks_refresher.hpp"
#include "server/schema_service.hpp"
#include "server/data_plane.hpp"
#include "server/proxy_plane.hpp"
#include "server/gateway_admin.hpp"
#include "server/key_admin.hpp"
#include "server/shared_follower.hpp"
#include "server/topic_admin.hpp"
#include "gateway/gateway.hpp"
#include "gateway/health_prober.hpp"
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
    std::unique_ptr<ProxyPlane> proxy_plane;  // declared before the listener, which points at it
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

// The engine the config names; the declared topics (file and admin API) are created by either.
std::unique_ptr<engine::Engine> make_engine(const config::Config& c, std::map<std::string, engine::TopicSettings> declared,
                                            log::Logger* logger) {
    if (c.engine.kind == "jetstream") {
        const auto& j = c.engine.jetstream;
        engine::JetStreamOptions o;
        o.servers = j.servers;
        o.stream_prefix = j.stream_prefix;
        o.subject_prefix = j.subject_prefix;
        o.streams = j.streams == "shared" ? engine::StreamLayout::shared : engine::StreamLayout::per_topic;
        o.replicas = j.replicas;
        o.defaults = c.topic_defaults.settings;
        o.declared = std::move(declared);
        o.auto_create = c.auto_create_topics;
        o.dedup_window_ms = c.dedup_window_ms;
        o.ack_timeout_ms = j.ack_timeout_ms;
        o.publish_timeout_ms = j.publish_timeout_ms;
        o.request_timeout_ms = j.request_timeout_ms;
        o.lease_ttl_ms = j.lease_ttl_ms;
        return std::make_unique<engine::JetStreamEngine>(std::move(o));
    }
    if (c.engine.kind == "kafka") {
        const auto& k = c.engine.kafka;
        engine::KafkaOptions o;
        o.brokers = k.brokers;
        o.topic_prefix = k.topic_prefix;
        o.replication_factor = k.replication_factor;
        o.create_with_admin = k.create_topics == "admin";
        o.defaults = c.topic_defaults.settings;
        o.declared = std::move(declared);
        o.auto_create = c.auto_create_topics;
        o.dedup.window_ms = c.dedup_window_ms;
        o.dedup.max_entries = c.dedup_max_entries;
        o.publish_timeout_ms = k.publish_timeout_ms;
        o.request_timeout_ms = k.request_timeout_ms;
        o.linger_ms = k.linger_ms;
        o.properties = k.properties;
        o.lease_ttl_ms = k.lease_ttl_ms;
        o.log = [logger](int level, std::string_view facility, std::string_view message) {
            auto l = level <= 3 ? log::Level::error : level == 4 ? log::Level::warn : log::Level::info;
            log::emit(logger, l, "kafka", message, {{"facility", std::string(facility)}});
        };
        for (auto& b : k.bridges) {
            engine::KafkaBridge eb;
            eb.kafka_topic = b.kafka_topic;
            eb.partition = b.partition;
            eb.format = b.write_format == "binary" ? engine::kafka::WriteFormat::binary
                                                   : engine::kafka::WriteFormat::structured;
            eb.wrap.type = b.wrap_type;
            eb.wrap.source = b.wrap_source;
            o.bridges.emplace(b.topic, std::move(eb));
            o.declared.erase(b.topic);  // a bridged topic is Kafka's to create and configure
        }
        return std::make_unique<engine::KafkaEngine>(std::move(o));
    }
    auto o = engine_options(c);
    o.declared = std::move(declared);
    return std::make_unique<engine::EmbeddedEngine>(std::move(o));
}

// This process's name in cluster leases: host, process id and a random part (a restarted node is a new holder).
std::string node_name() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "herald");
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
    return std::string(host) + "-" + std::to_string(::getpid()) + "-" + suffix;
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

// The logger from `log:`; a file that cannot be opened is a configuration error.
Result<std::unique_ptr<log::Logger>> make_logger(const config::LogSettings& s) {
    log::LoggerOptions o;
    if (auto l = log::parse_level(s.level)) o.level = *l;
    if (auto f = log::parse_format(s.format)) o.format = *f;
    o.access = s.access;
    std::unique_ptr<log::Sink> sink;
    if (s.output == "stderr") {
        sink = log::FdSink::standard_error();
    } else {
        auto file = log::FdSink::open_file(s.output);
        if (!file) return std::move(file).error();
        sink = std::move(*file);
    }
    if (s.access_buffer > 0)
        sink = std::make_unique<log::BufferedSink>(std::move(sink), s.access_buffer,
                                                   std::chrono::milliseconds(s.access_flush_interval_ms));
    return std::make_unique<log::Logger>(std::move(sink), o);
}

// The OTLP exporter from `tracing:`, started; null when no endpoint is configured (tracing off).
Result<std::unique_ptr<trace::OtlpExporter>> make_exporter(const config::TracingSettings& t, log::Logger& logger) {
    if (t.otlp_endpoint.empty()) return std::unique_ptr<trace::OtlpExporter>();
    trace::OtlpOptions o;
    o.endpoint = t.otlp_endpoint;
    o.resource.service_name = t.service_name;
    o.resource.service_version = HERALD_VERSION;
    o.protocol = t.protocol == "http/json" ? trace::OtlpProtocol::json : trace::OtlpProtocol::protobuf;
    o.batch_size = t.batch_size;
    o.queue_size = t.queue_size;
    o.flush_interval = std::chrono::milliseconds(t.flush_interval_ms);
    o.on_state_change = [&logger](bool ok, const std::string& detail) {
        if (ok) logger.info("trace", "span export works again", {{"detail", detail}});
        else logger.warn("trace", "span export failing; spans are dropped until it recovers", {{"detail", detail}});
    };
    auto e = trace::OtlpExporter::create(std::move(o));
    if (!e) {
        auto err = std::move(e).error();
        err.message = "tracing." + err.message;
        return err;
    }
    (*e)->start();
    return std::move(*e);
}

// One listener's certificate and key from `tls:` or `admin_tls:` (`what`), loaded and checked.
Result<http::ServerTlsContext> load_tls(const config::TlsSettings& s, std::string_view what) {
    auto version = http::parse_tls_version(s.min_version);
    if (!version) {
        const std::string key = std::string(what) + ".min_version";
        return make_error(Errc::invalid_argument, key + ": " + version.error().message, key);
    }
    return http::make_server_tls_context(http::TlsFiles{s.cert_file, s.key_file, *version}, what);
}

// The listener's TLS credentials; null when its settings leave TLS off.
Result<std::shared_ptr<http::TlsCredentials>> make_tls(const config::TlsSettings& s, std::string_view what) {
    if (!s.enabled()) return std::shared_ptr<http::TlsCredentials>();
    auto loaded = load_tls(s, what);
    if (!loaded) return std::move(loaded).error();
    return std::make_shared<http::TlsCredentials>(std::move(*loaded));
}

// A reload's new context for one listener, made before anything is swapped so that a bad file refuses the whole
// reload. Whether a listener speaks TLS is fixed at start (its connections are already one or the other).
Result<std::optional<http::ServerTlsContext>> prepare_tls_reload(const http::TlsCredentials* running,
                                                                 const config::TlsSettings& next,
                                                                 std::string_view what) {
    if ((running != nullptr) != next.enabled())
        return make_error(Errc::conflict,
                          std::string(what) + ": turning TLS on or off takes a restart; the listener keeps " +
                              (running ? "serving TLS" : "serving plain HTTP"),
                          std::string(what));
    if (!running) return std::optional<http::ServerTlsContext>();
    auto loaded = load_tls(next, what);
    if (!loaded) return std::move(loaded).error();
    return std::optional<http::ServerTlsContext>(std::move(*loaded));
}

void log_certificate(log::Logger& logger, std::string_view listener, const http::TlsCertificateInfo& c) {
    logger.info("server", "TLS certificate loaded",
                {{"listener", listener}, {"subject", c.subject}, {"serial", c.serial}, {"not_after", c.not_after}});
    if (c.expired)
        logger.warn("server", "the TLS certificate has expired: clients will refuse it",
                    {{"listener", listener}, {"subject", c.subject}, {"not_after", c.not_after}});
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
    // The logger first: everything after it reports through it (the banner stays plain text on stderr).
    auto made_logger = make_logger(cfg.log);
    if (!made_logger) {
        std::cerr << "herald: " << made_logger.error().message << '\n';
        return 2;
    }
    const std::unique_ptr<log::Logger> logger_owner = std::move(*made_logger);
    log::Logger& logger = *logger_owner;
    auto data_ep = http::parse_endpoint(cfg.listen, "listen");
    if (!data_ep) {
        logger.error("server", data_ep.error().message);
        return 2;
    }
    auto admin_ep = http::parse_endpoint(cfg.admin_listen, "admin_listen");
    if (!admin_ep) {
        logger.error("server", admin_ep.error().message);
        return 2;
    }
    for (auto [ep, what] : {std::pair{&*data_ep, "listen"}, std::pair{&*admin_ep, "admin_listen"}}) {
        if (auto free = http::check_address_free(*ep, what); !free) {
            logger.error("server", free.error().message);
            return 1;
        }
    }
    // TLS files are checked before anything starts: an unreadable file or a key of another certificate is a
    // configuration error.
    auto data_tls = make_tls(cfg.tls, "tls");
    if (!data_tls) {
        logger.error("server", data_tls.error().message);
        return 2;
    }
    auto admin_tls = make_tls(cfg.admin_tls, "admin_tls");
    if (!admin_tls) {
        logger.error("server", admin_tls.error().message);
        return 2;
    }
    if (*data_tls) log_certificate(logger, "data", (*data_tls)->certificate());
    if (*admin_tls) log_certificate(logger, "admin", (*admin_tls)->certificate());
    // Keys, API keys and limits are checked before anything starts: a bad key is a configuration error.
    auto security = make_security_context(cfg);
    if (!security) {
        logger.error("server", security.error().message);
        return 2;
    }
    (*security)->events = std::make_shared<SecurityEventLog>(&logger, SystemClock::instance());
    // Tracing: W3C trace context is always read and propagated; spans are exported only to a configured collector.
    auto made_exporter = make_exporter(cfg.tracing, logger);
    if (!made_exporter) {
        logger.error("server", made_exporter.error().message);
        return 2;
    }
    const std::unique_ptr<trace::OtlpExporter> exporter = std::move(*made_exporter);
    const trace::Tracer tracer(trace::TracerOptions{cfg.tracing.sample_ratio}, exporter.get());
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

    // Topics and API keys made through the admin API (meta.db) join the file's before anything serves.
    const auto meta_path = (std::filesystem::path(cfg.data_dir) / "meta.db").string();
    auto topic_admin = TopicAdmin::open(cfg, meta_path, &logger);
    if (!topic_admin) {
        logger.error("server", "topics: " + topic_admin.error().message);
        return 2;
    }
    auto key_admin = KeyAdmin::open(**security, cfg.auth.enabled, meta_path, &logger);
    if (!key_admin) {
        logger.error("server", key_admin.error().message);
        return 2;
    }
    std::map<std::string, engine::TopicSettings> declared;
    for (auto& [name, t] : cfg.topics) declared.emplace(name, t.settings);
    (*topic_admin)->declare(declared);
    auto engine_owner = make_engine(cfg, std::move(declared), &logger);
    engine::Engine& engine = *engine_owner;
    if (auto started = engine.start(hub); !started) {
        logger.error("server", cfg.engine.kind == "jetstream" ? "cannot start the JetStream engine"
                               : cfg.engine.kind == "kafka"   ? "cannot start the Kafka engine"
                                                              : "cannot start the embedded log",
                     {{"error", started.error().message}});
        return 1;
    }

    auto schemas = SchemaService::open(cfg, meta_path);
    if (!schemas) {
        logger.error("server", "schemas: " + schemas.error().message);
        engine.stop();
        return 2;
    }
    auto meta_db = meta::Database::open(meta_path);
    if (!meta_db) {
        logger.error("server", meta_db.error().message);
        engine.stop();
        return 1;
    }
    auto transport_opts = webhook_client_options(cfg.webhooks);
    if (!transport_opts) {
        logger.error("server", "webhooks." + transport_opts.error().attribute + ": " + transport_opts.error().message);
        engine.stop();
        return 1;
    }
    webhook::ClientTransport webhook_transport(webhook_worker.io, std::move(*transport_opts));
    auto service_options = webhook_options(cfg);
    service_options.logger = &logger;
    service_options.tracer = &tracer;
    webhook::Service webhooks(webhook_worker.io, *webhook_worker.hub, engine, **meta_db, webhook_transport,
                              std::move(service_options));
    // Several nodes over one engine: one of them dispatches the webhook subscriptions at a time.
    std::unique_ptr<webhook::ClusterSync> webhook_cluster;
    if (auto* shared = engine.shared_state()) {
        webhook::ClusterSyncOptions co;
        co.node = node_name();
        co.lease_ttl = std::chrono::milliseconds(cfg.engine.kind == "kafka" ? cfg.engine.kafka.lease_ttl_ms
                                                                            : cfg.engine.jetstream.lease_ttl_ms);
        co.interval = std::max(std::chrono::milliseconds(100), co.lease_ttl / 5);
        webhook_cluster = std::make_unique<webhook::ClusterSync>(
            *shared, co,
            [&webhooks, io = &webhook_worker.io](webhook::ClusterView view) {
                asio::post(*io, [&webhooks, view = std::move(view)]() mutable { webhooks.apply(std::move(view)); });
            },
            &logger);
        webhooks.attach_cluster(webhook_cluster.get());
        logger.info("server", "webhook subscriptions are shared through the engine", {{"node", co.node}});
    }
    {
        Result<void> started = ok();
        webhook_worker.thread = std::thread([io = &webhook_worker.io] { io->run(); });
        run_on(webhook_worker, [&] { started = webhooks.start(); });
        if (started && webhook_cluster) webhook_cluster->start();
        if (!started) {
            logger.error("server", "webhooks: " + started.error().message);
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
    publish::Pipeline pipeline(engine, stats.publish, &(*schemas)->contracts(), &tracer);
    Readiness readiness(ReadinessOptions{cfg.data_dir, cfg.source_file.empty() ? "built-in defaults" : cfg.source_file},
                        engine, &logger);
    readiness.set_webhooks_running(true);
    auto connections = std::make_shared<http::ConnectionStats>();
    auto admin_connections = std::make_shared<http::ConnectionStats>();
    sse::StreamOptions sse_options;
    sse_options.heartbeat = std::chrono::milliseconds(cfg.sse.heartbeat_ms);
    sse_options.retry = std::chrono::milliseconds(cfg.sse.retry_ms);
    auto lopts = listener_options(cfg);
    lopts.observer = std::make_shared<RequestObserver>(logger, tracer, "data", &stats.http_data);
    lopts.tls = *data_tls;
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
        ws_options.deflate = w.deflate;
    }
    websocket::SessionContext ws_context{engine, pipeline, hub.encoder(hub::WireFormat::websocket), ws_options,
                                         stats.websocket, cfg.auto_create_topics};

    // The REST gateway's routes and upstreams (docs/gateway.md).
    gateway::Gateway gateway(SystemClock::instance());
    auto gateway_admin = GatewayAdmin::open(gateway, meta_path, cfg);
    if (!gateway_admin) {
        logger.error("server", "routes and upstreams: " + gateway_admin.error().message);
        engine.stop();
        return 1;
    }
    // SIGHUP and POST /admin/reload: the file is read again and what can change at run time is swapped in whole
    // (docs/configuration.md "Reloading"); anything invalid leaves the running configuration as it was.
    std::mutex reload_mutex;
    auto reload = [&]() -> Result<std::string> {
        std::lock_guard lock(reload_mutex);
        if (cfg.source_file.empty())
            return make_error(Errc::conflict, "herald was started without --config: there is no file to reload");
        auto next = config::load_config(cfg.source_file);
        if (!next) return std::move(next).error();
        auto next_data_tls = prepare_tls_reload(data_tls->get(), next->tls, "tls");
        if (!next_data_tls) return std::move(next_data_tls).error();
        auto next_admin_tls = prepare_tls_reload(admin_tls->get(), next->admin_tls, "admin_tls");
        if (!next_admin_tls) return std::move(next_admin_tls).error();
        if (auto r = (*gateway_admin)->reload_file(*next); !r) return std::move(r).error();
        std::string summary = std::to_string(next->routes.size()) + " routes and " +
                              std::to_string(next->upstreams.size()) + " upstreams from " + cfg.source_file;
        // New connections get the new certificates from here on; open ones keep theirs.
        auto swap_tls = [&](http::TlsCredentials* running, std::optional<http::ServerTlsContext>& loaded,
                            std::string_view listener) {
            if (!running || !loaded) return;
            log_certificate(logger, listener, loaded->certificate);
            summary += "; " + std::string(listener) + " TLS certificate serial " + loaded->certificate.serial +
                       " (" + loaded->certificate.subject + ")";
            running->replace(std::move(*loaded));
        };
        swap_tls(data_tls->get(), *next_data_tls, "data");
        swap_tls(admin_tls->get(), *next_admin_tls, "admin");
        logger.info("server", "configuration reloaded", {{"routes", next->routes.size()},
                                                         {"upstreams", next->upstreams.size()},
                                                         {"file", cfg.source_file}});
        return summary;
    };

    // Active health checks run on the first worker, following the gateway's snapshot across reloads.
    auto prober = std::make_shared<gateway::HealthProber>(workers[0]->io, gateway);
    prober->start();  // before the worker's thread runs: the coroutine is only queued

    // Listeners: the first binds (port 0 becomes a real port), the others join it with SO_REUSEPORT.
    asio::ip::tcp::endpoint bound = *data_ep;
    for (auto& w : workers) {
        w->data_plane = std::make_unique<DataPlane>(DataPlaneContext{cfg, engine, pipeline, hub, stats, sse_options, ws_context, webhooks, webhook_worker.io, **security, &(*schemas)->contracts(), &logger, &readiness, &gateway}, *w->hub);
        auto* dp = w->data_plane.get();
        w->proxy_plane = std::make_unique<ProxyPlane>(gateway, **security, &logger);
        auto worker_opts = lopts;
        worker_opts.interceptor = w->proxy_plane.get();
        auto l = http::Listener::create(w->io, bound, worker_opts, [dp](http::Request& r) { return dp->handle(r); },
                                        connections);
        if (!l) {
            logger.error("server", l.error().message);
            engine.stop();
            return 1;
        }
        w->listener = *l;
        bound = w->listener->local_endpoint();
    }
    AdminPlane admin(AdminContext{cfg, engine, stats, *connections, hubs, std::chrono::steady_clock::now(), &webhooks, security->get(), schemas->get(), &logger, &readiness, exporter.get(), gateway_admin->get(), &gateway, reload, &hub});
    (*topic_admin)->attach(engine, (*schemas)->contracts(), &webhooks);  // before any listener starts
    admin.add_resource(**topic_admin);
    admin.add_resource(**key_admin);
    // Several nodes: admin API keys are records in the engine's shared state, followed by every node.
    std::unique_ptr<SharedFollower> key_follower;
    std::unique_ptr<SharedFollower> schema_follower;
    std::unique_ptr<SharedFollower> gateway_follower;
    if (auto* shared = engine.shared_state()) {
        auto* gw = gateway_admin->get();
        gw->attach_shared(shared, &logger);
        gateway_follower = std::make_unique<SharedFollower>(
            *shared, "gw.", std::chrono::milliseconds(1000), [gw] { return gw->generation(); },
            [gw, io = &workers[0]->io](std::vector<engine::SharedEntry> entries, std::uint64_t generation) {
                asio::post(*io, [gw, entries = std::move(entries), generation] { gw->apply_shared(entries, generation); });
            },
            &logger);
        gateway_follower->start();
        auto* registry = schemas->get();
        registry->attach_shared(shared, &logger);
        schema_follower = std::make_unique<SharedFollower>(
            *shared, "schema.", std::chrono::milliseconds(1000), [registry] { return registry->generation(); },
            [registry, io = &workers[0]->io](std::vector<engine::SharedEntry> entries, std::uint64_t generation) {
                asio::post(*io, [registry, entries = std::move(entries), generation] {
                    registry->apply_shared(entries, generation);
                });
            },
            &logger);
        schema_follower->start();
        (*key_admin)->attach_shared(shared);
        auto* keys = key_admin->get();
        key_follower = std::make_unique<SharedFollower>(
            *shared, "key.", std::chrono::milliseconds(1000), [keys] { return keys->generation(); },
            [keys, io = &workers[0]->io](std::vector<engine::SharedEntry> entries, std::uint64_t generation) {
                asio::post(*io, [keys, entries = std::move(entries), generation] { keys->apply_shared(entries, generation); });
            },
            &logger);
        key_follower->start();
    }
    auto admin_opts = lopts;
    admin_opts.max_connections = 256;
    admin_opts.max_connections_per_address = 0;
    admin_opts.observer = std::make_shared<RequestObserver>(logger, tracer, "admin", &stats.http_admin);
    admin_opts.tls = *admin_tls;
    auto admin_listener = http::Listener::create(workers[0]->io, *admin_ep, admin_opts,
                                                 [&admin](http::Request& r) { return admin.handle(r); },
                                                 admin_connections);
    if (!admin_listener) {
        logger.error("server", "admin listener: " + admin_listener.error().message);
        if (key_follower) key_follower->stop();
        if (schema_follower) schema_follower->stop();
        if (gateway_follower) gateway_follower->stop();
        engine.stop();
        return 1;
    }
    auto admin_bound = (*admin_listener)->local_endpoint();

    for (auto& w : workers) w->listener->start();
    (*admin_listener)->start();
    for (auto& w : workers) w->thread = std::thread([io = &w->io] { io->run(); });

    const std::string scheme = *data_tls ? "https" : "http";
    const std::string admin_scheme = *admin_tls ? "https" : "http";
    if (options.ready_file) {
        auto tmp = *options.ready_file;
        tmp += ".tmp";
        {
            std::ofstream out(tmp);
            out << "{\"listen\":\"" << endpoint_text(bound) << "\",\"admin\":\"" << endpoint_text(admin_bound)
                << "\",\"scheme\":\"" << scheme << "\",\"admin_scheme\":\"" << admin_scheme << "\"}\n";
        }
        std::filesystem::rename(tmp, *options.ready_file);
    }
    std::cerr << "herald " << HERALD_VERSION << " serving\n"
              << "  data plane   " << scheme << "://" << endpoint_text(bound) << "  (" << n_workers << " workers)\n"
              << "  admin        " << admin_scheme << "://" << endpoint_text(admin_bound)
              << "  (/healthz /readyz /metrics)\n"
              << (cfg.portal.enabled ? "  portal       " + scheme + "://" + endpoint_text(bound) + "/portal/\n" : std::string())
              << "  data dir     " << std::filesystem::absolute(cfg.data_dir).string() << '\n'
              << "  config       " << (cfg.source_file.empty() ? "built-in defaults" : cfg.source_file) << '\n'
              << "  publish      curl -H 'Content-Type: application/json' -d '{\"hello\":\"world\"}' '"
              << scheme << "://" << endpoint_text(bound) << "/v1/topics/demo/events?type=demo.greeted.v1'\n"
              << "  subscribe    curl -N -H 'Accept: text/event-stream' '" << scheme << "://" << endpoint_text(bound)
              << "/v1/topics/demo/events?from=earliest'\n"
              << std::flush;
    logger.info("server", "serving",
                {{"version", HERALD_VERSION},
                 {"listen", endpoint_text(bound)},
                 {"admin", endpoint_text(admin_bound)},
                 {"scheme", scheme},
                 {"admin_scheme", admin_scheme},
                 {"workers", n_workers},
                 {"tracing", exporter ? exporter->url() : std::string("off")}});
    if (!cfg.auth.enabled)
        std::cerr << "WARNING: authentication is off: anyone who can reach these ports can publish and subscribe "
                     "(auth.enabled in the config turns it on).\n";
    else
        std::cerr << "  auth         on: " << cfg.auth.issuers.size() << " JWT issuers, " << cfg.auth.api_keys.size()
                  << " API keys" << (cfg.auth.anonymous_scopes.empty() ? "" : ", anonymous access for some scopes")
                  << '\n';

    // Wait for SIGINT/SIGTERM on the main thread; SIGHUP reloads the configuration meanwhile.
    asio::signal_set hup(signals_io, SIGHUP);
    std::function<void()> await_hup = [&] {
        hup.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            if (auto r = reload(); !r)
                logger.error("server", "configuration reload refused, the running configuration is unchanged: " +
                                           r.error().message);
            await_hup();
        });
    };
    await_hup();
    signals.async_wait([&](auto, int) { hup.cancel(); });
    signals_io.run();
    logger.info("server", "shutting down");
    readiness.set_webhooks_running(false);

    // 1. Stop accepting. 2. Streams get their final cursor and close once flushed. 3. Flush the logs.
    run_on(*workers[0], [&] { prober->stop(); });
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
    // After the service queued its last progress: written, and the dispatch lease handed over.
    if (webhook_cluster) webhook_cluster->stop();
    if (key_follower) key_follower->stop();
    if (schema_follower) schema_follower->stop();
    if (gateway_follower) gateway_follower->stop();
    engine.stop();
    webhook_worker.guard.reset();
    webhook_worker.io.stop();
    webhook_worker.thread.join();
    for (auto& w : workers) {
        w->guard.reset();
        w->io.stop();
    }
    for (auto& w : workers) w->thread.join();
    // Spans of the last requests go out now (bounded: a missing collector delays the exit by at most 2 s).
    if (exporter) exporter->stop();
    logger.info("server", "stopped");
    return 0;
}

}  // namespace herald::server
