#pragma once
// The key set behind one JWKS URL, as a pure state machine: it decides when to fetch, and what to
// keep after a fetch; it never performs I/O. The integrator supplies the HTTP GET as a JwksFetcher
// and drives the cache.
//
// Rules:
//   - Until the first good fetch there are no keys; attempts are retried with exponential back-off
//     (retry_min doubling up to retry_max).
//   - A good fetch (HTTP 200, a JWKS with at least one usable key) replaces the set. The next
//     refresh is due after the response's Cache-Control max-age clamped to [min_ttl, max_ttl]
//     (default_ttl without max-age; min_ttl for no-cache / no-store).
//   - A failed fetch (transport error, non-200, unparsable document, zero usable keys) keeps the
//     last good set — an identity provider's outage must not log everybody out — and retries
//     with back-off.
//   - At most one fetch is in flight; a fetch that has not reported within fetch_timeout is
//     presumed lost.
//   - A token naming an unknown kid may trigger one early refetch (key rotation), at most once per
//     unknown_kid_interval however many such tokens arrive (an attacker can send unknown kids at
//     will).
//
// Driving it (on one thread, or under a mutex):
//   on a timer armed for next_refresh():
//       if (cache.begin_refresh(now)) fetcher(cache.url(), done);
//   when a token fails with Reason::unknown_kid:
//       if (cache.unknown_kid(err.kid, now)) fetcher(cache.url(), done);
//   in done(response), back on the owning thread:
//       auto r = cache.on_fetch_result(response, now);
//       if (r.outcome == JwksFetchOutcome::updated) {
//           verifier_copy.set_keys(issuer, cache.keys());  // then publish the copy
//       }
//
// Threading: not thread-safe. Keep it on one thread (post fetch completions back to it) or guard it
// with a mutex; keys() returns a value that can then be handed to other threads freely.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/crypto.hpp"
#include "security/jwk.hpp"

namespace herald::security {

// What the integrator's HTTP client reports for one GET of the JWKS URL.
struct JwksFetchResponse {
    int status = 0;  // HTTP status; 0 when the request failed before a response (DNS, TLS, timeout)
    std::string cache_control{};  // the Cache-Control header value, empty if absent
    std::string body{};
    std::string error{};  // transport error text when status == 0
};

// Called exactly once per fetch, on any thread (the integrator posts it back to the cache's owner).
using JwksFetchDone = std::function<void(JwksFetchResponse)>;
// Starts an HTTP GET of `url` (TLS verified, redirects limited, body capped at kMaxJwksBytes, a
// deadline) and eventually calls `done`. Implemented by the integrator over Beast; this module
// never does I/O.
using JwksFetcher = std::function<void(const std::string& url, JwksFetchDone done)>;

struct JwksCacheOptions {
    std::chrono::seconds default_ttl{300};  // without Cache-Control max-age
    std::chrono::seconds min_ttl{60};       // floor for max-age, and the TTL for no-cache/no-store
    std::chrono::seconds max_ttl{24 * 3600};  // ceiling for max-age
    std::chrono::seconds unknown_kid_interval{
        10};                                 // minimum spacing of fetches triggered by unknown kids
    std::chrono::seconds retry_min{5};       // first back-off after a failure
    std::chrono::seconds retry_max{300};     // back-off ceiling
    std::chrono::seconds fetch_timeout{30};  // an unanswered fetch is presumed lost after this
    JwkOptions jwk{.allow_symmetric = false};  // published key sets never carry secrets
};

enum class JwksFetchOutcome : std::uint8_t {
    updated,    // a new key set is in place (keys() changed)
    unchanged,  // good response with the same document as before; only the expiry moved
    failed,     // the previous set (if any) is kept
};

std::string_view to_string(JwksFetchOutcome outcome) noexcept;

struct JwksFetchReport {
    JwksFetchOutcome outcome = JwksFetchOutcome::failed;
    std::string detail;              // why it failed, or a summary ("3 keys")
    std::vector<std::string> notes;  // keys skipped while parsing (see parse_jwks)
    std::chrono::steady_clock::time_point next_refresh;
};

// Parses the max-age directive of a Cache-Control value (RFC 9111 §5.2.2.1). nullopt when absent or
// invalid; 0 for no-cache / no-store.
std::optional<std::chrono::seconds> parse_cache_max_age(std::string_view cache_control) noexcept;

class JwksCache {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit JwksCache(std::string url, JwksCacheOptions options = {});

    const std::string& url() const noexcept { return url_; }
    const JwksCacheOptions& options() const noexcept { return options_; }

    // The current (last good) key set; empty until the first good fetch.
    const KeySet& keys() const noexcept { return keys_; }
    bool has_keys() const noexcept { return last_success_.has_value(); }
    // Incremented each time keys() changes; cheap change detection for per-worker copies.
    std::uint64_t generation() const noexcept { return generation_; }

    // True when a fetch should start now: due (or never fetched, or backing off and the back-off
    // elapsed) and no fetch is in flight.
    bool needs_refresh(time_point now) const noexcept;
    // When needs_refresh will turn true (for arming a timer); `now` or earlier when it already is.
    time_point next_refresh() const noexcept { return next_refresh_; }

    // needs_refresh(now), and if so marks a fetch as in flight: the caller must then start exactly
    // one fetch.
    bool begin_refresh(time_point now) noexcept;

    // A verified token named `kid`, which the set lacks. True when the caller must start one fetch
    // now (it is marked in flight); false when the kid is known, a fetch is in flight, or one
    // started less than unknown_kid_interval ago.
    bool unknown_kid(std::string_view kid, time_point now) noexcept;

    // The result of the fetch in flight (or of any fetch the caller made). Clears the in-flight
    // mark.
    JwksFetchReport on_fetch_result(int status, std::string_view cache_control,
                                    std::string_view body, time_point now);
    JwksFetchReport on_fetch_result(const JwksFetchResponse& response, time_point now);

    bool fetch_in_flight(time_point now) const noexcept;
    std::optional<time_point> last_success() const noexcept { return last_success_; }
    int consecutive_failures() const noexcept { return failures_; }

private:
    JwksFetchReport fail(std::string detail, time_point now);
    void mark_started(time_point now) noexcept;

    std::string url_;
    JwksCacheOptions options_;
    KeySet keys_;
    std::uint64_t generation_ = 0;
    std::optional<Sha256Digest> body_digest_;  // of the last good document, to tell "unchanged"
    std::optional<time_point> last_success_;
    std::optional<time_point> in_flight_since_;
    std::optional<time_point> last_started_;
    time_point next_refresh_{};  // epoch: due immediately
    int failures_ = 0;
};

}  // namespace herald::security
