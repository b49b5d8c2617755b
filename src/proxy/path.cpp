#include "proxy/path.hpp"

#include <vector>

#include "base/path_template.hpp"

namespace herald::proxy {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

}  // namespace

Result<std::string> normalize_path(std::string_view raw) {
    if (raw.empty() || raw.front() != '/')
        return make_error(Errc::invalid_argument, "the request path must start with '/'", "path");
    if (raw.size() > 8192)
        return make_error(Errc::invalid_argument, "the request path is too long", "path");

    // Pass 1: decode unreserved escapes, canonicalise the others, refuse what is not a path
    // character.
    std::string decoded;
    decoded.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
            int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return make_error(Errc::invalid_argument,
                                  "broken percent-escape in the request path", "path");
            char d = static_cast<char>(hi * 16 + lo);
            if (is_unreserved(d)) {
                decoded.push_back(d);
            } else {
                static constexpr char kHex[] = "0123456789ABCDEF";
                decoded.push_back('%');
                decoded.push_back(kHex[hi]);
                decoded.push_back(kHex[lo]);
            }
            i += 2;
            continue;
        }
        if (c != '/' && !is_path_char(c))
            return make_error(Errc::invalid_argument,
                              "the request path holds a character that must be escaped", "path");
        decoded.push_back(c);
    }

    // Pass 2: segments without empty ones (merged slashes) and without dot segments.
    std::vector<std::string_view> out;
    std::string_view rest(decoded);
    const bool trailing_slash = rest.size() > 1 && rest.back() == '/';
    bool ends_in_dot = false;  // "/a/." and "/a/.." name a directory: keep the trailing '/'
    while (!rest.empty()) {
        auto slash = rest.find('/');
        auto seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        ends_in_dot = false;
        if (seg.empty()) continue;
        if (seg == ".") {
            ends_in_dot = true;
            continue;
        }
        if (seg == "..") {
            if (!out.empty()) out.pop_back();
            ends_in_dot = true;
            continue;
        }
        out.push_back(seg);
    }
    std::string path;
    path.reserve(decoded.size());
    for (auto seg : out) {
        path.push_back('/');
        path.append(seg);
    }
    if (path.empty() || trailing_slash || ends_in_dot) path.push_back('/');
    if (path.size() > 1 && path[path.size() - 2] == '/' && path.back() == '/') path.pop_back();
    return path;
}

std::string normalize_host(std::string_view host) {
    std::string h;
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        h = std::string(host.substr(0, close == std::string_view::npos ? host.size() : close + 1));
    } else {
        h = std::string(host.substr(0, host.find(':')));
    }
    for (auto& c : h) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    while (!h.empty() && h.back() == '.') h.pop_back();
    return h;
}

}  // namespace herald::proxy
