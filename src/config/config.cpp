#include "config/config.hpp"
#include "config/walker.hpp"

#include "base/units.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "engine/topic_name.hpp"

namespace herald::config {
namespace {

// The walker and the helpers shared with proxy_config.cpp live in walker.hpp.
using detail::parse_rate;
using detail::string_list;
using detail::Walker;

Result<void> parse_auth(const Walker& w, const YAML::Node& a, AuthSettings& auth) {
    if (auto k = w.keys(a, "auth", {"enabled", "anonymous_scopes", "allow_query_token", "cookie", "realm", "jwt",
                                    "api_keys", "admin_token", "admin_token_sha256"});
        !k)
        return k;
    if (auto n = a["enabled"]) { HERALD_TRY(v, w.boolean(n, "auth.enabled")); auth.enabled = v; }
    if (auto n = a["anonymous_scopes"]) { HERALD_TRY(v, string_list(w, n, "auth.anonymous_scopes")); auth.anonymous_scopes = v; }
    if (auto n = a["allow_query_token"]) { HERALD_TRY(v, w.boolean(n, "auth.allow_query_token")); auth.allow_query_token = v; }
    if (auto n = a["cookie"]) { HERALD_TRY(v, w.str(n, "auth.cookie")); auth.cookie = v; }
    if (auto n = a["realm"]) { HERALD_TRY(v, w.str(n, "auth.realm")); auth.realm = v; }
    if (auto n = a["admin_token"]) { HERALD_TRY(v, w.str(n, "auth.admin_token")); auth.admin_token = v; }
    if (auto n = a["admin_token_sha256"]) { HERALD_TRY(v, w.str(n, "auth.admin_token_sha256")); auth.admin_token_sha256 = v; }
    if (auto list = a["jwt"]) {
        if (!list.IsSequence()) return w.error(list, "auth.jwt", "expected a list of issuers");
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto path = "auth.jwt[" + std::to_string(i) + "]";
            auto n = list[i];
            if (auto k = w.keys(n, path, {"issuer", "audiences", "keys", "jwks_file", "jwks_url", "algorithms",
                                          "leeway", "scope_claim"});
                !k)
                return k;
            IssuerSettings is;
            if (auto x = n["issuer"]) { HERALD_TRY(v, w.str(x, path + ".issuer")); is.issuer = v; }
            if (auto x = n["audiences"]) { HERALD_TRY(v, string_list(w, x, path + ".audiences")); is.audiences = v; }
            if (auto x = n["jwks_file"]) { HERALD_TRY(v, w.str(x, path + ".jwks_file")); is.jwks_file = v; }
            if (auto x = n["jwks_url"]) { HERALD_TRY(v, w.str(x, path + ".jwks_url")); is.jwks_url = v; }
            if (auto x = n["algorithms"]) { HERALD_TRY(v, string_list(w, x, path + ".algorithms")); is.algorithms = v; }
            if (auto x = n["leeway"]) { HERALD_TRY(v, w.duration(x, path + ".leeway", 0)); is.leeway_ms = v; }
            if (auto x = n["scope_claim"]) { HERALD_TRY(v, w.str(x, path + ".scope_claim")); is.scope_claim = v; }
            if (auto keys = n["keys"]) {
                if (!keys.IsSequence()) return w.error(keys, path + ".keys", "expected a list of keys");
                for (std::size_t j = 0; j < keys.size(); ++j) {
                    auto kp = path + ".keys[" + std::to_string(j) + "]";
                    auto kn = keys[j];
                    if (auto k = w.keys(kn, kp, {"pem", "pem_file", "jwk", "secret", "kid", "alg"}); !k) return k;
                    JwtKeySettings key;
                    int sources = 0;
                    if (auto x = kn["pem"]) { HERALD_TRY(v, w.str(x, kp + ".pem")); key.pem = v; ++sources; }
                    if (auto x = kn["pem_file"]) { HERALD_TRY(v, w.str(x, kp + ".pem_file")); key.pem_file = v; ++sources; }
                    if (auto x = kn["secret"]) { HERALD_TRY(v, w.str(x, kp + ".secret")); key.secret = v; ++sources; }
                    if (auto x = kn["jwk"]) {
                        // A JWK may be written as a YAML mapping or as JSON text; keep it as JSON text.
                        if (x.IsScalar()) key.jwk = x.Scalar();
                        else {
                            YAML::Emitter e;
                            e << YAML::DoubleQuoted << YAML::Flow << x;
                            key.jwk = e.c_str();
                        }
                        ++sources;
                    }
                    if (auto x = kn["kid"]) { HERALD_TRY(v, w.str(x, kp + ".kid")); key.kid = v; }
                    if (auto x = kn["alg"]) { HERALD_TRY(v, w.str(x, kp + ".alg")); key.alg = v; }
                    if (sources != 1) return w.error(kn, kp, "give exactly one of pem, pem_file, jwk or secret");
                    is.keys.push_back(std::move(key));
                }
            }
            if (is.keys.empty() && is.jwks_file.empty() && is.jwks_url.empty())
                return w.error(n, path, "an issuer needs keys, jwks_file or jwks_url");
            auth.issuers.push_back(std::move(is));
        }
    }
    if (auto list = a["api_keys"]) {
        if (!list.IsSequence()) return w.error(list, "auth.api_keys", "expected a list of keys");
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto path = "auth.api_keys[" + std::to_string(i) + "]";
            auto n = list[i];
            if (auto k = w.keys(n, path, {"name", "key", "key_sha256", "scopes"}); !k) return k;
            ApiKeySettings k;
            if (auto x = n["name"]) { HERALD_TRY(v, w.str(x, path + ".name")); k.name = v; }
            else return w.error(n, path, "an API key needs a name");
            if (auto x = n["key"]) { HERALD_TRY(v, w.str(x, path + ".key")); k.key = v; }
            if (auto x = n["key_sha256"]) { HERALD_TRY(v, w.str(x, path + ".key_sha256")); k.key_sha256 = v; }
            if (k.key.empty() == k.key_sha256.empty()) return w.error(n, path, "give exactly one of key or key_sha256");
            if (auto x = n["scopes"]) { HERALD_TRY(v, string_list(w, x, path + ".scopes")); k.scopes = v; }
            auth.api_keys.push_back(std::move(k));
        }
    }
    return ok();
}

Result<TlsSettings> parse_tls(const Walker& w, const YAML::Node& n, const std::string& path) {
    if (auto k = w.keys(n, path, {"cert_file", "key_file", "min_version"}); !k) return std::move(k).error();
    TlsSettings t;
    if (auto x = n["cert_file"]) { HERALD_TRY(v, w.str(x, path + ".cert_file")); t.cert_file = v; }
    if (auto x = n["key_file"]) { HERALD_TRY(v, w.str(x, path + ".key_file")); t.key_file = v; }
    if (t.cert_file.empty()) return w.error(n, path + ".cert_file", "required: the PEM certificate (chain) file");
    if (t.key_file.empty()) return w.error(n, path + ".key_file", "required: the PEM private key file");
    if (auto x = n["min_version"]) {
        HERALD_TRY(v, w.str(x, path + ".min_version"));
        if (v == "1.0" || v == "1.1")
            return w.error(x, path + ".min_version",
                           "TLS " + v + " is not supported (RFC 8996): expected 1.2 or 1.3");
        if (v != "1.2" && v != "1.3") return w.error(x, path + ".min_version", "expected 1.2 or 1.3");
        t.min_version = v;
    }
    return t;
}

Result<NamingRuleSettings> parse_naming_rule(const Walker& w, const YAML::Node& n, const std::string& path) {
    if (auto k = w.keys(n, path, {"pattern", "shape", "example"}); !k) return std::move(k).error();
    NamingRuleSettings r;
    if (auto x = n["pattern"]) { HERALD_TRY(v, w.str(x, path + ".pattern")); r.pattern = v; }
    if (auto x = n["shape"]) { HERALD_TRY(v, w.str(x, path + ".shape")); r.shape = v; }
    if (auto x = n["example"]) { HERALD_TRY(v, w.str(x, path + ".example")); r.example = v; }
    if (r.pattern.empty() || r.shape.empty() || r.example.empty())
        return w.error(n, path, "a naming rule needs pattern, shape and example");
    return r;
}

Result<void> parse_schemas(const Walker& w, const YAML::Node& n, SchemaSettings& s) {
    if (auto k = w.keys(n, "schemas", {"naming", "compatibility", "files"}); !k) return k;
    if (auto x = n["naming"]) {
        if (auto k = w.keys(x, "schemas.naming", {"enforce", "event_type", "topic"}); !k) return k;
        if (auto y = x["enforce"]) { HERALD_TRY(v, w.boolean(y, "schemas.naming.enforce")); s.enforce_naming = v; }
        if (auto y = x["event_type"]) { HERALD_TRY(v, parse_naming_rule(w, y, "schemas.naming.event_type")); s.event_type = v; }
        if (auto y = x["topic"]) { HERALD_TRY(v, parse_naming_rule(w, y, "schemas.naming.topic")); s.topic = v; }
    }
    if (auto x = n["compatibility"]) {
        HERALD_TRY(v, w.str(x, "schemas.compatibility"));
        if (v != "none" && v != "backward" && v != "forward" && v != "full")
            return w.error(x, "schemas.compatibility", "expected none, backward, forward or full");
        s.compatibility = v;
    }
    if (auto x = n["files"]) {
        if (!x.IsSequence()) return w.error(x, "schemas.files", "expected a list of {type, file}");
        for (std::size_t i = 0; i < x.size(); ++i) {
            auto path = "schemas.files[" + std::to_string(i) + "]";
            if (auto k = w.keys(x[i], path, {"type", "file"}); !k) return k;
            SchemaFile f;
            if (auto y = x[i]["type"]) { HERALD_TRY(v, w.str(y, path + ".type")); f.type = v; }
            if (auto y = x[i]["file"]) { HERALD_TRY(v, w.str(y, path + ".file")); f.file = v; }
            if (f.type.empty() || f.file.empty()) return w.error(x[i], path, "each schema file needs type and file");
            s.files.push_back(std::move(f));
        }
    }
    return ok();
}

Result<void> parse_topic(const Walker& w, const YAML::Node& n, const std::string& path, TopicConfig& t) {
    if (auto k = w.keys(n, path, {"name", "fsync", "fsync_interval", "segment_bytes", "retention", "default_type",
                                  "accepted_types", "allow_unknown_types"});
        !k)
        return k;
    if (auto f = n["fsync"]) {
        HERALD_TRY(s, w.str(f, path + ".fsync"));
        if (s == "always") t.settings.fsync = engine::FsyncPolicy::always;
        else if (s == "interval") t.settings.fsync = engine::FsyncPolicy::interval;
        else if (s == "never") t.settings.fsync = engine::FsyncPolicy::never;
        else return w.error(f, path + ".fsync", "expected always, interval or never");
    }
    if (auto f = n["accepted_types"]) {
        if (!f.IsSequence()) return w.error(f, path + ".accepted_types", "expected a list of event-type globs");
        t.accepted_types.clear();
        for (std::size_t i = 0; i < f.size(); ++i) {
            HERALD_TRY(v, w.str(f[i], path + ".accepted_types[" + std::to_string(i) + "]"));
            t.accepted_types.push_back(v);
        }
    }
    if (auto f = n["allow_unknown_types"]) {
        HERALD_TRY(v, w.boolean(f, path + ".allow_unknown_types"));
        t.allow_unknown_types = v;
    }
    if (auto f = n["fsync_interval"]) {
        HERALD_TRY(v, w.duration(f, path + ".fsync_interval", 1));
        t.settings.fsync_interval_ms = v;
    }
    if (auto f = n["segment_bytes"]) {
        HERALD_TRY(v, w.bytes(f, path + ".segment_bytes", 4096));
        t.settings.segment_bytes = v;
    }
    if (auto r = n["retention"]) {
        if (auto k = w.keys(r, path + ".retention", {"max_age", "max_bytes"}); !k) return k;
        if (auto f = r["max_age"]) {
            HERALD_TRY(v, w.duration(f, path + ".retention.max_age", 1000));
            t.settings.retention_ms = v;
        }
        if (auto f = r["max_bytes"]) {
            HERALD_TRY(v, w.bytes(f, path + ".retention.max_bytes", 4096));
            t.settings.retention_bytes = v;
        }
    }
    if (auto f = n["default_type"]) {
        HERALD_TRY(v, w.str(f, path + ".default_type"));
        t.default_type = v;
    }
    return ok();
}

// A name JetStream accepts for a stream: no whitespace, '.', '*', '>', path separators or control characters.
bool valid_stream_prefix(std::string_view p) {
    if (p.empty() || p.size() > 32) return false;
    for (char c : p)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// Subject tokens separated by '.', ending with '.': the topic name is appended as the last token(s).
bool valid_subject_prefix(std::string_view p) {
    if (p.size() < 2 || p.back() != '.' || p.front() == '.') return false;
    char prev = 0;
    for (char c : p) {
        if (c <= ' ' || c == '*' || c == '>' || c == 0x7f || (c == '.' && prev == '.')) return false;
        prev = c;
    }
    return true;
}

Result<KafkaSettings> parse_kafka(const Walker& w, const YAML::Node& k) {
    KafkaSettings ks;
    if (auto r = w.keys(k, "engine.kafka", {"brokers", "topic_prefix", "replication_factor", "create_topics",
                                             "publish_timeout", "request_timeout", "linger", "properties", "bridges",
                                             "lease_ttl"});
        !r)
        return std::move(r).error();
    if (auto s = k["brokers"]) {
        HERALD_TRY(v, string_list(w, s, "engine.kafka.brokers"));
        for (auto& b : v)
            if (b.find(':') == std::string::npos || b.find("://") != std::string::npos)
                return w.error(s, "engine.kafka.brokers", "expected host:port, got \"" + b + "\"");
        ks.brokers = v;
    }
    if (auto s = k["topic_prefix"]) {
        HERALD_TRY(v, w.str(s, "engine.kafka.topic_prefix"));
        bool valid = v.size() <= 40;
        for (char c : v)
            valid &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '_' || c == '-';
        if (!valid) return w.error(s, "engine.kafka.topic_prefix", "up to 40 of A-Z a-z 0-9 . _ -");
        ks.topic_prefix = v;
    }
    if (auto s = k["replication_factor"]) {
        HERALD_TRY(v, w.count(s, "engine.kafka.replication_factor", 1, 16));
        ks.replication_factor = int(v);
    }
    if (auto s = k["create_topics"]) {
        HERALD_TRY(v, w.str(s, "engine.kafka.create_topics"));
        if (v != "admin" && v != "broker") return w.error(s, "engine.kafka.create_topics", "expected admin or broker");
        ks.create_topics = v;
    }
    if (auto s = k["publish_timeout"]) { HERALD_TRY(v, w.duration(s, "engine.kafka.publish_timeout", 100)); ks.publish_timeout_ms = v; }
    if (auto s = k["request_timeout"]) { HERALD_TRY(v, w.duration(s, "engine.kafka.request_timeout", 10)); ks.request_timeout_ms = v; }
    if (auto s = k["linger"]) { HERALD_TRY(v, w.duration(s, "engine.kafka.linger", 0)); ks.linger_ms = v; }
    if (auto s = k["lease_ttl"]) { HERALD_TRY(v, w.duration(s, "engine.kafka.lease_ttl", 1'000)); ks.lease_ttl_ms = v; }
    if (auto p = k["properties"]) {
        if (!p.IsMap()) return w.error(p, "engine.kafka.properties", "expected a map of librdkafka properties");
        for (auto it = p.begin(); it != p.end(); ++it) {
            auto name = it->first.as<std::string>();
            HERALD_TRY(v, w.str(it->second, "engine.kafka.properties." + name));
            if (name == "bootstrap.servers" || name == "enable.idempotence" || name == "acks")
                return w.error(it->first, "engine.kafka.properties." + name,
                               "is set by Herald (brokers; idempotence and acks=all are what make publishing safe)");
            ks.properties[name] = v;
        }
    }
    if (auto b = k["bridges"]) {
        if (!b.IsSequence()) return w.error(b, "engine.kafka.bridges", "expected a list");
        for (std::size_t i = 0; i < b.size(); ++i) {
            auto path = "engine.kafka.bridges[" + std::to_string(i) + "]";
            auto e = b[i];
            if (auto r = w.keys(e, path, {"topic", "kafka_topic", "partition", "write_format", "wrap_type", "wrap_source"}); !r)
                return std::move(r).error();
            KafkaBridgeSettings bs;
            if (!e["topic"] || !e["kafka_topic"]) return w.error(e, path, "needs topic and kafka_topic");
            HERALD_TRY(topic, w.str(e["topic"], path + ".topic"));
            if (!engine::is_valid_topic_name(topic))
                return w.error(e["topic"], path + ".topic", "topic names are [a-z0-9][a-z0-9._-]{0,199}");
            for (auto& other : ks.bridges)
                if (other.topic == topic) return w.error(e["topic"], path + ".topic", "bridged twice");
            bs.topic = topic;
            HERALD_TRY(kt, w.str(e["kafka_topic"], path + ".kafka_topic"));
            if (kt.empty() || kt.size() > 249) return w.error(e["kafka_topic"], path + ".kafka_topic", "1 to 249 characters");
            bs.kafka_topic = kt;
            if (auto s = e["partition"]) { HERALD_TRY(v, w.count(s, path + ".partition", 0, 100000)); bs.partition = int(v); }
            if (auto s = e["write_format"]) {
                HERALD_TRY(v, w.str(s, path + ".write_format"));
                if (v != "structured" && v != "binary") return w.error(s, path + ".write_format", "expected structured or binary");
                bs.write_format = v;
            }
            if (auto s = e["wrap_type"]) { HERALD_TRY(v, w.str(s, path + ".wrap_type")); bs.wrap_type = v; }
            if (auto s = e["wrap_source"]) { HERALD_TRY(v, w.str(s, path + ".wrap_source")); bs.wrap_source = v; }
            ks.bridges.push_back(std::move(bs));
        }
    }
    return ks;
}

Result<EngineSettings> parse_engine(const Walker& w, const YAML::Node& n) {
    EngineSettings e;
    if (auto k = w.keys(n, "engine", {"kind", "jetstream", "kafka"}); !k) return std::move(k).error();
    if (auto k = n["kind"]) {
        HERALD_TRY(v, w.str(k, "engine.kind"));
        if (v != "embedded" && v != "jetstream" && v != "kafka")
            return w.error(k, "engine.kind", "expected embedded, jetstream or kafka");
        e.kind = v;
    }
    auto j = n["jetstream"];
    if (j) {
        auto& js = e.jetstream;
        if (auto k = w.keys(j, "engine.jetstream", {"servers", "stream_prefix", "subject_prefix", "streams", "replicas",
                                                    "ack_timeout", "publish_timeout", "request_timeout", "lease_ttl"});
            !k)
            return std::move(k).error();
        if (auto s = j["servers"]) {
            HERALD_TRY(v, string_list(w, s, "engine.jetstream.servers"));
            for (auto& url : v)
                if (!url.starts_with("nats://") && !url.starts_with("tls://"))
                    return w.error(s, "engine.jetstream.servers", "expected nats://host:port or tls://host:port URLs, got \"" + url + "\"");
            js.servers = v;
        }
        if (auto s = j["stream_prefix"]) {
            HERALD_TRY(v, w.str(s, "engine.jetstream.stream_prefix"));
            if (!valid_stream_prefix(v))
                return w.error(s, "engine.jetstream.stream_prefix", "1 to 32 of A-Z a-z 0-9 _ -");
            js.stream_prefix = v;
        }
        if (auto s = j["subject_prefix"]) {
            HERALD_TRY(v, w.str(s, "engine.jetstream.subject_prefix"));
            if (!valid_subject_prefix(v))
                return w.error(s, "engine.jetstream.subject_prefix",
                               "subject tokens ending with '.', without spaces, '*' or '>' (e.g. herald.)");
            js.subject_prefix = v;
        }
        if (auto s = j["streams"]) {
            HERALD_TRY(v, w.str(s, "engine.jetstream.streams"));
            if (v != "per_topic" && v != "shared")
                return w.error(s, "engine.jetstream.streams", "expected per_topic (a stream per topic) or shared (one stream)");
            js.streams = v;
        }
        if (auto s = j["replicas"]) { HERALD_TRY(v, w.count(s, "engine.jetstream.replicas", 1, 5)); js.replicas = int(v); }
        if (auto s = j["ack_timeout"]) { HERALD_TRY(v, w.duration(s, "engine.jetstream.ack_timeout", 10)); js.ack_timeout_ms = v; }
        if (auto s = j["publish_timeout"]) { HERALD_TRY(v, w.duration(s, "engine.jetstream.publish_timeout", 100)); js.publish_timeout_ms = v; }
        if (auto s = j["request_timeout"]) { HERALD_TRY(v, w.duration(s, "engine.jetstream.request_timeout", 10)); js.request_timeout_ms = v; }
        if (auto s = j["lease_ttl"]) { HERALD_TRY(v, w.duration(s, "engine.jetstream.lease_ttl", 1'000)); js.lease_ttl_ms = v; }
        if (e.jetstream.publish_timeout_ms < e.jetstream.ack_timeout_ms)
            return w.error(j, "engine.jetstream.publish_timeout", "must be at least engine.jetstream.ack_timeout");
    }
    if (e.kind == "jetstream" && e.jetstream.servers.empty())
        return w.error(j ? j : n, "engine.jetstream.servers", "engine kind jetstream needs at least one server");
    auto kn = n["kafka"];
    if (kn) {
        HERALD_TRY(kafka, parse_kafka(w, kn));
        e.kafka = std::move(kafka);
    }
    if (e.kind == "kafka" && e.kafka.brokers.empty())
        return w.error(kn ? kn : n, "engine.kafka.brokers", "engine kind kafka needs at least one broker");
    return e;
}

Result<Config> parse_root(const Walker& w, const YAML::Node& root) {
    Config c;
    if (!root || root.IsNull()) return c;
    if (auto k = w.keys(root, "", {"listen", "admin_listen", "data_dir", "threads", "event_source", "http", "sse",
                                   "topics", "dedup", "long_poll_max_wait", "page_max_events", "websocket", "cors", "webhooks", "auth", "rate_limits", "schemas",
                                   "upstreams", "routes", "log", "tracing", "portal", "tls", "admin_tls", "engine"});
        !k)
        return std::move(k).error();
    if (auto n = root["engine"]) { HERALD_TRY(v, parse_engine(w, n)); c.engine = v; }
    if (auto n = root["listen"]) { HERALD_TRY(v, w.str(n, "listen")); c.listen = v; }
    if (auto n = root["admin_listen"]) { HERALD_TRY(v, w.str(n, "admin_listen")); c.admin_listen = v; }
    if (auto n = root["tls"]) { HERALD_TRY(v, parse_tls(w, n, "tls")); c.tls = v; }
    if (auto n = root["admin_tls"]) { HERALD_TRY(v, parse_tls(w, n, "admin_tls")); c.admin_tls = v; }
    if (auto n = root["data_dir"]) { HERALD_TRY(v, w.str(n, "data_dir")); c.data_dir = v; }
    if (auto n = root["threads"]) { HERALD_TRY(v, w.count(n, "threads", 0, 256)); c.threads = unsigned(v); }
    if (auto n = root["event_source"]) { HERALD_TRY(v, w.str(n, "event_source")); c.event_source = v; }
    if (auto n = root["long_poll_max_wait"]) {
        HERALD_TRY(v, w.duration(n, "long_poll_max_wait", 0));
        c.long_poll_max_ms = v;
    }
    if (auto n = root["page_max_events"]) {
        HERALD_TRY(v, w.count(n, "page_max_events", 1, 100'000));
        c.page_max_events = v;
    }
    if (auto h = root["http"]) {
        if (auto k = w.keys(h, "http", {"header_limit", "body_limit", "header_timeout", "body_timeout",
                                        "idle_timeout", "max_connections", "max_connections_per_address"});
            !k)
            return std::move(k).error();
        if (auto n = h["header_limit"]) { HERALD_TRY(v, w.bytes(n, "http.header_limit", 1024)); c.http.header_limit = v; }
        if (auto n = h["body_limit"]) { HERALD_TRY(v, w.bytes(n, "http.body_limit", 1024)); c.http.body_limit = v; }
        if (auto n = h["header_timeout"]) { HERALD_TRY(v, w.duration(n, "http.header_timeout", 100)); c.http.header_timeout_ms = v; }
        if (auto n = h["body_timeout"]) { HERALD_TRY(v, w.duration(n, "http.body_timeout", 100)); c.http.body_timeout_ms = v; }
        if (auto n = h["idle_timeout"]) { HERALD_TRY(v, w.duration(n, "http.idle_timeout", 100)); c.http.idle_timeout_ms = v; }
        if (auto n = h["max_connections"]) { HERALD_TRY(v, w.count(n, "http.max_connections", 1, 1'000'000)); c.http.max_connections = v; }
        if (auto n = h["max_connections_per_address"]) { HERALD_TRY(v, w.count(n, "http.max_connections_per_address", 0, 1'000'000)); c.http.max_connections_per_address = v; }
    }
    if (auto s = root["sse"]) {
        if (auto k = w.keys(s, "sse", {"heartbeat", "retry", "high_water_bytes"}); !k) return std::move(k).error();
        if (auto n = s["heartbeat"]) { HERALD_TRY(v, w.duration(n, "sse.heartbeat", 100)); c.sse.heartbeat_ms = v; }
        if (auto n = s["retry"]) { HERALD_TRY(v, w.duration(n, "sse.retry", 0)); c.sse.retry_ms = v; }
        if (auto n = s["high_water_bytes"]) { HERALD_TRY(v, w.bytes(n, "sse.high_water_bytes", 1024)); c.sse.high_water_bytes = v; }
    }
    if (auto s = root["websocket"]) {
        auto& ws = c.websocket;
        if (auto k = w.keys(s, "websocket", {"ping_interval", "pong_timeout", "max_frame_bytes", "max_message_bytes",
                                             "max_subscriptions", "max_inflight_publishes", "publish_rate",
                                             "publish_burst", "high_water_bytes", "deflate"});
            !k)
            return std::move(k).error();
        if (auto n = s["ping_interval"]) { HERALD_TRY(v, w.duration(n, "websocket.ping_interval", 100)); ws.ping_interval_ms = v; }
        if (auto n = s["pong_timeout"]) { HERALD_TRY(v, w.duration(n, "websocket.pong_timeout", 100)); ws.pong_timeout_ms = v; }
        if (auto n = s["max_frame_bytes"]) { HERALD_TRY(v, w.bytes(n, "websocket.max_frame_bytes", 1024)); ws.max_frame_bytes = v; }
        if (auto n = s["max_message_bytes"]) { HERALD_TRY(v, w.bytes(n, "websocket.max_message_bytes", 1024)); ws.max_message_bytes = v; }
        if (auto n = s["max_subscriptions"]) { HERALD_TRY(v, w.count(n, "websocket.max_subscriptions", 1, 100'000)); ws.max_subscriptions = v; }
        if (auto n = s["max_inflight_publishes"]) { HERALD_TRY(v, w.count(n, "websocket.max_inflight_publishes", 1, 100'000)); ws.max_inflight_publishes = v; }
        if (auto n = s["publish_rate"]) { HERALD_TRY(v, w.count(n, "websocket.publish_rate", 0, 10'000'000)); ws.publish_rate = v; }
        if (auto n = s["publish_burst"]) { HERALD_TRY(v, w.count(n, "websocket.publish_burst", 1, 10'000'000)); ws.publish_burst = v; }
        if (auto n = s["high_water_bytes"]) { HERALD_TRY(v, w.bytes(n, "websocket.high_water_bytes", 1024)); ws.high_water_bytes = v; }
        if (auto n = s["deflate"]) { HERALD_TRY(v, w.boolean(n, "websocket.deflate")); ws.deflate = v; }
    }
    if (auto s = root["portal"]) {
        if (auto k = w.keys(s, "portal", {"enabled"}); !k) return std::move(k).error();
        if (auto n = s["enabled"]) { HERALD_TRY(v, w.boolean(n, "portal.enabled")); c.portal.enabled = v; }
    }
    if (auto s = root["cors"]) {
        if (auto k = w.keys(s, "cors", {"allowed_origins", "allow_credentials", "max_age"}); !k)
            return std::move(k).error();
        if (auto n = s["allowed_origins"]) {
            if (!n.IsSequence()) return w.error(n, "cors.allowed_origins", "expected a list of origins");
            for (std::size_t i = 0; i < n.size(); ++i) {
                auto path = "cors.allowed_origins[" + std::to_string(i) + "]";
                HERALD_TRY(o, w.str(n[i], path));
                if (o != "*" && o.find("://") == std::string::npos)
                    return w.error(n[i], path, "expected an origin like https://app.example.com, or *");
                c.cors.allowed_origins.push_back(o);
            }
        }
        if (auto n = s["allow_credentials"]) { HERALD_TRY(v, w.boolean(n, "cors.allow_credentials")); c.cors.allow_credentials = v; }
        if (auto n = s["max_age"]) { HERALD_TRY(v, w.duration(n, "cors.max_age", 0)); c.cors.max_age_ms = v; }
    }
    if (auto s = root["webhooks"]) {
        auto& wh = c.webhooks;
        if (auto k = w.keys(s, "webhooks", {"retry_schedule", "retry_jitter", "disable_after", "timeout",
                                            "rotation_overlap", "max_subscriptions", "allow_destinations", "ca_file",
                                            "user_agent", "handshake_origin", "max_idle_connections_per_origin"});
            !k)
            return std::move(k).error();
        if (auto n = s["retry_schedule"]) {
            if (!n.IsSequence() || n.size() > 50)
                return w.error(n, "webhooks.retry_schedule", "expected a list of at most 50 durations");
            wh.retry_schedule_ms.clear();
            for (std::size_t i = 0; i < n.size(); ++i) {
                HERALD_TRY(v, w.duration(n[i], "webhooks.retry_schedule[" + std::to_string(i) + "]", 1));
                wh.retry_schedule_ms.push_back(v);
            }
        }
        if (auto n = s["retry_jitter"]) { HERALD_TRY(v, w.boolean(n, "webhooks.retry_jitter")); wh.retry_jitter = v; }
        if (auto n = s["disable_after"]) { HERALD_TRY(v, w.duration(n, "webhooks.disable_after", 1)); wh.disable_after_ms = v; }
        if (auto n = s["timeout"]) { HERALD_TRY(v, w.duration(n, "webhooks.timeout", 100)); wh.timeout_ms = v; }
        if (auto n = s["rotation_overlap"]) { HERALD_TRY(v, w.duration(n, "webhooks.rotation_overlap", 0)); wh.rotation_overlap_ms = v; }
        if (auto n = s["max_subscriptions"]) { HERALD_TRY(v, w.count(n, "webhooks.max_subscriptions", 1, 1'000'000)); wh.max_subscriptions = v; }
        if (auto n = s["allow_destinations"]) {
            if (!n.IsSequence()) return w.error(n, "webhooks.allow_destinations", "expected a list of CIDRs such as 127.0.0.1/32");
            for (std::size_t i = 0; i < n.size(); ++i) {
                HERALD_TRY(v, w.str(n[i], "webhooks.allow_destinations[" + std::to_string(i) + "]"));
                wh.allow_destinations.push_back(v);
            }
        }
        if (auto n = s["ca_file"]) { HERALD_TRY(v, w.str(n, "webhooks.ca_file")); wh.ca_file = v; }
        if (auto n = s["user_agent"]) { HERALD_TRY(v, w.str(n, "webhooks.user_agent")); wh.user_agent = v; }
        if (auto n = s["handshake_origin"]) { HERALD_TRY(v, w.str(n, "webhooks.handshake_origin")); wh.handshake_origin = v; }
        if (auto n = s["max_idle_connections_per_origin"]) {
            HERALD_TRY(v, w.count(n, "webhooks.max_idle_connections_per_origin", 0, 100'000));
            wh.max_idle_per_origin = v;
        }
    }
    if (auto sc = root["schemas"]) {
        if (auto r = parse_schemas(w, sc, c.schemas); !r) return std::move(r).error();
    }
    if (auto a = root["auth"]) {
        if (auto r = parse_auth(w, a, c.auth); !r) return std::move(r).error();
    }
    if (auto r = root["rate_limits"]) {
        if (auto k = w.keys(r, "rate_limits", {"requests", "publish", "subscribe", "ws_messages",
                                               "max_streams_per_principal"});
            !k)
            return std::move(k).error();
        auto& rl = c.rate_limits;
        if (auto n = r["requests"]) { HERALD_TRY(v, parse_rate(w, n, "rate_limits.requests")); rl.requests = v; }
        if (auto n = r["publish"]) { HERALD_TRY(v, parse_rate(w, n, "rate_limits.publish")); rl.publish = v; }
        if (auto n = r["subscribe"]) { HERALD_TRY(v, parse_rate(w, n, "rate_limits.subscribe")); rl.subscribe = v; }
        if (auto n = r["ws_messages"]) { HERALD_TRY(v, parse_rate(w, n, "rate_limits.ws_messages")); rl.ws_messages = v; }
        if (auto n = r["max_streams_per_principal"]) { HERALD_TRY(v, w.count(n, "rate_limits.max_streams_per_principal", 0, 10'000'000)); rl.max_streams_per_principal = v; }
    }
    if (auto d = root["dedup"]) {
        if (auto k = w.keys(d, "dedup", {"window", "max_entries"}); !k) return std::move(k).error();
        if (auto n = d["window"]) { HERALD_TRY(v, w.duration(n, "dedup.window", 0)); c.dedup_window_ms = v; }
        if (auto n = d["max_entries"]) { HERALD_TRY(v, w.count(n, "dedup.max_entries", 0, 100'000'000)); c.dedup_max_entries = v; }
    }
    if (auto t = root["topics"]) {
        if (auto k = w.keys(t, "topics", {"auto_create", "defaults", "declared"}); !k) return std::move(k).error();
        if (auto n = t["auto_create"]) { HERALD_TRY(v, w.boolean(n, "topics.auto_create")); c.auto_create_topics = v; }
        if (auto n = t["defaults"]) {
            if (n["name"]) return w.error(n["name"], "topics.defaults.name", "defaults cannot have a name");
            if (auto r = parse_topic(w, n, "topics.defaults", c.topic_defaults); !r) return std::move(r).error();
        }
        if (auto n = t["declared"]) {
            if (!n.IsSequence()) return w.error(n, "topics.declared", "expected a list of topics");
            for (std::size_t i = 0; i < n.size(); ++i) {
                auto path = "topics.declared[" + std::to_string(i) + "]";
                auto item = n[i];
                if (!item.IsMap() || !item["name"]) return w.error(item, path, "each topic needs a name");
                HERALD_TRY(name, w.str(item["name"], path + ".name"));
                if (!engine::is_valid_topic_name(name))
                    return w.error(item["name"], path + ".name", "topic names must match [a-z0-9][a-z0-9._-]{0,199}");
                if (c.topics.count(name)) return w.error(item["name"], path + ".name", "topic declared twice");
                TopicConfig tc = c.topic_defaults;
                if (auto r = parse_topic(w, item, path, tc); !r) return std::move(r).error();
                c.topics.emplace(name, tc);
            }
        }
    }
    if (auto s = root["log"]) {
        auto& lg = c.log;
        if (auto k = w.keys(s, "log", {"level", "format", "output", "access", "access_buffer", "access_flush_interval"});
            !k)
            return std::move(k).error();
        if (auto n = s["level"]) {
            HERALD_TRY(v, w.str(n, "log.level"));
            if (v != "debug" && v != "info" && v != "warn" && v != "error")
                return w.error(n, "log.level", "expected debug, info, warn or error");
            lg.level = v;
        }
        if (auto n = s["format"]) {
            HERALD_TRY(v, w.str(n, "log.format"));
            if (v != "json" && v != "text") return w.error(n, "log.format", "expected json or text");
            lg.format = v;
        }
        if (auto n = s["output"]) {
            HERALD_TRY(v, w.str(n, "log.output"));
            if (v.empty()) return w.error(n, "log.output", "expected stderr or a file path");
            lg.output = v;
        }
        if (auto n = s["access"]) { HERALD_TRY(v, w.boolean(n, "log.access")); lg.access = v; }
        if (auto n = s["access_buffer"]) {
            HERALD_TRY(v, w.bytes(n, "log.access_buffer", 0));
            if (v > 16 * 1024 * 1024) return w.error(n, "log.access_buffer", "expected at most 16MiB (0: unbuffered)");
            lg.access_buffer = v;
        }
        if (auto n = s["access_flush_interval"]) {
            HERALD_TRY(v, w.duration(n, "log.access_flush_interval", 1));
            if (v > 60'000) return w.error(n, "log.access_flush_interval", "expected at most 60s");
            lg.access_flush_interval_ms = v;
        }
    }
    if (auto s = root["tracing"]) {
        auto& tr = c.tracing;
        if (auto k = w.keys(s, "tracing", {"otlp_endpoint", "service_name", "protocol", "sample_ratio",
                                           "batch_size", "queue_size", "flush_interval"});
            !k)
            return std::move(k).error();
        if (auto n = s["otlp_endpoint"]) {
            HERALD_TRY(v, w.str(n, "tracing.otlp_endpoint"));
            if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
                return w.error(n, "tracing.otlp_endpoint", "expected an http:// or https:// URL of an OTLP/HTTP collector");
            tr.otlp_endpoint = v;
        }
        if (auto n = s["service_name"]) {
            HERALD_TRY(v, w.str(n, "tracing.service_name"));
            if (v.empty()) return w.error(n, "tracing.service_name", "must not be empty");
            tr.service_name = v;
        }
        if (auto n = s["protocol"]) {
            HERALD_TRY(v, w.str(n, "tracing.protocol"));
            if (v != "http/protobuf" && v != "http/json")
                return w.error(n, "tracing.protocol", "expected http/protobuf or http/json");
            tr.protocol = v;
        }
        if (auto n = s["sample_ratio"]) { HERALD_TRY(v, w.number(n, "tracing.sample_ratio", 0, 1)); tr.sample_ratio = v; }
        if (auto n = s["batch_size"]) { HERALD_TRY(v, w.count(n, "tracing.batch_size", 1, 100'000)); tr.batch_size = v; }
        if (auto n = s["queue_size"]) { HERALD_TRY(v, w.count(n, "tracing.queue_size", 1, 10'000'000)); tr.queue_size = v; }
        if (auto n = s["flush_interval"]) { HERALD_TRY(v, w.duration(n, "tracing.flush_interval", 10)); tr.flush_interval_ms = v; }
        if (tr.queue_size < tr.batch_size)
            return w.error(s, "tracing.queue_size", "must be at least tracing.batch_size");
    }
    // Last: routes are checked against auth: (a route requiring credentials needs auth enabled).
    if (auto r = detail::parse_proxy_sections(w, root, c); !r) return std::move(r).error();
    return c;
}

#undef HERALD_TRY

}  // namespace

Result<std::string> substitute_env(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            auto close = text.find('}', i + 2);
            if (close == std::string::npos)
                return make_error(Errc::invalid_argument, "unterminated ${ in configuration");
            auto expr = text.substr(i + 2, close - i - 2);
            std::string name = expr, fallback;
            bool has_default = false;
            if (auto d = expr.find(":-"); d != std::string::npos) {
                name = expr.substr(0, d);
                fallback = expr.substr(d + 2);
                has_default = true;
            }
            const char* v = std::getenv(name.c_str());
            if (v && *v) out += v;
            else if (has_default) out += fallback;
            else return make_error(Errc::invalid_argument, "environment variable " + name + " is not set", name);
            i = close;
            continue;
        }
        out.push_back(text[i]);
    }
    return out;
}

Result<Config> parse_config(const std::string& text, const std::string& name) {
    auto substituted = substitute_env(text);
    if (!substituted) return std::move(substituted).error();
    YAML::Node root;
    try {
        root = YAML::Load(*substituted);
    } catch (const YAML::Exception& e) {
        return make_error(Errc::invalid_argument, name + " line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    Walker w(name);
    try {
        auto c = parse_root(w, root);
        if (c) c->source_file = name;
        return c;
    } catch (const YAML::Exception& e) {
        return make_error(Errc::invalid_argument, name + " line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
}

Result<Config> load_config(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot read configuration file " + path.string(), "config");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_config(ss.str(), path.string());
}

}  // namespace herald::config
