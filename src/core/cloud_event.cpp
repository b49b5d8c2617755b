// CloudEvents 1.0.2 validation. Each rule below cites the spec section or RFC production it
// implements, because "what is a valid event" is the contract every other module relies on: a
// decoder returns an event only after validate() accepted it, so the rest of Herald never
// re-checks.
//
// The grammar checks (URI, media type, timestamp) are hand-written recognisers over bytes. They
// allocate nothing and never throw, so they are safe on the data plane and cheap enough to run on
// every event.

#include "core/cloud_event.hpp"

#include "base/http_token.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/text.hpp"

namespace herald::core {
namespace {

using std::string_view;
constexpr std::size_t npos = string_view::npos;

// --- Character classes (RFC 3986 §2, RFC 7230 §3.2.6)
// ---------------------------------------------------------

constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_unreserved(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
constexpr bool is_sub_delim(char c) noexcept {
    switch (c) {
        case '!':
        case '$':
        case '&':
        case '\'':
        case '(':
        case ')':
        case '*':
        case '+':
        case ',':
        case ';':
        case '=':
            return true;
        default:
            return false;
    }
}
constexpr bool is_pchar(char c) noexcept {
    return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}
constexpr bool is_path_char(char c) noexcept { return is_pchar(c) || c == '/'; }
constexpr bool is_query_char(char c) noexcept { return is_pchar(c) || c == '/' || c == '?'; }
constexpr bool is_userinfo_char(char c) noexcept {
    return is_unreserved(c) || is_sub_delim(c) || c == ':';
}
constexpr bool is_reg_name_char(char c) noexcept { return is_unreserved(c) || is_sub_delim(c); }


// True when every byte of `s` is allowed by `allowed` or is part of a well-formed pct-encoded
// triplet.
template <class Pred>
bool all_pchars(string_view s, Pred allowed) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '%') {
            if (s.size() - i < 3 || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
            i += 3;
        } else if (allowed(s[i])) {
            ++i;
        } else {
            return false;
        }
    }
    return true;
}

// --- RFC 3986 pieces
// --------------------------------------------------------------------------------------------

// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool is_scheme(string_view s) noexcept {
    if (s.empty() || !is_alpha(s[0])) return false;
    for (char c : s.substr(1)) {
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    }
    return true;
}

// dec-octet "." dec-octet "." dec-octet "." dec-octet, where dec-octet is 0-255 without leading
// zeros.
bool is_ipv4(string_view s) noexcept {
    int octets = 0;
    std::size_t i = 0;
    while (true) {
        const std::size_t start = i;
        int value = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + (s[i++] - '0');
        const std::size_t len = i - start;
        if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return false;
        if (++octets == 4) return i == s.size();
        if (i >= s.size() || s[i] != '.') return false;
        ++i;
    }
}

// IPv6address (RFC 3986 §3.2.2): eight 16-bit groups of 1-4 hex digits, "::" at most once standing
// for one or more zero groups, and an optional trailing IPv4 address counting as two groups.
bool is_ipv6(string_view s) noexcept {
    std::size_t i = 0;
    int groups = 0;
    bool compressed = false;
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
    } else if (!s.empty() && s[0] == ':') {
        return false;
    }
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && is_hex(s[j])) ++j;
        if (j < s.size() && s[j] == '.') {
            if (!is_ipv4(s.substr(i))) return false;
            groups += 2;
            i = s.size();
            break;
        }
        if (j == i || j - i > 4) return false;
        ++groups;
        i = j;
        if (i == s.size()) break;
        if (s[i] != ':') return false;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (compressed) return false;
            compressed = true;
            ++i;
        } else if (i == s.size()) {
            return false;  // a single trailing colon
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

// IP-literal = "[" ( IPv6address / IPvFuture ) "]", given without the brackets.
// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
bool is_ip_literal_body(string_view s) noexcept {
    if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) {
        std::size_t i = 1;
        while (i < s.size() && is_hex(s[i])) ++i;
        if (i == 1 || i >= s.size() || s[i] != '.') return false;
        const string_view rest = s.substr(i + 1);
        if (rest.empty()) return false;
        for (char c : rest) {
            if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') return false;
        }
        return true;
    }
    return is_ipv6(s);
}

// authority = [ userinfo "@" ] host [ ":" port ]
bool is_authority(string_view s) noexcept {
    // Neither userinfo nor host may contain '@', so the first one (if any) is the separator; a
    // second '@' then fails the host check.
    const std::size_t at = s.find('@');
    if (at != npos) {
        if (!all_pchars(s.substr(0, at), is_userinfo_char)) return false;
        s.remove_prefix(at + 1);
    }
    string_view port;
    if (!s.empty() && s[0] == '[') {
        const std::size_t close = s.find(']');
        if (close == npos || !is_ip_literal_body(s.substr(1, close - 1))) return false;
        const string_view rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') return false;
            port = rest.substr(1);
        }
    } else {
        const std::size_t colon = s.find(':');
        // reg-name also covers IPv4address, which is a syntactic subset of it.
        if (!all_pchars(s.substr(0, colon), is_reg_name_char)) return false;
        if (colon != npos) port = s.substr(colon + 1);
    }
    for (char c : port) {
        if (!is_digit(c)) return false;
    }
    return true;
}

// Recognises URI-reference (relative allowed, fragment allowed) and absolute-URI (RFC 3986 §4.3:
// scheme required, no fragment).
bool is_uri_like(string_view s, bool allow_relative, bool allow_fragment) noexcept {
    const std::size_t hash = s.find('#');
    if (hash != npos) {
        if (!allow_fragment || !all_pchars(s.substr(hash + 1), is_query_char)) return false;
        s = s.substr(0, hash);
    }
    const std::size_t question = s.find('?');
    if (question != npos) {
        if (!all_pchars(s.substr(question + 1), is_query_char)) return false;
        s = s.substr(0, question);
    }
    // A ':' before the first '/' can only be the end of a scheme: a relative reference's first
    // segment must not contain one (path-noscheme), which is how RFC 3986 keeps the two forms
    // unambiguous.
    const std::size_t colon = s.find(':');
    const std::size_t slash = s.find('/');
    string_view rest = s;
    if (colon != npos && (slash == npos || colon < slash)) {
        if (!is_scheme(s.substr(0, colon))) return false;
        rest = s.substr(colon + 1);
    } else if (!allow_relative) {
        return false;
    }
    if (rest.size() >= 2 && rest[0] == '/' && rest[1] == '/') {
        const std::size_t path_start = rest.find('/', 2);
        if (!is_authority(rest.substr(2, path_start == npos ? npos : path_start - 2))) return false;
        // path-abempty: empty or starting with '/', which the split above guarantees.
        return path_start == npos || all_pchars(rest.substr(path_start), is_path_char);
    }
    // path-absolute, path-rootless, path-noscheme or path-empty; "//" was taken as an authority
    // above.
    return all_pchars(rest, is_path_char);
}

// --- RFC 7231 §3.1.1.1 media type (the HTTP form of RFC 2045/2046 Content-Type)
// ----------------------------------

std::size_t scan_token(string_view s, std::size_t i) noexcept {
    while (i < s.size() && is_http_token_char(s[i])) ++i;
    return i;
}

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, starting at s[i] == '"'; returns the
// index after the closing quote, or npos.
std::size_t scan_quoted_string(string_view s, std::size_t i) noexcept {
    ++i;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"') return i + 1;
        if (c == '\\') {
            if (i + 1 >= s.size()) return npos;
            const auto e = static_cast<unsigned char>(s[i + 1]);
            if (e != '\t' && (e < 0x20 || e == 0x7F)) return npos;
            i += 2;
            continue;
        }
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
        if (c != '\t' && (c < 0x20 || c == 0x7F)) return npos;
        ++i;
    }
    return npos;
}

// --- RFC 3339 §5.6 date-time
// -----------------------------------------------------------------------------------

bool read_digits(string_view s, std::size_t pos, std::size_t count, int& out) noexcept {
    if (s.size() < pos + count) return false;
    out = 0;
    for (std::size_t k = pos; k < pos + count; ++k) {
        if (!is_digit(s[k])) return false;
        out = out * 10 + (s[k] - '0');
    }
    return true;
}

int days_in_month(int year, int month) noexcept {
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return (month == 2 && leap) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// --- String type (CloudEvents 1.0.2 "Type System")
// --------------------------------------------------------------

enum class StringCheck { ok, bad_utf8, bad_char };

// Unicode noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
constexpr bool is_noncharacter(char32_t cp) noexcept {
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

// The spec's String type excludes control characters (U+0000-U+001F, U+007F-U+009F), noncharacters
// and unpaired surrogates; strict UTF-8 decoding already rules out surrogates.
StringCheck check_string(string_view s) noexcept {
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            if (b < 0x20 || b == 0x7F) return StringCheck::bad_char;
            ++i;
            continue;
        }
        if (!detail::next_code_point(s, i, cp)) return StringCheck::bad_utf8;
        if (cp <= 0x9F || is_noncharacter(cp)) return StringCheck::bad_char;
    }
    return StringCheck::ok;
}

Result<void> check_string_attribute(string_view name, string_view value) {
    switch (check_string(value)) {
        case StringCheck::ok:
            return ok();
        case StringCheck::bad_utf8:
            return make_error(Errc::invalid_argument, std::string(name) + " must be valid UTF-8",
                              std::string(name));
        case StringCheck::bad_char:
            return make_error(
                Errc::invalid_argument,
                std::string(name) + " must not contain control characters or Unicode noncharacters",
                std::string(name));
    }
    return ok();
}

Result<void> check_required_string(string_view name, string_view value) {
    if (value.empty()) {
        return make_error(Errc::invalid_argument,
                          std::string(name) + " is required and must be a non-empty string",
                          std::string(name));
    }
    return check_string_attribute(name, value);
}

// Names an extension attribute must not take: the context attributes defined by the spec plus the
// JSON format's data members (spec "Naming Conventions": no attribute may be called "data").
constexpr std::array<string_view, 10> reserved_names{
    "specversion", "id",      "source", "type", "datacontenttype",
    "dataschema",  "subject", "time",   "data", "data_base64"};

bool is_reserved_name(string_view name) noexcept {
    for (string_view r : reserved_names) {
        if (r == name) return true;
    }
    return false;
}

}  // namespace

bool is_valid_attribute_name(string_view name) noexcept {
    if (name.empty()) return false;
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || is_digit(c))) return false;
    }
    return true;
}

// date-time = full-date ("T" / "t") full-time; full-date = YYYY-MM-DD; full-time = HH:MM:SS[.frac]
// offset; offset = "Z" / "z" / ("+" / "-") HH:MM. Day ranges follow the month and leap year (RFC
// 3339 §5.7); second 60 is accepted because the grammar allows a leap second and only a leap-second
// table could say when.
bool is_rfc3339_timestamp(string_view s) noexcept {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' ||
        !read_digits(s, 5, 2, month) || s[7] != '-' || !read_digits(s, 8, 2, day) ||
        (s[10] != 'T' && s[10] != 't') || !read_digits(s, 11, 2, hour) || s[13] != ':' ||
        !read_digits(s, 14, 2, minute) || s[16] != ':' || !read_digits(s, 17, 2, second)) {
        return false;
    }
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60) {
        return false;
    }
    std::size_t i = 19;
    if (s[i] == '.') {
        const std::size_t start = ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i == start) return false;
    }
    if (i >= s.size()) return false;
    if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
    if (s[i] != '+' && s[i] != '-') return false;
    int off_hour = 0, off_minute = 0;
    return s.size() == i + 6 && read_digits(s, i + 1, 2, off_hour) && s[i + 3] == ':' &&
           read_digits(s, i + 4, 2, off_minute) && off_hour <= 23 && off_minute <= 59;
}

// Note: the empty string is a valid (same-document) URI-reference; validate() separately requires
// `source` to be non-empty, as the spec does.
bool is_uri_reference(string_view s) noexcept { return is_uri_like(s, true, true); }

// RFC 3986 §4.3 absolute-URI, which the CloudEvents URI type names explicitly: a scheme is required
// and a fragment is not allowed.
bool is_absolute_uri(string_view s) noexcept { return is_uri_like(s, false, false); }

// media-type = type "/" subtype *( OWS ";" OWS parameter ); parameter = token "=" ( token /
// quoted-string ).
bool is_media_type(string_view s) noexcept {
    std::size_t i = scan_token(s, 0);
    if (i == 0 || i >= s.size() || s[i] != '/') return false;
    const std::size_t subtype_start = ++i;
    i = scan_token(s, i);
    if (i == subtype_start) return false;
    while (i < s.size()) {
        while (i < s.size() && detail::is_ows(s[i])) ++i;
        if (i >= s.size() || s[i] != ';') return false;
        ++i;
        while (i < s.size() && detail::is_ows(s[i])) ++i;
        const std::size_t name_start = i;
        i = scan_token(s, i);
        if (i == name_start || i >= s.size() || s[i] != '=') return false;
        ++i;
        if (i < s.size() && s[i] == '"') {
            i = scan_quoted_string(s, i);
            if (i == npos) return false;
        } else {
            const std::size_t value_start = i;
            i = scan_token(s, i);
            if (i == value_start) return false;
        }
    }
    return true;
}

// JSON format §3.1.1: a media type declares JSON content when, stripped of parameters, it has the
// form */json or
// */*+json. Media type names are case-insensitive (RFC 2045 §5.1).
bool is_json_media_type(string_view media_type) noexcept {
    const std::size_t end = media_type.find(';');
    const string_view essence = detail::trim_ows(media_type.substr(0, end));
    const std::size_t slash = essence.find('/');
    if (slash == npos || slash == 0) return false;
    const string_view subtype = essence.substr(slash + 1);
    constexpr string_view json = "json";
    constexpr string_view plus_json = "+json";
    if (detail::iequals(subtype, json)) return true;
    return subtype.size() > plus_json.size() &&
           detail::iequals(subtype.substr(subtype.size() - plus_json.size()), plus_json);
}

Result<void> validate(const CloudEvent& event) {
    // specversion first: with any other version the remaining rules may not apply, so that is the
    // useful error.
    if (event.specversion.empty()) {
        return make_error(Errc::invalid_argument,
                          "specversion is required and must be a non-empty string", "specversion");
    }
    if (event.specversion != "1.0") {
        return make_error(Errc::invalid_argument, "specversion must be \"1.0\"", "specversion");
    }
    if (auto r = check_required_string("id", event.id); !r) return r;
    if (event.source.empty()) {
        return make_error(Errc::invalid_argument,
                          "source is required and must be a non-empty URI-reference", "source");
    }
    if (!is_uri_reference(event.source)) {
        return make_error(Errc::invalid_argument, "source must be a URI-reference (RFC 3986)",
                          "source");
    }
    if (auto r = check_required_string("type", event.type); !r) return r;

    if (event.datacontenttype && !is_media_type(*event.datacontenttype)) {
        return make_error(
            Errc::invalid_argument,
            "datacontenttype must be a media type (RFC 2046), such as application/json",
            "datacontenttype");
    }
    if (event.dataschema && !is_absolute_uri(*event.dataschema)) {
        return make_error(Errc::invalid_argument, "dataschema must be an absolute URI (RFC 3986)",
                          "dataschema");
    }
    if (event.subject) {
        if (event.subject->empty()) {
            return make_error(Errc::invalid_argument,
                              "subject must be a non-empty string when present", "subject");
        }
        if (auto r = check_string_attribute("subject", *event.subject); !r) return r;
    }
    if (event.time && !is_rfc3339_timestamp(*event.time)) {
        return make_error(Errc::invalid_argument, "time must be an RFC 3339 timestamp", "time");
    }

    for (const auto& [name, value] : event.extensions) {
        if (!is_valid_attribute_name(name)) {
            return make_error(Errc::invalid_argument,
                              "attribute name \"" + name +
                                  "\" must consist of lower-case ASCII letters and digits only",
                              name);
        }
        if (is_reserved_name(name)) {
            return make_error(
                Errc::invalid_argument,
                name + " is a reserved name and cannot be used as an extension attribute", name);
        }
        if (const auto* i = std::get_if<std::int64_t>(&value)) {
            if (*i < std::numeric_limits<std::int32_t>::min() ||
                *i > std::numeric_limits<std::int32_t>::max()) {
                return make_error(Errc::invalid_argument,
                                  name + " must be an Integer in the signed 32-bit range", name);
            }
        } else if (const auto* s = std::get_if<std::string>(&value)) {
            if (auto r = check_string_attribute(name, *s); !r) return r;
        }
    }

    // The encoder writes `data` into JSON as it is, so the data invariants of DataKind must hold.
    if (event.data_kind == DataKind::json && event.data.empty()) {
        return make_error(Errc::invalid_argument,
                          "data must hold serialised JSON when it is JSON data", "data");
    }
    if (event.data_kind == DataKind::text && !detail::is_valid_utf8(event.data)) {
        return make_error(Errc::invalid_argument, "data must be valid UTF-8 when it is text",
                          "data");
    }
    return ok();
}

}  // namespace herald::core
