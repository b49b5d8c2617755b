#include "log/logger.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

#include "base/json_text.hpp"

namespace herald::log {

namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

// "2024-05-01T12:00:00" for a second, cached per thread: most lines of a busy second share it.
void append_time(std::string& out, std::int64_t unix_us) {
    thread_local std::int64_t cached_second = -1;
    thread_local char cached[64];  // 19 used; room for what -Wformat-truncation imagines
    std::int64_t sec = unix_us >= 0 ? unix_us / 1'000'000 : (unix_us - 999'999) / 1'000'000;
    std::int64_t us = unix_us - sec * 1'000'000;
    if (sec != cached_second) {
        std::time_t t = static_cast<std::time_t>(sec);
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_second = sec;
    }
    char frac[9];
    std::snprintf(frac, sizeof frac, ".%06dZ", static_cast<int>(us));
    out.append(cached, 19);
    out.append(frac, 8);
}

void append_value_json(std::string& out, const Field::Value& v) {
    if (auto* s = std::get_if<std::string_view>(&v)) return append_json_string(out, *s);
    if (auto* i = std::get_if<std::int64_t>(&v)) {
        out += std::to_string(*i);
    } else if (auto* u = std::get_if<std::uint64_t>(&v)) {
        out += std::to_string(*u);
    } else if (auto* d = std::get_if<double>(&v)) {
        if (*d != *d || *d > 1e308 || *d < -1e308) {
            out += "null";  // JSON has no NaN or infinity
        } else {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6g", *d);
            out += buf;
        }
    } else {
        out += std::get<bool>(v) ? "true" : "false";
    }
}

// Text format values: bare when they are simple, JSON-quoted (and so escaped) otherwise.
void append_value_text(std::string& out, std::string_view s) {
    bool bare = !s.empty();
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '"' || c == '=' || c == '\\') {
            bare = false;
            break;
        }
    }
    if (bare) out.append(s);
    else append_json_string(out, s);
}

void append_field_text(std::string& out, std::string_view key, const Field::Value& v) {
    out.push_back(' ');
    append_json_escaped(out, key);
    out.push_back('=');
    if (auto* s = std::get_if<std::string_view>(&v)) return append_value_text(out, *s);
    append_value_json(out, v);
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Percent-decoded, '+' as space, case-folded: the form names are compared in.
std::string fold_name(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%' && i + 2 < raw.size()) {
            int hi = hex_digit(raw[i + 1]), lo = hex_digit(raw[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(lower(static_cast<char>(hi << 4 | lo)));
                i += 2;
                continue;
            }
        }
        out.push_back(c == '+' ? ' ' : lower(c));
    }
    return out;
}

}  // namespace

std::string_view to_string(Level level) noexcept {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

Result<Level> parse_level(std::string_view text) {
    if (text == "debug") return Level::debug;
    if (text == "info") return Level::info;
    if (text == "warn" || text == "warning") return Level::warn;
    if (text == "error") return Level::error;
    return make_error(Errc::invalid_argument, "expected debug, info, warn or error", "level");
}

std::string_view to_string(Format format) noexcept { return format == Format::text ? "text" : "json"; }

Result<Format> parse_format(std::string_view text) {
    if (text == "json") return Format::json;
    if (text == "text") return Format::text;
    return make_error(Errc::invalid_argument, "expected json or text", "format");
}

std::int64_t unix_micros() noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string format_time(std::int64_t unix_us) {
    std::string out;
    append_time(out, unix_us);
    return out;
}

bool is_secret_parameter(std::string_view name) {
    static constexpr std::string_view kMarks[] = {"token", "secret", "passw",   "key",    "auth", "sig",
                                                  "credential", "session", "cookie", "jwt", "code"};
    const std::string folded = fold_name(name);
    for (auto mark : kMarks)
        if (folded.find(mark) != std::string::npos) return true;
    return false;
}

std::string redact_query(std::string_view query) {
    std::string out;
    out.reserve(query.size());
    while (true) {
        auto amp = query.find('&');
        auto param = query.substr(0, amp);
        auto eq = param.find('=');
        auto name = param.substr(0, eq);
        if (eq != std::string_view::npos && is_secret_parameter(name)) {
            out.append(name);
            out.push_back('=');
            out.append(kRedacted);
        } else {
            out.append(param);
        }
        if (amp == std::string_view::npos) break;
        out.push_back('&');
        query.remove_prefix(amp + 1);
    }
    return out;
}

std::string render(Format format, std::int64_t unix_us, Level level, std::string_view module,
                   std::string_view message, Fields fields) {
    std::string out;
    out.reserve(128 + message.size() + fields.size() * 32);
    if (format == Format::json) {
        out += "{\"time\":\"";
        append_time(out, unix_us);
        out += "\",\"log\":\"app\",\"level\":\"";
        out += to_string(level);
        out += "\",\"module\":";
        append_json_string(out, module);
        out += ",\"msg\":";
        append_json_string(out, message);
        for (auto& f : fields) {
            out.push_back(',');
            append_json_string(out, f.key);
            out.push_back(':');
            append_value_json(out, f.value);
        }
        out += "}\n";
        return out;
    }
    append_time(out, unix_us);
    static constexpr std::string_view kNames[] = {" DEBUG ", " INFO  ", " WARN  ", " ERROR "};
    out += kNames[static_cast<std::size_t>(level) & 3];
    append_json_escaped(out, module);
    out += ": ";
    append_json_escaped(out, message);
    for (auto& f : fields) append_field_text(out, f.key, f.value);
    out.push_back('\n');
    return out;
}

std::string render_access(Format format, const AccessRecord& r) {
    std::string_view target = r.target, path = target, query;
    if (auto q = target.find('?'); q != std::string_view::npos) {
        path = target.substr(0, q);
        query = target.substr(q + 1);
    }
    const std::string redacted = query.empty() ? std::string() : redact_query(query);
    std::string out;
    out.reserve(320 + target.size());
    if (format == Format::json) {
        auto str = [&](std::string_view key, std::string_view v) {
            out += ",\"";
            out += key;
            out += "\":";
            append_json_string(out, v);
        };
        auto num = [&](std::string_view key, auto v) {
            out += ",\"";
            out += key;
            out += "\":";
            out += std::to_string(v);
        };
        out += "{\"time\":\"";
        append_time(out, r.time_unix_us);
        out += "\",\"log\":\"access\"";
        str("request_id", r.request_id);
        str("plane", r.plane);
        str("method", r.method);
        str("path", path);
        if (!query.empty()) str("query", redacted);
        str("remote", r.remote);
        str("principal", r.principal);
        str("route", r.route);
        num("status", r.status);
        num("bytes_in", r.bytes_in);
        num("bytes_out", r.bytes_out);
        num("duration_us", r.duration_us);
        str("trace_id", r.trace_id);
        if (r.takeover) out += ",\"takeover\":true";
        out += "}\n";
        return out;
    }
    // 2024-05-01T12:00:00.125001Z ACCESS data 127.0.0.1 api_key:publisher "POST /v1/topics/o/events?x=1" 201
    //   in=312 out=96 412us route=/v1/topics/{topic}/events request_id=… trace_id=…
    append_time(out, r.time_unix_us);
    out += " ACCESS ";
    append_json_escaped(out, r.plane);
    out.push_back(' ');
    append_value_text(out, r.remote.empty() ? std::string_view("-") : r.remote);
    out.push_back(' ');
    append_value_text(out, r.principal.empty() ? std::string_view("-") : r.principal);
    out += " \"";
    append_json_escaped(out, r.method);
    out.push_back(' ');
    append_json_escaped(out, path);
    if (!query.empty()) {
        out.push_back('?');
        append_json_escaped(out, redacted);
    }
    out += "\" " + std::to_string(r.status) + " in=" + std::to_string(r.bytes_in) +
           " out=" + std::to_string(r.bytes_out) + " " + std::to_string(r.duration_us) + "us";
    if (!r.route.empty()) {
        out += " route=";
        append_value_text(out, r.route);
    }
    out += " request_id=";
    append_value_text(out, r.request_id.empty() ? std::string_view("-") : r.request_id);
    if (!r.trace_id.empty()) {
        out += " trace_id=";
        append_value_text(out, r.trace_id);
    }
    if (r.takeover) out += " takeover";
    out.push_back('\n');
    return out;
}

Logger::Logger(std::unique_ptr<Sink> sink, LoggerOptions options)
    : sink_(std::move(sink)),
      format_(options.format),
      level_(static_cast<std::uint8_t>(options.level)),
      access_(options.access) {}

void Logger::log(Level level, std::string_view module, std::string_view message, Fields fields) noexcept {
    if (!enabled(level)) return;
    try {
        auto line = render(format_, unix_micros(), level, module, message, fields);
        sink_->write(line);
        stats_.lines.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
        // Out of memory while rendering a log line: nothing sensible left to do with it.
    }
}

void Logger::access(const AccessRecord& record) noexcept {
    if (!access_enabled()) return;
    try {
        auto line = render_access(format_, record);
        sink_->write_deferred(line);
        stats_.access_lines.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
    }
}

void emit(Logger* logger, Level level, std::string_view module, std::string_view message, Fields fields) noexcept {
    if (logger) return logger->log(level, module, message, fields);
    try {
        auto line = render(Format::text, unix_micros(), level, module, message, fields);
        ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
        (void)ignored;
    } catch (...) {
    }
}

}  // namespace herald::log
