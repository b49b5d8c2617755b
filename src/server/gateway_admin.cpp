#include "server/gateway_admin.hpp"

#include <algorithm>

#include "security/crypto.hpp"
#include "server/shared_follower.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>

#include "http/problem.hpp"

namespace herald::server {

namespace json = boost::json;

namespace {

constexpr const char* kCreate = R"sql(
CREATE TABLE IF NOT EXISTS gateway_upstreams (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,      -- JSON, the herald.yaml shape
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS gateway_routes (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    position INTEGER NOT NULL,     -- creation order: routes' ties in matching priority
    updated_ms INTEGER NOT NULL
);
)sql";

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

http::Response problem(unsigned status, std::string kind, std::string title, std::string detail,
                       std::string attribute = {}) {
    return http::problem_response({status, std::move(kind), std::move(title), std::move(detail), std::move(attribute)});
}

http::Response invalid(const Error& e) {
    return problem(400, "invalid-gateway-entry", "Invalid gateway entry", e.message, e.attribute);
}

json::value definition_value(const std::string& definition) {
    boost::system::error_code ec;
    auto v = json::parse(definition, ec);
    return ec ? json::value(definition) : v;
}

json::object target_view(const proxy::Upstream& u, std::size_t i) {
    auto s = u.snapshot(i);
    return json::object{{"target", u.target(i).authority},
                        {"in_flight", s.in_flight},
                        {"ejected", s.ejected},
                        {"healthy", s.healthy},
                        {"consecutive_failures", s.consecutive_failures},
                        {"ejections", s.ejections}};
}

}  // namespace

Result<std::unique_ptr<GatewayAdmin>> GatewayAdmin::open(gateway::Gateway& gateway, const std::string& meta_path,
                                                         const config::Config& file) {
    std::unique_ptr<GatewayAdmin> a(new GatewayAdmin(gateway));
    auto db = meta::Database::open(meta_path);
    if (!db) return std::move(db).error();
    a->db_ = std::move(*db);
    if (auto r = a->migrate(); !r) return std::move(r).error();
    a->current_.file_routes = file.routes;
    a->current_.file_upstreams = file.upstreams;
    if (auto r = a->load(); !r) return std::move(r).error();
    auto snapshot = compose(gateway, a->current_);
    if (!snapshot) return std::move(snapshot).error();
    gateway.install(std::move(*snapshot));
    return a;
}

Result<void> GatewayAdmin::migrate() { return db_->exec(kCreate); }

Result<void> GatewayAdmin::load() {
    auto ups = db_->prepare("SELECT name, definition FROM gateway_upstreams ORDER BY name");
    if (!ups) return std::move(ups).error();
    for (;;) {
        auto row = ups->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        auto name = ups->text(0);
        auto u = config::parse_upstream_entry(name, ups->text(1), "meta.db upstream " + name);
        if (!u) return std::move(u).error();
        current_.admin_upstreams.emplace(name, std::move(*u));
    }
    std::map<std::string, config::UpstreamSettings> all = current_.file_upstreams;
    for (auto& [n, u] : current_.admin_upstreams) all.emplace(n, u);
    auto routes = db_->prepare("SELECT name, definition FROM gateway_routes ORDER BY position");
    if (!routes) return std::move(routes).error();
    for (;;) {
        auto row = routes->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        auto r = config::parse_route_entry(routes->text(1), all, "meta.db route " + routes->text(0));
        if (!r) return std::move(r).error();
        current_.admin_routes.push_back(std::move(*r));
    }
    return ok();
}

Result<std::shared_ptr<const gateway::Snapshot>> GatewayAdmin::compose(const gateway::Gateway& gateway,
                                                                      const Composition& c) {
    auto upstreams = c.file_upstreams;
    for (auto& [name, u] : c.admin_upstreams)
        if (!upstreams.emplace(name, u).second)
            return make_error(Errc::conflict, "upstream \"" + name +
                                                  "\" is defined both in the configuration file and through the "
                                                  "admin API; the file wins: delete the admin one first");
    auto routes = c.file_routes;
    std::set<std::string> names;
    for (auto& r : routes) names.insert(r.name);
    for (auto& r : c.admin_routes) {
        if (!names.insert(r.name).second)
            return make_error(Errc::conflict, "route \"" + r.name +
                                                  "\" is defined both in the configuration file and through the "
                                                  "admin API; the file wins: delete the admin one first");
        routes.push_back(r);
    }
    return gateway.build(std::move(routes), std::move(upstreams));
}

Result<void> GatewayAdmin::reload_file(const config::Config& file) {
    std::lock_guard lock(mutex_);
    Composition next = current_;
    next.file_routes = file.routes;
    next.file_upstreams = file.upstreams;
    auto snapshot = compose(gateway_, next);
    if (!snapshot) return std::move(snapshot).error();
    gateway_.install(std::move(*snapshot));
    current_ = std::move(next);
    return ok();
}

http::Response GatewayAdmin::put_upstream(const std::string& name, const std::string& body) {
    if (current_.file_upstreams.count(name))
        return problem(409, "defined-in-config", "Defined in the configuration file",
                       "upstream \"" + name + "\" comes from the configuration file: edit the file and reload");
    auto u = config::parse_upstream_entry(name, body);
    if (!u) return invalid(u.error());
    Composition next = current_;
    const bool created = next.admin_upstreams.count(name) == 0;
    next.admin_upstreams[name] = *u;
    // Routes made through the API were validated against the upstreams of their time; re-check them all.
    auto snapshot = compose(gateway_, next);
    if (!snapshot) return invalid(snapshot.error());
    generation_.fetch_add(1, std::memory_order_acq_rel);
    const std::string record = json::serialize(json::object{{"definition", u->definition}});
    if (auto failed = share(gateway_record_key(false, name), &record)) return std::move(*failed);
    auto st = db_->prepare(
        "INSERT INTO gateway_upstreams (name, definition, updated_ms) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, updated_ms = excluded.updated_ms");
    if (!st) return http::problem_response(http::problem_from_error(st.error()));
    st->bind(1, std::string_view(name)).bind(2, std::string_view(u->definition)).bind(3, now_ms());
    if (auto r = st->run(); !r) return http::problem_response(http::problem_from_error(r.error()));
    gateway_.install(std::move(*snapshot));
    current_ = std::move(next);
    std::string out = "{\"name\":";
    out += json::serialize(json::value(name));
    out += ",\"source\":\"admin\",\"definition\":" + u->definition + "}";
    return http::json_response(created ? 201 : 200, std::move(out));
}

http::Response GatewayAdmin::delete_upstream(const std::string& name) {
    if (current_.file_upstreams.count(name))
        return problem(409, "defined-in-config", "Defined in the configuration file",
                       "upstream \"" + name + "\" comes from the configuration file: edit the file and reload");
    if (!current_.admin_upstreams.count(name))
        return problem(404, "not-found", "Not found", "no admin-made upstream named \"" + name + "\"");
    std::vector<std::string> users;
    for (auto* list : {&current_.file_routes, &current_.admin_routes})
        for (auto& r : *list)
            if (r.upstream == name) users.push_back(r.name);
    if (!users.empty()) {
        std::string names;
        for (auto& n : users) names += (names.empty() ? "" : ", ") + n;
        return problem(409, "upstream-in-use", "Upstream in use",
                       "upstream \"" + name + "\" is used by route(s) " + names + ": delete or change them first");
    }
    Composition next = current_;
    next.admin_upstreams.erase(name);
    auto snapshot = compose(gateway_, next);
    if (!snapshot) return invalid(snapshot.error());
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (auto failed = share(gateway_record_key(false, name), nullptr)) return std::move(*failed);
    auto st = db_->prepare("DELETE FROM gateway_upstreams WHERE name = ?1");
    if (!st) return http::problem_response(http::problem_from_error(st.error()));
    st->bind(1, std::string_view(name));
    if (auto r = st->run(); !r) return http::problem_response(http::problem_from_error(r.error()));
    gateway_.install(std::move(*snapshot));
    current_ = std::move(next);
    return http::Response{204, {}, {}, {}};
}

http::Response GatewayAdmin::put_route(const std::string& name, const std::string& body) {
    for (auto& r : current_.file_routes)
        if (r.name == name)
            return problem(409, "defined-in-config", "Defined in the configuration file",
                           "route \"" + name + "\" comes from the configuration file: edit the file and reload");
    // The name is the path's; a body may repeat it but not contradict it.
    boost::system::error_code ec;
    auto doc = json::parse(body, ec);
    if (ec || !doc.is_object())
        return problem(400, "invalid-gateway-entry", "Invalid gateway entry", "the body must be a JSON object");
    auto& obj = doc.as_object();
    if (auto* n = obj.if_contains("name"); n && (!n->is_string() || n->as_string() != name))
        return problem(400, "invalid-gateway-entry", "Invalid gateway entry",
                       "the body's name differs from the one in the path", "name");
    obj["name"] = name;
    std::map<std::string, config::UpstreamSettings> all = current_.file_upstreams;
    for (auto& [n, u] : current_.admin_upstreams) all.emplace(n, u);
    auto r = config::parse_route_entry(json::serialize(doc), all);
    if (!r) return invalid(r.error());
    Composition next = current_;
    auto it = std::find_if(next.admin_routes.begin(), next.admin_routes.end(),
                           [&](const auto& x) { return x.name == name; });
    const bool created = it == next.admin_routes.end();
    if (created)
        next.admin_routes.push_back(*r);
    else
        *it = *r;
    auto snapshot = compose(gateway_, next);
    if (!snapshot) return invalid(snapshot.error());
    generation_.fetch_add(1, std::memory_order_acq_rel);
    auto position = route_positions_.count(name) ? route_positions_[name] : now_ms();
    const std::string record = json::serialize(json::object{{"definition", r->definition}, {"position", position}});
    if (auto failed = share(gateway_record_key(true, name), &record)) return std::move(*failed);
    route_positions_[name] = position;
    auto st = db_->prepare(
        "INSERT INTO gateway_routes (name, definition, position, updated_ms) VALUES "
        "(?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM gateway_routes), ?3) "
        "ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, updated_ms = excluded.updated_ms");
    if (!st) return http::problem_response(http::problem_from_error(st.error()));
    st->bind(1, std::string_view(name)).bind(2, std::string_view(r->definition)).bind(3, now_ms());
    if (auto x = st->run(); !x) return http::problem_response(http::problem_from_error(x.error()));
    gateway_.install(std::move(*snapshot));
    current_ = std::move(next);
    std::string out = "{\"name\":";
    out += json::serialize(json::value(name));
    out += ",\"source\":\"admin\",\"definition\":" + r->definition + "}";
    return http::json_response(created ? 201 : 200, std::move(out));
}

http::Response GatewayAdmin::delete_route(const std::string& name) {
    for (auto& r : current_.file_routes)
        if (r.name == name)
            return problem(409, "defined-in-config", "Defined in the configuration file",
                           "route \"" + name + "\" comes from the configuration file: edit the file and reload");
    Composition next = current_;
    auto it = std::find_if(next.admin_routes.begin(), next.admin_routes.end(),
                           [&](const auto& x) { return x.name == name; });
    if (it == next.admin_routes.end())
        return problem(404, "not-found", "Not found", "no admin-made route named \"" + name + "\"");
    next.admin_routes.erase(it);
    auto snapshot = compose(gateway_, next);
    if (!snapshot) return invalid(snapshot.error());
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (auto failed = share(gateway_record_key(true, name), nullptr)) return std::move(*failed);
    route_positions_.erase(name);
    auto st = db_->prepare("DELETE FROM gateway_routes WHERE name = ?1");
    if (!st) return http::problem_response(http::problem_from_error(st.error()));
    st->bind(1, std::string_view(name));
    if (auto x = st->run(); !x) return http::problem_response(http::problem_from_error(x.error()));
    gateway_.install(std::move(*snapshot));
    current_ = std::move(next);
    return http::Response{204, {}, {}, {}};
}

http::Response GatewayAdmin::list(bool routes, const std::string* name) {
    auto snapshot = gateway_.snapshot();
    json::array out;
    if (routes) {
        auto add = [&](const config::RouteSettings& r, const char* source) {
            if (name && r.name != *name) return;
            out.push_back(json::object{{"name", r.name},
                                       {"source", source},
                                       {"upstream", r.upstream},
                                       {"definition", definition_value(r.definition)}});
        };
        for (auto& r : current_.file_routes) add(r, "config");
        for (auto& r : current_.admin_routes) add(r, "admin");
    } else {
        auto add = [&](const config::UpstreamSettings& u, const char* source) {
            if (name && u.name != *name) return;
            json::array targets;
            if (auto* live = snapshot->upstream(u.name))
                for (std::size_t i = 0; i < live->size(); ++i) targets.push_back(target_view(*live, i));
            out.push_back(json::object{{"name", u.name},
                                       {"source", source},
                                       {"definition", definition_value(u.definition)},
                                       {"targets", std::move(targets)}});
        };
        for (auto& [n, u] : current_.file_upstreams) add(u, "config");
        for (auto& [n, u] : current_.admin_upstreams) add(u, "admin");
    }
    if (name) {
        if (out.empty())
            return problem(404, "not-found", "Not found",
                           std::string("no ") + (routes ? "route" : "upstream") + " named \"" + *name + "\"");
        return http::json_response(200, json::serialize(out[0]));
    }
    return http::json_response(200, json::serialize(json::object{{routes ? "routes" : "upstreams", std::move(out)}}));
}

std::string gateway_record_key(bool route, std::string_view name) {
    // Hex keeps any name inside the shared-state key alphabet.
    return (route ? "gw.route." : "gw.upstream.") + security::to_hex(name);
}

std::optional<std::pair<bool, std::string>> parse_gateway_record_key(std::string_view key) {
    bool route = key.starts_with("gw.route.");
    if (route) key.remove_prefix(9);
    else if (key.starts_with("gw.upstream.")) key.remove_prefix(12);
    else return std::nullopt;
    auto name = key.empty() ? std::nullopt : security::from_hex(key);
    if (!name) return std::nullopt;
    return std::make_pair(route, std::move(*name));
}

std::optional<http::Response> GatewayAdmin::share(const std::string& key, const std::string* value) {
    if (!shared_) return std::nullopt;
    auto r = value ? shared_->put(key, *value) : shared_->remove(key);
    if (r) {
        // Again after the write: a listing taken while it was in flight predates it and must not be applied.
        generation_.fetch_add(1, std::memory_order_acq_rel);
        return std::nullopt;
    }
    return shared_write_failed("the gateway", r.error());
}

Result<void> GatewayAdmin::store_all(const Composition& c) {
    for (const char* sql : {"DELETE FROM gateway_upstreams", "DELETE FROM gateway_routes"}) {
        auto st = db_->prepare(sql);
        if (!st) return std::move(st).error();
        if (auto r = st->run(); !r) return r;
    }
    for (auto& [name, u] : c.admin_upstreams) {
        auto st = db_->prepare("INSERT INTO gateway_upstreams (name, definition, updated_ms) VALUES (?1, ?2, ?3)");
        if (!st) return std::move(st).error();
        st->bind(1, std::string_view(name)).bind(2, std::string_view(u.definition)).bind(3, now_ms());
        if (auto r = st->run(); !r) return r;
    }
    std::int64_t position = 0;
    for (auto& r : c.admin_routes) {
        auto st = db_->prepare(
            "INSERT INTO gateway_routes (name, definition, position, updated_ms) VALUES (?1, ?2, ?3, ?4)");
        if (!st) return std::move(st).error();
        st->bind(1, std::string_view(r.name)).bind(2, std::string_view(r.definition)).bind(3, ++position);
        st->bind(4, now_ms());
        if (auto x = st->run(); !x) return x;
    }
    return ok();
}

void GatewayAdmin::apply_shared(const std::vector<engine::SharedEntry>& entries, std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    if (generation != generation_.load(std::memory_order_acquire)) return;  // the listing may predate a change
    Composition next = current_;
    next.admin_upstreams.clear();
    next.admin_routes.clear();
    struct SharedRoute {
        std::int64_t position;
        std::string name;
        std::string definition;
    };
    std::vector<SharedRoute> routes;
    for (auto& e : entries) {
        auto key = parse_gateway_record_key(e.key);
        boost::system::error_code ec;
        auto v = json::parse(e.value, ec);
        if (!key || ec || !v.is_object()) continue;
        auto* def = v.as_object().if_contains("definition");
        if (!def || !def->is_string()) continue;
        if (key->first) {
            auto* pos = v.as_object().if_contains("position");
            routes.push_back({pos && pos->is_int64() ? pos->as_int64() : 0, key->second, std::string(def->as_string())});
        } else {
            auto u = config::parse_upstream_entry(key->second, std::string(def->as_string()), "shared upstream " + key->second);
            if (!u) {
                log::emit(logger_, log::Level::warn, "gateway", "ignoring a shared upstream", {{"error", u.error().message}});
                continue;
            }
            // A name this node's file defines stays the file's here (the file wins); the rest still applies.
            if (next.file_upstreams.count(key->second)) {
                log::emit(logger_, log::Level::warn, "gateway", "a shared upstream has a name this node's file defines",
                          {{"name", key->second}});
                continue;
            }
            next.admin_upstreams.emplace(key->second, std::move(*u));
        }
    }
    std::sort(routes.begin(), routes.end(),
              [](auto& a, auto& b) { return a.position != b.position ? a.position < b.position : a.name < b.name; });
    std::map<std::string, config::UpstreamSettings> all = next.file_upstreams;
    for (auto& [n, u] : next.admin_upstreams) all.emplace(n, u);
    std::map<std::string, std::int64_t> positions;
    for (auto& sr : routes) {
        if (std::any_of(next.file_routes.begin(), next.file_routes.end(), [&](auto& f) { return f.name == sr.name; })) {
            log::emit(logger_, log::Level::warn, "gateway", "a shared route has a name this node's file defines",
                      {{"name", sr.name}});
            continue;
        }
        auto r = config::parse_route_entry(sr.definition, all, "shared route " + sr.name);
        if (!r) {
            log::emit(logger_, log::Level::warn, "gateway", "ignoring a shared route", {{"error", r.error().message}});
            continue;
        }
        next.admin_routes.push_back(std::move(*r));
        positions[sr.name] = sr.position;
    }
    auto same = [](const Composition& a, const Composition& b) {
        if (a.admin_upstreams.size() != b.admin_upstreams.size() || a.admin_routes.size() != b.admin_routes.size())
            return false;
        for (auto& [n, u] : a.admin_upstreams) {
            auto it = b.admin_upstreams.find(n);
            if (it == b.admin_upstreams.end() || it->second.definition != u.definition) return false;
        }
        for (std::size_t i = 0; i < a.admin_routes.size(); ++i)
            if (a.admin_routes[i].name != b.admin_routes[i].name ||
                a.admin_routes[i].definition != b.admin_routes[i].definition)
                return false;
        return true;
    };
    route_positions_ = std::move(positions);
    if (same(next, current_)) return;
    auto snapshot = compose(gateway_, next);
    if (!snapshot) {
        log::emit(logger_, log::Level::warn, "gateway", "cannot apply the shared routes and upstreams",
                  {{"error", snapshot.error().message}});
        return;
    }
    if (auto r = store_all(next); !r)
        log::emit(logger_, log::Level::error, "gateway", "cannot store the shared routes and upstreams",
                  {{"error", r.error().message}});
    gateway_.install(std::move(*snapshot));
    current_ = std::move(next);
    log::emit(logger_, log::Level::info, "gateway", "applied routes and upstreams changed on another node");
}

std::optional<http::Response> GatewayAdmin::handle(const http::Request& req) {
    const std::string_view path = req.path;
    bool routes;
    std::string_view rest;
    if (path.starts_with("/admin/routes")) {
        routes = true;
        rest = path.substr(13);
    } else if (path.starts_with("/admin/upstreams")) {
        routes = false;
        rest = path.substr(16);
    } else {
        return std::nullopt;
    }
    if (!rest.empty() && rest[0] != '/') return std::nullopt;
    std::lock_guard lock(mutex_);
    if (rest.empty() || rest == "/") {
        if (req.method != "GET") {
            auto r = problem(405, "method-not-allowed", "Method not allowed", "allowed: GET");
            r.set("Allow", "GET");
            return r;
        }
        return list(routes, nullptr);
    }
    const std::string name(rest.substr(1));
    if (name.find('/') != std::string::npos)
        return problem(404, "not-found", "Not found", "no admin resource at " + req.path);
    if (req.method == "GET") return list(routes, &name);
    if (req.method == "PUT") return routes ? put_route(name, req.body) : put_upstream(name, req.body);
    if (req.method == "DELETE") return routes ? delete_route(name) : delete_upstream(name);
    auto r = problem(405, "method-not-allowed", "Method not allowed", "allowed: GET, PUT, DELETE");
    r.set("Allow", "GET, PUT, DELETE");
    return r;
}

std::string GatewayAdmin::dump_json() {
    std::lock_guard lock(mutex_);
    json::array routes, upstreams;
    for (auto* list : {&current_.file_routes, &current_.admin_routes})
        for (auto& r : *list)
            routes.push_back(json::object{{"name", r.name},
                                          {"source", list == &current_.file_routes ? "config" : "admin"},
                                          {"definition", definition_value(r.definition)}});
    for (auto* map : {&current_.file_upstreams, &current_.admin_upstreams})
        for (auto& [n, u] : *map)
            upstreams.push_back(json::object{{"name", n},
                                             {"source", map == &current_.file_upstreams ? "config" : "admin"},
                                             {"definition", definition_value(u.definition)}});
    return json::serialize(json::object{{"routes", std::move(routes)}, {"upstreams", std::move(upstreams)}});
}

}  // namespace herald::server
