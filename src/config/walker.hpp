#pragma once
// Internal to the config module: the YAML walker every section parser uses (config.cpp, proxy_config.cpp), so
// that every error names the key path and the line the same way ("routes[2].match.path (herald.yaml line 14):
// ..."). Not part of the module's public interface; nothing outside src/config includes it.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/units.hpp"
#include "config/rate_limit_settings.hpp"

namespace herald::config::detail {

// Walks the YAML tree with the key path, so every error can say where it is.
class Walker {
public:
    explicit Walker(std::string name) : name_(std::move(name)) {}

    Error error(const YAML::Node& node, const std::string& path, const std::string& what) const {
        std::string where = path;
        if (node.Mark().line >= 0) where += " (" + name_ + " line " + std::to_string(node.Mark().line + 1) + ")";
        return make_error(Errc::invalid_argument, where + ": " + what, path);
    }

    // Checks that a mapping has only known keys.
    Result<void> keys(const YAML::Node& node, const std::string& path, std::set<std::string> allowed) const {
        if (!node.IsMap()) return error(node, path, "expected a mapping");
        for (auto it = node.begin(); it != node.end(); ++it) {
            auto key = it->first.as<std::string>();
            if (!allowed.count(key)) {
                std::string list;
                for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
                return error(it->first, join(path, key), "unknown key (known keys: " + list + ")");
            }
        }
        return ok();
    }

    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    Result<std::string> str(const YAML::Node& n, const std::string& path) const {
        if (!n.IsScalar()) return error(n, path, "expected a string");
        return n.Scalar();
    }
    Result<bool> boolean(const YAML::Node& n, const std::string& path) const {
        bool v = false;
        if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return error(n, path, "expected true or false");
        return v;
    }
    Result<std::uint64_t> count(const YAML::Node& n, const std::string& path, std::uint64_t min,
                                std::uint64_t max) const {
        std::uint64_t v = 0;
        if (!n.IsScalar() || !YAML::convert<std::uint64_t>::decode(n, v) || n.Scalar().find('-') != std::string::npos)
            return error(n, path, "expected a whole number");
        if (v < min || v > max)
            return error(n, path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return v;
    }
    Result<double> number(const YAML::Node& n, const std::string& path, double min, double max) const {
        double v = 0;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v == v))
            return error(n, path, "expected a number");
        if (v < min || v > max) {
            std::ostringstream range;
            range << "must be between " << min << " and " << max;
            return error(n, path, range.str());
        }
        return v;
    }
    Result<std::int64_t> duration(const YAML::Node& n, const std::string& path, std::int64_t min_ms) const {
        if (!n.IsScalar()) return error(n, path, "expected a duration such as 100ms, 15s, 5m, 24h, 7d");
        auto d = parse_duration_ms(n.Scalar());
        if (!d) return error(n, path, d.error().message);
        if (*d < min_ms) return error(n, path, "must be at least " + std::to_string(min_ms) + "ms");
        return *d;
    }
    Result<std::uint64_t> bytes(const YAML::Node& n, const std::string& path, std::uint64_t min) const {
        if (!n.IsScalar()) return error(n, path, "expected a size such as 512KiB, 64MiB, 1GiB");
        auto b = parse_bytes(n.Scalar());
        if (!b) return error(n, path, b.error().message);
        if (*b < min) return error(n, path, "must be at least " + std::to_string(min) + " bytes");
        return *b;
    }

private:
    std::string name_;
};

// `auto var = expr` for a Result, returning its error from the enclosing function.
#ifndef HERALD_TRY
#define HERALD_TRY(var, expr)                          \
    auto var##_r = (expr);                             \
    if (!var##_r) return std::move(var##_r).error();   \
    auto var = std::move(*var##_r)
#endif

inline Result<std::vector<std::string>> string_list(const Walker& w, const YAML::Node& n, const std::string& path) {
    if (!n.IsSequence()) return w.error(n, path, "expected a list of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
        HERALD_TRY(v, w.str(n[i], path + "[" + std::to_string(i) + "]"));
        out.push_back(v);
    }
    return out;
}

inline Result<RateLimitSettings> parse_rate(const Walker& w, const YAML::Node& n, const std::string& path) {
    if (auto k = w.keys(n, path, {"rate", "burst"}); !k) return std::move(k).error();
    RateLimitSettings r;
    if (auto x = n["rate"]) {
        double v = 0;
        if (!x.IsScalar() || !YAML::convert<double>::decode(x, v) || v < 0 || v > 1e9)
            return w.error(x, path + ".rate", "expected a number of events per second (0 disables)");
        r.rate = v;
    }
    if (auto x = n["burst"]) {
        HERALD_TRY(v, w.count(x, path + ".burst", 1, 1'000'000'000));
        r.burst = static_cast<std::uint32_t>(v);
    }
    return r;
}

}  // namespace herald::config::detail

namespace herald::config {
struct Config;
namespace detail {

// The `upstreams:` and `routes:` sections (proxy_config.cpp). Runs after the other sections, because a route's
// policy is checked against `auth:`.
Result<void> parse_proxy_sections(const Walker& w, const YAML::Node& root, Config& config);
bool valid_upstream_name(std::string_view name);
Result<UpstreamSettings> parse_upstream_node(const Walker& w, const YAML::Node& n, const std::string& path);
Result<RouteSettings> parse_route_node(const Walker& w, const YAML::Node& n, const std::string& path,
                                       const Config& config);

}  // namespace detail
}  // namespace herald::config
