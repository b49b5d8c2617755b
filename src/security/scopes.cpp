#include "security/scopes.hpp"

#include <boost/json.hpp>

#include "base/glob.hpp"

namespace herald::security {
namespace {

bool valid_pattern(std::string_view p) noexcept {
    if (p.empty() || p.size() > kMaxScopePatternBytes) return false;
    for (char c : p) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F)
            return false;  // whitespace and control characters never name a topic
    }
    return true;
}

}  // namespace

std::string_view to_string(Action action) noexcept {
    switch (action) {
        case Action::publish:
            return "publish";
        case Action::subscribe:
            return "subscribe";
        case Action::admin:
            return "admin";
    }
    return "unknown";
}

std::string to_string(const Scope& scope) {
    if (scope.action == Action::admin) return "admin";
    return std::string(to_string(scope.action)) + ":" + scope.pattern;
}

std::optional<Scope> parse_scope(std::string_view text) {
    if (text == "admin") return Scope{Action::admin, {}};
    constexpr std::string_view kPublish = "publish:";
    constexpr std::string_view kSubscribe = "subscribe:";
    Action action;
    std::string_view pattern;
    if (text.substr(0, kPublish.size()) == kPublish) {
        action = Action::publish;
        pattern = text.substr(kPublish.size());
    } else if (text.substr(0, kSubscribe.size()) == kSubscribe) {
        action = Action::subscribe;
        pattern = text.substr(kSubscribe.size());
    } else {
        return std::nullopt;
    }
    if (!valid_pattern(pattern)) return std::nullopt;
    return Scope{action, std::string(pattern)};
}

Result<Scope> parse_scope_strict(std::string_view text) {
    auto scope = parse_scope(text);
    if (!scope) {
        return make_error(
            Errc::invalid_argument,
            "\"" + std::string(text) +
                "\" is not a scope: expected publish:<topic-glob>, subscribe:<topic-glob> or admin",
            std::string(text));
    }
    return *scope;
}

Result<std::vector<Scope>> parse_scopes_strict(const std::vector<std::string>& texts) {
    std::vector<Scope> out;
    out.reserve(texts.size());
    for (const auto& t : texts) {
        auto s = parse_scope_strict(t);
        if (!s) return std::move(s).error();
        out.push_back(std::move(s).value());
    }
    return out;
}

std::vector<Scope> parse_scope_list(std::string_view text) {
    std::vector<Scope> out;
    while (!text.empty()) {
        const auto start = text.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        text.remove_prefix(start);
        const auto end = text.find(' ');
        const auto item = text.substr(0, end);
        if (auto s = parse_scope(item)) out.push_back(std::move(*s));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end);
    }
    return out;
}

Result<std::vector<Scope>> parse_scope_claim(const boost::json::value& claim) {
    if (claim.is_string()) return parse_scope_list(claim.get_string());
    if (!claim.is_array()) {
        return make_error(Errc::invalid_argument,
                          "scope claim must be a string or an array of strings");
    }
    std::vector<Scope> out;
    for (const auto& item : claim.get_array()) {
        if (!item.is_string()) {
            return make_error(Errc::invalid_argument,
                              "scope claim array holds a value that is not a string");
        }
        if (auto s = parse_scope(item.get_string())) out.push_back(std::move(*s));
    }
    return out;
}

bool topic_glob_match(std::string_view pattern, std::string_view topic) noexcept {
    return herald::glob_match(pattern, topic);
}

bool allows(const std::vector<Scope>& scopes, Action action, std::string_view topic) noexcept {
    for (const auto& s : scopes) {
        if (s.action != action) continue;
        if (action == Action::admin) return true;
        if (topic_glob_match(s.pattern, topic)) return true;
    }
    return false;
}

}  // namespace herald::security
