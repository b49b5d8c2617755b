#include "webhook/store.hpp"

#include <unordered_map>

#include <boost/json.hpp>

namespace herald::webhook {

namespace json = boost::json;

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kCreate = R"sql(
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY,
    created_at_ms INTEGER NOT NULL,
    spec TEXT NOT NULL,            -- JSON: SubscriptionSpec
    secrets TEXT NOT NULL,         -- JSON: [{secret, expires_at_ms}]
    state TEXT NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    epoch INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    failing_since_ms INTEGER,
    last_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    delivered INTEGER NOT NULL DEFAULT 0,
    dead_lettered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS webhook_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_offset INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    event_json TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_status INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_dead_letters_by_sub ON webhook_dead_letters(subscription_id, id);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_offset INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    status INTEGER NOT NULL,
    duration_us INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT NOT NULL,
    replay INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_sub ON webhook_attempts(subscription_id, id);
)sql";

std::string spec_json(const SubscriptionSpec& s) {
    json::object o;
    o["topic"] = s.topic;
    o["url"] = s.url;
    json::array types;
    for (auto& t : s.types) types.emplace_back(t);
    o["types"] = std::move(types);
    o["mode"] = to_string(s.mode);
    o["max_in_flight"] = s.max_in_flight;
    json::array sched;
    for (auto d : s.retry_schedule) sched.emplace_back(d.count());
    o["retry_schedule_ms"] = std::move(sched);
    o["disable_after_ms"] = s.disable_after.count();
    o["rate_limit"] = s.rate_limit;
    o["timeout_ms"] = s.timeout.count();
    o["content_mode"] = to_string(s.content_mode);
    o["validation_handshake"] = s.validation_handshake;
    return json::serialize(o);
}

Result<SubscriptionSpec> parse_spec(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return make_error(Errc::corrupt, "stored webhook spec is not a JSON object");
    auto& o = v.as_object();
    SubscriptionSpec s;
    try {
        s.topic = json::value_to<std::string>(o.at("topic"));
        s.url = json::value_to<std::string>(o.at("url"));
        for (auto& t : o.at("types").as_array()) s.types.push_back(json::value_to<std::string>(t));
        s.mode = o.at("mode").as_string() == "concurrent" ? DeliveryMode::concurrent : DeliveryMode::ordered;
        s.max_in_flight = json::value_to<unsigned>(o.at("max_in_flight"));
        for (auto& d : o.at("retry_schedule_ms").as_array())
            s.retry_schedule.emplace_back(json::value_to<std::int64_t>(d));
        s.disable_after = std::chrono::milliseconds(json::value_to<std::int64_t>(o.at("disable_after_ms")));
        s.rate_limit = json::value_to<double>(o.at("rate_limit"));
        s.timeout = std::chrono::milliseconds(json::value_to<std::int64_t>(o.at("timeout_ms")));
        s.content_mode = o.at("content_mode").as_string() == "binary" ? ContentMode::binary : ContentMode::structured;
        if (auto* h = o.if_contains("validation_handshake")) s.validation_handshake = h->as_bool();
    } catch (const std::exception& e) {
        return make_error(Errc::corrupt, std::string("stored webhook spec: ") + e.what());
    }
    return s;
}

std::string secrets_json(const std::vector<SigningSecret>& secrets) {
    json::array a;
    for (auto& s : secrets) {
        json::object o;
        o["secret"] = s.secret;
        if (s.expires_at_ms) o["expires_at_ms"] = *s.expires_at_ms;
        a.emplace_back(std::move(o));
    }
    return json::serialize(a);
}

Result<std::vector<SigningSecret>> parse_secrets(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_array()) return make_error(Errc::corrupt, "stored webhook secrets are not a JSON array");
    std::vector<SigningSecret> out;
    for (auto& e : v.as_array()) {
        if (!e.is_object() || !e.as_object().contains("secret") || !e.at("secret").is_string())
            return make_error(Errc::corrupt, "stored webhook secret entry is malformed");
        SigningSecret s;
        s.secret = json::value_to<std::string>(e.at("secret"));
        if (auto* x = e.as_object().if_contains("expires_at_ms"); x && x->is_int64()) s.expires_at_ms = x->as_int64();
        out.push_back(std::move(s));
    }
    return out;
}

SubscriptionState parse_state(const std::string& s) {
    if (s == "paused") return SubscriptionState::paused;
    if (s == "disabled") return SubscriptionState::disabled;
    return SubscriptionState::active;
}

AttemptOutcome parse_outcome(const std::string& s) {
    if (s == "retry") return AttemptOutcome::retry;
    if (s == "dead_letter") return AttemptOutcome::dead_letter;
    if (s == "gone") return AttemptOutcome::gone;
    if (s == "blocked") return AttemptOutcome::blocked;
    return AttemptOutcome::delivered;
}

#define HERALD_PREPARE(member, sql)                      \
    do {                                                 \
        auto st_ = db_.prepare(sql);                     \
        if (!st_) return std::move(st_).error();         \
        member = std::move(*st_);                        \
    } while (0)

DeadLetter read_dead_letter(meta::Statement& st) {
    DeadLetter d;
    d.id = st.int64(0);
    d.subscription_id = st.text(1);
    d.offset = static_cast<std::uint64_t>(st.int64(2));
    d.event_id = st.text(3);
    d.event_json = st.text(4);
    d.attempts = static_cast<unsigned>(st.int64(5));
    d.last_status = static_cast<int>(st.int64(6));
    d.last_error = st.text(7);
    d.created_at_ms = st.int64(8);
    return d;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(meta::Database& db, unsigned attempts_kept) {
    std::unique_ptr<Store> s(new Store(db, attempts_kept));
    if (auto r = s->migrate(); !r) return std::move(r).error();
    if (auto r = s->prepare_statements(); !r) return std::move(r).error();
    if (auto r = s->count_dead_letters(); !r) return std::move(r).error();
    return s;
}

Result<void> Store::count_dead_letters() {
    auto st = db_.prepare("SELECT subscription_id, count(*) FROM webhook_dead_letters GROUP BY subscription_id");
    if (!st) return std::move(st).error();
    for (;;) {
        auto row = st->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        queued_dead_letters_[st->text(0)] = st->int64(1);
    }
    return ok();
}

std::int64_t Store::queued_dead_letters(const std::string& subscription_id) const {
    auto it = queued_dead_letters_.find(subscription_id);
    return it == queued_dead_letters_.end() ? 0 : it->second;
}

Result<void> Store::migrate() {
    // Tables are created idempotently; user_version is shared by all stores, so this store keeps its own
    // version in a small table instead of claiming the pragma.
    if (auto r = db_.exec(kCreate); !r) return r;
    if (auto r = db_.exec("CREATE TABLE IF NOT EXISTS herald_schema_versions (store TEXT PRIMARY KEY, version "
                          "INTEGER NOT NULL)");
        !r)
        return r;
    return db_.exec("INSERT OR IGNORE INTO herald_schema_versions VALUES ('webhook', " +
                    std::to_string(kSchemaVersion) + ")");
}

Result<void> Store::prepare_statements() {
    HERALD_PREPARE(insert_, "INSERT INTO webhook_subscriptions (id, created_at_ms, spec, secrets, state, "
                            "disabled_reason, epoch, next_offset, failing_since_ms, last_attempt_ms, last_status, "
                            "last_error, delivered, dead_lettered) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                            "?13,?14)");
    HERALD_PREPARE(save_secrets_, "UPDATE webhook_subscriptions SET secrets = ?2 WHERE id = ?1");
    HERALD_PREPARE(save_status_, "UPDATE webhook_subscriptions SET state = ?2, disabled_reason = ?3, epoch = ?4, "
                                 "next_offset = ?5, failing_since_ms = ?6, last_attempt_ms = ?7, last_status = ?8, "
                                 "last_error = ?9, delivered = ?10, dead_lettered = ?11 WHERE id = ?1");
    HERALD_PREPARE(remove_, "DELETE FROM webhook_subscriptions WHERE id = ?1");
    HERALD_PREPARE(remove_dl_all_, "DELETE FROM webhook_dead_letters WHERE subscription_id = ?1");
    HERALD_PREPARE(remove_at_all_, "DELETE FROM webhook_attempts WHERE subscription_id = ?1");
    HERALD_PREPARE(add_dl_, "INSERT INTO webhook_dead_letters (subscription_id, event_offset, event_id, event_json, "
                            "attempts, last_status, last_error, created_at_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    HERALD_PREPARE(list_dl_, "SELECT id, subscription_id, event_offset, event_id, event_json, attempts, last_status, "
                             "last_error, created_at_ms FROM webhook_dead_letters WHERE subscription_id = ?1 AND "
                             "id > ?2 ORDER BY id LIMIT ?3");
    HERALD_PREPARE(get_dl_, "SELECT id, subscription_id, event_offset, event_id, event_json, attempts, last_status, "
                            "last_error, created_at_ms FROM webhook_dead_letters WHERE subscription_id = ?1 AND "
                            "id = ?2");
    HERALD_PREPARE(remove_dl_, "DELETE FROM webhook_dead_letters WHERE subscription_id = ?1 AND id = ?2");
    HERALD_PREPARE(update_dl_, "UPDATE webhook_dead_letters SET attempts = ?3, last_status = ?4, last_error = ?5 "
                               "WHERE subscription_id = ?1 AND id = ?2");
    HERALD_PREPARE(count_dl_, "SELECT count(*) FROM webhook_dead_letters WHERE subscription_id = ?1");
    HERALD_PREPARE(add_at_, "INSERT INTO webhook_attempts (subscription_id, event_offset, event_id, attempt, at_ms, "
                            "status, duration_us, outcome, error, replay) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    HERALD_PREPARE(list_at_, "SELECT event_offset, event_id, attempt, at_ms, status, duration_us, outcome, error, "
                             "replay FROM webhook_attempts WHERE subscription_id = ?1 ORDER BY id DESC LIMIT ?2");
    HERALD_PREPARE(prune_at_, "DELETE FROM webhook_attempts WHERE subscription_id = ?1 AND id <= (SELECT id FROM "
                              "webhook_attempts WHERE subscription_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");
    return ok();
}

Result<std::vector<Subscription>> Store::load_all() {
    auto st = db_.prepare("SELECT id, created_at_ms, spec, secrets, state, disabled_reason, epoch, next_offset, "
                          "failing_since_ms, last_attempt_ms, last_status, last_error, delivered, dead_lettered "
                          "FROM webhook_subscriptions ORDER BY created_at_ms, id");
    if (!st) return std::move(st).error();
    std::vector<Subscription> out;
    for (;;) {
        auto row = st->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        Subscription s;
        s.id = st->text(0);
        s.created_at_ms = st->int64(1);
        auto spec = parse_spec(st->text(2));
        if (!spec) return make_error(Errc::corrupt, "subscription " + s.id + ": " + spec.error().message);
        s.spec = std::move(*spec);
        auto secrets = parse_secrets(st->text(3));
        if (!secrets) return make_error(Errc::corrupt, "subscription " + s.id + ": " + secrets.error().message);
        s.secrets = std::move(*secrets);
        s.status.state = parse_state(st->text(4));
        s.status.disabled_reason = st->text(5);
        s.status.epoch = static_cast<std::uint64_t>(st->int64(6));
        s.status.next_offset = static_cast<std::uint64_t>(st->int64(7));
        if (!st->is_null(8)) s.status.failing_since_ms = st->int64(8);
        s.status.last_attempt_ms = st->int64(9);
        s.status.last_status = static_cast<int>(st->int64(10));
        s.status.last_error = st->text(11);
        s.status.delivered = static_cast<std::uint64_t>(st->int64(12));
        s.status.dead_lettered = static_cast<std::uint64_t>(st->int64(13));
        out.push_back(std::move(s));
    }
    return out;
}

Result<void> Store::insert(const Subscription& s) {
    auto& q = insert_;
    q.bind(1, std::string_view(s.id)).bind(2, s.created_at_ms).bind(3, std::string_view(spec_json(s.spec)));
    q.bind(4, std::string_view(secrets_json(s.secrets))).bind(5, std::string_view(to_string(s.status.state)));
    q.bind(6, std::string_view(s.status.disabled_reason)).bind(7, static_cast<std::int64_t>(s.status.epoch));
    q.bind(8, static_cast<std::int64_t>(s.status.next_offset)).bind(9, s.status.failing_since_ms);
    q.bind(10, s.status.last_attempt_ms).bind(11, std::int64_t{s.status.last_status});
    q.bind(12, std::string_view(s.status.last_error)).bind(13, static_cast<std::int64_t>(s.status.delivered));
    q.bind(14, static_cast<std::int64_t>(s.status.dead_lettered));
    return q.run();
}

Result<void> Store::save_secrets(const Subscription& s) {
    save_secrets_.bind(1, std::string_view(s.id)).bind(2, std::string_view(secrets_json(s.secrets)));
    return save_secrets_.run();
}

Result<void> Store::save_status(const Subscription& s) {
    auto& q = save_status_;
    q.bind(1, std::string_view(s.id)).bind(2, std::string_view(to_string(s.status.state)));
    q.bind(3, std::string_view(s.status.disabled_reason)).bind(4, static_cast<std::int64_t>(s.status.epoch));
    q.bind(5, static_cast<std::int64_t>(s.status.next_offset)).bind(6, s.status.failing_since_ms);
    q.bind(7, s.status.last_attempt_ms).bind(8, std::int64_t{s.status.last_status});
    q.bind(9, std::string_view(s.status.last_error)).bind(10, static_cast<std::int64_t>(s.status.delivered));
    q.bind(11, static_cast<std::int64_t>(s.status.dead_lettered));
    return q.run();
}

Result<void> Store::remove(const std::string& id) {
    auto r = db_.transaction([&]() -> Result<void> {
        if (auto r = remove_dl_all_.bind(1, std::string_view(id)).run(); !r) return r;
        if (auto r = remove_at_all_.bind(1, std::string_view(id)).run(); !r) return r;
        return remove_.bind(1, std::string_view(id)).run();
    });
    if (r) queued_dead_letters_.erase(id);
    return r;
}

Result<std::int64_t> Store::add_dead_letter(const DeadLetter& d) {
    auto& q = add_dl_;
    q.bind(1, std::string_view(d.subscription_id)).bind(2, static_cast<std::int64_t>(d.offset));
    q.bind(3, std::string_view(d.event_id)).bind(4, std::string_view(d.event_json));
    q.bind(5, std::int64_t{d.attempts}).bind(6, std::int64_t{d.last_status});
    q.bind(7, std::string_view(d.last_error)).bind(8, d.created_at_ms);
    if (auto r = q.run(); !r) return std::move(r).error();
    ++queued_dead_letters_[d.subscription_id];
    return db_.last_insert_rowid();
}

Result<std::vector<DeadLetter>> Store::dead_letters(const std::string& subscription_id, std::int64_t after,
                                                    unsigned limit) {
    auto& q = list_dl_;
    q.bind(1, std::string_view(subscription_id)).bind(2, after).bind(3, std::int64_t{limit});
    std::vector<DeadLetter> out;
    for (;;) {
        auto row = q.step();
        if (!row) {
            q.reset();
            return std::move(row).error();
        }
        if (!*row) break;
        out.push_back(read_dead_letter(q));
    }
    q.reset();
    return out;
}

Result<std::optional<DeadLetter>> Store::dead_letter(const std::string& subscription_id, std::int64_t id) {
    auto& q = get_dl_;
    q.bind(1, std::string_view(subscription_id)).bind(2, id);
    auto row = q.step();
    if (!row) {
        q.reset();
        return std::move(row).error();
    }
    std::optional<DeadLetter> out;
    if (*row) out = read_dead_letter(q);
    q.reset();
    return out;
}

Result<void> Store::remove_dead_letter(const std::string& subscription_id, std::int64_t id) {
    auto r = remove_dl_.bind(1, std::string_view(subscription_id)).bind(2, id).run();
    // Only a row that was there counts down (a replay and a DELETE may both remove the same entry).
    if (r && remove_dl_.changes() > 0) {
        auto it = queued_dead_letters_.find(subscription_id);
        if (it != queued_dead_letters_.end() && --it->second <= 0) queued_dead_letters_.erase(it);
    }
    return r;
}

Result<void> Store::update_dead_letter(const std::string& subscription_id, std::int64_t id, unsigned attempts,
                                      int last_status, const std::string& last_error) {
    auto& q = update_dl_;
    q.bind(1, std::string_view(subscription_id)).bind(2, id).bind(3, std::int64_t{attempts});
    q.bind(4, std::int64_t{last_status}).bind(5, std::string_view(last_error));
    return q.run();
}

Result<std::int64_t> Store::dead_letter_count(const std::string& subscription_id) {
    auto& q = count_dl_;
    q.bind(1, std::string_view(subscription_id));
    auto row = q.step();
    std::int64_t n = (row && *row) ? q.int64(0) : 0;
    q.reset();
    if (!row) return std::move(row).error();
    return n;
}

Result<void> Store::add_attempt(const Attempt& a) {
    auto& q = add_at_;
    q.bind(1, std::string_view(a.subscription_id)).bind(2, static_cast<std::int64_t>(a.offset));
    q.bind(3, std::string_view(a.event_id)).bind(4, std::int64_t{a.attempt}).bind(5, a.at_ms);
    q.bind(6, std::int64_t{a.status}).bind(7, a.duration_us).bind(8, std::string_view(to_string(a.outcome)));
    q.bind(9, std::string_view(a.error)).bind(10, std::int64_t{a.replay ? 1 : 0});
    if (auto r = q.run(); !r) return r;
    // Keep the log bounded: drop what is older than the newest `attempts_kept_` rows of this subscription.
    return prune_at_.bind(1, std::string_view(a.subscription_id)).bind(2, std::int64_t{attempts_kept_}).run();
}

Result<void> Store::add_attempts(const std::vector<Attempt>& attempts) {
    // Count per subscription, then walk oldest to newest skipping each subscription's surplus.
    std::unordered_map<std::string_view, std::size_t> remaining;
    for (const auto& a : attempts) ++remaining[a.subscription_id];
    for (const auto& a : attempts) {
        auto& left = remaining[a.subscription_id];
        bool keep = left <= attempts_kept_;
        --left;
        if (!keep) continue;
        auto& q = add_at_;
        q.bind(1, std::string_view(a.subscription_id)).bind(2, static_cast<std::int64_t>(a.offset));
        q.bind(3, std::string_view(a.event_id)).bind(4, std::int64_t{a.attempt}).bind(5, a.at_ms);
        q.bind(6, std::int64_t{a.status}).bind(7, a.duration_us).bind(8, std::string_view(to_string(a.outcome)));
        q.bind(9, std::string_view(a.error)).bind(10, std::int64_t{a.replay ? 1 : 0});
        if (auto r = q.run(); !r) return r;
    }
    for (const auto& [id, unused] : remaining)
        if (auto r = prune_at_.bind(1, id).bind(2, std::int64_t{attempts_kept_}).run(); !r) return r;
    return ok();
}

Result<std::vector<Attempt>> Store::attempts(const std::string& subscription_id, unsigned limit) {
    auto& q = list_at_;
    q.bind(1, std::string_view(subscription_id)).bind(2, std::int64_t{limit});
    std::vector<Attempt> out;
    for (;;) {
        auto row = q.step();
        if (!row) {
            q.reset();
            return std::move(row).error();
        }
        if (!*row) break;
        Attempt a;
        a.subscription_id = subscription_id;
        a.offset = static_cast<std::uint64_t>(q.int64(0));
        a.event_id = q.text(1);
        a.attempt = static_cast<unsigned>(q.int64(2));
        a.at_ms = q.int64(3);
        a.status = static_cast<int>(q.int64(4));
        a.duration_us = q.int64(5);
        a.outcome = parse_outcome(q.text(6));
        a.error = q.text(7);
        a.replay = q.int64(8) != 0;
        out.push_back(std::move(a));
    }
    q.reset();
    return out;
}

}  // namespace herald::webhook
