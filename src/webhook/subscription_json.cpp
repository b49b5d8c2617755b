#include "webhook/subscription_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace herald::webhook {

namespace json = boost::json;

namespace {

Error bad(const std::string& what) { return make_error(Errc::invalid_argument, "shared subscription record: " + what); }

std::uint64_t u64(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    return 0;
}

std::int64_t i64(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    return 0;
}

std::string text(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

SubscriptionState state_of(std::string_view s) {
    if (s == "paused") return SubscriptionState::paused;
    if (s == "disabled") return SubscriptionState::disabled;
    return SubscriptionState::active;
}

}  // namespace

std::string definition_json(const Subscription& s) {
    json::object o;
    o["id"] = s.id;
    o["created_at_ms"] = s.created_at_ms;
    o["topic"] = s.spec.topic;
    o["url"] = s.spec.url;
    json::array types;
    for (auto& t : s.spec.types) types.emplace_back(t);
    o["types"] = std::move(types);
    o["mode"] = to_string(s.spec.mode);
    o["max_in_flight"] = s.spec.max_in_flight;
    json::array schedule;
    for (auto d : s.spec.retry_schedule) schedule.emplace_back(d.count());
    o["retry_schedule_ms"] = std::move(schedule);
    o["disable_after_ms"] = s.spec.disable_after.count();
    o["rate_limit"] = s.spec.rate_limit;
    o["timeout_ms"] = s.spec.timeout.count();
    o["content_mode"] = to_string(s.spec.content_mode);
    o["validation_handshake"] = s.spec.validation_handshake;
    json::array secrets;
    for (auto& x : s.secrets) {
        json::object so;
        so["secret"] = x.secret;
        if (x.expires_at_ms) so["expires_at_ms"] = *x.expires_at_ms;
        secrets.emplace_back(std::move(so));
    }
    o["secrets"] = std::move(secrets);
    // The API's part of the state; `disabled` is the dispatcher's verdict and travels with the progress.
    o["state"] = s.status.state == SubscriptionState::paused ? "paused" : "active";
    o["epoch"] = s.status.epoch;
    o["next_offset"] = s.status.next_offset;
    return json::serialize(o);
}

Result<Subscription> parse_definition(std::string_view text_in) {
    boost::system::error_code ec;
    auto v = json::parse(text_in, ec);
    if (ec || !v.is_object()) return bad("not a JSON object");
    auto& o = v.as_object();
    Subscription s;
    s.id = text(o, "id");
    s.spec.topic = text(o, "topic");
    s.spec.url = text(o, "url");
    if (s.id.empty() || s.spec.topic.empty() || s.spec.url.empty()) return bad("id, topic and url are required");
    s.created_at_ms = i64(o, "created_at_ms");
    if (auto* t = o.if_contains("types"); t && t->is_array())
        for (auto& x : t->as_array())
            if (x.is_string()) s.spec.types.emplace_back(x.as_string());
    s.spec.mode = text(o, "mode") == "concurrent" ? DeliveryMode::concurrent : DeliveryMode::ordered;
    s.spec.max_in_flight = static_cast<unsigned>(std::max<std::uint64_t>(1, u64(o, "max_in_flight")));
    if (auto* r = o.if_contains("retry_schedule_ms"); r && r->is_array())
        for (auto& x : r->as_array())
            if (x.is_int64() || x.is_uint64()) s.spec.retry_schedule.emplace_back(x.to_number<std::int64_t>());
    s.spec.disable_after = std::chrono::milliseconds(i64(o, "disable_after_ms"));
    if (auto* r = o.if_contains("rate_limit"); r && r->is_number()) s.spec.rate_limit = r->to_number<double>();
    s.spec.timeout = std::chrono::milliseconds(i64(o, "timeout_ms"));
    if (s.spec.timeout.count() <= 0) return bad("timeout_ms must be positive");
    s.spec.content_mode = text(o, "content_mode") == "binary" ? ContentMode::binary : ContentMode::structured;
    if (auto* h = o.if_contains("validation_handshake"); h && h->is_bool()) s.spec.validation_handshake = h->as_bool();
    if (auto* sec = o.if_contains("secrets"); sec && sec->is_array()) {
        for (auto& x : sec->as_array()) {
            if (!x.is_object()) continue;
            SigningSecret ss;
            ss.secret = text(x.as_object(), "secret");
            if (x.as_object().contains("expires_at_ms")) ss.expires_at_ms = i64(x.as_object(), "expires_at_ms");
            if (!ss.secret.empty()) s.secrets.push_back(std::move(ss));
        }
    }
    if (s.secrets.empty()) return bad("a signing secret is required");
    s.status.state = state_of(text(o, "state"));
    if (s.status.state == SubscriptionState::disabled) s.status.state = SubscriptionState::active;
    s.status.epoch = u64(o, "epoch");
    s.status.next_offset = u64(o, "next_offset");
    return s;
}

std::string progress_json(const SubscriptionStatus& st) {
    json::object o;
    o["state"] = to_string(st.state);
    if (!st.disabled_reason.empty()) o["disabled_reason"] = st.disabled_reason;
    o["epoch"] = st.epoch;
    o["next_offset"] = st.next_offset;
    if (st.failing_since_ms) o["failing_since_ms"] = *st.failing_since_ms;
    o["last_attempt_ms"] = st.last_attempt_ms;
    o["last_status"] = st.last_status;
    if (!st.last_error.empty()) o["last_error"] = st.last_error;
    o["delivered"] = st.delivered;
    o["dead_lettered"] = st.dead_lettered;
    return json::serialize(o);
}

Result<SubscriptionStatus> parse_progress(std::string_view text_in) {
    boost::system::error_code ec;
    auto v = json::parse(text_in, ec);
    if (ec || !v.is_object()) return bad("progress is not a JSON object");
    auto& o = v.as_object();
    SubscriptionStatus st;
    st.state = state_of(text(o, "state"));
    st.disabled_reason = text(o, "disabled_reason");
    st.epoch = u64(o, "epoch");
    st.next_offset = u64(o, "next_offset");
    if (o.contains("failing_since_ms")) st.failing_since_ms = i64(o, "failing_since_ms");
    st.last_attempt_ms = i64(o, "last_attempt_ms");
    st.last_status = static_cast<int>(i64(o, "last_status"));
    st.last_error = text(o, "last_error");
    st.delivered = u64(o, "delivered");
    st.dead_lettered = u64(o, "dead_lettered");
    return st;
}

}  // namespace herald::webhook
