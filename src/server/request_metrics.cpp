#include "server/request_metrics.hpp"

#include <algorithm>
#include <cstring>

namespace herald::server {

namespace {

constexpr std::string_view kUnmatched = "unmatched";
constexpr std::string_view kOther = "other";
constexpr std::array<std::string_view, 6> kClassLabels{"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

void set_name(char* name, std::uint8_t& length, std::string_view route) noexcept {
    std::memcpy(name, route.data(), route.size());
    length = static_cast<std::uint8_t>(route.size());
}

std::string labels(std::string_view plane, std::string_view route) {
    std::string l = "plane=\"";
    prometheus::append_label_value(l, plane);
    l += "\",route=\"";
    prometheus::append_label_value(l, route);
    l += '"';
    return l;
}

}  // namespace

RequestMetrics::RequestMetrics() noexcept {
    set_name(other_.name, other_.length, kOther);
    other_.ready.store(true, std::memory_order_release);
}

RequestMetrics::Slot& RequestMetrics::slot_for(std::string_view route) noexcept {
    if (route.empty()) route = kUnmatched;
    if (route.size() > kMaxRouteLength) return other_;
    const std::size_t claimed = std::min(claimed_.load(std::memory_order_acquire), kRoutes);
    for (std::size_t i = 0; i < claimed; ++i) {
        Slot& s = slots_[i];
        // `ready` first: it publishes the name the claiming thread wrote.
        if (!s.ready.load(std::memory_order_acquire) || s.length != route.size()) continue;
        if (s.route() == route) return s;
    }
    if (claimed >= kRoutes) return other_;
    const std::size_t i = claimed_.fetch_add(1, std::memory_order_acq_rel);
    if (i >= kRoutes) return other_;
    Slot& s = slots_[i];
    set_name(s.name, s.length, route);
    s.ready.store(true, std::memory_order_release);
    return s;
}

void RequestMetrics::record(std::string_view route, unsigned status,
                            std::chrono::nanoseconds duration) noexcept {
    Slot& s = slot_for(route);
    const unsigned status_class = status >= 100 && status < 600 ? status / 100 : 0;
    s.by_class[status_class].fetch_add(1, std::memory_order_relaxed);
    s.duration.observe(duration);
}

// f(route, slots with that route): every route once, in the order first claimed; "other" last when
// used.
template <class F>
void RequestMetrics::for_each_route(F&& f) const {
    const std::size_t claimed = std::min(claimed_.load(std::memory_order_acquire), kRoutes);
    std::array<const Slot*, kRoutes + 1> same{};
    for (std::size_t i = 0; i < claimed; ++i) {
        const Slot& s = slots_[i];
        if (!s.ready.load(std::memory_order_acquire)) continue;
        const auto route = s.route();
        bool seen = false;
        for (std::size_t j = 0; j < i && !seen; ++j)
            seen = slots_[j].ready.load(std::memory_order_acquire) && slots_[j].route() == route;
        if (seen) continue;
        std::size_t n = 0;
        for (std::size_t j = i; j < claimed; ++j)
            if (slots_[j].ready.load(std::memory_order_acquire) && slots_[j].route() == route)
                same[n++] = &slots_[j];
        f(route, std::span<const Slot* const>(same.data(), n));
    }
    const Slot* other = &other_;
    if (other_.duration.snapshot().count > 0)
        f(other_.route(), std::span<const Slot* const>(&other, 1));
}

void RequestMetrics::append_requests(std::string& out, std::string_view plane) const {
    for_each_route([&](std::string_view route, std::span<const Slot* const> slots) {
        const std::string l = labels(plane, route);
        for (std::size_t c = 1; c <= kClassLabels.size(); ++c) {
            const std::size_t k = c % kClassLabels.size();  // 1xx..5xx, then "other"
            std::uint64_t n = 0;
            for (auto* s : slots) n += s->by_class[k].load(std::memory_order_relaxed);
            if (n == 0) continue;
            std::string series = l + ",status_class=\"";
            series += kClassLabels[k];
            series += '"';
            prometheus::append_sample(out, "herald_http_requests_by_route_total", series, n);
        }
    });
}

void RequestMetrics::append_durations(std::string& out, std::string_view plane) const {
    for_each_route([&](std::string_view route, std::span<const Slot* const> slots) {
        Histogram::Snapshot merged;
        for (auto* s : slots) merged.merge(s->duration.snapshot());
        prometheus::append_histogram(out, "herald_http_request_duration_seconds",
                                     labels(plane, route), slots.front()->duration.bounds(),
                                     merged);
    });
}

std::uint64_t RequestMetrics::count(std::string_view route, unsigned status_class) const noexcept {
    if (route.empty()) route = kUnmatched;
    std::uint64_t n = 0;
    for_each_route([&](std::string_view r, std::span<const Slot* const> slots) {
        if (r != route) return;
        for (auto* s : slots)
            n += s->by_class[status_class % kClassLabels.size()].load(std::memory_order_relaxed);
    });
    return n;
}

}  // namespace herald::server
