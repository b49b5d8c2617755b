#include "cli/commands.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/uuid.hpp"
#include "cli/http_client.hpp"
#include "cli/options.hpp"
#include "cli/ws_client.hpp"
#include "config/config.hpp"
#include "server/app.hpp"
#include "schema/compat.hpp"
#include "schema/registry.hpp"
#include "storage/log.hpp"

namespace herald::cli {

namespace fs = std::filesystem;

namespace {

std::string url_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

}  // namespace

int cmd_serve(const Args& args) {
    auto p = parse(args, {"config", "listen", "admin-listen", "data-dir", "threads", "ready-file"});
    if (!p) return 2;
    if (!p->positional.empty()) {
        std::cerr << "herald serve: unexpected argument '" << p->positional[0] << "'\n";
        return 2;
    }
    server::ServeOptions so;
    if (auto it = p->options.find("config"); it != p->options.end()) {
        auto c = config::load_config(it->second);
        if (!c) {
            std::cerr << "herald: configuration error: " << c.error().message << '\n';
            return 2;
        }
        so.config = std::move(*c);
    }
    auto& o = p->options;
    if (o.count("listen")) so.config.listen = o["listen"];
    if (o.count("admin-listen")) so.config.admin_listen = o["admin-listen"];
    if (o.count("data-dir")) so.config.data_dir = o["data-dir"];
    if (o.count("threads")) {
        try {
            so.config.threads = static_cast<unsigned>(std::stoul(o["threads"]));
        } catch (...) {
            std::cerr << "herald: --threads needs a number\n";
            return 2;
        }
    }
    if (o.count("ready-file")) so.ready_file = o["ready-file"];
    return server::serve(std::move(so));
}

namespace {

// `herald publish --ws`: every line goes as a herald.v1 `publish` on one connection; answers are printed in order.
int publish_ws(const Url& url, const TlsTrust& trust, const std::string& topic, const std::string& type,
               const std::vector<std::string>& bodies, std::map<std::string, std::string>& options) {
    namespace json = boost::json;
    auto client = WsClient::connect(url, trust);
    if (!client) {
        std::cerr << "herald: " << client.error().message << '\n';
        return 1;
    }
    std::size_t sent = 0;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        boost::system::error_code ec;
        auto v = json::parse(bodies[i], ec);
        if (ec) {
            std::cerr << "herald: line " << i + 1 << " is not JSON: " << ec.message() << '\n';
            return 2;
        }
        if (!v.is_object() || !v.as_object().contains("specversion")) {
            // Plain JSON is wrapped on this side: herald.v1 publishes CloudEvents.
            if (type.empty()) {
                std::cerr << "herald: line " << i + 1 << " is not a CloudEvent; give --type to wrap it\n";
                return 2;
            }
            v = json::object{{"specversion", "1.0"}, {"id", make_uuid_v7()}, {"source", "/herald-cli"},
                             {"type", type}, {"datacontenttype", "application/json"}, {"data", std::move(v)}};
        }
        json::object msg{{"op", "publish"}, {"ref", std::to_string(i)}, {"topic", topic}, {"event", std::move(v)}};
        if (options.count("idempotency-key"))
            msg["idempotency_key"] = options["idempotency-key"] + (bodies.size() > 1 ? "-" + std::to_string(i) : "");
        if (auto r = (*client)->send(json::serialize(msg)); !r) {
            std::cerr << "herald: " << r.error().message << '\n';
            return 1;
        }
        ++sent;
    }
    // Answers arrive in any order; print each as it comes and count failures.
    std::size_t answered = 0;
    int failures = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (answered < sent && std::chrono::steady_clock::now() < deadline) {
        auto m = (*client)->read(std::chrono::milliseconds(500));
        if (!m) {
            std::cerr << "herald: " << m.error().message << '\n';
            return 1;
        }
        if (!*m) continue;
        boost::system::error_code ec;
        auto v = json::parse(**m, ec);
        if (ec || !v.is_object()) continue;
        auto& o = v.as_object();
        auto* op = o.if_contains("op");
        if (!op || !op->is_string()) continue;
        if (*op == "published") {
            ++answered;
            std::cout << **m << '\n';
        } else if (*op == "error") {
            ++answered;
            ++failures;
            std::cerr << "herald: " << **m << '\n';
        }
    }
    (*client)->close();
    if (answered < sent) {
        std::cerr << "herald: " << sent - answered << " publishes not answered within 30 s\n";
        return 1;
    }
    return failures ? 1 : 0;
}

// `herald tail --ws`: one herald.v1 subscription; events are printed one JSON per line, and a reconnect resumes
// after the last event received. A certificate that is not accepted ends it (exit 1): reconnecting will not help.
int tail_ws(const Url& url, const TlsTrust& trust, const std::string& topic,
            std::map<std::string, std::string>& options, long remaining, volatile std::sig_atomic_t& interrupted) {
    namespace json = boost::json;
    std::string cursor = options.count("from") ? options["from"] : "";
    int failures_in_a_row = 0;
    while (!interrupted && remaining != 0) {
        auto client = WsClient::connect(url, trust);
        if (!client && client.error().code == Errc::invalid_argument) {
            std::cerr << "herald tail: " << client.error().message << '\n';
            return 1;
        }
        if (!client) {
            std::cerr << "herald tail: " << client.error().message << "; reconnecting\n";
        } else {
            json::object sub{{"op", "subscribe"}, {"id", "tail"}, {"topic", topic}};
            if (!cursor.empty()) sub["from"] = cursor;
            if (options.count("types")) {
                json::array types;
                std::string t = options["types"];
                std::size_t pos = 0;
                while (pos <= t.size()) {
                    auto comma = t.find(',', pos);
                    auto item = t.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
                    if (!item.empty()) types.emplace_back(item);
                    if (comma == std::string::npos) break;
                    pos = comma + 1;
                }
                sub["types"] = std::move(types);
            }
            (void)(*client)->send(json::serialize(sub));
            std::size_t since_ack = 0;
            while (!interrupted && remaining != 0) {
                auto m = (*client)->read(std::chrono::milliseconds(250));
                if (!m) {
                    std::cerr << "herald tail: " << m.error().message << "; reconnecting\n";
                    break;
                }
                if (!*m) continue;
                boost::system::error_code ec;
                auto v = json::parse(**m, ec);
                if (ec || !v.is_object()) continue;
                auto& o = v.as_object();
                auto op = o.contains("op") && o.at("op").is_string() ? std::string(o.at("op").as_string()) : "";
                if (op == "event") {
                    failures_in_a_row = 0;
                    if (auto* c = o.if_contains("cursor"); c && c->is_string()) cursor = std::string(c->as_string());
                    if (auto* e = o.if_contains("event")) std::cout << json::serialize(*e) << std::endl;
                    if (remaining > 0) --remaining;
                    // Ack now and then: the server reports this consumer's lag from it.
                    if (++since_ack >= 100) {
                        since_ack = 0;
                        (void)(*client)->send(json::serialize(json::object{{"op", "ack"}, {"id", "tail"}, {"cursor", cursor}}));
                    }
                } else if (op == "subscribed") {
                    failures_in_a_row = 0;
                } else if (op == "reset") {
                    if (auto* c = o.if_contains("cursor"); c && c->is_string()) cursor = std::string(c->as_string());
                    std::cerr << "herald tail: reset " << **m << '\n';
                } else if (op == "error") {
                    std::cerr << "herald tail: " << **m << '\n';
                    (*client)->close();
                    return 1;
                }
            }
            if (remaining == 0 || interrupted) {
                (*client)->close();
                break;
            }
        }
        ++failures_in_a_row;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000 * failures_in_a_row, 30'000)));
    }
    return 0;
}

}  // namespace

int cmd_publish(const Args& args) {
    auto p = parse(args, {"data", "file", "type", "url", "idempotency-key", "cacert"}, {"ws"});
    if (!p) return 2;
    if (p->positional.size() != 1) {
        std::cerr << "usage: herald publish TOPIC [--data JSON | --file FILE] [--type TYPE] [--url URL] "
                     "[--cacert FILE] [--ws]\n";
        return 2;
    }
    const auto& topic = p->positional[0];
    auto url = parse_base_url(p->options.count("url") ? p->options["url"] : "http://127.0.0.1:8080");
    if (!url) {
        std::cerr << "herald: " << url.error().message << '\n';
        return 2;
    }
    auto trust = client_trust(*p, *url, "herald");
    if (!trust) return 2;
    std::string type = p->options.count("type") ? p->options["type"] : "";
    std::vector<std::string> bodies;
    if (p->options.count("data")) {
        bodies.push_back(p->options["data"]);
    } else {
        std::ifstream file;
        std::istream* in = &std::cin;
        if (p->options.count("file")) {
            file.open(p->options["file"]);
            if (!file) {
                std::cerr << "herald: cannot read " << p->options["file"] << '\n';
                return 2;
            }
            in = &file;
        }
        std::string line;
        while (std::getline(*in, line))
            if (!line.empty()) bodies.push_back(line);
    }
    if (p->options.count("ws")) return publish_ws(*url, *trust, topic, type, bodies, p->options);
    HttpClient client(*url, *trust);
    int failures = 0;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        auto& body = bodies[i];
        // A line that is a CloudEvent (it has specversion) goes in structured mode; anything else is wrapped.
        bool structured = false;
        boost::system::error_code ec;
        auto v = boost::json::parse(body, ec);
        if (!ec && v.is_object() && v.as_object().contains("specversion")) structured = true;
        std::string target = "/v1/topics/" + url_encode(topic) + "/events";
        if (!structured && !type.empty()) target += "?type=" + url_encode(type);
        std::vector<std::pair<std::string, std::string>> headers{
            {"Content-Type", structured ? "application/cloudevents+json" : "application/json"}};
        if (p->options.count("idempotency-key")) {
            auto key = p->options["idempotency-key"];
            if (bodies.size() > 1) key += "-" + std::to_string(i);
            headers.emplace_back("Idempotency-Key", key);
        }
        auto r = client.request("POST", target, headers, body);
        if (!r) {
            std::cerr << "herald: " << r.error().message << '\n';
            return 1;
        }
        if (r->status >= 300) {
            ++failures;
            std::cerr << "herald: HTTP " << r->status << ": " << r->body << '\n';
        } else {
            std::cout << r->body << '\n';
        }
    }
    return failures ? 1 : 0;
}

namespace {
volatile std::sig_atomic_t g_interrupted = 0;  // set by the SIGINT handler of `herald tail`; only it writes
}

int cmd_tail(const Args& args) {
    auto p = parse(args, {"from", "types", "count", "url", "cacert"}, {"ws"});
    if (!p) return 2;
    if (p->positional.size() != 1) {
        std::cerr << "usage: herald tail TOPIC [--from earliest|latest|CURSOR] [--types T1,T2] [--count N] "
                     "[--url URL] [--cacert FILE] [--ws]\n";
        return 2;
    }
    auto url = parse_base_url(p->options.count("url") ? p->options["url"] : "http://127.0.0.1:8080");
    if (!url) {
        std::cerr << "herald: " << url.error().message << '\n';
        return 2;
    }
    auto trust = client_trust(*p, *url, "herald");
    if (!trust) return 2;
    long remaining = p->options.count("count") ? std::stol(p->options["count"]) : -1;
    std::string base_target = "/v1/topics/" + url_encode(p->positional[0]) + "/events";
    std::string query;
    if (p->options.count("from")) query += "from=" + url_encode(p->options["from"]);
    if (p->options.count("types")) query += std::string(query.empty() ? "" : "&") + "types=" + url_encode(p->options["types"]);
    if (!query.empty()) base_target += "?" + query;

    std::signal(SIGINT, [](int) { g_interrupted = 1; });
    if (p->options.count("ws"))
        return tail_ws(*url, *trust, p->positional[0], p->options, remaining, g_interrupted);
    std::string last_id;
    long retry_ms = 1000;
    int failures_in_a_row = 0;
    while (!g_interrupted && remaining != 0) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!last_id.empty()) headers.emplace_back("Last-Event-ID", last_id);
        unsigned status = 0;
        auto r = read_sse(
            *url, *trust, base_target, headers, status,
            [&](const std::string& id, const std::string& event, const std::string& data) {
                if (!id.empty()) last_id = id;
                failures_in_a_row = 0;
                if (event == "herald.shutdown") return true;
                if (event.rfind("herald.", 0) == 0) {
                    std::cerr << "herald tail: " << event << " " << data << '\n';
                    return true;
                }
                std::cout << data << std::endl;
                if (remaining > 0) --remaining;
                return remaining != 0 && !g_interrupted;
            },
            [&](long ms) { retry_ms = ms; });
        if (remaining == 0 || g_interrupted) break;
        if (status >= 400) {
            std::cerr << "herald tail: HTTP " << status << '\n';
            return 1;
        }
        if (!r && r.error().code == Errc::invalid_argument) {  // the certificate was not accepted
            std::cerr << "herald tail: " << r.error().message << '\n';
            return 1;
        }
        if (!r) std::cerr << "herald tail: " << r.error().message << "; reconnecting\n";
        // Back off a little more on every failure in a row, capped, so a dead server is not hammered.
        ++failures_in_a_row;
        auto wait = std::min<long>(retry_ms * failures_in_a_row, 30'000);
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    return 0;
}

// `herald config check FILE`: the validation `herald serve --config FILE` does before it starts (${ENV}
// substitution, every key, type and range, with the key path and line), without starting. Exit 0: valid; 1: not
// valid (the reason on stderr); 2: usage.
int cmd_config(const Args& args) {
    if (args.size() != 2 || args[0] != "check") {
        std::cerr << "usage: herald config check FILE\n";
        return 2;
    }
    auto cfg = config::load_config(args[1]);
    if (!cfg) {
        std::cerr << "herald config: " << cfg.error().message << '\n';
        return 1;
    }
    std::cout << args[1] << ": ok (engine " << cfg->engine.kind << ", " << cfg->topics.size() << " declared topic"
              << (cfg->topics.size() == 1 ? "" : "s") << ", " << cfg->routes.size() << " route"
              << (cfg->routes.size() == 1 ? "" : "s") << ", " << cfg->upstreams.size() << " upstream"
              << (cfg->upstreams.size() == 1 ? "" : "s") << ", auth " << (cfg->auth.enabled ? "on" : "off") << ")\n";
    return 0;
}

int cmd_log(const Args& args) {
    if (args.size() != 2 || args[0] != "verify") {
        std::cerr << "usage: herald log verify DIR\n";
        return 2;
    }
    fs::path dir = args[1];
    std::vector<fs::path> topics;
    std::error_code ec;
    if (fs::is_directory(dir / "topics", ec)) {
        for (auto& e : fs::directory_iterator(dir / "topics", ec))
            if (e.is_directory()) topics.push_back(e.path());
        std::sort(topics.begin(), topics.end());
    } else if (fs::is_directory(dir, ec)) {
        topics.push_back(dir);
    } else {
        std::cerr << "herald log verify: " << dir << " is not a directory\n";
        return 2;
    }
    bool all_ok = true;
    for (auto& t : topics) {
        auto r = storage::verify_log(t);
        if (!r) {
            all_ok = false;
            std::cout << t.filename().string() << ": ERROR " << r.error().message << '\n';
            continue;
        }
        all_ok &= r->ok;
        std::cout << t.filename().string() << ": " << (r->ok ? "ok" : "PROBLEMS") << " — " << r->segments
                  << " segments, " << r->batches << " batches, " << r->records << " records, offsets ["
                  << r->start_offset << ", " << r->end_offset << ")\n";
        for (auto& problem : r->problems) std::cout << "  - " << problem << '\n';
    }
    std::cout << (all_ok ? "verify: ok" : "verify: problems found") << " (" << topics.size() << " topics)\n";
    return all_ok ? 0 : 1;
}

namespace {

std::optional<boost::json::value> read_json_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << "herald schema: cannot read " << path << '\n';
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = boost::json::parse(ss.str(), ec);
    if (ec) {
        std::cerr << "herald schema: " << path << " is not JSON: " << ec.message() << '\n';
        return std::nullopt;
    }
    return v;
}

}  // namespace

// `herald schema check FILE [--data FILE]` and `herald schema diff OLD NEW [--mode M]`: the registry's own checks,
// offline, for people editing schemas. Exit 0: fine; 1: the schema is unusable, the data does not match, or the
// new version breaks; 2: usage or unreadable files.
int cmd_schema(const Args& args) {
    auto p = parse(args, {"data", "mode", "type"});
    if (!p) return 2;
    auto& pos = p->positional;
    if (pos.size() == 2 && pos[0] == "check") {
        auto doc = read_json_file(pos[1]);
        if (!doc) return 2;
        schema::Registry registry;
        // Registration needs a well-named type; the name does not matter for the check.
        std::string type = p->options.count("type") ? p->options["type"] : "check.schemaChecked.v1";
        auto r = registry.register_version(type, *doc);
        if (!r) {
            std::cout << pos[1] << ": NOT USABLE — " << (r.error ? r.error->message : "refused") << '\n';
            return 1;
        }
        std::cout << pos[1] << ": ok (" << (r.version->draft == schema::Draft::draft4 ? "draft-04" : "draft-07")
                  << ")\n";
        if (p->options.count("data")) {
            auto data = read_json_file(p->options["data"]);
            if (!data) return 2;
            auto violations = r.version->validate(*data);
            if (violations.empty()) {
                std::cout << p->options["data"] << ": valid\n";
                return 0;
            }
            std::cout << p->options["data"] << ": " << violations.size() << " violation"
                      << (violations.size() == 1 ? "" : "s") << '\n';
            for (auto& v : violations)
                std::cout << "  " << (v.pointer.empty() ? "/" : v.pointer) << "  [" << v.keyword << "]  " << v.message
                          << '\n';
            return 1;
        }
        return 0;
    }
    if (pos.size() == 3 && pos[0] == "diff") {
        auto old_doc = read_json_file(pos[1]);
        auto new_doc = read_json_file(pos[2]);
        if (!old_doc || !new_doc) return 2;
        auto mode = schema::CompatMode::full;
        if (p->options.count("mode")) {
            auto m = schema::parse_compat_mode(p->options["mode"]);
            if (!m) {
                std::cerr << "herald schema: --mode is none, backward, forward or full\n";
                return 2;
            }
            mode = *m;
        }
        auto report = schema::check_compatibility(*old_doc, *new_doc, mode);
        if (report.compatible()) {
            std::cout << "compatible (" << schema::to_string(mode) << ")\n";
            return 0;
        }
        std::cout << report.summary() << '\n';
        for (auto& b : report.breaks)
            std::cout << "  " << (b.pointer.empty() ? "/" : b.pointer) << "  [" << b.keyword << ", "
                      << schema::to_string(b.direction) << "]  " << b.message << '\n';
        return 1;
    }
    std::cerr << "usage: herald schema check FILE [--data FILE]\n"
                 "       herald schema diff OLD NEW [--mode none|backward|forward|full]\n";
    return 2;
}

}  // namespace herald::cli
