#include "trace/context.hpp"

#include <algorithm>
#include <vector>

namespace herald::trace {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case is not hex here: the spec says lower case, and the test suites treat upper as invalid
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

Error invalid(std::string why) { return make_error(Errc::invalid_argument, "traceparent: " + why, "traceparent"); }

bool is_lcalpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_key_char(char c) noexcept {
    return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

}  // namespace

bool SpanContext::valid() const noexcept { return !is_zero(trace_id) && !is_zero(span_id); }

bool is_zero(const TraceId& id) noexcept {
    return std::all_of(id.begin(), id.end(), [](std::uint8_t b) { return b == 0; });
}
bool is_zero(const SpanId& id) noexcept {
    return std::all_of(id.begin(), id.end(), [](std::uint8_t b) { return b == 0; });
}

void to_hex(const std::uint8_t* bytes, std::size_t n, char* out) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = kHex[bytes[i] >> 4];
        out[2 * i + 1] = kHex[bytes[i] & 15];
    }
}

std::string to_hex(const TraceId& id) {
    std::string s(32, '0');
    to_hex(id.data(), id.size(), s.data());
    return s;
}

std::string to_hex(const SpanId& id) {
    std::string s(16, '0');
    to_hex(id.data(), id.size(), s.data());
    return s;
}

bool from_hex(std::string_view hex, std::uint8_t* bytes, std::size_t n) noexcept {
    if (hex.size() != 2 * n) return false;
    for (std::size_t i = 0; i < n; ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

Result<SpanContext> parse_traceparent(std::string_view value) {
    value = trim_ows(value);
    if (value.size() < kTraceparentSize) return invalid("expected version-traceid-parentid-flags (55 characters)");
    std::uint8_t version = 0;
    if (!from_hex(value.substr(0, 2), &version, 1)) return invalid("the version is not two lower-case hex digits");
    if (version == 0xff) return invalid("version ff is invalid");
    if (value[2] != '-' || value[35] != '-' || value[52] != '-') return invalid("fields must be separated by '-'");
    // Version 00 is exactly 55 characters. A later version may append fields, after a '-'.
    if (version == 0 && value.size() != kTraceparentSize) return invalid("version 00 is exactly 55 characters");
    if (version != 0 && value.size() > kTraceparentSize && value[kTraceparentSize] != '-')
        return invalid("fields after the flags must follow a '-'");
    SpanContext c;
    if (!from_hex(value.substr(3, 32), c.trace_id.data(), c.trace_id.size()))
        return invalid("the trace-id is not 32 lower-case hex digits");
    if (!from_hex(value.substr(36, 16), c.span_id.data(), c.span_id.size()))
        return invalid("the parent-id is not 16 lower-case hex digits");
    if (!from_hex(value.substr(53, 2), &c.flags, 1)) return invalid("the flags are not two lower-case hex digits");
    if (is_zero(c.trace_id)) return invalid("an all-zero trace-id is invalid");
    if (is_zero(c.span_id)) return invalid("an all-zero parent-id is invalid");
    return c;
}

void format_traceparent(const SpanContext& c, char (&out)[kTraceparentSize]) noexcept {
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    to_hex(c.trace_id.data(), c.trace_id.size(), out + 3);
    out[35] = '-';
    to_hex(c.span_id.data(), c.span_id.size(), out + 36);
    out[52] = '-';
    const std::uint8_t flags = c.flags & kSampled;
    to_hex(&flags, 1, out + 53);
}

std::string format_traceparent(const SpanContext& c) {
    char buf[kTraceparentSize];
    format_traceparent(c, buf);
    return std::string(buf, sizeof buf);
}

bool is_tracestate_key(std::string_view key) noexcept {
    auto at = key.find('@');
    if (at == std::string_view::npos) {
        // simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
        if (key.empty() || key.size() > 256 || !is_lcalpha(key[0])) return false;
        return std::all_of(key.begin() + 1, key.end(), is_key_char);
    }
    // tenant-id "@" system-id
    auto tenant = key.substr(0, at), system = key.substr(at + 1);
    if (tenant.empty() || tenant.size() > 241 || !(is_lcalpha(tenant[0]) || is_digit(tenant[0]))) return false;
    if (!std::all_of(tenant.begin() + 1, tenant.end(), is_key_char)) return false;
    if (system.empty() || system.size() > 14 || !is_lcalpha(system[0])) return false;
    return std::all_of(system.begin() + 1, system.end(), is_key_char);
}

bool is_tracestate_value(std::string_view value) noexcept {
    // value = 0*255(chr) nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E; chr = %x20 / nblk-chr
    if (value.empty() || value.size() > 256) return false;
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e || c == ',' || c == '=') return false;
    }
    return value.back() != ' ';
}

std::string normalize_tracestate(std::string_view value) {
    std::vector<std::string_view> kept;
    std::vector<std::string_view> keys;
    while (!value.empty() && kept.size() < kMaxTracestateMembers) {
        auto comma = value.find(',');
        auto member = trim_ows(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        if (member.empty()) continue;  // the grammar allows empty list-members
        auto eq = member.find('=');
        if (eq == std::string_view::npos) continue;
        auto key = member.substr(0, eq);
        if (!is_tracestate_key(key) || !is_tracestate_value(member.substr(eq + 1))) continue;
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
        keys.push_back(key);
        kept.push_back(member);
    }
    auto joined_size = [&] {
        std::size_t n = kept.empty() ? 0 : kept.size() - 1;
        for (auto m : kept) n += m.size();
        return n;
    };
    while (!kept.empty() && joined_size() > kMaxTracestateSize) kept.pop_back();
    std::string out;
    out.reserve(joined_size());
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (i) out.push_back(',');
        out.append(kept[i]);
    }
    return out;
}

}  // namespace herald::trace
