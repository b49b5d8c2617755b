#pragma once
// Herald's structured logs: application lines (level, module, message, fields) and access lines (one per HTTP
// exchange), as JSON lines (default) or as human-readable text, to one Sink.
//
//   {"time":"2024-05-01T12:00:00.123456Z","log":"app","level":"warn","module":"webhook","msg":"cannot save
//    progress","error":"database is locked"}
//   {"time":"2024-05-01T12:00:00.125001Z","log":"access","request_id":"b7ad6b7169203331","plane":"data",
//    "method":"POST","path":"/v1/topics/orders/events","query":"type=x","remote":"127.0.0.1",
//    "principal":"api_key:publisher","route":"/v1/topics/{topic}/events","status":201,"bytes_in":312,
//    "bytes_out":96,"duration_us":412,"trace_id":"0af7651916cd43dd8448eb211c80319c"}
//
// Secrets never reach a line: access records carry no headers at all (so no Authorization, Cookie or X-API-Key),
// the principal is a name ("api_key:publisher", "jwt:alice"), never a credential, and query parameters whose
// names look like credentials (access_token, api_key, signature, …; see is_secret_parameter) have their values
// replaced by [REDACTED] before the line is rendered. Every string goes through the JSON escaper, so no value can
// end a line early or forge another.
//
// There is no global logger: the composition root makes one and hands a reference (or pointer) to what needs it.
// The level is an atomic and may change at run time (PUT /admin/log/level); checking it costs one relaxed load,
// so `if (logger.enabled(Level::debug))` in front of a debug line's field-building is the cheap path.
//
// Threading: every member may be called from any thread.

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.hpp"
#include "log/sink.hpp"

namespace herald::log {

enum class Level : std::uint8_t { debug = 0, info = 1, warn = 2, error = 3 };
std::string_view to_string(Level level) noexcept;
// "debug", "info", "warn" (or "warning"), "error"; Errc::invalid_argument naming "level".
Result<Level> parse_level(std::string_view text);

enum class Format : std::uint8_t { json, text };
std::string_view to_string(Format format) noexcept;
Result<Format> parse_format(std::string_view text);

// One structured field of an application line. Keys are code (literals); values are copied into the line
// while it is rendered, so views into temporaries are fine for the duration of the call.
struct Field {
    using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
    std::string_view key;
    Value value;

    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, bool v) : key(k), value(v) {}
    Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
    Field(std::string_view k, long v) : key(k), value(std::int64_t{v}) {}
    Field(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
    Field(std::string_view k, unsigned v) : key(k), value(std::uint64_t{v}) {}
    Field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
    Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
    Field(std::string_view k, double v) : key(k), value(v) {}
};
using Fields = std::initializer_list<Field>;

// One HTTP exchange, as the listener reports it when the response has been written (or, for SSE and
// WebSocket, when the handler took the connection over: status 200/101, duration = the handshake, bytes_out 0).
struct AccessRecord {
    std::int64_t time_unix_us = 0;  // when the request head had arrived
    std::string_view request_id;    // the request's server span id (16 hex digits)
    std::string_view plane;         // "data" or "admin"
    std::string_view method;
    std::string_view target;        // as received; the query part is redacted when rendered
    std::string_view remote;
    std::string_view principal;     // "api_key:<name>", "jwt:<subject>", "admin", "anonymous" or empty
    std::string_view route;         // the endpoint's template, e.g. /v1/topics/{topic}/events; empty: none matched
    unsigned status = 0;
    std::uint64_t bytes_in = 0;     // request head and body
    std::uint64_t bytes_out = 0;    // response head and body as written
    std::int64_t duration_us = 0;   // head received → response written (or taken over)
    std::string_view trace_id;      // 32 hex digits, or empty
    bool takeover = false;          // a stream or WebSocket took the connection over
};

struct LoggerOptions {
    Level level = Level::info;
    Format format = Format::json;
    bool access = true;  // one access line per HTTP exchange
};

struct LogStats {
    std::atomic<std::uint64_t> lines{0};         // application lines written
    std::atomic<std::uint64_t> access_lines{0};  // access lines written
};

class Logger {
public:
    Logger(std::unique_ptr<Sink> sink, LoggerOptions options = {});

    bool enabled(Level level) const noexcept {
        return static_cast<std::uint8_t>(level) >= level_.load(std::memory_order_relaxed);
    }
    Level level() const noexcept { return static_cast<Level>(level_.load(std::memory_order_relaxed)); }
    void set_level(Level level) noexcept { level_.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed); }
    bool access_enabled() const noexcept { return access_.load(std::memory_order_relaxed); }
    void set_access(bool on) noexcept { access_.store(on, std::memory_order_relaxed); }
    Format format() const noexcept { return format_; }

    void log(Level level, std::string_view module, std::string_view message, Fields fields = {}) noexcept;
    void debug(std::string_view module, std::string_view message, Fields fields = {}) noexcept {
        log(Level::debug, module, message, fields);
    }
    void info(std::string_view module, std::string_view message, Fields fields = {}) noexcept {
        log(Level::info, module, message, fields);
    }
    void warn(std::string_view module, std::string_view message, Fields fields = {}) noexcept {
        log(Level::warn, module, message, fields);
    }
    void error(std::string_view module, std::string_view message, Fields fields = {}) noexcept {
        log(Level::error, module, message, fields);
    }
    // Written whenever access logging is on, whatever the level: the access log is its own stream.
    void access(const AccessRecord& record) noexcept;

    Result<void> reopen() { return sink_->reopen(); }
    // Why the sink cannot write, or empty (a readiness check).
    std::string problem() const { return sink_->problem(); }
    const Sink& sink() const noexcept { return *sink_; }
    const LogStats& stats() const noexcept { return stats_; }

private:
    std::unique_ptr<Sink> sink_;
    const Format format_;
    std::atomic<std::uint8_t> level_;
    std::atomic<bool> access_;
    LogStats stats_;
};

// Writes through `logger`, or as a plain line on stderr when there is none (code used both inside the server
// and in tests or tools that run without one).
void emit(Logger* logger, Level level, std::string_view module, std::string_view message, Fields fields = {}) noexcept;

// ---- Rendering, exposed for tests ----------------------------------------------------------------------------

// One line, newline included.
std::string render(Format format, std::int64_t unix_us, Level level, std::string_view module,
                   std::string_view message, Fields fields);
std::string render_access(Format format, const AccessRecord& record);
// RFC 3339 UTC with microseconds: 2024-05-01T12:00:00.123456Z.
std::string format_time(std::int64_t unix_us);
// True for query parameter names that carry credentials: the (percent-decoded, case-folded) name contains
// token, secret, passw, key, auth, sig, credential, session, cookie, jwt or code.
bool is_secret_parameter(std::string_view name);
// The query string with the values of secret parameters replaced by [REDACTED]; everything else as received.
std::string redact_query(std::string_view query);

std::int64_t unix_micros() noexcept;

}  // namespace herald::log
