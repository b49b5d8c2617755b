#include "server/key_admin.hpp"

#include "server/shared_follower.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "base/units.hpp"
#include "http/problem.hpp"

namespace herald::server {

namespace json = boost::json;
using security::ApiKeyRecord;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::size_t kMaxScopes = 64;
// Expiry further than this is a typo more often than a wish; a key without expiry says so
// explicitly.
constexpr std::int64_t kMaxLifetimeMs = 10ll * 366 * 24 * 3600 * 1000;

Error invalid(const std::string& attribute, const std::string& message) {
    return make_error(Errc::invalid_argument, attribute + ": " + message, attribute);
}

http::Response problem(unsigned status, std::string kind, std::string title, std::string detail,
                       std::string attribute = {}) {
    return http::problem_response(
        {status, std::move(kind), std::move(title), std::move(detail), std::move(attribute)});
}

http::Response invalid_response(const Error& e) {
    return problem(400, "invalid-parameter", "Invalid parameter", e.message, e.attribute);
}

std::int64_t to_ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::time_point from_ms(std::int64_t ms) {
    return Clock::time_point(std::chrono::milliseconds(ms));
}

std::string time_text(Clock::time_point t) { return log::format_time(to_ms(t) * 1000); }

json::array scope_texts(const std::vector<security::Scope>& scopes) {
    json::array a;
    for (auto& s : scopes) a.emplace_back(security::to_string(s));
    return a;
}

// Digits at text[pos, pos+n) as a number; -1 when they are not all digits.
int digits(std::string_view text, std::size_t pos, std::size_t n) {
    if (pos + n > text.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view t) {
    // 2030-01-31T12:00:00[.fff][Z|+hh:mm|-hh:mm]
    if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
        t[13] != ':' || t[16] != ':')
        return std::nullopt;
    const int year = digits(t, 0, 4), month = digits(t, 5, 2), day = digits(t, 8, 2);
    const int hour = digits(t, 11, 2), minute = digits(t, 14, 2), second = digits(t, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year{year},
                                           std::chrono::month{unsigned(month)},
                                           std::chrono::day{unsigned(day)}};
    if (!date.ok()) return std::nullopt;
    std::size_t pos = 19;
    std::int64_t millis = 0;
    if (pos < t.size() && t[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        int scale = 100;
        while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
            millis += (t[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    if (pos >= t.size()) return std::nullopt;
    std::int64_t offset_minutes = 0;
    if (t[pos] == 'Z' || t[pos] == 'z') {
        ++pos;
    } else if (t[pos] == '+' || t[pos] == '-') {
        const int oh = digits(t, pos + 1, 2), om = digits(t, pos + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59 || pos + 3 >= t.size() || t[pos + 3] != ':')
            return std::nullopt;
        offset_minutes = (t[pos] == '+' ? 1 : -1) * (oh * 60 + om);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != t.size()) return std::nullopt;
    const auto days = std::chrono::sys_days(date).time_since_epoch().count();
    const std::int64_t seconds =
        days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    return seconds * 1000 + millis;
}

Result<KeyRequest> parse_key_request(const json::value& body, Clock::time_point now, bool rotate) {
    if (!body.is_object())
        return make_error(Errc::invalid_argument,
                          rotate ? "expected a JSON object such as {} or {\"expires_in\":\"90d\"}"
                                 : "expected a JSON object such as "
                                   "{\"name\":\"ci\",\"scopes\":[\"publish:orders\"]}");
    const auto& o = body.as_object();
    for (const auto& [key, value] : o) {
        const bool known = key == "expires_at" || key == "expires_in" ||
                           (!rotate && (key == "name" || key == "scopes"));
        if (!known)
            return invalid(std::string(key),
                           rotate ? "unknown member (known: expires_at, expires_in)"
                                  : "unknown member (known: name, scopes, expires_at, expires_in)");
    }
    KeyRequest r;
    if (!rotate) {
        auto* name = o.if_contains("name");
        if (!name || !name->is_string()) return invalid("name", "required: a string");
        r.name = std::string(name->as_string());
        if (auto ok = security::check_api_key_name(r.name); !ok)
            return invalid("name", ok.error().message);
        auto* scopes = o.if_contains("scopes");
        if (!scopes || !scopes->is_array() || scopes->as_array().empty())
            return invalid("scopes",
                           "required: a non-empty list such as [\"publish:orders.*\", "
                           "\"subscribe:orders.*\"]");
        if (scopes->as_array().size() > kMaxScopes)
            return invalid("scopes", "at most " + std::to_string(kMaxScopes) + " scopes");
        const auto& a = scopes->as_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
            const std::string attribute = "scopes[" + std::to_string(i) + "]";
            if (!a[i].is_string()) return invalid(attribute, "expected a string");
            auto s = security::parse_scope_strict(a[i].as_string());
            if (!s) return invalid(attribute, s.error().message);
            r.scopes.push_back(std::move(*s));
        }
    }
    auto* at = o.if_contains("expires_at");
    auto* in = o.if_contains("expires_in");
    if (at && in) return invalid("expires_in", "give expires_at or expires_in, not both");
    if (at && !at->is_null()) {
        auto ms = at->is_string() ? parse_rfc3339_ms(at->as_string()) : std::nullopt;
        if (!ms)
            return invalid("expires_at",
                           "expected an RFC 3339 date-time such as 2030-01-31T12:00:00Z");
        r.expires = from_ms(*ms);
    }
    if (in && !in->is_null()) {
        Result<std::int64_t> ms = make_error(Errc::invalid_argument, "");
        if (in->is_int64())
            ms = in->as_int64();
        else if (in->is_string())
            ms = parse_duration_ms(in->as_string());
        if (!ms || *ms <= 0)
            return invalid("expires_in", "expected milliseconds or a duration such as 12h, 30d");
        if (*ms > kMaxLifetimeMs) return invalid("expires_in", "at most 10 years");
        r.expires = now + std::chrono::milliseconds(*ms);
    }
    if (r.expires && *r.expires <= now)
        return invalid(at ? "expires_at" : "expires_in", "must be in the future");
    if (r.expires && *r.expires - now > std::chrono::milliseconds(kMaxLifetimeMs))
        return invalid(at ? "expires_at" : "expires_in", "at most 10 years from now");
    return r;
}

Result<std::shared_ptr<const security::ApiKeyStore>> merge_api_keys(
    const std::vector<ApiKeyRecord>& file, const std::vector<ApiKeyRecord>& admin) {
    auto store = std::make_shared<security::ApiKeyStore>();
    for (const auto& r : file)
        if (auto added = store->add(r); !added) return std::move(added).error();
    for (const auto& r : admin) {
        auto added = store->add(r);
        if (added) continue;
        if (added.error().code != Errc::conflict) return std::move(added).error();
        const bool same_name =
            std::any_of(file.begin(), file.end(), [&](auto& f) { return f.name == r.name; });
        return make_error(
            Errc::conflict,
            same_name
                ? "API key '" + r.name +
                      "' is defined both in the configuration file and through the admin API; "
                      "the file wins: delete the admin one first (DELETE /admin/api-keys/" +
                      r.name + " while the file does not name it)"
                : "admin API key '" + r.name + "' is the same key as one in the configuration file",
            "name");
    }
    if (store->size() == 0) return std::shared_ptr<const security::ApiKeyStore>();
    return std::shared_ptr<const security::ApiKeyStore>(std::move(store));
}

std::string key_record_json(const ApiKeyRecord& r) {
    json::object o;
    o["name"] = r.name;
    o["hash"] = r.hash_hex;
    o["scopes"] = scope_texts(r.scopes);
    o["created_at_ms"] = to_ms(r.created);
    o["expires_at_ms"] = r.expires ? json::value(to_ms(*r.expires)) : json::value(nullptr);
    return json::serialize(o);
}

Result<ApiKeyRecord> parse_key_record(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    auto bad = [](std::string why) { return make_error(Errc::corrupt, "shared API key record: " + why); };
    if (ec || !v.is_object()) return bad("not a JSON object");
    auto& o = v.as_object();
    auto* name = o.if_contains("name");
    auto* hash = o.if_contains("hash");
    auto* scopes = o.if_contains("scopes");
    auto* created = o.if_contains("created_at_ms");
    auto* expires = o.if_contains("expires_at_ms");
    if (!name || !name->is_string() || name->as_string().empty()) return bad("no name");
    if (!hash || !hash->is_string() || hash->as_string().size() != 64) return bad("no SHA-256 hash");
    if (!scopes || !scopes->is_array()) return bad("no scopes");
    if (!created || !created->is_int64()) return bad("no created_at_ms");
    ApiKeyRecord r;
    r.name = std::string(name->as_string());
    r.hash_hex = std::string(hash->as_string());
    for (auto& sc : scopes->as_array()) {
        auto parsed = sc.is_string() ? security::parse_scope(sc.as_string()) : std::nullopt;
        if (!parsed) return bad("bad scope " + json::serialize(sc));
        r.scopes.push_back(std::move(*parsed));
    }
    r.created = from_ms(created->as_int64());
    if (expires && expires->is_int64()) r.expires = from_ms(expires->as_int64());
    else if (expires && !expires->is_null()) return bad("expires_at_ms is not a number");
    return r;
}

Result<std::unique_ptr<KeyAdmin>> KeyAdmin::open(SecurityContext& security, bool auth_enabled,
                                                 const std::string& meta_path,
                                                 log::Logger* logger) {
    std::unique_ptr<KeyAdmin> admin(new KeyAdmin(security, auth_enabled, logger));
    // At this point the context holds exactly the file's keys (make_security_context).
    if (auto store = security.keys().second) admin->file_keys_ = store->records();
    auto db = meta::Database::open(meta_path);
    if (!db) return std::move(db).error();
    admin->db_ = std::move(*db);
    if (auto r = admin->db_->exec(
            "CREATE TABLE IF NOT EXISTS api_keys (name TEXT PRIMARY KEY, hash TEXT NOT NULL "
            "UNIQUE, scopes TEXT NOT NULL, created_at_ms INTEGER NOT NULL, expires_at_ms "
            "INTEGER)");
        !r)
        return std::move(r).error();
    if (auto r = admin->load(); !r) return std::move(r).error();
    if (auto r = admin->publish(); !r) {
        auto e = std::move(r).error();
        e.message = "auth.api_keys: " + e.message;
        return e;
    }
    return admin;
}

Result<void> KeyAdmin::load() {
    auto st = db_->prepare(
        "SELECT name, hash, scopes, created_at_ms, expires_at_ms FROM api_keys ORDER BY name");
    if (!st) return std::move(st).error();
    for (;;) {
        auto row = st->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        ApiKeyRecord r;
        r.name = st->text(0);
        r.hash_hex = st->text(1);
        const std::string where = "meta.db api_keys '" + r.name + "'";
        boost::system::error_code ec;
        auto scopes = json::parse(st->text(2), ec);
        if (ec || !scopes.is_array())
            return make_error(Errc::corrupt, where + ": scopes are not a JSON list");
        for (auto& s : scopes.as_array()) {
            auto parsed = s.is_string() ? security::parse_scope(s.as_string()) : std::nullopt;
            if (!parsed)
                return make_error(Errc::corrupt, where + ": bad scope " + json::serialize(s));
            r.scopes.push_back(std::move(*parsed));
        }
        r.created = from_ms(st->int64(3));
        if (!st->is_null(4)) r.expires = from_ms(st->int64(4));
        admin_keys_.emplace(r.name, std::move(r));
    }
    return ok();
}

Result<void> KeyAdmin::publish() {
    std::vector<ApiKeyRecord> admin;
    admin.reserve(admin_keys_.size());
    for (auto& [name, r] : admin_keys_) admin.push_back(r);
    auto store = merge_api_keys(file_keys_, admin);
    if (!store) return std::move(store).error();
    security_.set_api_keys(std::move(*store));
    return ok();
}

Result<void> KeyAdmin::store(const ApiKeyRecord& r) {
    auto st = db_->prepare(
        "INSERT OR REPLACE INTO api_keys (name, hash, scopes, created_at_ms, expires_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st) return std::move(st).error();
    const auto scopes = json::serialize(scope_texts(r.scopes));
    st->bind(1, std::string_view(r.name))
        .bind(2, std::string_view(r.hash_hex))
        .bind(3, std::string_view(scopes));
    st->bind(4, to_ms(r.created));
    st->bind(5, r.expires ? std::optional<std::int64_t>(to_ms(*r.expires)) : std::nullopt);
    return st->run();
}

Result<void> KeyAdmin::unstore(const std::string& name) {
    auto st = db_->prepare("DELETE FROM api_keys WHERE name = ?1");
    if (!st) return std::move(st).error();
    st->bind(1, std::string_view(name));
    return st->run();
}

void KeyAdmin::apply_shared(const std::vector<engine::SharedEntry>& entries, std::uint64_t generation) {
    if (generation != generation_.load(std::memory_order_acquire)) return;  // the listing may predate a change
    std::map<std::string, ApiKeyRecord> wanted;
    for (auto& e : entries) {
        auto r = parse_key_record(e.value);
        if (!r) {
            log::emit(logger_, log::Level::warn, "admin", "ignoring a shared API key record",
                      {{"key", e.key}, {"error", r.error().message}});
            continue;
        }
        if (in_file(r->name)) continue;  // the file wins, as for keys made here
        wanted.emplace(r->name, std::move(*r));
    }
    auto same = [](const ApiKeyRecord& a, const ApiKeyRecord& b) {
        return a.hash_hex == b.hash_hex && scope_texts(a.scopes) == scope_texts(b.scopes) && a.created == b.created &&
               a.expires == b.expires;
    };
    bool changed = false;
    for (auto it = admin_keys_.begin(); it != admin_keys_.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        (void)unstore(it->first);
        log::emit(logger_, log::Level::info, "admin", "API key deleted on another node", {{"name", it->first}});
        it = admin_keys_.erase(it);
        changed = true;
    }
    for (auto& [name, r] : wanted) {
        auto it = admin_keys_.find(name);
        if (it != admin_keys_.end() && same(it->second, r)) continue;
        (void)store(r);
        log::emit(logger_, log::Level::info, "admin",
                  it == admin_keys_.end() ? "API key created on another node" : "API key changed on another node",
                  {{"name", name}});
        admin_keys_[name] = r;
        changed = true;
    }
    if (!changed) return;
    if (auto r = publish(); !r)
        log::emit(logger_, log::Level::error, "admin", "cannot apply the shared API keys", {{"error", r.error().message}});
}

bool KeyAdmin::in_file(const std::string& name) const {
    return std::any_of(file_keys_.begin(), file_keys_.end(),
                       [&](auto& r) { return r.name == name; });
}

json::object KeyAdmin::view(const ApiKeyRecord& r, const char* source) const {
    json::object o;
    o["name"] = r.name;
    o["source"] = source;
    o["scopes"] = scope_texts(r.scopes);
    o["created_at"] = time_text(r.created);
    o["expires_at"] = r.expires ? json::value(time_text(*r.expires)) : json::value(nullptr);
    o["expired"] = r.expires && *r.expires <= Clock::now();
    // Enough to match a key with an access log's principal and to tell keys apart; not enough to
    // use it.
    o["hash_prefix"] = r.hash_hex.substr(0, security::kApiKeyHashPrefixChars);
    return o;
}

std::string_view KeyAdmin::route(std::string_view path) const {
    if (path == "/admin/api-keys") return "/admin/api-keys";
    if (path.rfind("/admin/api-keys/", 0) == 0) {
        if (path.size() > 7 && path.substr(path.size() - 7) == "/rotate")
            return "/admin/api-keys/{name}/rotate";
        return "/admin/api-keys/{name}";
    }
    return {};
}

void KeyAdmin::dump(json::object& config) const {
    json::array keys, names;
    for (auto& r : file_keys_) {
        keys.push_back(json::object{
            {"name", r.name}, {"source", "config"}, {"scopes", scope_texts(r.scopes)}});
        names.emplace_back(r.name);
    }
    for (auto& [name, r] : admin_keys_) {
        keys.push_back(json::object{
            {"name", name},
            {"source", "admin"},
            {"scopes", scope_texts(r.scopes)},
            {"expires_at", r.expires ? json::value(time_text(*r.expires)) : json::value(nullptr)}});
        names.emplace_back(name);
    }
    config["api_keys"] = std::move(keys);
    // auth.api_keys: the effective names (the file's and the admin API's).
    if (auto* auth = config.if_contains("auth"); auth && auth->is_object())
        auth->as_object()["api_keys"] = std::move(names);
}

boost::asio::awaitable<std::optional<http::Response>> KeyAdmin::handle(http::Request& req) {
    if (req.path != "/admin/api-keys" && req.path.rfind("/admin/api-keys/", 0) != 0)
        co_return std::nullopt;
    auto seg = http::split_path(req.path);
    auto not_allowed = [](const char* allow) {
        auto r = problem(405, "method-not-allowed", "Method not allowed",
                         std::string("allowed: ") + allow);
        r.set("Allow", allow);
        return r;
    };
    if (seg.size() == 2) {
        if (req.method == "GET") co_return list();
        if (req.method == "POST") co_return create(req);
        co_return not_allowed("GET, POST");
    }
    const std::string name(seg.size() >= 3 ? seg[2] : std::string_view());
    if (seg.size() == 3) {
        if (req.method == "GET") co_return get(name);
        if (req.method == "DELETE") co_return remove(name);
        co_return not_allowed("GET, DELETE");
    }
    if (seg.size() == 4 && seg[3] == "rotate") {
        if (req.method == "POST") co_return rotate(name, req);
        co_return not_allowed("POST");
    }
    co_return problem(404, "not-found", "Not found", "no admin route for " + req.path);
}

http::Response KeyAdmin::list() const {
    json::array keys;
    for (auto& r : file_keys_) keys.push_back(view(r, "config"));
    for (auto& [name, r] : admin_keys_) keys.push_back(view(r, "admin"));
    return http::json_response(200, json::serialize(json::object{{"api_keys", std::move(keys)},
                                                                 {"auth_enabled", auth_enabled_}}));
}

http::Response KeyAdmin::get(const std::string& name) const {
    for (auto& r : file_keys_)
        if (r.name == name) return http::json_response(200, json::serialize(view(r, "config")));
    if (auto it = admin_keys_.find(name); it != admin_keys_.end())
        return http::json_response(200, json::serialize(view(it->second, "admin")));
    return problem(404, "not-found", "Not found", "no API key named '" + name + "'", "name");
}

http::Response KeyAdmin::create(const http::Request& req) {
    boost::system::error_code ec;
    auto body = json::parse(req.body, ec);
    if (ec)
        return invalid_response(
            make_error(Errc::invalid_argument, "the body is not JSON: " + ec.message()));
    const auto now = Clock::now();
    auto parsed = parse_key_request(body, now);
    if (!parsed) return invalid_response(parsed.error());
    if (in_file(parsed->name))
        return problem(409, "defined-in-config", "Defined in the configuration file",
                       "an API key named '" + parsed->name +
                           "' is defined in the configuration file, which wins",
                       "name");
    if (admin_keys_.count(parsed->name))
        return problem(409, "conflict", "Conflict",
                       "an API key named '" + parsed->name + "' exists; delete or rotate it",
                       "name");
    std::string key = security::ApiKeyStore::generate_key();
    ApiKeyRecord record{parsed->name, security::ApiKeyStore::hash_key(key), parsed->scopes,
                        Clock::time_point(std::chrono::milliseconds(to_ms(now))), parsed->expires};
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (shared_)
        if (auto r = shared_->put("key." + record.name, key_record_json(record)); !r)
            return shared_write_failed("the API key", r.error());
    // Again after the write: a listing taken while it was in flight predates it and must not be applied.
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (auto r = store(record); !r)
        return http::problem_response(http::problem_from_error(r.error()));
    admin_keys_[record.name] = record;
    if (auto r = publish(); !r) {
        admin_keys_.erase(record.name);
        (void)unstore(record.name);
        return http::problem_response(http::problem_from_error(r.error()));
    }
    log::emit(logger_, log::Level::info, "admin", "API key created",
              {{"name", record.name}, {"scopes", json::serialize(scope_texts(record.scopes))}});
    auto o = view(record, "admin");
    o["key"] = std::move(key);  // the only time it is ever shown
    auto res = http::json_response(201, json::serialize(o));
    res.set("Location", "/admin/api-keys/" + record.name);
    res.set("Cache-Control", "no-store");
    return res;
}

http::Response KeyAdmin::rotate(const std::string& name, const http::Request& req) {
    if (in_file(name))
        return problem(
            409, "defined-in-config", "Defined in the configuration file",
            "API key '" + name + "' is defined in the configuration file: change it there", "name");
    auto it = admin_keys_.find(name);
    if (it == admin_keys_.end())
        return problem(404, "not-found", "Not found", "no API key named '" + name + "'", "name");
    json::value body = json::object{};
    if (!req.body.empty()) {
        boost::system::error_code ec;
        body = json::parse(req.body, ec);
        if (ec)
            return invalid_response(
                make_error(Errc::invalid_argument, "the body is not JSON: " + ec.message()));
    }
    const auto now = Clock::now();
    auto parsed = parse_key_request(body, now, true);
    if (!parsed) return invalid_response(parsed.error());
    const ApiKeyRecord previous = it->second;
    std::string key = security::ApiKeyStore::generate_key();
    ApiKeyRecord record{name, security::ApiKeyStore::hash_key(key), previous.scopes,
                        Clock::time_point(std::chrono::milliseconds(to_ms(now))), parsed->expires};
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (shared_)
        if (auto r = shared_->put("key." + record.name, key_record_json(record)); !r)
            return shared_write_failed("the API key", r.error());
    // Again after the write: a listing taken while it was in flight predates it and must not be applied.
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (auto r = store(record); !r)
        return http::problem_response(http::problem_from_error(r.error()));
    it->second = record;
    if (auto r = publish(); !r) {
        it->second = previous;
        (void)store(previous);
        return http::problem_response(http::problem_from_error(r.error()));
    }
    log::emit(logger_, log::Level::info, "admin", "API key rotated", {{"name", name}});
    auto o = view(record, "admin");
    o["key"] = std::move(key);
    auto res = http::json_response(200, json::serialize(o));
    res.set("Cache-Control", "no-store");
    return res;
}

http::Response KeyAdmin::remove(const std::string& name) {
    if (in_file(name))
        return problem(
            409, "defined-in-config", "Defined in the configuration file",
            "API key '" + name + "' is defined in the configuration file: remove it there", "name");
    auto it = admin_keys_.find(name);
    if (it == admin_keys_.end())
        return problem(404, "not-found", "Not found", "no API key named '" + name + "'", "name");
    generation_.fetch_add(1, std::memory_order_acq_rel);
    if (shared_)
        if (auto r = shared_->remove("key." + name); !r) return shared_write_failed("the API key", r.error());
    generation_.fetch_add(1, std::memory_order_acq_rel);  // as above
    if (auto r = unstore(name); !r)
        return http::problem_response(http::problem_from_error(r.error()));
    const ApiKeyRecord previous = it->second;
    admin_keys_.erase(it);
    if (auto r = publish(); !r) {
        admin_keys_.emplace(name, previous);
        (void)store(previous);
        return http::problem_response(http::problem_from_error(r.error()));
    }
    log::emit(logger_, log::Level::info, "admin", "API key deleted", {{"name", name}});
    http::Response res;
    res.status = 204;
    return res;
}

}  // namespace herald::server
