#include "server/schema_service.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <map>
#include <fstream>
#include <sstream>

#include "http/problem.hpp"
#include "log/logger.hpp"
#include "security/crypto.hpp"
#include "server/shared_follower.hpp"

namespace herald::server {

namespace json = boost::json;

namespace {

Result<schema::NamingRule> naming_rule(const config::NamingRuleSettings& s, schema::NamingRule fallback) {
    if (s.pattern.empty()) return fallback;
    return schema::NamingRule{s.pattern, s.shape, s.example};
}

schema::TopicContract contract_of(const config::TopicConfig& t) {
    schema::TopicContract c;
    c.accepted_types = t.accepted_types;
    c.allow_unknown_types = t.allow_unknown_types;
    return c;
}

http::Response problem(unsigned status, std::string kind, std::string title, std::string detail,
                       std::string attribute = {}) {
    return http::problem_response(
        http::Problem{status, std::move(kind), std::move(title), std::move(detail), std::move(attribute), {}});
}

json::object version_json(const schema::SchemaVersion& v) {
    json::object o;
    o["type"] = v.type;
    o["version"] = v.version;
    o["uri"] = v.uri;
    if (!v.id.empty()) o["$id"] = v.id;
    o["schema"] = v.document;
    return o;
}

std::string version_record(const schema::SchemaVersion& v) {
    return json::serialize(json::object{{"type", v.type}, {"version", v.version}, {"document", v.document}});
}

std::string tombstone_record(std::string_view type, std::uint32_t version) {
    return json::serialize(json::object{{"type", type}, {"version", version}, {"deleted", true}});
}


}  // namespace

std::string schema_record_key(std::string_view type, std::uint32_t version) {
    // Types may hold characters a shared-state key cannot ([A-Za-z0-9_.=-]): hex keeps any type.
    return "schema." + security::to_hex(type) + "." + std::to_string(version);
}

std::optional<std::pair<std::string, std::uint32_t>> parse_schema_record_key(std::string_view key) {
    if (!key.starts_with("schema.")) return std::nullopt;
    key.remove_prefix(7);
    auto dot = key.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    auto type = security::from_hex(key.substr(0, dot));
    if (!type) return std::nullopt;
    auto digits = key.substr(dot + 1);
    std::uint32_t version = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
    if (ec != std::errc() || p != digits.data() + digits.size() || version == 0) return std::nullopt;
    return std::make_pair(std::move(*type), version);
}

Result<std::unique_ptr<SchemaService>> SchemaService::open(const config::Config& config,
                                                           const std::string& meta_path) {
    std::unique_ptr<SchemaService> svc(new SchemaService());
    const auto& sc = config.schemas;
    schema::TaxonomyConfig tc;
    auto et = naming_rule(sc.event_type, schema::default_event_type_rule());
    auto tp = naming_rule(sc.topic, schema::default_topic_rule());
    tc.event_type = *et;
    tc.topic = *tp;
    auto taxonomy = schema::Taxonomy::make(tc);
    if (!taxonomy) {
        auto e = std::move(taxonomy).error();
        e.message = "schemas.naming." + e.attribute + ": " + e.message;
        return e;
    }
    schema::RegistryOptions ro;
    ro.taxonomy = *taxonomy;
    ro.compat_mode = schema::parse_compat_mode(sc.compatibility).value_or(schema::CompatMode::full);
    svc->registry_ = std::make_shared<schema::Registry>(ro);

    auto db = meta::Database::open(meta_path);
    if (!db) return std::move(db).error();
    svc->db_ = std::move(*db);
    if (auto r = svc->db_->exec("CREATE TABLE IF NOT EXISTS schema_versions (type TEXT NOT NULL, version INTEGER NOT "
                                "NULL, document TEXT NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (type, "
                                "version))");
        !r)
        return std::move(r).error();
    // Restore in registration order, so versions that refer to others come after them.
    auto st = svc->db_->prepare("SELECT type, version, document FROM schema_versions ORDER BY created_at_ms, rowid");
    if (!st) return std::move(st).error();
    for (;;) {
        auto row = st->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        auto type = st->text(0);
        auto version = static_cast<std::uint32_t>(st->int64(1));
        boost::system::error_code ec;
        auto doc = json::parse(st->text(2), ec);
        if (ec) return make_error(Errc::corrupt, "meta.db: schema " + type + " v" + std::to_string(version) + " is not JSON");
        if (auto r = svc->registry_->restore(type, version, std::move(doc)); !r)
            return make_error(Errc::corrupt, "meta.db: schema " + type + " v" + std::to_string(version) + ": " +
                                                 r.error().message);
    }
    // Configured files: a new version only when the document differs from the latest.
    for (std::size_t i = 0; i < sc.files.size(); ++i) {
        const auto& f = sc.files[i];
        const std::string key = "schemas.files[" + std::to_string(i) + "]";
        std::ifstream in(f.file);
        if (!in) return make_error(Errc::invalid_argument, key + ": cannot read " + f.file, key);
        std::stringstream ss;
        ss << in.rdbuf();
        boost::system::error_code ec;
        auto doc = json::parse(ss.str(), ec);
        if (ec) return make_error(Errc::invalid_argument, key + ": " + f.file + " is not JSON: " + ec.message(), key);
        auto r = svc->registry_->register_version(f.type, std::move(doc));
        if (!r) {
            std::string msg = r.error ? r.error->message : "refused";
            if (!r.compatibility.breaks.empty()) msg += " (" + r.compatibility.summary() + ")";
            return make_error(Errc::invalid_argument, key + " (" + f.type + "): " + msg, key);
        }
        if (r.created) {
            if (auto p = svc->persist(*r.version); !p) return std::move(p).error();
        }
    }

    publish::ContractOptions co;
    co.enforce_naming = sc.enforce_naming;
    co.taxonomy = *taxonomy;
    co.default_contract = contract_of(config.topic_defaults);
    for (auto& [name, t] : config.topics) co.topics.emplace(name, contract_of(t));
    co.default_type = config.topic_defaults.default_type;
    for (auto& [name, t] : config.topics) co.default_types.emplace(name, t.default_type);
    svc->contracts_ = std::make_unique<publish::Contracts>(std::move(co), svc->registry_);
    return svc;
}

Result<void> SchemaService::persist(const schema::SchemaVersion& v) {
    auto st = db_->prepare("INSERT INTO schema_versions (type, version, document, created_at_ms) VALUES (?1, ?2, ?3, ?4)");
    if (!st) return std::move(st).error();
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    st->bind(1, std::string_view(v.type)).bind(2, std::int64_t{v.version});
    st->bind(3, std::string_view(json::serialize(v.document))).bind(4, std::int64_t{now});
    return st->run();
}

void SchemaService::unpersist(const std::string& type, std::uint32_t version) {
    auto st = db_->prepare("DELETE FROM schema_versions WHERE type = ?1 AND version = ?2");
    if (st) (void)st->bind(1, std::string_view(type)).bind(2, std::int64_t{version}).run();
}

void SchemaService::apply_shared(const std::vector<engine::SharedEntry>& entries, std::uint64_t generation) {
    if (generation != generation_.load(std::memory_order_acquire)) return;  // the listing may predate a change
    auto& reg = *registry_;
    struct Shared {
        bool deleted = false;
        json::value document;
    };
    std::map<std::pair<std::string, std::uint32_t>, Shared> shared;
    for (auto& e : entries) {
        auto key = parse_schema_record_key(e.key);
        boost::system::error_code ec;
        auto v = json::parse(e.value, ec);
        if (!key || ec || !v.is_object()) continue;  // not one of ours
        auto& o = v.as_object();
        Shared rec;
        if (auto* d = o.if_contains("deleted"); d && d->is_bool() && d->as_bool()) rec.deleted = true;
        else if (auto* doc = o.if_contains("document")) rec.document = *doc;
        else continue;
        shared[*key] = std::move(rec);
    }
    // Removed elsewhere, or replaced by another node's document under the same number.
    for (auto& [key, rec] : shared) {
        auto local = reg.get(key.first, key.second);
        if (!local) continue;
        if (!rec.deleted && (*local)->document == rec.document) continue;
        if (auto r = reg.remove_version(key.first, key.second); !r) {
            log::emit(logger_, log::Level::warn, "schemas", "cannot follow a shared removal", {{"error", r.error().message}});
            continue;
        }
        unpersist(key.first, key.second);
    }
    // Versions this node lacks, in number order; a pass that restores nothing ends (a reference to a version
    // not there yet waits for the next round).
    for (bool progress = true; progress;) {
        progress = false;
        for (auto& [key, rec] : shared) {
            if (rec.deleted || reg.get(key.first, key.second)) continue;
            if (auto r = reg.restore(key.first, key.second, rec.document); r) {
                (void)persist(**r);
                progress = true;
            }
        }
    }
    // Versions only this node has (its configured files, versions from before it joined): shared now.
    auto snap = reg.snapshot();
    for (auto& type : snap->types())
        for (auto v : snap->versions(type)) {
            if (shared.count({type, v})) continue;
            if (auto local = reg.get(type, v))
                if (auto w = shared_->put(schema_record_key(type, v), version_record(**local)); !w) return;
        }
}

std::optional<http::Response> SchemaService::handle(const http::Request& req) {
    auto seg = http::split_path(req.path);
    if (seg.empty() || seg[0] != "schemas") return std::nullopt;
    auto& reg = *registry_;
    if (seg.size() == 1) {
        if (req.method != "GET") return problem(405, "method-not-allowed", "Method not allowed", "allowed: GET");
        json::array types;
        auto snap = reg.snapshot();
        for (auto& t : snap->types()) {
            json::array versions;
            for (auto v : snap->versions(t)) versions.emplace_back(v);
            types.emplace_back(json::object{{"type", t}, {"versions", std::move(versions)},
                                            {"latest", snap->get(t)->uri}});
        }
        return http::json_response(200, json::serialize(json::object{{"schemas", std::move(types)}}));
    }
    const std::string type(seg[1]);
    if (seg.size() == 2) {
        if (req.method == "PUT" || req.method == "POST") {
            boost::system::error_code ec;
            auto doc = json::parse(req.body, ec);
            if (ec) return problem(400, "invalid-schema", "Invalid schema", "the body is not JSON: " + ec.message());
            schema::RegisterOptions ro;
            auto force = req.query_param("force");
            ro.force = force && (*force == "true" || *force == "1");
            auto r = reg.register_version(type, std::move(doc), ro);
            if (!r) {
                const auto& e = *r.error;
                if (e.code == Errc::conflict) {
                    json::object o{{"type", "urn:herald:problem:incompatible-schema"},
                                   {"title", "Incompatible schema version"},
                                   {"status", 409},
                                   {"detail", e.message + " — register with ?force=true to accept the breaks"},
                                   {"compatibility", r.compatibility.to_json()}};
                    http::Response res = http::json_response(409, json::serialize(o));
                    for (auto& [k, v] : res.headers)
                        if (http::iequals(k, "Content-Type")) v = "application/problem+json";
                    return res;
                }
                return problem(400, "invalid-schema", "Invalid schema", e.message, e.attribute);
            }
            if (r.created) {
                generation_.fetch_add(1, std::memory_order_acq_rel);
                if (auto p = persist(*r.version); !p) {
                    (void)reg.remove_version(type, r.version->version);
                    return http::problem_response(http::problem_from_error(p.error()));
                }
                if (shared_)
                    if (auto w = shared_->put(schema_record_key(type, r.version->version), version_record(*r.version));
                        !w) {
                        // Not shared, not made: other nodes would never learn of it.
                        (void)reg.remove_version(type, r.version->version);
                        unpersist(type, r.version->version);
                        return shared_write_failed("the schema registry", w.error());
                    }
                // Again after the write: a listing taken while it was in flight predates it.
                generation_.fetch_add(1, std::memory_order_acq_rel);
            }
            auto o = version_json(*r.version);
            o["created"] = r.created;
            if (!r.compatibility.breaks.empty()) o["compatibility"] = r.compatibility.to_json();
            auto res = http::json_response(r.created ? 201 : 200, json::serialize(o));
            res.set("Location", "/schemas/" + type + "/versions/" + std::to_string(r.version->version));
            return res;
        }
        if (req.method != "GET") return problem(405, "method-not-allowed", "Method not allowed", "allowed: GET, PUT");
        auto v = reg.get(type);
        if (!v) return problem(404, "not-found", "Not found", v.error().message, "type");
        return http::json_response(200, json::serialize(version_json(**v)));
    }
    if (seg[2] != "versions") return problem(404, "not-found", "Not found", "no route for " + req.path);
    if (seg.size() == 3) {
        auto list = reg.list_versions(type);
        if (!list) return problem(404, "not-found", "Not found", list.error().message, "type");
        json::array a;
        for (auto v : *list) a.emplace_back(v);
        return http::json_response(200, json::serialize(json::object{{"type", type}, {"versions", std::move(a)}}));
    }
    std::uint32_t n = 0;
    auto [p, ec] = std::from_chars(seg[3].data(), seg[3].data() + seg[3].size(), n);
    if (ec != std::errc() || p != seg[3].data() + seg[3].size() || seg.size() != 4)
        return problem(404, "not-found", "Not found", "no version '" + std::string(seg[3]) + "'", "version");
    if (req.method == "DELETE") {
        auto removed = reg.get(type, n);
        auto r = reg.remove_version(type, n);
        if (!r) return http::problem_response(http::problem_from_error(r.error()));
        generation_.fetch_add(1, std::memory_order_acq_rel);
        if (shared_)
            if (auto w = shared_->put(schema_record_key(type, n), tombstone_record(type, n)); !w) {
                if (removed) (void)reg.restore(type, n, (*removed)->document);  // undone: still everywhere
                return shared_write_failed("the schema registry", w.error());
            }
        generation_.fetch_add(1, std::memory_order_acq_rel);  // as above
        unpersist(type, n);
        http::Response res;
        res.status = 204;
        return res;
    }
    if (req.method != "GET") return problem(405, "method-not-allowed", "Method not allowed", "allowed: GET, DELETE");
    auto v = reg.get(type, n);
    if (!v) return problem(404, "not-found", "Not found", v.error().message, "version");
    return http::json_response(200, json::serialize(version_json(**v)));
}

}  // namespace herald::server
