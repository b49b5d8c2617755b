#include "base/path_template.hpp"

namespace herald {
namespace {

bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool valid_param_name(std::string_view n) noexcept {
    if (n.empty() || n.size() > 64) return false;
    auto alpha = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!alpha(n[0])) return false;
    for (char c : n)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

Error bad(std::string_view text, const std::string& why) {
    return make_error(Errc::invalid_argument,
                      "path template \"" + std::string(text) + "\": " + why);
}

}  // namespace

bool is_path_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '-':
        case '.':
        case '_':
        case '~':  // unreserved
        case '!':
        case '$':
        case '&':
        case '\'':
        case '(':
        case ')':  // sub-delims
        case '*':
        case '+':
        case ',':
        case ';':
        case '=':
        case ':':
        case '@':
            return true;
        default:
            return false;
    }
}

std::size_t PathTemplate::literal_count() const noexcept {
    std::size_t n = 0;
    for (auto& s : segments) n += s.param ? 0 : 1;
    return n;
}

bool PathTemplate::has_param(std::string_view name) const noexcept {
    for (auto& s : segments)
        if (s.param && s.text == name) return true;
    return false;
}

std::vector<std::string_view> split_path_segments(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path == "/") return out;
    path.remove_prefix(1);
    while (true) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

Result<PathTemplate> parse_path_template(std::string_view text) {
    if (text.empty() || text.front() != '/') return bad(text, "must start with '/'");
    if (text.size() > 1024) return bad(text, "longer than 1024 characters");
    PathTemplate t;
    t.source = std::string(text);
    auto parts = split_path_segments(text);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto seg = parts[i];
        const bool last = i + 1 == parts.size();
        if (seg.empty()) {
            if (!last) return bad(text, "empty segment ('//')");
            t.segments.push_back({false, {}});  // the trailing '/'
            continue;
        }
        if (seg.front() == '{') {
            if (seg.back() != '}') return bad(text, "a parameter must be a whole segment: {name}");
            auto name = seg.substr(1, seg.size() - 2);
            if (!valid_param_name(name))
                return bad(
                    text,
                    "parameter name \"" + std::string(name) +
                        "\" must be a letter or '_' then letters, digits or '_' (at most 64)");
            if (t.has_param(name))
                return bad(text, "parameter {" + std::string(name) + "} appears twice");
            t.segments.push_back({true, std::string(name)});
            continue;
        }
        for (std::size_t k = 0; k < seg.size(); ++k) {
            char c = seg[k];
            if (c == '{' || c == '}')
                return bad(text, "a parameter must be a whole segment: {name}");
            if (c == '%') {
                if (k + 2 >= seg.size() || !is_hex(seg[k + 1]) || !is_hex(seg[k + 2]))
                    return bad(text, "'%' must start an escape such as %20");
                k += 2;
                continue;
            }
            if (!is_path_char(c))
                return bad(text, std::string("character '") + c +
                                     "' is not allowed in a path (escape it)");
        }
        t.segments.push_back({false, std::string(seg)});
    }
    return t;
}

Result<std::string> expand_path_template(
    const PathTemplate& t,
    const std::vector<std::pair<std::string_view, std::string_view>>& values) {
    std::string out;
    out.reserve(t.source.size() + 16);
    for (auto& s : t.segments) {
        out.push_back('/');
        if (!s.param) {
            out += s.text;
            continue;
        }
        bool found = false;
        for (auto& [name, value] : values) {
            if (name == s.text) {
                out += value;
                found = true;
                break;
            }
        }
        if (!found)
            return make_error(Errc::invalid_argument, "no value for {" + s.text + "}", s.text);
    }
    if (out.empty()) out = "/";
    return out;
}

}  // namespace herald
