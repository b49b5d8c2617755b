#pragma once
// Private to the schema module: JSON Pointer (RFC 6901) and URI-fragment helpers shared by compat,
// bundle and validator. Not part of the module's API. Pure functions of their arguments.

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace herald::schema::detail {

// One reference token, escaped for a JSON pointer: '~' → "~0", '/' → "~1".
inline std::string escape_pointer_token(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (char c : token) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

inline std::string append_token(const std::string& pointer, std::string_view token) {
    return pointer + "/" + escape_pointer_token(token);
}

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes a URI fragment (RFC 3986 §2.1). False on a malformed escape.
inline bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int hi = hex_digit(in[i + 1]);
        const int lo = hex_digit(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

// The node a local reference ("#", "#/a/b") designates inside `root`, or nullptr.
inline const boost::json::value* resolve_local_ref(const boost::json::value& root,
                                                   std::string_view ref) {
    if (ref.empty() || ref.front() != '#') return nullptr;
    std::string pointer;
    if (!percent_decode(ref.substr(1), pointer)) return nullptr;
    // valijson ignores trailing slashes of a reference; so do we, so that both resolve the same
    // node.
    while (!pointer.empty() && pointer.back() == '/') pointer.pop_back();
    if (pointer.empty()) return &root;
    if (pointer.front() != '/') return nullptr;
    boost::system::error_code ec;
    const boost::json::value* found = root.find_pointer(pointer, ec);
    return ec ? nullptr : found;
}

}  // namespace herald::schema::detail
