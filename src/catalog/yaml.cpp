#include "catalog/yaml.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace herald::catalog {
namespace {

namespace json = boost::json;
using std::string_view;

constexpr int indent_step = 2;
// Beyond this many levels the rest of the value is written as JSON on one line (see yaml.hpp).
constexpr int max_block_depth = 64;
// YAML 1.2 §7.4: an implicit key is at most 1024 Unicode characters; stay clear of it in bytes.
constexpr std::size_t max_implicit_key_bytes = 1000;

// --- UTF-8 ---------------------------------------------------------------------------------------

constexpr char32_t invalid_code_point = 0xFFFFFFFF;

// Decodes the code point starting at s[i] and advances i. A malformed sequence (bad lead or
// continuation byte, overlong form, surrogate, beyond U+10FFFF) consumes one byte and yields
// invalid_code_point.
char32_t next_code_point(string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    int len = 0;
    char32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        ++i;
        return invalid_code_point;
    }
    if (i + len > s.size()) {
        ++i;
        return invalid_code_point;
    }
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return invalid_code_point;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::array<char32_t, 5> min_for_length = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return invalid_code_point;
    }
    i += len;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// YAML 1.2 c-printable minus the characters that loaders treat specially anywhere in a scalar: NEL,
// LS and PS are line breaks to YAML 1.1 loaders, and a BOM may be taken for a stream marker.
bool is_safe_printable(char32_t cp) {
    if (cp == invalid_code_point) return false;
    if (cp < 0x80) return cp >= 0x20 && cp != 0x7F;
    if (cp <= 0x9F) return false;  // C1 controls, NEL among them
    if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) return false;
    if (cp == 0xFFFE || cp == 0xFFFF) return false;
    return true;
}

// --- Scalar styles -------------------------------------------------------------------------------

bool equals_ignoring_case(string_view a, string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}

// Words a YAML 1.1 or 1.2 loader resolves to a boolean or null when they are plain.
bool is_reserved_word(string_view s) {
    static constexpr std::array<string_view, 11> words = {
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "<<"};
    for (string_view w : words)
        if (equals_ignoring_case(s, w)) return true;
    return false;
}

// True when `s` can be written without quotes and read back as this very string (see yaml.hpp).
// Deliberately stricter than YAML's grammar: the first character rule alone keeps out every
// indicator (- ? : , [ ] { } # & * ! | > ' " % @ `), every number (digits, '+', '-', '.') and
// .inf/.nan; excluding ':' and '#' everywhere keeps out ": " (a mapping) and " #" (a comment).
bool is_plain_safe(string_view s) {
    if (s.empty()) return false;
    const char first = s.front();
    const bool first_ok = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
                          first == '_' || first == '/' || first == '$';
    if (!first_ok || s.back() == ' ') return false;
    for (std::size_t i = 0; i < s.size();) {
        const char32_t cp = next_code_point(s, i);
        if (!is_safe_printable(cp) || cp == ':' || cp == '#') return false;
    }
    return !is_reserved_word(s);
}

// True when a literal block scalar ("|" or "|-") reproduces `s` exactly: it holds a line break,
// only printable characters besides (tabs allowed), at most one trailing line break, and its first
// non-empty line does not start with white space (that would change the detected indentation).
bool is_literal_safe(string_view s) {
    if (s.find('\n') == string_view::npos) return false;
    const std::size_t content_end = s.find_last_not_of('\n');
    if (content_end == string_view::npos || s.size() - content_end - 1 > 1) return false;
    for (std::size_t i = 0; i < s.size();) {
        const char32_t cp = next_code_point(s, i);
        if (cp != '\n' && cp != '\t' && !is_safe_printable(cp)) return false;
    }
    const std::size_t first_content = s.find_first_not_of('\n');
    return s[first_content] != ' ' && s[first_content] != '\t';
}

void append_double_quoted(std::string& out, string_view s) {
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const char32_t cp = next_code_point(s, i);
        switch (cp) {
            case '"':
                out += "\\\"";
                continue;
            case '\\':
                out += "\\\\";
                continue;
            case '\n':
                out += "\\n";
                continue;
            case '\t':
                out += "\\t";
                continue;
            case '\r':
                out += "\\r";
                continue;
            case 0:
                out += "\\0";
                continue;
            case 0x2028:
                out += "\\L";
                continue;
            case 0x2029:
                out += "\\P";
                continue;
            default:
                break;
        }
        if (cp == invalid_code_point) {
            out += "\\uFFFD";
        } else if (is_safe_printable(cp)) {
            append_utf8(out, cp);
        } else {
            static constexpr char hex[] = "0123456789ABCDEF";
            if (cp <= 0xFF) {
                out += "\\x";
                out.push_back(hex[cp >> 4]);
                out.push_back(hex[cp & 0xF]);
            } else {
                out += "\\u";
                for (int shift = 12; shift >= 0; shift -= 4)
                    out.push_back(hex[(cp >> shift) & 0xF]);
            }
        }
    }
    out.push_back('"');
}

// The text of a scalar that fits on the current line (everything except literal block strings).
std::string inline_scalar(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return v.get_bool() ? "true" : "false";
        case json::kind::int64:
            return std::to_string(v.get_int64());
        case json::kind::uint64:
            return std::to_string(v.get_uint64());
        case json::kind::double_: {
            const double d = v.get_double();
            if (std::isnan(d)) return ".nan";
            if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
            std::array<char, 64> buf{};
            auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
            std::string text(buf.data(), end);
            if (text.find_first_of(".e") == std::string::npos) {
                text += ".0";
            } else if (const auto e = text.find('e');
                       e != std::string::npos && text.find('.') == std::string::npos) {
                text.insert(e, ".0");  // "1e+300" is an integer-looking float to YAML 1.1 loaders
            }
            return text;
        }
        case json::kind::string: {
            const string_view s = v.get_string();
            if (is_plain_safe(s)) return std::string(s);
            std::string out;
            append_double_quoted(out, s);
            return out;
        }
        case json::kind::array:
            return "[]";  // only called for empty containers
        case json::kind::object:
            return "{}";
    }
    return "null";
}

std::string key_text(string_view key) {
    if (is_plain_safe(key)) return std::string(key);
    std::string out;
    append_double_quoted(out, key);
    return out;
}

// --- Block emitter -------------------------------------------------------------------------------

class Emitter {
public:
    explicit Emitter(std::string& out) : out_(out) {}

    // Writes `v` as the value of a node whose introducer ("key:", "- ", ": " or nothing at the
    // top) has just been written. `indent` is the column of the introducer: nested lines go at
    // indent + 2. `compact` says a nested collection may start on the introducer's line (after
    // "- " and ": "); after "key:" it must start on the next line.
    void node(const json::value& v, int indent, bool compact, int depth) {
        if (depth > max_block_depth && is_nonempty_container(v)) {
            if (!compact) out_.push_back(' ');
            out_ += json::serialize(v);
            out_.push_back('\n');
            return;
        }
        if (v.is_object() && !v.get_object().empty()) {
            if (compact) {
                mapping(v.get_object(), indent + indent_step, /*first_inline=*/true, depth);
            } else {
                out_.push_back('\n');
                mapping(v.get_object(), indent + indent_step, /*first_inline=*/false, depth);
            }
            return;
        }
        if (v.is_array() && !v.get_array().empty()) {
            if (compact) {
                sequence(v.get_array(), indent + indent_step, /*first_inline=*/true, depth);
            } else {
                out_.push_back('\n');
                sequence(v.get_array(), indent + indent_step, /*first_inline=*/false, depth);
            }
            return;
        }
        if (!compact) out_.push_back(' ');
        if (v.is_string() && !is_plain_safe(v.get_string()) && is_literal_safe(v.get_string())) {
            literal(v.get_string(), indent + indent_step);
            return;
        }
        out_ += inline_scalar(v);
        out_.push_back('\n');
    }

    void mapping(const json::object& obj, int indent, bool first_inline, int depth) {
        bool first = true;
        for (const auto& member : obj) {
            if (!(first && first_inline)) pad(indent);
            first = false;
            std::string key = key_text(member.key());
            if (key.size() <= max_implicit_key_bytes) {
                out_ += key;
                out_.push_back(':');
                node(member.value(), indent, /*compact=*/false, depth + 1);
            } else {
                out_ += "? ";
                out_ += key;
                out_.push_back('\n');
                pad(indent);
                out_ += ": ";
                node(member.value(), indent, /*compact=*/true, depth + 1);
            }
        }
    }

    void sequence(const json::array& arr, int indent, bool first_inline, int depth) {
        bool first = true;
        for (const auto& item : arr) {
            if (!(first && first_inline)) pad(indent);
            first = false;
            out_ += "- ";
            node(item, indent, /*compact=*/true, depth + 1);
        }
    }

private:
    static bool is_nonempty_container(const json::value& v) {
        return (v.is_object() && !v.get_object().empty()) ||
               (v.is_array() && !v.get_array().empty());
    }

    void pad(int indent) { out_.append(static_cast<std::size_t>(indent), ' '); }

    // "|" keeps the one final line break, "|-" strips it (is_literal_safe allows no more than one).
    void literal(string_view s, int content_indent) {
        const bool ends_with_break = s.back() == '\n';
        out_ += ends_with_break ? "|\n" : "|-\n";
        if (ends_with_break) s.remove_suffix(1);
        std::size_t start = 0;
        while (true) {
            const std::size_t end = s.find('\n', start);
            const string_view line =
                s.substr(start, end == string_view::npos ? string_view::npos : end - start);
            if (!line.empty()) {
                pad(content_indent);
                out_ += line;
            }
            out_.push_back('\n');
            if (end == string_view::npos) break;
            start = end + 1;
        }
    }

    std::string& out_;
};

}  // namespace

std::string to_yaml(const json::value& value) {
    std::string out;
    Emitter emitter(out);
    if (value.is_object() && !value.get_object().empty()) {
        emitter.mapping(value.get_object(), 0, /*first_inline=*/false, 0);
    } else if (value.is_array() && !value.get_array().empty()) {
        emitter.sequence(value.get_array(), 0, /*first_inline=*/false, 0);
    } else {
        // A top-level scalar, written as if after "- " at column 0: no separating space, and a
        // literal block's content indented (a column-0 block scalar at the top level is legal but
        // trips some loaders).
        emitter.node(value, 0, /*compact=*/true, 0);
    }
    return out;
}

}  // namespace herald::catalog
