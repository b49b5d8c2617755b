#include "engine/jetstream_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <charconv>
#include <chrono>
#include <random>

#include "base/base64.hpp"
#include "engine/topic_name.hpp"
#include "security/crypto.hpp"

namespace herald::engine::jetstream {

namespace {

// Length-prefixed fields, so ("ab","c") and ("a","bc") never hash alike.
void append_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out.push_back(':');
    out += field;
}

std::uint64_t json_u64(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return 0;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    return 0;
}

// The {"error":{...}} member of an API answer, when there is one.
const boost::json::object* api_error(const boost::json::object& o) {
    auto* e = o.if_contains("error");
    return e && e->is_object() ? &e->as_object() : nullptr;
}

std::string json_text(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string stream_name(std::string_view prefix, std::string_view topic) {
    std::string out(prefix);
    for (char c : topic) {
        if (c == '_') out += "__";
        else if (c == '.') out += "_d";
        else out.push_back(c);
    }
    return out;
}

std::string shared_stream_name(std::string_view prefix) { return std::string(prefix) + "EVENTS"; }

std::string topic_record_key(std::string_view topic) { return "topic." + std::string(topic); }

std::string epoch_text(std::uint64_t epoch) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(epoch >> shift) & 0xf]);
    return out;
}

std::string topic_record(std::uint64_t epoch) { return "{\"epoch\":\"" + epoch_text(epoch) + "\"}"; }

std::optional<std::uint64_t> parse_topic_record(std::string_view text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    auto hex = json_text(v.as_object(), "epoch");
    if (hex.size() != 16) return std::nullopt;
    std::uint64_t epoch = 0;
    auto [p, e] = std::from_chars(hex.data(), hex.data() + hex.size(), epoch, 16);
    if (e != std::errc{} || p != hex.data() + hex.size() || epoch == 0) return std::nullopt;
    // from_chars takes upper case too; the record is written in lower case only.
    for (char c : hex)
        if (c >= 'A' && c <= 'F') return std::nullopt;
    return epoch;
}

std::uint64_t new_topic_epoch(std::string_view stream, std::string_view topic) {
    std::random_device random;
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    std::string name(stream);
    name.push_back('/');
    name += topic;
    // The clock alone could repeat across nodes creating the same name at once; only one create wins anyway,
    // the random part makes a re-created topic's epoch differ even on a clock that went back.
    return stream_epoch(name, static_cast<std::int64_t>(now ^ (std::uint64_t(random()) << 32 | random())));
}

std::optional<std::string> topic_of_stream(std::string_view prefix, std::string_view stream) {
    if (!stream.starts_with(prefix)) return std::nullopt;
    stream.remove_prefix(prefix.size());
    std::string topic;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        if (stream[i] == '.') return std::nullopt;  // never in a stream name; stream_name() writes it "_d"
        if (stream[i] != '_') {
            topic.push_back(stream[i]);
            continue;
        }
        if (i + 1 == stream.size()) return std::nullopt;
        char next = stream[++i];
        if (next == '_') topic.push_back('_');
        else if (next == 'd') topic.push_back('.');
        else return std::nullopt;
    }
    if (!is_valid_topic_name(topic)) return std::nullopt;
    return topic;
}

std::string event_message_id(std::string_view scope, std::string_view source, std::string_view id) {
    std::string fields;
    if (!scope.empty()) append_field(fields, scope);
    append_field(fields, source);
    append_field(fields, id);
    return "ev-" + security::sha256_hex(fields);
}

std::string idempotency_message_id(std::string_view scope, std::string_view key, std::size_t index) {
    std::string fields;
    if (!scope.empty()) append_field(fields, scope);
    append_field(fields, key);
    return "ik-" + security::sha256_hex(fields) + "-" + std::to_string(index);
}

std::uint64_t stream_epoch(std::string_view stream, std::int64_t created_ns) {
    // FNV-1a over the name and the creation time: stable across nodes and builds, unlike std::hash.
    std::uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 0x100000001b3ull;
    };
    for (char c : stream) mix(static_cast<unsigned char>(c));
    mix(0);
    auto t = static_cast<std::uint64_t>(created_ns);
    for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(t >> (8 * i)));
    return h ? h : 1;
}

Result<PubAck> parse_pub_ack(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) return make_error(Errc::corrupt, "JetStream publish acknowledgement is not a JSON object");
    auto& o = v.as_object();
    PubAck ack;
    if (auto* e = api_error(o)) {
        ack.error_code = static_cast<int>(json_u64(*e, "code"));
        ack.api_error_code = static_cast<int>(json_u64(*e, "err_code"));
        ack.description = json_text(*e, "description");
        if (ack.error_code == 0) ack.error_code = 500;
        return ack;
    }
    ack.sequence = json_u64(o, "seq");
    if (ack.sequence == 0) return make_error(Errc::corrupt, "JetStream publish acknowledgement has no sequence");
    if (auto* d = o.if_contains("duplicate"); d && d->is_bool()) ack.duplicate = d->as_bool();
    return ack;
}

Result<StoredMessage> parse_msg_get(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) return make_error(Errc::corrupt, "JetStream message answer is not a JSON object");
    auto& o = v.as_object();
    if (auto* e = api_error(o)) {
        auto code = json_u64(*e, "code");
        auto text = json_text(*e, "description");
        if (code == 404) return make_error(Errc::not_found, "JetStream: " + text);
        if (code == 503 || code == 408 || code == 504) return make_error(Errc::unavailable, "JetStream: " + text);
        return make_error(Errc::corrupt, "JetStream: " + text);
    }
    auto* m = o.if_contains("message");
    if (!m || !m->is_object()) return make_error(Errc::corrupt, "JetStream message answer has no message");
    auto& msg = m->as_object();
    StoredMessage out;
    out.sequence = json_u64(msg, "seq");
    if (out.sequence == 0) return make_error(Errc::corrupt, "JetStream message answer has no sequence");
    auto data = base64_decode(json_text(msg, "data"));
    if (!data) return make_error(Errc::corrupt, "JetStream message data: " + data.error().message);
    out.data.assign(data->begin(), data->end());
    if (auto hdrs = json_text(msg, "hdrs"); !hdrs.empty()) {
        auto block = base64_decode(hdrs);
        if (!block) return make_error(Errc::corrupt, "JetStream message headers: " + block.error().message);
        out.headers.assign(block->begin(), block->end());
    }
    out.timestamp_ms = parse_timestamp_ms(json_text(msg, "time")).value_or(0);
    return out;
}

std::optional<std::string> header_value(std::string_view headers, std::string_view name) {
    auto same = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
                return false;
        return true;
    };
    // The first line is the status line ("NATS/1.0"); then "Name: value" lines up to an empty one.
    auto eol = headers.find("\r\n");
    while (eol != std::string_view::npos) {
        headers.remove_prefix(eol + 2);
        eol = headers.find("\r\n");
        auto line = headers.substr(0, eol);
        if (line.empty()) break;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || !same(line.substr(0, colon), name)) continue;
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        return std::string(value);
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_timestamp_ms(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
    auto num = [&s](std::size_t pos, std::size_t len, int& out) {
        if (pos + len > s.size()) return false;
        auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
        return ec == std::errc{} && p == s.data() + pos + len;
    };
    int year, month, day, hour, minute, second;
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return std::nullopt;
    if (!num(0, 4, year) || !num(5, 2, month) || !num(8, 2, day) || !num(11, 2, hour) || !num(14, 2, minute) ||
        !num(17, 2, second))
        return std::nullopt;
    std::size_t pos = 19;
    std::int64_t millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) millis = millis * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int d = digits; d < 3; ++d) millis *= 10;
    }
    std::int64_t offset_s = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (pos + 6 != s.size() || s[pos + 3] != ':' || !num(pos + 1, 2, oh) || !num(pos + 4, 2, om))
            return std::nullopt;
        offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 60)
        return std::nullopt;
    using namespace std::chrono;
    auto ymd = year_month_day{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                              std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    std::int64_t days = sys_days{ymd}.time_since_epoch().count();
    std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    return seconds * 1000 + millis;
}

}  // namespace herald::engine::jetstream
