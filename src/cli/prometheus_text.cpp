#include "cli/prometheus_text.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>

namespace herald::cli::prom {

namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// A cursor over one line. Every reader leaves `pos` after what it consumed.
struct Line {
    std::string_view text;
    std::size_t pos = 0;

    bool done() const noexcept { return pos >= text.size(); }
    char peek() const noexcept { return done() ? '\0' : text[pos]; }
    void skip_blanks() noexcept {
        while (!done() && is_blank(text[pos])) ++pos;
    }
    // Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: the same without ':'.
    std::string_view name(bool colons) noexcept {
        auto start = pos;
        auto ok = [&](char c, bool first) {
            return is_alpha(c) || c == '_' || (colons && c == ':') || (!first && is_digit(c));
        };
        while (!done() && ok(text[pos], pos == start)) ++pos;
        return text.substr(start, pos - start);
    }
    // Up to the next blank or the end of the line.
    std::string_view token() noexcept {
        auto start = pos;
        while (!done() && !is_blank(text[pos])) ++pos;
        return text.substr(start, pos - start);
    }
};

Error line_error(std::size_t number, const std::string& what) {
    return make_error(Errc::invalid_argument, "line " + std::to_string(number) + ": " + what);
}

// HELP text escapes only backslash and newline; any other backslash stays as written.
std::string unescape_help(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n')) {
            out.push_back(s[i + 1] == 'n' ? '\n' : '\\');
            ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::optional<MetricType> parse_type(std::string_view s) noexcept {
    if (s == "counter") return MetricType::counter;
    if (s == "gauge") return MetricType::gauge;
    if (s == "histogram") return MetricType::histogram;
    if (s == "summary") return MetricType::summary;
    if (s == "untyped") return MetricType::untyped;
    return std::nullopt;
}

// `# HELP name text`, `# TYPE name type`, or any other comment (ignored).
Result<void> parse_comment(Line& line, std::size_t number, Exposition& out) {
    ++line.pos;  // '#'
    line.skip_blanks();
    auto keyword = line.token();
    if (keyword != "HELP" && keyword != "TYPE") return ok();
    line.skip_blanks();
    auto name = line.name(true);
    if (name.empty())
        return line_error(number, "# " + std::string(keyword) + " without a metric name");
    if (!line.done() && !is_blank(line.peek()))
        return line_error(number,
                          "invalid character in the metric name after # " + std::string(keyword));
    line.skip_blanks();
    auto& family = out.families[std::string(name)];
    if (keyword == "HELP") {
        family.help = unescape_help(line.text.substr(line.pos));
        return ok();
    }
    auto type_text = line.token();
    auto type = parse_type(type_text);
    if (!type)
        return line_error(number, "unknown metric type '" + std::string(type_text) + "' for " +
                                      std::string(name));
    line.skip_blanks();
    if (!line.done())
        return line_error(number, "unexpected text after the type of " + std::string(name));
    family.type = *type;
    return ok();
}

// `{name="value",...}` with an optional trailing comma; `line.pos` is on the '{'.
Result<void> parse_labels(Line& line, std::size_t number, Sample& sample) {
    ++line.pos;
    for (;;) {
        line.skip_blanks();
        if (line.peek() == '}') {
            ++line.pos;
            return ok();
        }
        auto name = line.name(false);
        if (name.empty())
            return line_error(number, "expected a label name or '}' in " + sample.name);
        line.skip_blanks();
        if (line.peek() != '=')
            return line_error(number, "expected '=' after the label " + std::string(name));
        ++line.pos;
        line.skip_blanks();
        if (line.peek() != '"')
            return line_error(number, "expected a quoted value for the label " + std::string(name));
        ++line.pos;
        std::string value;
        bool closed = false;
        while (!line.done()) {
            char c = line.text[line.pos++];
            if (c == '"') {
                closed = true;
                break;
            }
            if (c == '\\' && !line.done()) {
                char e = line.text[line.pos++];
                // \\, \" and \n are the format's escapes; any other pair is kept as written, as
                // Prometheus does.
                if (e == 'n')
                    value.push_back('\n');
                else if (e == '\\' || e == '"')
                    value.push_back(e);
                else {
                    value.push_back('\\');
                    value.push_back(e);
                }
                continue;
            }
            value.push_back(c);
        }
        if (!closed)
            return line_error(number, "unterminated value of the label " + std::string(name));
        for (auto& [existing, v] : sample.labels)
            if (existing == name)
                return line_error(number, "the label " + std::string(name) + " appears twice");
        sample.labels.emplace_back(std::string(name), std::move(value));
        line.skip_blanks();
        if (line.peek() == ',') {
            ++line.pos;
            continue;
        }
        if (line.peek() == '}') {
            ++line.pos;
            return ok();
        }
        return line_error(number, "expected ',' or '}' after the label " +
                                      std::string(sample.labels.back().first));
    }
}

Result<void> parse_sample(Line& line, std::size_t number, Exposition& out) {
    Sample sample;
    sample.name = std::string(line.name(true));
    if (sample.name.empty()) return line_error(number, "expected a metric name");
    const bool separated = is_blank(line.peek());
    line.skip_blanks();
    if (line.peek() == '{') {
        if (auto r = parse_labels(line, number, sample); !r) return r;
        if (!line.done() && !is_blank(line.peek()))
            return line_error(number, "unexpected '" + std::string(1, line.peek()) +
                                          "' after the labels of " + sample.name);
        line.skip_blanks();
    } else if (!separated && !line.done()) {
        return line_error(number,
                          "unexpected '" + std::string(1, line.peek()) + "' after " + sample.name);
    }
    auto value_text = line.token();
    if (value_text.empty()) return line_error(number, sample.name + " has no value");
    auto value = parse_value(value_text);
    if (!value)
        return line_error(number, "'" + std::string(value_text) + "' is not a sample value");
    sample.value = *value;
    line.skip_blanks();
    if (!line.done()) {
        auto ts_text = line.token();
        std::int64_t ts = 0;
        auto digits = ts_text;
        if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ts);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
            return line_error(number,
                              "'" + std::string(ts_text) + "' is not a timestamp in milliseconds");
        sample.timestamp_ms = ts;
        line.skip_blanks();
        if (!line.done())
            return line_error(number, "unexpected text after the timestamp of " + sample.name);
    }
    out.samples.push_back(std::move(sample));
    return ok();
}

}  // namespace

std::string_view to_string(MetricType type) noexcept {
    switch (type) {
        case MetricType::counter:
            return "counter";
        case MetricType::gauge:
            return "gauge";
        case MetricType::histogram:
            return "histogram";
        case MetricType::summary:
            return "summary";
        case MetricType::untyped:
            return "untyped";
    }
    return "untyped";
}

std::string_view Sample::label(std::string_view key) const noexcept {
    for (auto& [k, v] : labels)
        if (k == key) return v;
    return {};
}

const Family* Exposition::family_of(std::string_view sample_name) const noexcept {
    if (auto it = families.find(sample_name); it != families.end()) return &it->second;
    for (std::string_view suffix : {"_bucket", "_sum", "_count", "_created"}) {
        if (sample_name.size() <= suffix.size() || !sample_name.ends_with(suffix)) continue;
        auto it = families.find(sample_name.substr(0, sample_name.size() - suffix.size()));
        if (it != families.end() &&
            (it->second.type == MetricType::histogram || it->second.type == MetricType::summary))
            return &it->second;
    }
    return nullptr;
}

std::optional<double> parse_value(std::string_view text) noexcept {
    if (text.empty()) return std::nullopt;
    bool negative = false;
    auto body = text;
    if (body[0] == '+' || body[0] == '-') {
        negative = body[0] == '-';
        body.remove_prefix(1);
    }
    if (iequals(body, "inf") || iequals(body, "infinity"))
        return negative ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
    if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
    // from_chars takes no sign of its own here (it was consumed above) and would accept "inf"/"nan"
    // spellings handled already; what remains must be digits, a point and an exponent.
    if (body.empty() || !(is_digit(body[0]) || body[0] == '.')) return std::nullopt;
    double v = 0;
    auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
    if (end != body.data() + body.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range) {
        // Beyond double's range: Prometheus' ParseFloat answers ±Inf, or 0 for an underflow, rather
        // than refusing; strtod gives the same answers (the process keeps the "C" locale, so '.' is
        // the decimal point).
        std::string copy(body);
        v = std::strtod(copy.c_str(), nullptr);
    } else if (ec != std::errc()) {
        return std::nullopt;
    }
    return negative ? -v : v;
}

Result<Exposition> parse_text(std::string_view text) {
    Exposition out;
    std::size_t number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        auto raw =
            text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        start = nl == std::string_view::npos ? text.size() : nl + 1;
        ++number;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        Line line{raw};
        line.skip_blanks();
        if (line.done()) continue;
        auto r =
            line.peek() == '#' ? parse_comment(line, number, out) : parse_sample(line, number, out);
        if (!r) return std::move(r).error();
    }
    return out;
}

}  // namespace herald::cli::prom
