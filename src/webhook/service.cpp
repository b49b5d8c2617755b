#include "webhook/service.hpp"
#include "webhook/subscription_json.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <ctime>
#include <iostream>

#include "base/units.hpp"
#include "base/uuid.hpp"
#include "engine/cursor.hpp"
#include "engine/start_position.hpp"
#include "engine/topic_name.hpp"
#include "webhook/signature.hpp"

namespace herald::webhook {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string rfc3339(std::int64_t ms) {
    if (ms <= 0) return {};
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];  // generous: the compiler cannot bound tm_year
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

Error invalid(std::string message, std::string field) {
    return make_error(Errc::invalid_argument, std::move(message), std::move(field));
}

// A duration field: "5s"-style text or a number of milliseconds.
Result<std::chrono::milliseconds> duration_field(const json::value& v, const std::string& field, std::int64_t min_ms,
                                                 std::int64_t max_ms) {
    std::int64_t ms = 0;
    if (v.is_int64() && v.as_int64() >= 0) ms = v.as_int64();
    else if (v.is_uint64()) ms = static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), INT64_MAX));
    else if (v.is_string()) {
        auto d = parse_duration_ms(std::string_view(v.as_string()));
        if (!d) return invalid(field + ": " + d.error().message, field);
        ms = *d;
    } else {
        return invalid(field + " must be a duration such as \"250ms\", \"5s\", \"2h\" or a number of milliseconds",
                       field);
    }
    if (ms < min_ms || ms > max_ms)
        return invalid(field + " must be between " + std::to_string(min_ms) + "ms and " + std::to_string(max_ms) +
                           "ms",
                       field);
    return std::chrono::milliseconds(ms);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string new_subscription_id() { return "wh_" + random_hex(12); }

json::object dead_letter_json(const DeadLetter& d) {
    json::object o;
    o["id"] = d.id;
    o["offset"] = d.offset;
    o["event_id"] = d.event_id;
    o["attempts"] = d.attempts;
    o["last_status"] = d.last_status;
    o["last_error"] = d.last_error;
    o["created_at"] = rfc3339(d.created_at_ms);
    boost::system::error_code ec;
    auto ev = json::parse(d.event_json, ec);
    if (!ec) o["event"] = std::move(ev);
    else o["event"] = d.event_json;
    return o;
}

}  // namespace

Service::Service(asio::io_context& io, hub::WorkerHub& hub, engine::Engine& engine, meta::Database& db,
                 Transport& transport, ServiceOptions options)
    : io_(io),
      hub_(hub),
      engine_(engine),
      db_(db),
      transport_(transport),
      options_(std::move(options)),
      rng_(std::random_device{}()),
      flush_timer_(io) {}

Service::~Service() = default;

std::shared_ptr<Dispatcher> Service::launch(Subscription s) {
    auto topic = s.spec.topic;
    auto d = std::make_shared<Dispatcher>(
        Dispatcher::Env{io_, engine_, *store_, transport_, options_.defaults, stats_, rng_, options_.tracer,
                        options_.logger},
        std::move(s));
    hub_.subscribe(topic, *d);
    if (!cluster_ || leader_) d->start();
    dispatchers_[d->subscription().id] = d;
    return d;
}

std::shared_ptr<Dispatcher> Service::relaunch(const std::string& id, Subscription s) {
    if (auto old = find(id)) old->stop();
    dispatchers_.erase(id);
    return launch(std::move(s));
}

void Service::note_local_change(const std::string& id) { local_changes_[id] = std::chrono::steady_clock::now(); }

void Service::set_leader(bool leader) {
    if (leader == leader_) return;
    leader_ = leader;
    dispatching_.store(leader, std::memory_order_relaxed);
    std::vector<std::string> ids;
    for (auto& [id, d] : dispatchers_) ids.push_back(id);
    for (auto& id : ids) {
        auto d = find(id);
        if (leader) {
            // Taking over: each starts from the progress the previous holder wrote (adopted in apply()).
            if (!d->started()) d->start();
        } else {
            // Losing the lease: stop delivering at once; an attempt in flight ends without moving the cursor.
            auto s = d->subscription();
            relaunch(id, std::move(s));
        }
    }
    log::emit(options_.logger, log::Level::info, "webhook",
              leader ? "dispatching webhook subscriptions" : "stopped dispatching webhook subscriptions (another node holds the lease)",
              {{"subscriptions", std::to_string(ids.size())}});
}

namespace {

// The dispatch holder's progress, over what this node knows. The API's state (active/paused) stays this node's
// (it comes from the definition); `disabled` is the holder's verdict.
bool merge_progress(SubscriptionStatus& into, const SubscriptionStatus& p) {
    bool changed = into.epoch != p.epoch || into.next_offset != p.next_offset || into.delivered != p.delivered ||
                   into.dead_lettered != p.dead_lettered || into.last_attempt_ms != p.last_attempt_ms;
    into.epoch = p.epoch;
    into.next_offset = p.next_offset;
    into.delivered = p.delivered;
    into.dead_lettered = p.dead_lettered;
    into.last_attempt_ms = p.last_attempt_ms;
    into.last_status = p.last_status;
    into.last_error = p.last_error;
    into.failing_since_ms = p.failing_since_ms;
    if (p.state == SubscriptionState::disabled && into.state != SubscriptionState::disabled) {
        into.state = SubscriptionState::disabled;
        into.disabled_reason = p.disabled_reason;
        changed = true;
    }
    return changed;
}

}  // namespace

void Service::apply(ClusterView view) {
    if (stopped_ || !store_) return;
    const bool listed = view.taken_at != std::chrono::steady_clock::time_point{};
    if (listed) {
        auto newer_here = [&](const std::string& id) {
            auto it = local_changes_.find(id);
            return it != local_changes_.end() && it->second >= view.taken_at;
        };
        std::map<std::string, bool> seen;
        // Followers save every holder's progress each round: one transaction for the round, not one per record.
        auto applied = db_.transaction([&]() -> Result<void> {
            for (auto& e : view.subscriptions) {
                const auto& def = e.definition;
                seen[def.id] = true;
                if (newer_here(def.id)) continue;
                auto d = find(def.id);
                if (!d) {
                    // Created on another node.
                    if (dispatchers_.size() >= options_.max_subscriptions) continue;
                    Subscription s = def;
                    if (e.progress) merge_progress(s.status, *e.progress);
                    if (auto r = store_->insert(s); !r) {
                        log::emit(options_.logger, log::Level::error, "webhook", "cannot store a shared subscription",
                                  {{"subscription", s.id}, {"error", r.error().message}});
                        continue;
                    }
                    applied_revision_[def.id] = e.revision;
                    launch(std::move(s));
                    continue;
                }
                Subscription s = d->subscription();
                bool definition_changed = false;
                if (applied_revision_[def.id] != e.revision) {
                    // Paused, resumed or given a new secret on another node.
                    applied_revision_[def.id] = e.revision;
                    if (s.secrets != def.secrets) {
                        s.secrets = def.secrets;
                        definition_changed = true;
                    }
                    if (def.status.state == SubscriptionState::paused && s.status.state != SubscriptionState::paused) {
                        s.status.state = SubscriptionState::paused;
                        definition_changed = true;
                    } else if (def.status.state == SubscriptionState::active && s.status.state == SubscriptionState::paused) {
                        s.status.state = SubscriptionState::active;
                        s.status.failing_since_ms.reset();
                        definition_changed = true;
                    }
                }
                bool progress_changed = false;
                // The holder's own progress is the truth; others follow it so that a takeover starts there.
                if (!leader_ && e.progress) progress_changed = merge_progress(s.status, *e.progress);
                if (!definition_changed && !progress_changed) continue;
                if (definition_changed) (void)store_->save_secrets(s);
                (void)store_->save_status(s);
                if (!d->adopt(s)) {
                    // Running here: pause and resume in place; a new secret needs a new dispatcher.
                    if (s.secrets != d->subscription().secrets) relaunch(def.id, std::move(s));
                    else if (s.status.state == SubscriptionState::paused) d->pause();
                    else if (s.status.state == SubscriptionState::active) d->resume();
                }
            }
            return ok();
        });
        if (!applied)
            log::emit(options_.logger, log::Level::error, "webhook", "cannot save the shared subscriptions",
                      {{"error", applied.error().message}});
        // Deleted on another node. Only from a round that was applied: `seen` is incomplete otherwise.
        std::vector<std::string> gone;
        for (auto& [id, d] : dispatchers_)
            if (applied && !seen.count(id) && !newer_here(id)) gone.push_back(id);
        for (auto& id : gone) {
            find(id)->stop();
            dispatchers_.erase(id);
            applied_revision_.erase(id);
            (void)store_->remove(id);
        }
        std::erase_if(local_changes_, [&](const auto& kv) { return kv.second < view.taken_at; });
    }
    lease_valid_until_ = view.lease_valid_until;
    set_leader(view.leader);
}

Result<void> Service::start() {
    auto store = Store::open(db_);
    if (!store) return std::move(store).error();
    store_ = std::move(*store);
    auto subs = store_->load_all();
    if (!subs) return std::move(subs).error();
    // In a cluster the local copies wait (not started) for the first round, which brings the cluster's list:
    // it is the truth, and what it no longer has was deleted on another node while this one was away.
    for (auto& s : *subs) launch(std::move(s));
    asio::co_spawn(io_, flush_loop(), asio::detached);
    return ok();
}

void Service::stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, d] : dispatchers_) d->stop();
    flush_timer_.cancel();
    flush();
}

asio::awaitable<void> Service::flush_loop() {
    while (!stopped_) {
        flush_timer_.expires_after(options_.flush_interval);
        co_await flush_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (stopped_) break;
        flush();
    }
}

void Service::flush() {
    if (!store_) return;
    // The lease was not renewed in time (the shared state is unreachable or this thread was held up): stop
    // before another node can take over, so that two nodes never deliver at once.
    if (cluster_ && leader_ && std::chrono::steady_clock::now() > lease_valid_until_) set_leader(false);
    std::vector<std::shared_ptr<Dispatcher>> dirty;
    std::vector<Attempt> attempts;
    for (auto& [id, d] : dispatchers_) {
        auto a = d->take_attempts();
        for (auto& x : a) attempts.push_back(std::move(x));
        if (d->take_dirty()) dirty.push_back(d);
    }
    if (cluster_ && leader_)
        for (auto& d : dirty) cluster_->queue_progress(d->subscription().id, progress_json(d->subscription().status));
    if (!dirty.empty() || !attempts.empty()) {
        auto r = db_.transaction([&]() -> Result<void> {
            for (auto& d : dirty)
                if (auto x = store_->save_status(d->subscription()); !x) return x;
            return store_->add_attempts(attempts);
        });
        if (!r) {
            // Progress stays in memory and is retried next round; a crash before then re-delivers (at least once).
            log::emit(options_.logger, log::Level::error, "webhook", "cannot save progress",
                      {{"error", r.error().message}});
            for (auto& d : dirty) d->mark_dirty();
        }
    }
    std::vector<SubscriptionGauge> g;
    g.reserve(dispatchers_.size());
    for (auto& [id, d] : dispatchers_) {
        auto& s = d->subscription();
        g.push_back({id, s.spec.topic, to_string(s.status.state), d->lag(),
                     static_cast<std::int64_t>(s.status.dead_lettered), store_->queued_dead_letters(id)});
    }
    std::lock_guard lock(gauges_mutex_);
    gauges_ = std::move(g);
}

std::vector<SubscriptionGauge> Service::gauges() const {
    std::lock_guard lock(gauges_mutex_);
    return gauges_;
}

std::shared_ptr<Dispatcher> Service::find(const std::string& id) const {
    auto it = dispatchers_.find(id);
    return it == dispatchers_.end() ? nullptr : it->second;
}

json::object Service::view(const Dispatcher& d) const {
    auto& s = d.subscription();
    json::object o;
    o["id"] = s.id;
    o["topic"] = s.spec.topic;
    o["url"] = s.spec.url;
    json::array types;
    for (auto& t : s.spec.types) types.emplace_back(t);
    o["types"] = std::move(types);
    o["mode"] = to_string(s.spec.mode);
    o["max_in_flight"] = s.spec.max_in_flight;
    json::array sched;
    auto& schedule = s.spec.retry_schedule.empty() ? options_.defaults.retry.schedule : s.spec.retry_schedule;
    for (auto x : schedule) sched.emplace_back(std::to_string(x.count()) + "ms");
    auto disable_after = s.spec.disable_after.count() ? s.spec.disable_after : options_.defaults.retry.disable_after;
    o["retry"] = json::object{{"schedule", std::move(sched)},
                              {"disable_after", std::to_string(disable_after.count()) + "ms"}};
    o["rate_limit"] = s.spec.rate_limit;
    o["timeout"] = std::to_string(s.spec.timeout.count()) + "ms";
    o["content_mode"] = to_string(s.spec.content_mode);
    o["state"] = to_string(s.status.state);
    if (!s.status.disabled_reason.empty()) o["disabled_reason"] = s.status.disabled_reason;
    o["cursor"] = engine::format_cursor({s.status.epoch, s.status.next_offset});
    o["lag"] = d.lag();
    o["delivered"] = s.status.delivered;
    o["dead_lettered"] = s.status.dead_lettered;
    if (s.status.last_attempt_ms) {
        o["last_attempt_at"] = rfc3339(s.status.last_attempt_ms);
        o["last_status"] = s.status.last_status;
    }
    if (!s.status.last_error.empty()) o["last_error"] = s.status.last_error;
    if (s.status.failing_since_ms) o["failing_since"] = rfc3339(*s.status.failing_since_ms);
    o["created_at"] = rfc3339(s.created_at_ms);
    json::array secrets;
    for (auto& x : s.secrets) {
        json::object so;
        so["prefix"] = x.secret.substr(0, std::min<std::size_t>(x.secret.size(), 10)) + "…";
        if (x.expires_at_ms) so["expires_at"] = rfc3339(*x.expires_at_ms);
        secrets.emplace_back(std::move(so));
    }
    o["secrets"] = std::move(secrets);
    // In a cluster only one node delivers; its delivery log and dead-letter queue are the ones that fill up.
    if (cluster_) o["dispatched_here"] = leader_;
    return o;
}

asio::awaitable<Result<json::object>> Service::create(json::value body) {
    if (!body.is_object()) co_return invalid("the body must be a JSON object", "");
    auto& o = body.as_object();
    static const std::vector<std::string> known = {"topic", "url", "types", "secret", "mode", "max_in_flight",
                                                   "retry", "from", "rate_limit", "timeout", "content_mode",
                                                   "validation_handshake"};
    for (auto& [k, v] : o)
        if (std::find(known.begin(), known.end(), std::string(k)) == known.end())
            co_return invalid("unknown field '" + std::string(k) + "'", std::string(k));
    if (dispatchers_.size() >= options_.max_subscriptions)
        co_return make_error(Errc::conflict, "the subscription limit (" + std::to_string(options_.max_subscriptions) +
                                                 ") is reached");

    Subscription s;
    s.spec.timeout = options_.default_timeout;
    s.id = new_subscription_id();
    s.created_at_ms = now_ms();
    auto* topic = o.if_contains("topic");
    if (!topic || !topic->is_string()) co_return invalid("topic is required (a string)", "topic");
    s.spec.topic = std::string(topic->as_string());
    if (!engine::is_valid_topic_name(s.spec.topic))
        co_return invalid("topic names must match [a-z0-9][a-z0-9._-]{0,199}", "topic");
    auto* url = o.if_contains("url");
    if (!url || !url->is_string()) co_return invalid("url is required (an http or https URL)", "url");
    s.spec.url = std::string(url->as_string());
    if (auto* t = o.if_contains("types")) {
        if (!t->is_array()) co_return invalid("types must be an array of event-type globs", "types");
        for (auto& x : t->as_array()) {
            if (!x.is_string() || x.as_string().empty())
                co_return invalid("types must be an array of non-empty strings", "types");
            s.spec.types.emplace_back(x.as_string());
        }
    }
    if (auto* m = o.if_contains("mode")) {
        if (*m == "ordered") s.spec.mode = DeliveryMode::ordered;
        else if (*m == "concurrent") s.spec.mode = DeliveryMode::concurrent;
        else co_return invalid("mode must be \"ordered\" or \"concurrent\"", "mode");
    }
    s.spec.max_in_flight = s.spec.mode == DeliveryMode::concurrent ? 10 : 1;
    if (auto* m = o.if_contains("max_in_flight")) {
        if (!m->is_int64() || m->as_int64() < 1 || m->as_int64() > 1000)
            co_return invalid("max_in_flight must be an integer from 1 to 1000", "max_in_flight");
        if (s.spec.mode == DeliveryMode::ordered && m->as_int64() != 1)
            co_return invalid("max_in_flight applies to concurrent mode; ordered delivery keeps one in flight",
                              "max_in_flight");
        s.spec.max_in_flight = static_cast<unsigned>(m->as_int64());
    }
    if (auto* r = o.if_contains("retry")) {
        if (!r->is_object()) co_return invalid("retry must be an object {schedule, disable_after}", "retry");
        for (auto& [k, v] : r->as_object()) {
            if (k == "schedule") {
                if (!v.is_array() || v.as_array().size() > 50)
                    co_return invalid("retry.schedule must be an array of at most 50 durations", "retry.schedule");
                for (auto& x : v.as_array()) {
                    auto d = duration_field(x, "retry.schedule", 1, 7LL * 24 * 3600 * 1000);
                    if (!d) co_return std::move(d).error();
                    s.spec.retry_schedule.push_back(*d);
                }
            } else if (k == "disable_after") {
                auto d = duration_field(v, "retry.disable_after", 1, 365LL * 24 * 3600 * 1000);
                if (!d) co_return std::move(d).error();
                s.spec.disable_after = *d;
            } else {
                co_return invalid("unknown field 'retry." + std::string(k) + "'", "retry." + std::string(k));
            }
        }
    }
    if (auto* r = o.if_contains("rate_limit")) {
        if (!r->is_number() || r->to_number<double>() < 0 || r->to_number<double>() > 100000)
            co_return invalid("rate_limit must be a number of deliveries per second from 0 (unlimited) to 100000",
                              "rate_limit");
        s.spec.rate_limit = r->to_number<double>();
    }
    if (auto* t = o.if_contains("timeout")) {
        auto d = duration_field(*t, "timeout", 100, 120'000);
        if (!d) co_return std::move(d).error();
        s.spec.timeout = *d;
    }
    if (auto* c = o.if_contains("content_mode")) {
        if (*c == "structured") s.spec.content_mode = ContentMode::structured;
        else if (*c == "binary") s.spec.content_mode = ContentMode::binary;
        else co_return invalid("content_mode must be \"structured\" or \"binary\"", "content_mode");
    }
    if (auto* h = o.if_contains("validation_handshake")) {
        if (!h->is_bool()) co_return invalid("validation_handshake must be a boolean", "validation_handshake");
        s.spec.validation_handshake = h->as_bool();
    }
    std::string secret;
    if (auto* x = o.if_contains("secret")) {
        if (!x->is_string()) co_return invalid("secret must be a string \"whsec_<base64>\"", "secret");
        secret = std::string(x->as_string());
        auto decoded = decode_secret(secret);
        if (!decoded || decoded->size() < 16)
            co_return invalid("secret must be \"whsec_\" followed by the base64 of 16 to 64 random bytes", "secret");
    } else {
        secret = generate_secret();
    }
    s.secrets.push_back({secret, std::nullopt});

    // Where delivery starts.
    auto reader = engine_.topic(s.spec.topic, true);
    if (!reader) {
        if (reader.error().code == Errc::not_found)
            co_return make_error(Errc::not_found, "no topic '" + s.spec.topic + "' (auto-creation is off)", "topic");
        co_return make_error(Errc::unavailable, reader.error().message);
    }
    std::string from = "latest";
    if (auto* f = o.if_contains("from")) {
        if (!f->is_string()) co_return invalid("from must be \"latest\", \"earliest\" or a cursor", "from");
        from = std::string(f->as_string());
    }
    auto start = engine::resolve_start(**reader, from, true);
    if (!start) co_return invalid("from: " + start.error().message, "from");
    s.status.epoch = (*reader)->epoch();
    s.status.next_offset = start->next;

    // The destination: well-formed, and not in a blocked range (SSRF guard).
    if (auto ok_dest = co_await transport_.check_destination(s.spec.url); !ok_dest)
        co_return invalid("url: " + ok_dest.error().message, "url");
    if (s.spec.validation_handshake) {
        OutgoingRequest probe;
        probe.method = "OPTIONS";
        probe.url = s.spec.url;
        probe.timeout = s.spec.timeout;
        probe.headers.emplace_back("WebHook-Request-Origin", options_.handshake_origin);
        auto answer = co_await transport_.send(std::move(probe));
        bool allowed = false;
        if (answer.status >= 200 && answer.status < 300)
            for (auto& [k, v] : answer.headers)
                if (iequals(k, "WebHook-Allowed-Origin") &&
                    (v == "*" || v == options_.handshake_origin))
                    allowed = true;
        if (!allowed)
            co_return invalid("the receiver did not accept the CloudEvents validation handshake (OPTIONS with "
                              "WebHook-Request-Origin: " + options_.handshake_origin + "; got " +
                                  (answer.status ? "status " + std::to_string(answer.status)
                                                 : std::string(to_string(answer.error))) + ")",
                              "url");
    }
    if (dispatchers_.size() >= options_.max_subscriptions)
        co_return make_error(Errc::conflict, "the subscription limit is reached");
    if (auto r = store_->insert(s); !r) co_return std::move(r).error();
    if (cluster_) {
        // In the cluster before the answer: an acknowledged subscription survives this node.
        if (auto r = cluster_->put_definition(s); !r) {
            (void)store_->remove(s.id);
            co_return make_error(Errc::unavailable, "the subscription could not be shared with the cluster: " +
                                                        r.error().message);
        }
        note_local_change(s.id);
    }
    auto d = launch(std::move(s));
    auto out = view(*d);
    out["secret"] = secret;  // shown once
    co_return out;
}

json::array Service::list(std::string_view topic) const {
    json::array out;
    for (auto& [id, d] : dispatchers_)
        if (topic.empty() || d->subscription().spec.topic == topic) out.emplace_back(view(*d));
    return out;
}

Result<json::object> Service::get(const std::string& id) const {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    return view(*d);
}

Result<json::object> Service::set_paused(const std::string& id, bool paused) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    if (paused) d->pause();
    else d->resume();
    if (cluster_) {
        if (auto r = cluster_->put_definition(d->subscription()); !r)
            return make_error(Errc::unavailable, "the change could not be shared with the cluster: " + r.error().message);
        note_local_change(id);
    }
    flush();
    return view(*d);
}

Result<void> Service::remove(const std::string& id) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    if (cluster_) {
        if (auto r = cluster_->remove(id); !r)
            return make_error(Errc::unavailable, "the deletion could not be shared with the cluster: " + r.error().message);
        note_local_change(id);
        applied_revision_.erase(id);
    }
    d->stop();
    dispatchers_.erase(id);
    return store_->remove(id);
}

Result<json::object> Service::rotate_secret(const std::string& id, const json::value& body) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    auto overlap = options_.rotation_overlap;
    std::string secret;
    if (body.is_object()) {
        for (auto& [k, v] : body.as_object()) {
            if (k == "overlap") {
                auto o = duration_field(v, "overlap", 0, 30LL * 24 * 3600 * 1000);
                if (!o) return std::move(o).error();
                overlap = *o;
            } else if (k == "secret") {
                if (!v.is_string()) return invalid("secret must be a string", "secret");
                secret = std::string(v.as_string());
                auto decoded = decode_secret(secret);
                if (!decoded || decoded->size() < 16)
                    return invalid("secret must be \"whsec_\" followed by the base64 of 16 to 64 random bytes",
                                   "secret");
            } else {
                return invalid("unknown field '" + std::string(k) + "'", std::string(k));
            }
        }
    } else if (!body.is_null()) {
        return invalid("the body must be a JSON object {overlap, secret}", "");
    }
    if (secret.empty()) secret = generate_secret();
    d->rotate_secret({secret, std::nullopt}, overlap);
    if (auto r = store_->save_secrets(d->subscription()); !r) return std::move(r).error();
    if (cluster_) {
        if (auto r = cluster_->put_definition(d->subscription()); !r)
            return make_error(Errc::unavailable, "the new secret could not be shared with the cluster: " +
                                                     r.error().message);
        note_local_change(id);
    }
    auto out = view(*d);
    out["secret"] = secret;
    return out;
}

Result<json::object> Service::attempts(const std::string& id, unsigned limit) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    flush();  // include what is still in memory
    auto list = store_->attempts(id, limit);
    if (!list) return std::move(list).error();
    json::array a;
    for (auto& x : *list) {
        json::object o;
        o["at"] = rfc3339(x.at_ms);
        o["offset"] = x.offset;
        o["event_id"] = x.event_id;
        o["attempt"] = x.attempt;
        o["status"] = x.status;
        o["duration_ms"] = static_cast<double>(x.duration_us) / 1000.0;
        o["outcome"] = to_string(x.outcome);
        if (!x.error.empty()) o["error"] = x.error;
        if (x.replay) o["replay"] = true;
        a.emplace_back(std::move(o));
    }
    return json::object{{"attempts", std::move(a)}};
}

Result<json::object> Service::dead_letters(const std::string& id, std::int64_t after, unsigned limit) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    auto list = store_->dead_letters(id, after, limit + 1);
    if (!list) return std::move(list).error();
    auto total = store_->dead_letter_count(id);
    json::array a;
    bool more = list->size() > limit;
    if (more) list->pop_back();
    for (auto& x : *list) a.emplace_back(dead_letter_json(x));
    json::object out{{"entries", std::move(a)}, {"total", total ? *total : 0}};
    if (more && !list->empty()) out["next_after"] = list->back().id;
    return out;
}

Result<json::object> Service::replay(const std::string& id, const json::value& body) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    if (!body.is_object()) return invalid("the body must be {\"ids\":[..]}, {\"from\":N,\"to\":M} or {\"all\":true}", "");
    auto& o = body.as_object();
    std::vector<DeadLetter> picked;
    if (auto* ids = o.if_contains("ids")) {
        if (!ids->is_array() || ids->as_array().empty() || ids->as_array().size() > 10000)
            return invalid("ids must be a non-empty array of dead-letter entry ids", "ids");
        for (auto& x : ids->as_array()) {
            if (!x.is_int64()) return invalid("ids must be integers", "ids");
            auto e = store_->dead_letter(id, x.as_int64());
            if (!e) return std::move(e).error();
            if (!*e) return make_error(Errc::not_found, "no dead-letter entry " + std::to_string(x.as_int64()));
            picked.push_back(std::move(**e));
        }
    } else {
        std::int64_t from = 0, to = INT64_MAX;
        if (auto* a = o.if_contains("all"); a && *a == true) {
        } else if (o.contains("from") || o.contains("to")) {
            if (auto* f = o.if_contains("from")) {
                if (!f->is_int64()) return invalid("from must be a dead-letter entry id", "from");
                from = f->as_int64();
            }
            if (auto* t = o.if_contains("to")) {
                if (!t->is_int64()) return invalid("to must be a dead-letter entry id", "to");
                to = t->as_int64();
            }
        } else {
            return invalid("say what to replay: {\"ids\":[..]}, {\"from\":N,\"to\":M} or {\"all\":true}", "");
        }
        std::int64_t after = from - 1;
        for (;;) {
            auto page = store_->dead_letters(id, after, 500);
            if (!page) return std::move(page).error();
            if (page->empty()) break;
            for (auto& e : *page) {
                if (e.id > to) break;
                picked.push_back(e);
            }
            after = page->back().id;
            if (after >= to || picked.size() >= 100000) break;
        }
    }
    auto n = picked.size();
    d->replay(std::move(picked));
    return json::object{{"queued", n}};
}

Result<void> Service::delete_dead_letter(const std::string& id, std::int64_t entry) {
    auto d = find(id);
    if (!d) return make_error(Errc::not_found, "no webhook subscription '" + id + "'");
    auto e = store_->dead_letter(id, entry);
    if (!e) return std::move(e).error();
    if (!*e) return make_error(Errc::not_found, "no dead-letter entry " + std::to_string(entry));
    return store_->remove_dead_letter(id, entry);
}

}  // namespace herald::webhook
