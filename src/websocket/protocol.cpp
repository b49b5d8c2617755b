#include "websocket/protocol.hpp"

#include <boost/json.hpp>

namespace herald::websocket {

namespace json = boost::json;

namespace {

DecodeError fail(std::string message, std::string member, const json::object* o = nullptr) {
    DecodeError e{std::move(message), std::move(member), {}, {}};
    if (o) {
        if (auto* r = o->if_contains("ref"); r && r->is_string()) e.ref = std::string(r->as_string());
        if (auto* i = o->if_contains("id"); i && i->is_string()) e.id = std::string(i->as_string());
    }
    return e;
}

// A required string member of 1..max characters.
std::variant<std::string, DecodeError> required_string(const json::object& o, const char* name,
                                                       std::size_t max) {
    auto* v = o.if_contains(name);
    if (!v) return fail(std::string("\"") + name + "\" is required", name, &o);
    if (!v->is_string()) return fail(std::string("\"") + name + "\" must be a string", name, &o);
    auto& s = v->as_string();
    if (s.empty() || s.size() > max)
        return fail(std::string("\"") + name + "\" must be 1 to " + std::to_string(max) + " characters", name, &o);
    return std::string(s);
}

std::variant<std::string, DecodeError> optional_string(const json::object& o, const char* name, std::size_t max) {
    auto* v = o.if_contains(name);
    if (!v || v->is_null()) return std::string();
    if (!v->is_string()) return fail(std::string("\"") + name + "\" must be a string", name, &o);
    if (v->as_string().size() > max)
        return fail(std::string("\"") + name + "\" must be at most " + std::to_string(max) + " characters", name, &o);
    return std::string(v->as_string());
}

// Members other than these are an error, so a typo ("topc") is reported instead of silently ignored.
std::optional<DecodeError> only_members(const json::object& o, std::initializer_list<std::string_view> allowed) {
    for (auto& kv : o) {
        bool known = false;
        for (auto a : allowed) known |= kv.key() == a;
        if (!known) return fail("unknown member \"" + std::string(kv.key()) + "\"", std::string(kv.key()), &o);
    }
    return std::nullopt;
}

#define HERALD_TAKE(var, expr)                                                  \
    auto var##_v = (expr);                                                      \
    if (auto* err = std::get_if<DecodeError>(&var##_v)) return std::move(*err); \
    auto var = std::move(std::get<std::string>(var##_v))

std::variant<ClientMessage, DecodeError> decode_object(const json::object& o) {
    auto* op_v = o.if_contains("op");
    if (!op_v) return fail("\"op\" is required", "op", &o);
    if (!op_v->is_string()) return fail("\"op\" must be a string", "op", &o);
    std::string_view op = op_v->as_string();
    if (op == "subscribe") {
        if (auto e = only_members(o, {"op", "id", "topic", "from", "types"})) return *e;
        Subscribe s;
        HERALD_TAKE(id, required_string(o, "id", 128));
        HERALD_TAKE(topic, required_string(o, "topic", 200));
        HERALD_TAKE(from, optional_string(o, "from", 256));
        s.id = std::move(id);
        s.topic = std::move(topic);
        s.from = from.empty() ? "latest" : std::move(from);
        if (auto* t = o.if_contains("types"); t && !t->is_null()) {
            if (!t->is_array()) return fail("\"types\" must be an array of strings", "types", &o);
            for (auto& x : t->as_array()) {
                if (!x.is_string() || x.as_string().empty())
                    return fail("\"types\" must be an array of non-empty strings", "types", &o);
                s.types.emplace_back(x.as_string());
            }
        }
        return ClientMessage{std::move(s)};
    }
    if (op == "unsubscribe") {
        if (auto e = only_members(o, {"op", "id"})) return *e;
        HERALD_TAKE(id, required_string(o, "id", 128));
        return ClientMessage{Unsubscribe{std::move(id)}};
    }
    if (op == "publish") {
        if (auto e = only_members(o, {"op", "ref", "topic", "event", "events", "idempotency_key"})) return *e;
        Publish p;
        HERALD_TAKE(ref, optional_string(o, "ref", 128));
        HERALD_TAKE(topic, required_string(o, "topic", 200));
        HERALD_TAKE(key, optional_string(o, "idempotency_key", 256));
        p.ref = std::move(ref);
        p.topic = std::move(topic);
        p.idempotency_key = std::move(key);
        auto* one = o.if_contains("event");
        auto* many = o.if_contains("events");
        if ((one != nullptr) == (many != nullptr))
            return fail("exactly one of \"event\" and \"events\" is required", one ? "events" : "event", &o);
        if (one) {
            if (!one->is_object()) return fail("\"event\" must be a CloudEvent object", "event", &o);
            p.events.push_back(json::serialize(*one));
        } else {
            if (!many->is_array() || many->as_array().empty())
                return fail("\"events\" must be a non-empty array of CloudEvent objects", "events", &o);
            p.batch = true;
            auto& arr = many->as_array();
            for (std::size_t i = 0; i < arr.size(); ++i) {
                if (!arr[i].is_object())
                    return fail("\"events\" must contain CloudEvent objects", "events[" + std::to_string(i) + "]", &o);
                p.events.push_back(json::serialize(arr[i]));
            }
        }
        return ClientMessage{std::move(p)};
    }
    if (op == "ack") {
        if (auto e = only_members(o, {"op", "id", "cursor"})) return *e;
        HERALD_TAKE(id, required_string(o, "id", 128));
        HERALD_TAKE(cursor, required_string(o, "cursor", 256));
        return ClientMessage{Ack{std::move(id), std::move(cursor)}};
    }
    if (op == "ping") {
        if (auto e = only_members(o, {"op"})) return *e;
        return ClientMessage{Ping{}};
    }
    if (op == "auth") {
        if (auto e = only_members(o, {"op", "ref", "token"})) return *e;
        Auth a;
        if (o.contains("ref")) {
            HERALD_TAKE(ref, required_string(o, "ref", 128));
            a.ref = std::move(ref);
        }
        HERALD_TAKE(token, required_string(o, "token", 16 * 1024));
        a.token = std::move(token);
        return ClientMessage{std::move(a)};
    }
    return fail("unknown op \"" + std::string(op) + "\" (expected subscribe, unsubscribe, publish, ack, ping or auth)",
                "op", &o);
}

#undef HERALD_TAKE

}  // namespace

std::variant<ClientMessage, DecodeError> decode_client_message(std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    auto v = json::parse(text, ec, {}, opts);
    if (ec) return fail("the message is not valid JSON: " + ec.message(), "");
    if (!v.is_object()) return fail("the message must be a JSON object", "");
    return decode_object(v.as_object());
}

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 15]);
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
}

std::string encode_subscribed(std::string_view id, std::string_view topic, std::string_view cursor) {
    std::string o = "{\"op\":\"subscribed\",\"id\":";
    append_json_string(o, id);
    o += ",\"topic\":";
    append_json_string(o, topic);
    o += ",\"cursor\":";
    append_json_string(o, cursor);
    o += '}';
    return o;
}

std::string encode_unsubscribed(std::string_view id, std::string_view cursor) {
    std::string o = "{\"op\":\"unsubscribed\",\"id\":";
    append_json_string(o, id);
    o += ",\"cursor\":";
    append_json_string(o, cursor);
    o += '}';
    return o;
}

std::string encode_published(std::string_view ref, std::string_view json_results) {
    std::string o = "{\"op\":\"published\",\"ref\":";
    append_json_string(o, ref);
    o += ",\"results\":";
    o += json_results;
    o += '}';
    return o;
}

std::string encode_reset(std::string_view id, std::string_view reason, std::string_view cursor, std::uint64_t missed) {
    std::string o = "{\"op\":\"reset\",\"id\":";
    append_json_string(o, id);
    o += ",\"reason\":";
    append_json_string(o, reason);
    o += ",\"cursor\":";
    append_json_string(o, cursor);
    o += ",\"missed\":" + std::to_string(missed) + "}";
    return o;
}

std::string encode_error(std::string_view ref, std::string_view id, unsigned status, std::string_view json_problem) {
    std::string o = "{\"op\":\"error\"";
    if (!ref.empty()) {
        o += ",\"ref\":";
        append_json_string(o, ref);
    }
    if (!id.empty()) {
        o += ",\"id\":";
        append_json_string(o, id);
    }
    o += ",\"status\":" + std::to_string(status) + ",\"problem\":";
    o += json_problem;
    o += '}';
    return o;
}

std::string encode_authenticated(std::string_view ref, std::string_view expires_at) {
    std::string out = "{\"op\":\"authenticated\",\"ref\":";
    append_json_string(out, ref);
    if (!expires_at.empty()) {
        out += ",\"expires_at\":";
        append_json_string(out, expires_at);
    }
    out += "}";
    return out;
}

std::string encode_pong() { return "{\"op\":\"pong\"}"; }

std::string event_prefix(std::string_view subscription_id) {
    std::string o = "{\"op\":\"event\",\"id\":";
    append_json_string(o, subscription_id);
    o += ',';
    return o;
}

void append_event_tail(std::string& out, std::string_view topic, std::string_view cursor,
                       std::string_view event_json) {
    out += "\"topic\":\"";
    out += topic;  // topic names are [a-z0-9._-]: nothing to escape
    out += "\",\"cursor\":\"";
    out += cursor;  // cursors are [0-9a-f.]
    out += "\",\"event\":";
    out += event_json;
    out += '}';
}

}  // namespace herald::websocket
