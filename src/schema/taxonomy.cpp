#include "schema/taxonomy.hpp"

#include <cstdlib>
#include <utility>

namespace herald::schema {

namespace {

constexpr std::string_view default_event_type_pattern =
    R"(^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*)+\.v[0-9]+$)";
constexpr std::string_view default_topic_pattern = R"(^[a-z0-9][a-z0-9._-]{0,199}$)";

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Why a name breaks the default event-type rule, in the order a person would fix it.
std::string event_type_hint(std::string_view name) {
    if (name.empty()) return "the name is empty";
    for (char c : name) {
        if (c == '_' || c == '-' || c == ' ') {
            return "segments are camelCase letters and digits; '_', '-' and spaces are not allowed";
        }
    }
    if (name.find('.') == std::string_view::npos) {
        return "it has no domain: it starts with a lower-case domain followed by '.'";
    }
    if (!event_type_version(name)) return "it does not end with the version suffix .v<N>";
    // Split into segments: domain, nouns..., version.
    std::size_t start = 0;
    std::size_t index = 0;
    std::size_t count = 1;
    for (char c : name) count += c == '.' ? 1 : 0;
    if (count < 3) return "it needs a <nounStateChange> segment between the domain and the version";
    while (start <= name.size()) {
        const std::size_t dot = name.find('.', start);
        const std::string_view seg = name.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (seg.empty()) return "it has an empty segment (two dots in a row, or a dot at an end)";
        if (index == 0) {
            if (!is_lower(seg.front())) return "the domain starts with a lower-case letter";
            for (char c : seg) {
                if (!is_lower(c) && !is_digit(c))
                    return "the domain is lower-case letters and digits only";
            }
        } else if (index + 1 < count) {
            if (is_upper(seg.front()))
                return "each segment starts with a lower-case letter (camelCase)";
            if (!is_lower(seg.front())) return "each segment starts with a letter";
            for (char c : seg) {
                if (!is_lower(c) && !is_upper(c) && !is_digit(c)) {
                    return "segments are camelCase letters and digits only";
                }
            }
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
        ++index;
    }
    return {};
}

std::string topic_hint(std::string_view name) {
    if (name.empty()) return "the name is empty";
    if (name.size() > 200) return "it is longer than 200 characters";
    for (char c : name) {
        if (is_upper(c)) return "upper-case letters are not allowed";
    }
    const char first = name.front();
    if (!is_lower(first) && !is_digit(first)) return "it must start with a letter or a digit";
    return "only lower-case letters, digits, '.', '_' and '-' are allowed";
}

Error naming_error(std::string_view what, std::string_view name, const NamingRule& rule,
                   std::string hint, std::string attribute) {
    std::string msg;
    msg += what;
    msg += " '";
    msg += name;
    msg += "' does not follow the naming rule ";
    msg += rule.shape;
    if (!rule.example.empty()) {
        msg += " (for example ";
        msg += rule.example;
        msg += ")";
    }
    if (!hint.empty()) {
        msg += ": ";
        msg += hint;
    }
    return make_error(Errc::invalid_argument, std::move(msg), std::move(attribute));
}

}  // namespace

NamingRule default_event_type_rule() {
    return {std::string(default_event_type_pattern), "<domain>.<nounStateChange>.v<N>",
            "shipping.orderShipped.v1"};
}

NamingRule default_topic_rule() {
    return {std::string(default_topic_pattern),
            "<lower-case letters, digits, '.', '_' or '-'; first a letter or digit; at most 200>",
            "shipping.orders"};
}

Taxonomy::Taxonomy()
    : event_type_{default_event_type_rule(), *Pattern::compile(default_event_type_pattern), true},
      topic_{default_topic_rule(), *Pattern::compile(default_topic_pattern), true} {}

Result<Taxonomy> Taxonomy::make(TaxonomyConfig config) {
    auto compile = [](NamingRule rule, std::string_view key,
                      std::string_view default_pattern) -> Result<Compiled> {
        auto pattern = Pattern::compile(rule.pattern);
        if (!pattern) {
            return make_error(Errc::invalid_argument, pattern.error().message,
                              std::string(key) + ".pattern");
        }
        if (rule.shape.empty()) {
            return make_error(Errc::invalid_argument,
                              "a naming rule needs a shape to show in messages",
                              std::string(key) + ".shape");
        }
        if (!rule.example.empty() && !pattern->full_match(rule.example)) {
            return make_error(
                Errc::invalid_argument,
                "the example '" + rule.example + "' does not match the rule's own pattern",
                std::string(key) + ".example");
        }
        const bool is_default = rule.pattern == default_pattern;
        return Compiled{std::move(rule), std::move(*pattern), is_default};
    };
    auto event_type =
        compile(std::move(config.event_type), "event_type", default_event_type_pattern);
    if (!event_type) return std::move(event_type).error();
    auto topic = compile(std::move(config.topic), "topic", default_topic_pattern);
    if (!topic) return std::move(topic).error();
    return Taxonomy(std::move(*event_type), std::move(*topic));
}

bool Taxonomy::is_valid_event_type(std::string_view type) const noexcept {
    return event_type_.pattern.full_match(type);
}

bool Taxonomy::is_valid_topic(std::string_view topic) const noexcept {
    return topic_.pattern.full_match(topic);
}

Result<void> Taxonomy::check_event_type(std::string_view type) const {
    if (is_valid_event_type(type)) return ok();
    return naming_error("event type", type, event_type_.rule,
                        event_type_.is_default ? event_type_hint(type) : std::string(), "type");
}

Result<void> Taxonomy::check_topic(std::string_view topic) const {
    if (is_valid_topic(topic)) return ok();
    return naming_error("topic", topic, topic_.rule,
                        topic_.is_default ? topic_hint(topic) : std::string(), "topic");
}

std::optional<std::uint32_t> event_type_version(std::string_view type) noexcept {
    const std::size_t dot = type.rfind('.');
    const std::string_view last = dot == std::string_view::npos ? type : type.substr(dot + 1);
    if (last.size() < 2 || last.size() > 10 || last.front() != 'v') return std::nullopt;
    std::uint64_t n = 0;
    for (char c : last.substr(1)) {
        if (!is_digit(c)) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > 0xFFFFFFFFu) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

}  // namespace herald::schema
