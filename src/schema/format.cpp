#include "schema/format.hpp"

#include <arpa/inet.h>

#include <string>

#include "core/cloud_event.hpp"
#include "schema/pattern.hpp"

namespace herald::schema::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (s.size() < at + n) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (!is_digit(s[i])) return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

int days_in_month(int year, int month) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

// RFC 3339 full-date.
bool is_date(std::string_view s) {
    int y = 0, m = 0, d = 0;
    return s.size() == 10 && digits(s, 0, 4, y) && s[4] == '-' && digits(s, 5, 2, m) &&
           s[7] == '-' && digits(s, 8, 2, d) && m >= 1 && m <= 12 && d >= 1 &&
           d <= days_in_month(y, m);
}

// RFC 3339 full-time: HH:MM:SS[.frac](Z|±HH:MM).
bool is_time(std::string_view s) {
    int h = 0, m = 0, sec = 0;
    if (!digits(s, 0, 2, h) || s.size() < 9 || s[2] != ':' || !digits(s, 3, 2, m) || s[5] != ':' ||
        !digits(s, 6, 2, sec) || h > 23 || m > 59 || sec > 60) {
        return false;
    }
    std::size_t i = 8;
    if (i < s.size() && s[i] == '.') {
        const std::size_t start = ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i == start) return false;
    }
    if (i >= s.size()) return false;
    if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
    if (s[i] != '+' && s[i] != '-') return false;
    int oh = 0, om = 0;
    return s.size() == i + 6 && digits(s, i + 1, 2, oh) && s[i + 3] == ':' &&
           digits(s, i + 4, 2, om) && oh <= 23 && om <= 59;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1–63 characters, not
// starting or ending with '-'; at most 253 characters.
bool is_hostname(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = s.find('.', start);
        const std::string_view label =
            s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label) {
            if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
        }
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

bool is_ipv4(std::string_view s) {
    int parts = 0;
    std::size_t i = 0;
    while (parts < 4) {
        const std::size_t start = i;
        int value = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + (s[i++] - '0');
        const std::size_t len = i - start;
        if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return false;
        if (++parts < 4) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    return i == s.size();
}

bool is_ipv6(std::string_view s) {
    if (s.empty() || s.size() > 45) return false;
    for (char c : s) {
        if (!is_hex(c) && c != ':' && c != '.') return false;  // no zone ids ("%eth0")
    }
    const std::string z(s);
    in6_addr addr{};
    return inet_pton(AF_INET6, z.c_str(), &addr) == 1;
}

// A simplified RFC 5321 mailbox: dot-atom local part (no quoted strings) '@' host name.
bool is_email(std::string_view s) {
    const std::size_t at = s.rfind('@');
    if (at == std::string_view::npos || at == 0 || at > 64) return false;
    const std::string_view local = s.substr(0, at);
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return false;
    static constexpr std::string_view specials = "!#$%&'*+/=?^_`{|}~.-";
    for (char c : local) {
        if (!is_alpha(c) && !is_digit(c) && specials.find(c) == std::string_view::npos)
            return false;
    }
    return is_hostname(s.substr(at + 1));
}

bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

bool is_json_pointer(std::string_view s) {
    if (s.empty()) return true;
    if (s.front() != '/') return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '~' && (i + 1 >= s.size() || (s[i + 1] != '0' && s[i + 1] != '1')))
            return false;
    }
    return true;
}

bool has_scheme(std::string_view s) {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_alpha(s[0])) return false;
    for (std::size_t i = 1; i < colon; ++i) {
        const char c = s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    }
    return true;
}

}  // namespace

FormatCheck format_check(std::string_view name) {
    if (name == "date-time")
        return [](std::string_view s) { return core::is_rfc3339_timestamp(s); };
    if (name == "date") return &is_date;
    if (name == "time") return &is_time;
    if (name == "email") return &is_email;
    if (name == "hostname") return &is_hostname;
    if (name == "ipv4") return &is_ipv4;
    if (name == "ipv6") return &is_ipv6;
    if (name == "uri")
        return [](std::string_view s) { return has_scheme(s) && core::is_uri_reference(s); };
    if (name == "uri-reference")
        return [](std::string_view s) { return core::is_uri_reference(s); };
    if (name == "uuid") return &is_uuid;
    if (name == "json-pointer") return &is_json_pointer;
    if (name == "regex")
        return [](std::string_view s) {
            return static_cast<bool>(Pattern::compile(s, Pattern::Automata::skip));
        };
    return nullptr;
}

}  // namespace herald::schema::detail
