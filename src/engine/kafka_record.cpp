#include "engine/kafka_record.hpp"

#include <boost/json.hpp>

#include <ctime>

#include "base/base64.hpp"
#include "core/cloud_event.hpp"
#include "core/codec.hpp"

namespace herald::engine::kafka {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
        auto y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
        if (x != y) return false;
    }
    return true;
}

const std::string* find_header(const std::vector<RecordHeader>* headers, std::string_view name) {
    if (!headers) return nullptr;
    for (const auto& [n, v] : *headers)
        if (iequals(n, name)) return &v;
    return nullptr;
}

// The media type without parameters, lower-cased.
std::string media_type(std::string_view content_type) {
    auto semi = content_type.find(';');
    auto t = content_type.substr(0, semi);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    std::string out(t);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
}

std::string rfc3339_ms(std::int64_t ms) {
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    return out + frac;
}

EventOut from_cloud_event(const core::CloudEvent& e) {
    EventOut out;
    out.id = e.id;
    out.source = e.source;
    out.type = e.type;
    out.json = core::encode_structured(e);
    return out;
}

// Binary mode: the Kafka binding's `ce_` headers carry raw values, the HTTP binding's `ce-` headers
// percent-encoded ones. Re-encoding lets the one binary-mode decoder (and its validation) serve both.
Result<core::CloudEvent> decode_binary_record(const RecordIn& r) {
    std::vector<core::Header> headers;
    for (const auto& [name, value] : *r.headers) {
        if (name.size() < 3 || !iequals(std::string_view(name).substr(0, 3), "ce_")) continue;
        headers.emplace_back("ce-" + name.substr(3), core::percent_encode_header(value));
    }
    const std::string* ct = find_header(r.headers, "content-type");
    return core::decode_binary(headers, ct ? std::string_view(*ct) : std::string_view(), r.value);
}

std::uint32_t header_number(const RecordIn& r, std::string_view name) {
    const std::string* v = find_header(r.headers, name);
    if (!v || v->empty() || v->size() > 9) return 0;
    std::uint32_t n = 0;
    for (char c : *v) {
        if (c < '0' || c > '9') return 0;
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return n;
}

// Herald's own request headers (a record without all three is no part of a replayable request).
void read_request_part(const RecordIn& r, EventOut& out) {
    const std::string* key = find_header(r.headers, "herald-idempotency-key");
    if (!key) return;
    out.idempotency_key = *key;
    out.request_count = header_number(r, "herald-request-count");
    out.request_index = header_number(r, "herald-request-index");
    if (out.request_index >= out.request_count) out.request_count = 0;
}

EventOut wrap_record(const RecordIn& r, const WrapSettings& wrap) {
    core::CloudEvent e;
    e.id = std::string(r.topic) + "-" + std::to_string(r.partition) + "-" + std::to_string(r.offset);
    e.source = wrap.source.empty() ? "kafka:" + std::string(r.topic) : wrap.source;
    e.type = wrap.type;
    if (r.timestamp_ms >= 0) e.time = rfc3339_ms(r.timestamp_ms);
    if (!r.value.empty()) {
        boost::system::error_code ec;
        auto v = boost::json::parse(r.value, ec);
        if (!ec) {
            e.datacontenttype = "application/json";
            e.data_kind = core::DataKind::json;
            e.data = boost::json::serialize(v);
        } else {
            e.datacontenttype = "application/octet-stream";
            e.data_kind = core::DataKind::binary;
            e.data = std::string(r.value);
        }
    }
    if (r.key && !r.key->empty()) {
        e.extensions["partitionkey"] = std::string(*r.key);
        // A key that is not a valid string attribute (not UTF-8) stays out rather than making the event invalid.
        if (!core::validate(e)) e.extensions.erase("partitionkey");
    }
    auto out = from_cloud_event(e);
    out.wrapped = true;
    return out;
}

}  // namespace

EventOut event_from_record(const RecordIn& r, const WrapSettings& wrap) {
    const std::string* id = find_header(r.headers, "herald-id");
    const std::string* type = find_header(r.headers, "herald-type");
    const std::string* source = find_header(r.headers, "herald-source");
    const std::string* ct = find_header(r.headers, "content-type");
    bool structured = ct && media_type(*ct) == "application/cloudevents+json";
    if (id && type && source && structured) {
        // Written by Herald: the value is already the structured event.
        EventOut out;
        out.id = *id;
        out.type = *type;
        out.source = *source;
        read_request_part(r, out);
        out.json = std::string(r.value);
        return out;
    }
    if (structured) {
        if (auto e = core::decode_structured(r.value)) return from_cloud_event(*e);
    } else if (find_header(r.headers, "ce_specversion")) {
        if (auto e = decode_binary_record(r)) {
            auto out = from_cloud_event(*e);
            if (id && type && source) read_request_part(r, out);
            return out;
        }
    }
    return wrap_record(r, wrap);
}

Result<RecordOut> record_from_event(std::string_view id, std::string_view source, std::string_view type,
                                    const RequestPart& request, std::string_view json, WriteFormat format) {
    RecordOut out;
    out.headers.reserve(8);
    if (format == WriteFormat::structured) {
        out.value = std::string(json);
        out.headers.emplace_back("content-type", "application/cloudevents+json; charset=UTF-8");
    } else {
        auto e = core::decode_structured(json);
        if (!e) return std::move(e).error();
        out.headers.emplace_back("ce_specversion", e->specversion);
        out.headers.emplace_back("ce_id", e->id);
        out.headers.emplace_back("ce_source", e->source);
        out.headers.emplace_back("ce_type", e->type);
        if (e->dataschema) out.headers.emplace_back("ce_dataschema", *e->dataschema);
        if (e->subject) out.headers.emplace_back("ce_subject", *e->subject);
        if (e->time) out.headers.emplace_back("ce_time", *e->time);
        for (const auto& [name, value] : e->extensions) {
            std::string text;
            if (auto* b = std::get_if<bool>(&value)) text = *b ? "true" : "false";
            else if (auto* i = std::get_if<std::int64_t>(&value)) text = std::to_string(*i);
            else text = std::get<std::string>(value);
            out.headers.emplace_back("ce_" + name, std::move(text));
        }
        if (e->datacontenttype) out.headers.emplace_back("content-type", *e->datacontenttype);
        // In the JSON format, data without a datacontenttype is JSON (application/json is implied); in binary
        // mode the value alone would not say so.
        else if (e->data_kind == core::DataKind::json) out.headers.emplace_back("content-type", "application/json");
        out.value = std::move(e->data);
    }
    out.headers.emplace_back("herald-id", std::string(id));
    out.headers.emplace_back("herald-type", std::string(type));
    out.headers.emplace_back("herald-source", std::string(source));
    if (!request.key.empty()) {
        out.headers.emplace_back("herald-idempotency-key", std::string(request.key));
        out.headers.emplace_back("herald-request-index", std::to_string(request.index));
        out.headers.emplace_back("herald-request-count", std::to_string(request.count));
    }
    return out;
}

std::optional<DedupWindow::Hit> RequestRuns::add(const std::string& key, std::uint64_t offset, std::uint32_t index,
                                                 std::uint32_t count) {
    if (count == 0 || index >= count) return std::nullopt;
    if (index == 0) {
        if (count == 1) {
            open_.erase(key);
            return DedupWindow::Hit{offset, 1};
        }
        if (open_.size() >= max_open_ && !open_.count(key)) open_.erase(open_.begin());
        open_[key] = Run{offset, 1, count};
        return std::nullopt;
    }
    auto it = open_.find(key);
    if (it == open_.end()) return std::nullopt;
    if (it->second.next != index || it->second.count != count) {
        open_.erase(it);  // a part missing or out of order: not a complete request
        return std::nullopt;
    }
    if (++it->second.next < count) return std::nullopt;
    DedupWindow::Hit hit{it->second.first, count};
    open_.erase(it);
    return hit;
}

std::uint64_t topic_epoch(std::string_view cluster_id, std::string_view kafka_topic) {
    // FNV-1a: stable across nodes and builds, unlike std::hash.
    std::uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](std::string_view s) {
        for (char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ull;
        }
        h ^= 0xff;
        h *= 0x100000001b3ull;
    };
    mix(cluster_id);
    mix(kafka_topic);
    return h ? h : 1;
}

}  // namespace herald::engine::kafka
