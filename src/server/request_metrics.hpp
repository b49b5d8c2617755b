#pragma once
// HTTP requests per route for one listener (docs/observability.md:
// herald_http_requests_by_route_total and herald_http_request_duration_seconds): counts by status
// class and a duration histogram, keyed by the route template the handler matched
// ("/v1/topics/{topic}/events"; "unmatched" when none did), so the number of series is bounded by
// the routes Herald has, never by the paths clients send.
//
// A fixed table of kRoutes slots, claimed lock-free the first time a route is seen: a request scans
// the claimed slots (comparing lengths first, so almost every miss is one integer comparison), then
// adds to three relaxed atomics. No lock, no allocation. Two workers seeing a new route at the same
// moment may both claim a slot for it; the exposition merges slots with the same name, so that
// costs only a slot. Routes beyond the table, or longer than kMaxRouteLength, share the slot
// "other".
//
// Threading: record() from every worker at once; append_*() from the admin listener's thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/histogram.hpp"

namespace herald::server {

class RequestMetrics {
public:
    static constexpr std::size_t kRoutes = 64;
    static constexpr std::size_t kMaxRouteLength = 96;

    RequestMetrics() noexcept;
    RequestMetrics(const RequestMetrics&) = delete;
    RequestMetrics& operator=(const RequestMetrics&) = delete;

    // One exchange as the listener's observer saw it. An empty route is "unmatched".
    void record(std::string_view route, unsigned status,
                std::chrono::nanoseconds duration) noexcept;

    // The samples of herald_http_requests_by_route_total / herald_http_request_duration_seconds for
    // this listener, labelled plane="<plane>" (the family's HELP and TYPE are the caller's: both
    // planes share them).
    void append_requests(std::string& out, std::string_view plane) const;
    void append_durations(std::string& out, std::string_view plane) const;

    // For tests: requests counted for `route` in `status_class` (1..5; 0: other).
    std::uint64_t count(std::string_view route, unsigned status_class) const noexcept;

private:
    struct Slot {
        std::atomic<bool> ready{false};
        std::uint8_t length = 0;
        char name[kMaxRouteLength];
        // [1..5]: 1xx..5xx; [0]: anything else.
        std::array<std::atomic<std::uint64_t>, 6> by_class{};
        Histogram duration;

        std::string_view route() const noexcept { return {name, length}; }
    };

    Slot& slot_for(std::string_view route) noexcept;
    template <class F>
    void for_each_route(F&& f) const;

    std::array<Slot, kRoutes> slots_;
    std::atomic<std::size_t> claimed_{0};  // may run past kRoutes: only the first kRoutes are slots
    Slot other_;
};

}  // namespace herald::server
