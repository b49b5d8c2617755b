#include "server/topic_admin.hpp"

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <variant>

#include "base/units.hpp"
#include "engine/topic_name.hpp"
#include "http/problem.hpp"

namespace herald::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxFsyncIntervalMs = 3'600'000;  // an hour; beyond, say `never`
constexpr std::uint64_t kMinBytes = 4096;                // as in herald.yaml
constexpr std::uint64_t kMaxSegmentBytes = 2ull << 30;   // storage/format.hpp kMaxSegmentBytes
constexpr std::size_t kMaxAcceptedTypes = 256;
constexpr std::size_t kMaxTypeChars = 256;

Error invalid(const std::string& attribute, const std::string& message) {
    return make_error(Errc::invalid_argument, attribute + ": " + message, attribute);
}

// A number of milliseconds, or a duration with a unit ("15s").
Result<std::int64_t> duration_member(const json::value& v, const std::string& attribute,
                                     std::int64_t min_ms, std::int64_t max_ms) {
    std::int64_t ms = 0;
    if (v.is_int64())
        ms = v.as_int64();
    else if (v.is_uint64())
        ms = v.as_uint64() > static_cast<std::uint64_t>(max_ms)
                 ? max_ms + 1
                 : static_cast<std::int64_t>(v.as_uint64());
    else if (v.is_string()) {
        auto d = parse_duration_ms(v.as_string());
        if (!d)
            return invalid(attribute,
                           "expected milliseconds or a duration such as 100ms, 15s, 5m, 24h, 7d");
        ms = *d;
    } else {
        return invalid(attribute,
                       "expected milliseconds or a duration such as 100ms, 15s, 5m, 24h, 7d");
    }
    if (ms < min_ms || ms > max_ms)
        return invalid(attribute, "must be between " + std::to_string(min_ms) + " and " +
                                      std::to_string(max_ms) + " milliseconds");
    return ms;
}

// A number of bytes, or a size with a unit ("64MiB").
Result<std::uint64_t> bytes_member(const json::value& v, const std::string& attribute,
                                   std::uint64_t min, std::uint64_t max) {
    std::uint64_t n = 0;
    if (v.is_uint64())
        n = v.as_uint64();
    else if (v.is_int64() && v.as_int64() >= 0)
        n = static_cast<std::uint64_t>(v.as_int64());
    else if (v.is_string()) {
        auto b = parse_bytes(v.as_string());
        if (!b) return invalid(attribute, "expected bytes or a size such as 512KiB, 64MiB, 10GiB");
        n = *b;
    } else {
        return invalid(attribute, "expected bytes or a size such as 512KiB, 64MiB, 10GiB");
    }
    if (n < min || n > max)
        return invalid(attribute, "must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + " bytes");
    return n;
}

Result<std::vector<std::string>> types_member(const json::value& v) {
    if (!v.is_array())
        return invalid("accepted_types",
                       "expected a list of event-type globs such as [\"shop.*\"]");
    const auto& a = v.as_array();
    if (a.size() > kMaxAcceptedTypes)
        return invalid("accepted_types", "at most " + std::to_string(kMaxAcceptedTypes) + " globs");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string attribute = "accepted_types[" + std::to_string(i) + "]";
        if (!a[i].is_string()) return invalid(attribute, "expected a string");
        std::string g(a[i].as_string());
        if (g.empty() || g.size() > kMaxTypeChars)
            return invalid(attribute,
                           "expected 1 to " + std::to_string(kMaxTypeChars) + " characters");
        if (std::any_of(g.begin(), g.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
            return invalid(attribute, "spaces and control characters are not allowed");
        out.push_back(std::move(g));
    }
    return out;
}

const char* fsync_name(engine::FsyncPolicy p) {
    switch (p) {
        case engine::FsyncPolicy::always:
            return "always";
        case engine::FsyncPolicy::interval:
            return "interval";
        case engine::FsyncPolicy::never:
            return "never";
    }
    return "interval";
}

http::Response problem(unsigned status, std::string kind, std::string title, std::string detail,
                       std::string attribute = {}) {
    return http::problem_response(
        {status, std::move(kind), std::move(title), std::move(detail), std::move(attribute)});
}

http::Response invalid_response(const Error& e) {
    return problem(400, "invalid-topic-settings", "Invalid topic settings", e.message, e.attribute);
}

http::Response engine_failure(const Error& e) {
    if (e.code == Errc::invalid_argument) return invalid_response(e);
    if (e.code == Errc::not_found) return problem(404, "not-found", "Not found", e.message, "name");
    if (e.code == Errc::conflict)
        return problem(409, "topic-in-use", "Topic in use", e.message, "name");
    return http::problem_response(http::problem_from_error(e));
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

schema::TopicContract contract_of(const config::TopicConfig& t) {
    schema::TopicContract c;
    c.accepted_types = t.accepted_types;
    c.allow_unknown_types = t.allow_unknown_types;
    return c;
}

// Bridges an engine callback (engine thread) into the calling coroutine (the admin worker). Not a
// coroutine itself, so the initiation's temporaries live outside any co_await expression (GCC 12).
template <class T, class Start>
auto async_on_engine(Start start) {
    using Shared = std::shared_ptr<Result<T>>;
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Shared)>(
        [](auto handler, Start start) {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            start([h](Result<T> r) {
                auto ex = asio::get_associated_executor(*h);
                auto res = std::make_shared<Result<T>>(std::move(r));
                asio::post(ex, [h, res]() mutable { std::move (*h)(res); });
            });
        },
        asio::use_awaitable, std::move(start));
}

}  // namespace

Result<config::TopicConfig> parse_topic_settings(const json::value& body, config::TopicConfig t) {
    if (!body.is_object())
        return make_error(Errc::invalid_argument,
                          "expected a JSON object such as "
                          "{\"retention\":{\"max_age\":\"7d\"},\"fsync\":\"always\"}");
    static constexpr std::string_view kMembers[] = {
        "name",      "fsync",          "fsync_interval", "segment_bytes",
        "retention", "accepted_types", "default_type",   "allow_unknown_types"};
    for (const auto& [key, value] : body.as_object())
        if (std::find(std::begin(kMembers), std::end(kMembers), std::string_view(key)) ==
            std::end(kMembers))
            return invalid(
                std::string(key),
                "unknown member (known: fsync, fsync_interval, segment_bytes, retention, "
                "accepted_types, default_type, allow_unknown_types)");
    const auto& o = body.as_object();
    if (auto* v = o.if_contains("fsync")) {
        const std::string_view s =
            v->is_string() ? std::string_view(v->as_string()) : std::string_view();
        if (s == "always")
            t.settings.fsync = engine::FsyncPolicy::always;
        else if (s == "interval")
            t.settings.fsync = engine::FsyncPolicy::interval;
        else if (s == "never")
            t.settings.fsync = engine::FsyncPolicy::never;
        else
            return invalid("fsync", "expected always, interval or never");
    }
    if (auto* v = o.if_contains("fsync_interval")) {
        auto ms = duration_member(*v, "fsync_interval", 1, kMaxFsyncIntervalMs);
        if (!ms) return std::move(ms).error();
        t.settings.fsync_interval_ms = *ms;
    }
    if (auto* v = o.if_contains("segment_bytes")) {
        auto n = bytes_member(*v, "segment_bytes", kMinBytes, kMaxSegmentBytes);
        if (!n) return std::move(n).error();
        t.settings.segment_bytes = *n;
    }
    if (auto* v = o.if_contains("retention")) {
        if (v->is_null()) {
            t.settings.retention_ms.reset();
            t.settings.retention_bytes.reset();
        } else if (!v->is_object()) {
            return invalid("retention", "expected {\"max_age\": ..., \"max_bytes\": ...} or null");
        } else {
            for (const auto& [key, value] : v->as_object())
                if (key != "max_age" && key != "max_bytes")
                    return invalid("retention." + std::string(key),
                                   "unknown member (known: max_age, max_bytes)");
            if (auto* a = v->as_object().if_contains("max_age")) {
                if (a->is_null()) {
                    t.settings.retention_ms.reset();
                } else {
                    auto ms = duration_member(*a, "retention.max_age", 1000, INT64_MAX / 2);
                    if (!ms) return std::move(ms).error();
                    t.settings.retention_ms = *ms;
                }
            }
            if (auto* b = v->as_object().if_contains("max_bytes")) {
                if (b->is_null()) {
                    t.settings.retention_bytes.reset();
                } else {
                    auto n = bytes_member(*b, "retention.max_bytes", kMinBytes, UINT64_MAX / 2);
                    if (!n) return std::move(n).error();
                    t.settings.retention_bytes = *n;
                }
            }
        }
    }
    if (auto* v = o.if_contains("accepted_types")) {
        if (v->is_null()) {
            t.accepted_types.clear();
        } else {
            auto types = types_member(*v);
            if (!types) return std::move(types).error();
            t.accepted_types = std::move(*types);
        }
    }
    if (auto* v = o.if_contains("default_type")) {
        if (v->is_null())
            t.default_type.clear();
        else if (!v->is_string() || v->as_string().size() > kMaxTypeChars)
            return invalid("default_type",
                           "expected an event type (a string of at most 256 characters) or null");
        else
            t.default_type = std::string(v->as_string());
    }
    if (auto* v = o.if_contains("allow_unknown_types")) {
        if (!v->is_bool()) return invalid("allow_unknown_types", "expected true or false");
        t.allow_unknown_types = v->as_bool();
    }
    return t;
}

json::object topic_settings_json(const config::TopicConfig& t) {
    json::object o;
    o["fsync"] = fsync_name(t.settings.fsync);
    o["fsync_interval"] = t.settings.fsync_interval_ms;
    o["segment_bytes"] = t.settings.segment_bytes;
    json::object retention;
    retention["max_age"] =
        t.settings.retention_ms ? json::value(*t.settings.retention_ms) : json::value(nullptr);
    retention["max_bytes"] = t.settings.retention_bytes ? json::value(*t.settings.retention_bytes)
                                                        : json::value(nullptr);
    o["retention"] = std::move(retention);
    json::array types;
    for (auto& g : t.accepted_types) types.emplace_back(g);
    o["accepted_types"] = std::move(types);
    o["default_type"] = t.default_type.empty() ? json::value(nullptr) : json::value(t.default_type);
    o["allow_unknown_types"] = t.allow_unknown_types;
    return o;
}

Result<std::unique_ptr<TopicAdmin>> TopicAdmin::open(const config::Config& file,
                                                     const std::string& meta_path,
                                                     log::Logger* logger) {
    std::unique_ptr<TopicAdmin> admin(new TopicAdmin(file, logger));
    // Opened before the engine, which would otherwise be the first to create the data directory.
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(meta_path).parent_path(), ec);
    auto db = meta::Database::open(meta_path);
    if (!db) return std::move(db).error();
    admin->db_ = std::move(*db);
    if (auto r = admin->db_->exec(
            "CREATE TABLE IF NOT EXISTS topic_settings (name TEXT PRIMARY KEY, settings TEXT "
            "NOT NULL, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL)");
        !r)
        return std::move(r).error();
    if (auto r = admin->load(); !r) return std::move(r).error();
    return admin;
}

Result<void> TopicAdmin::load() {
    auto st = db_->prepare("SELECT name, settings FROM topic_settings ORDER BY name");
    if (!st) return std::move(st).error();
    std::vector<std::string> adopted;
    for (;;) {
        auto row = st->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        auto name = st->text(0);
        const std::string where = "meta.db topic_settings '" + name + "'";
        if (!engine::is_valid_topic_name(name))
            return make_error(Errc::corrupt, where + ": not a valid topic name");
        if (file_.topics.count(name)) {
            adopted.push_back(name);
            continue;
        }
        boost::system::error_code ec;
        auto doc = json::parse(st->text(1), ec);
        if (ec) return make_error(Errc::corrupt, where + ": not JSON");
        auto t = parse_topic_settings(doc, file_.topic_defaults);
        if (!t)
            return make_error(Errc::corrupt, where + ": " + t.error().message, t.error().attribute);
        stored_.emplace(std::move(name), std::move(*t));
    }
    for (auto& name : adopted) {
        log::emit(logger_, log::Level::warn, "admin",
                  "topic declared in the configuration file: the file's settings win, the ones set "
                  "through the "
                  "admin API are dropped (its events stay)",
                  {{"topic", name}});
        if (auto r = unstore(name); !r) return r;
    }
    return ok();
}

void TopicAdmin::declare(std::map<std::string, engine::TopicSettings>& declared) const {
    for (auto& [name, t] : stored_) declared.emplace(name, t.settings);
}

void TopicAdmin::attach(engine::Engine& engine, publish::Contracts& contracts,
                        const webhook::Service* webhooks) {
    engine_ = &engine;
    contracts_ = &contracts;
    webhooks_ = webhooks;
    for (auto& [name, t] : stored_)
        contracts.set_topic(name, publish::TopicRules{contract_of(t), t.default_type});
}

Result<void> TopicAdmin::store(const std::string& name, const config::TopicConfig& t) {
    auto st = db_->prepare(
        "INSERT INTO topic_settings (name, settings, created_at_ms, updated_at_ms) VALUES (?1, ?2, "
        "?3, ?3) "
        "ON CONFLICT(name) DO UPDATE SET settings = excluded.settings, updated_at_ms = "
        "excluded.updated_at_ms");
    if (!st) return std::move(st).error();
    const auto text = json::serialize(topic_settings_json(t));
    st->bind(1, std::string_view(name))
        .bind(2, std::string_view(text))
        .bind(3, std::int64_t{now_ms()});
    return st->run();
}

Result<void> TopicAdmin::unstore(const std::string& name) {
    auto st = db_->prepare("DELETE FROM topic_settings WHERE name = ?1");
    if (!st) return std::move(st).error();
    st->bind(1, std::string_view(name));
    return st->run();
}

const char* TopicAdmin::source(const std::string& name) const {
    if (file_.topics.count(name)) return "config";
    if (stored_.count(name)) return "admin";
    return "auto";
}

json::object TopicAdmin::view(const engine::TopicInfo& info) const {
    config::TopicConfig t;
    t.settings = info.settings;
    if (contracts_) {
        auto rules = contracts_->rules(info.name);
        t.accepted_types = std::move(rules.contract.accepted_types);
        t.allow_unknown_types = rules.contract.allow_unknown_types;
        t.default_type = std::move(rules.default_type);
    }
    json::object o;
    o["name"] = info.name;
    o["source"] = source(info.name);
    o["start_offset"] = info.start_offset;
    o["end_offset"] = info.end_offset;
    o["size_bytes"] = info.size_bytes;
    o["settings"] = topic_settings_json(t);
    return o;
}

std::optional<http::Response> TopicAdmin::check_rules(const config::TopicConfig& t) const {
    if (t.default_type.empty()) return std::nullopt;
    if (contracts_ && contracts_->options().enforce_naming) {
        if (auto r = contracts_->options().taxonomy.check_event_type(t.default_type); !r)
            return invalid_response(invalid("default_type", r.error().message));
    }
    if (!contract_of(t).accepts(t.default_type))
        return invalid_response(
            invalid("default_type", "'" + t.default_type +
                                        "' is not one of the topic's accepted_types, so every "
                                        "plain-JSON publish would be refused"));
    return std::nullopt;
}

std::string_view TopicAdmin::route(std::string_view path) const {
    if (path == "/admin/topics") return "/admin/topics";
    if (path.rfind("/admin/topics/", 0) == 0) return "/admin/topics/{name}";
    return {};
}

void TopicAdmin::dump(json::object& config) const {
    json::array topics;
    if (engine_)
        for (auto& info : engine_->topics()) topics.push_back(view(info));
    config["topics"] = std::move(topics);
}

asio::awaitable<std::optional<http::Response>> TopicAdmin::handle(http::Request& req) {
    if (req.path != "/admin/topics" && req.path.rfind("/admin/topics/", 0) != 0)
        co_return std::nullopt;
    if (!engine_)
        co_return problem(503, "unavailable", "Service unavailable", "topics are not attached yet");
    auto seg = http::split_path(req.path);
    if (seg.size() == 2) {
        if (req.method != "GET") {
            auto r = problem(405, "method-not-allowed", "Method not allowed", "allowed: GET");
            r.set("Allow", "GET");
            co_return r;
        }
        json::array topics;
        for (auto& info : engine_->topics()) topics.push_back(view(info));
        co_return http::json_response(200,
                                      json::serialize(json::object{{"topics", std::move(topics)}}));
    }
    if (seg.size() != 3)
        co_return problem(404, "not-found", "Not found", "no admin route for " + req.path);
    const std::string name(seg[2]);
    if (!engine::is_valid_topic_name(name))
        co_return problem(400, "invalid-topic", "Invalid topic",
                          "topic names must match [a-z0-9][a-z0-9._-]{0,199}", "name");
    if (req.method == "GET") {
        for (auto& info : engine_->topics())
            if (info.name == name) co_return http::json_response(200, json::serialize(view(info)));
        co_return problem(404, "not-found", "Not found", "topic '" + name + "' does not exist",
                          "name");
    }
    if (req.method == "PUT" || req.method == "PATCH") {
        auto answer = co_await put(name, req, req.method == "PATCH");
        co_return answer;
    }
    if (req.method == "DELETE") {
        auto answer = co_await remove(name);
        co_return answer;
    }
    auto r = problem(405, "method-not-allowed", "Method not allowed",
                     "allowed: GET, PUT, PATCH, DELETE");
    r.set("Allow", "GET, PUT, PATCH, DELETE");
    co_return r;
}

asio::awaitable<http::Response> TopicAdmin::put(const std::string& name, const http::Request& req,
                                                bool patch) {
    if (file_.topics.count(name))
        co_return problem(
            409, "defined-in-config", "Defined in the configuration file",
            "topic '" + name +
                "' is declared in the configuration file, which wins: change it there",
            "name");
    boost::system::error_code ec;
    auto body = json::parse(req.body, ec);
    if (ec)
        co_return invalid_response(
            make_error(Errc::invalid_argument, "the body is not JSON: " + ec.message()));
    if (body.is_object())
        if (auto* n = body.as_object().if_contains("name");
            n && !(n->is_string() && n->as_string() == name))
            co_return invalid_response(
                invalid("name", "must be the topic named in the path, '" + name + "'"));

    // PUT: the whole settings, members left out from the defaults. PATCH: onto what the topic has
    // now.
    config::TopicConfig base = file_.topic_defaults;
    bool exists = false;
    for (auto& info : engine_->topics()) {
        if (info.name != name) continue;
        exists = true;
        if (patch) {
            base.settings = info.settings;
            auto rules = contracts_ ? contracts_->rules(name) : publish::TopicRules{};
            base.accepted_types = rules.contract.accepted_types;
            base.allow_unknown_types = rules.contract.allow_unknown_types;
            base.default_type = rules.default_type;
        }
    }
    if (patch && !exists)
        co_return problem(
            404, "not-found", "Not found",
            "topic '" + name + "' does not exist (PUT creates a topic, PATCH changes one)", "name");
    auto next = parse_topic_settings(body, std::move(base));
    if (!next) co_return invalid_response(next.error());
    if (auto bad = check_rules(*next)) co_return std::move(*bad);

    // Stored first, so what runs is never something a restart would forget; undone if the engine
    // refuses.
    const auto previous = stored_.find(name);
    const std::optional<config::TopicConfig> before =
        previous != stored_.end() ? std::optional<config::TopicConfig>(previous->second)
                                  : std::nullopt;
    if (auto r = store(name, *next); !r)
        co_return http::problem_response(http::problem_from_error(r.error()));
    auto* engine = engine_;
    const engine::TopicSettings settings = next->settings;
    auto start = [engine, name, settings](engine::ConfigureCallback done) {
        engine->configure_topic(name, settings, std::move(done));
    };
    auto configured_shared = co_await async_on_engine<engine::TopicConfigured>(std::move(start));
    auto& configured = *configured_shared;
    if (!configured) {
        Result<void> undone = before ? store(name, *before) : unstore(name);
        if (!undone)
            log::emit(logger_, log::Level::error, "admin", "cannot undo stored topic settings",
                      {{"topic", name}, {"error", undone.error().message}});
        co_return engine_failure(configured.error());
    }
    if (contracts_)
        contracts_->set_topic(name, publish::TopicRules{contract_of(*next), next->default_type});
    stored_[name] = *next;
    log::emit(logger_, log::Level::info, "admin",
              configured->created ? "topic created" : "topic configured",
              {{"topic", name}, {"settings", json::serialize(topic_settings_json(*next))}});
    for (auto& info : engine_->topics()) {
        if (info.name != name) continue;
        auto res =
            http::json_response(configured->created ? 201 : 200, json::serialize(view(info)));
        res.set("Location", "/admin/topics/" + name);
        co_return res;
    }
    co_return problem(409, "conflict", "Conflict", "topic '" + name + "' was deleted meanwhile",
                      "name");
}

asio::awaitable<http::Response> TopicAdmin::remove(const std::string& name) {
    if (file_.topics.count(name))
        co_return problem(
            409, "defined-in-config", "Defined in the configuration file",
            "topic '" + name + "' is declared in the configuration file: remove it there first",
            "name");
    if (webhooks_) {
        std::string ids;
        for (auto& g : webhooks_->gauges())
            if (g.topic == name) ids += (ids.empty() ? "" : ", ") + g.id;
        if (!ids.empty())
            co_return problem(
                409, "topic-in-use", "Topic in use",
                "topic '" + name + "' has webhook subscriptions (" + ids + "); delete them first",
                "name");
    }
    auto* engine = engine_;
    auto start = [engine, name](std::function<void(Result<std::monostate>)> done) {
        engine->delete_topic(name, [done = std::move(done)](Result<void> r) {
            if (r)
                done(std::monostate{});
            else
                done(std::move(r).error());
        });
    };
    auto deleted_shared = co_await async_on_engine<std::monostate>(std::move(start));
    auto& deleted = *deleted_shared;
    // A stored entry without a topic (a delete whose meta.db step failed before) is removed all the
    // same.
    const bool had_settings = stored_.count(name) > 0;
    if (!deleted && !(deleted.error().code == Errc::not_found && had_settings))
        co_return engine_failure(deleted.error());
    if (contracts_) contracts_->remove_topic(name);
    if (had_settings) {
        if (auto r = unstore(name); !r) {
            log::emit(logger_, log::Level::error, "admin",
                      "topic deleted, but its stored settings remain",
                      {{"topic", name}, {"error", r.error().message}});
            co_return problem(
                503, "storage-error", "Storage error",
                "the topic's events are deleted but its stored settings could not be removed (" +
                    r.error().message +
                    "); DELETE again, or it is recreated empty at the next start",
                "name");
        }
        stored_.erase(name);
    }
    log::emit(logger_, log::Level::info, "admin", "topic deleted", {{"topic", name}});
    http::Response res;
    res.status = 204;
    co_return res;
}

}  // namespace herald::server
