#pragma once
// A fixed-bucket latency histogram and the Prometheus text exposition of it
// (docs/observability.md), shared by every module that exports one: publish durations, fan-out and
// webhook delivery latencies, HTTP request durations, the REST gateway's upstream latency.
//
// Observing costs a walk over at most kMaxBounds doubles and two relaxed atomic additions (the
// bucket and the sum): no lock, no allocation, so it may sit on the request and delivery paths of
// every worker at once. The count is not stored separately: it is the sum of the buckets, so a
// scrape always sees a count equal to its +Inf bucket. A scrape that races with observations may
// see a sum from a moment later than its buckets, which Prometheus tolerates (rates over a window
// absorb it).
//
// Threading: observe() and snapshot() from any thread. Bounds are given at construction and never
// change.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace herald {

class Histogram {
public:
    static constexpr std::size_t kMaxBounds = 16;
    // Upper bounds in seconds for request and delivery latencies: 0.5 ms … 10 s.
    static constexpr std::array<double, 14> kLatencyBounds{
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    // `bounds`: increasing upper bounds in seconds, at most kMaxBounds, in static storage (the
    // histogram keeps a view). Extra bounds beyond kMaxBounds are ignored.
    explicit Histogram(std::span<const double> bounds = kLatencyBounds) noexcept;
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    // Records `count` observations of `value` each (a write that delivered `count` events committed
    // together). A negative value (a clock that stepped back) counts as zero.
    void observe(std::chrono::nanoseconds value, std::uint64_t count = 1) noexcept;

    std::span<const double> bounds() const noexcept { return bounds_; }

    struct Snapshot {
        // cumulative[i]: observations <= bounds[i]; cumulative[bounds.size()]: all of them (the
        // +Inf bucket).
        std::array<std::uint64_t, kMaxBounds + 1> cumulative{};
        std::uint64_t count = 0;
        std::uint64_t sum_ns = 0;
        // Adds another snapshot of a histogram with the same bounds (series merged at scrape time).
        void merge(const Snapshot& other) noexcept;
    };
    Snapshot snapshot() const noexcept;

private:
    std::span<const double> bounds_;
    // Not cumulative; [bounds.size()]: the +Inf bucket.
    std::array<std::atomic<std::uint64_t>, kMaxBounds + 1> buckets_{};
    std::atomic<std::uint64_t> sum_ns_{0};
};

// The Prometheus text format 0.0.4, written into a std::string.
namespace prometheus {

// "# HELP name help\n# TYPE name type\n": once per family, before its samples.
void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help);
// A label value with `\`, `"` and newlines escaped as the format requires (the quotes are the
// caller's).
void append_label_value(std::string& out, std::string_view value);
// `name{labels} value\n`; `labels` is preformatted (`a="x",b="y"`) or empty.
void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::uint64_t value);
void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::int64_t value);
// A duration in seconds written exactly from nanoseconds ("0.001234567", "12").
void append_seconds(std::string& out, std::uint64_t ns);
// One histogram series: `name_bucket{labels,le="…"}` per bound and +Inf, `name_sum{labels}`,
// `name_count{labels}`.
void append_histogram(std::string& out, std::string_view name, std::string_view labels,
                      std::span<const double> bounds, const Histogram::Snapshot& snapshot);
inline void append_histogram(std::string& out, std::string_view name, std::string_view labels,
                             const Histogram& h) {
    append_histogram(out, name, labels, h.bounds(), h.snapshot());
}

}  // namespace prometheus

}  // namespace herald
