#include "security/jwks_cache.hpp"

#include <algorithm>

namespace herald::security {
namespace {

constexpr char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view to_string(JwksFetchOutcome outcome) noexcept {
    switch (outcome) {
        case JwksFetchOutcome::updated:
            return "updated";
        case JwksFetchOutcome::unchanged:
            return "unchanged";
        case JwksFetchOutcome::failed:
            return "failed";
    }
    return "unknown";
}

std::optional<std::chrono::seconds> parse_cache_max_age(std::string_view value) noexcept {
    std::optional<std::chrono::seconds> max_age;
    bool no_cache = false;
    while (!value.empty()) {
        const auto comma = value.find(',');
        const auto directive = trim(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        const auto eq = directive.find('=');
        const auto name = trim(directive.substr(0, eq));
        if (iequals(name, "no-cache") || iequals(name, "no-store")) {
            no_cache = true;
            continue;
        }
        if (!iequals(name, "max-age") || eq == std::string_view::npos) continue;
        auto arg = trim(directive.substr(eq + 1));
        if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"')
            arg = arg.substr(1, arg.size() - 2);
        if (arg.empty()) continue;
        std::int64_t n = 0;
        bool digits = true;
        for (char c : arg) {
            if (c < '0' || c > '9') {
                digits = false;
                break;
            }
            // RFC 9111 §1.2.2: a delta-seconds too large to hold is taken as 2^31.
            n = std::min<std::int64_t>(n * 10 + (c - '0'), std::int64_t{1} << 31);
        }
        if (digits) max_age = std::chrono::seconds(n);
    }
    if (no_cache) return std::chrono::seconds(0);
    return max_age;
}

JwksCache::JwksCache(std::string url, JwksCacheOptions options)
    : url_(std::move(url)), options_(options) {}

bool JwksCache::fetch_in_flight(time_point now) const noexcept {
    return in_flight_since_ && now < *in_flight_since_ + options_.fetch_timeout;
}

bool JwksCache::needs_refresh(time_point now) const noexcept {
    return !fetch_in_flight(now) && now >= next_refresh_;
}

void JwksCache::mark_started(time_point now) noexcept {
    in_flight_since_ = now;
    last_started_ = now;
}

bool JwksCache::begin_refresh(time_point now) noexcept {
    if (!needs_refresh(now)) return false;
    mark_started(now);
    return true;
}

bool JwksCache::unknown_kid(std::string_view kid, time_point now) noexcept {
    if (kid.empty() || keys_.contains_kid(kid)) return false;
    if (fetch_in_flight(now)) return false;
    if (last_started_ && now < *last_started_ + options_.unknown_kid_interval) return false;
    mark_started(now);
    return true;
}

JwksFetchReport JwksCache::fail(std::string detail, time_point now) {
    ++failures_;
    // retry_min * 2^(failures-1), capped; the shift is bounded so it cannot overflow.
    const int shift = std::min(failures_ - 1, 20);
    const auto backoff =
        std::min(options_.retry_max, options_.retry_min * (std::int64_t{1} << shift));
    // A failure never makes a still-fresh set due sooner than planned; it only schedules the retry
    // when the set is (or was already) due.
    next_refresh_ = std::max(next_refresh_, now + backoff);
    JwksFetchReport report;
    report.outcome = JwksFetchOutcome::failed;
    report.detail = std::move(detail);
    if (has_keys()) report.detail += " (keeping the last good key set)";
    report.next_refresh = next_refresh_;
    return report;
}

JwksFetchReport JwksCache::on_fetch_result(const JwksFetchResponse& response, time_point now) {
    if (response.status == 0) {
        in_flight_since_.reset();
        return fail("fetch of " + url_ +
                        " failed: " + (response.error.empty() ? "no response" : response.error),
                    now);
    }
    return on_fetch_result(response.status, response.cache_control, response.body, now);
}

JwksFetchReport JwksCache::on_fetch_result(int status, std::string_view cache_control,
                                           std::string_view body, time_point now) {
    in_flight_since_.reset();
    if (status != 200)
        return fail("fetch of " + url_ + " answered HTTP " + std::to_string(status), now);
    auto parsed = parse_jwks(body, options_.jwk);
    if (!parsed) return fail("JWKS from " + url_ + " is unusable: " + parsed.error().message, now);
    if (parsed->keys.empty()) {
        auto report = fail("JWKS from " + url_ + " holds no usable signing key", now);
        report.notes = std::move(parsed->notes);
        return report;
    }

    std::chrono::seconds ttl = options_.default_ttl;
    if (const auto max_age = parse_cache_max_age(cache_control)) ttl = *max_age;
    ttl = std::clamp(ttl, options_.min_ttl, std::max(options_.min_ttl, options_.max_ttl));

    JwksFetchReport report;
    const Sha256Digest digest = sha256(body);
    if (body_digest_ && *body_digest_ == digest) {
        report.outcome = JwksFetchOutcome::unchanged;
    } else {
        report.outcome = JwksFetchOutcome::updated;
        keys_ = std::move(parsed->keys);
        body_digest_ = digest;
        ++generation_;
    }
    report.detail = std::to_string(keys_.size()) + (keys_.size() == 1 ? " key" : " keys");
    report.notes = std::move(parsed->notes);
    last_success_ = now;
    failures_ = 0;
    next_refresh_ = now + ttl;
    report.next_refresh = next_refresh_;
    return report;
}

}  // namespace herald::security
