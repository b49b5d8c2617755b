#include "base/histogram.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace herald {
namespace {

using namespace std::chrono_literals;

constexpr std::array<double, 3> kBounds{0.001, 0.01, 0.1};

TEST(Histogram, CountsIntoTheFirstBoundNotBelowTheValue) {
    Histogram h(kBounds);
    h.observe(500us);  // le 0.001
    h.observe(1ms);    // exactly on a bound: le is inclusive
    h.observe(2ms);    // le 0.01
    h.observe(50ms);   // le 0.1
    h.observe(3s);     // +Inf only
    auto s = h.snapshot();
    EXPECT_EQ(s.cumulative[0], 2u);
    EXPECT_EQ(s.cumulative[1], 3u);
    EXPECT_EQ(s.cumulative[2], 4u);
    EXPECT_EQ(s.cumulative[3], 5u);
    EXPECT_EQ(s.count, 5u);
    EXPECT_EQ(s.sum_ns, 500'000u + 1'000'000u + 2'000'000u + 50'000'000u + 3'000'000'000u);
}

TEST(Histogram, WeightedObservationsCountEveryEvent) {
    Histogram h(kBounds);
    h.observe(5ms, 7);
    auto s = h.snapshot();
    EXPECT_EQ(s.count, 7u);
    EXPECT_EQ(s.cumulative[0], 0u);
    EXPECT_EQ(s.cumulative[1], 7u);
    EXPECT_EQ(s.sum_ns, 35'000'000u);
}

TEST(Histogram, NegativeValuesCountAsZero) {
    Histogram h(kBounds);
    h.observe(-5ms);
    auto s = h.snapshot();
    EXPECT_EQ(s.cumulative[0], 1u);
    EXPECT_EQ(s.sum_ns, 0u);
}

TEST(Histogram, DefaultBoundsSpanHalfAMillisecondToTenSeconds) {
    Histogram h;
    ASSERT_EQ(h.bounds().size(), Histogram::kLatencyBounds.size());
    EXPECT_DOUBLE_EQ(h.bounds().front(), 0.0005);
    EXPECT_DOUBLE_EQ(h.bounds().back(), 10);
}

TEST(Histogram, SnapshotsMerge) {
    Histogram a(kBounds), b(kBounds);
    a.observe(1ms);
    b.observe(20ms, 2);
    auto s = a.snapshot();
    s.merge(b.snapshot());
    EXPECT_EQ(s.count, 3u);
    EXPECT_EQ(s.cumulative[0], 1u);
    EXPECT_EQ(s.cumulative[2], 3u);
    EXPECT_EQ(s.sum_ns, 41'000'000u);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
    Histogram h(kBounds);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10'000; ++i) h.observe(2ms);
        });
    for (auto& t : threads) t.join();
    auto s = h.snapshot();
    EXPECT_EQ(s.count, 40'000u);
    EXPECT_EQ(s.sum_ns, std::uint64_t{40'000} * 2'000'000u);
}

TEST(Prometheus, HistogramExposition) {
    Histogram h(kBounds);
    h.observe(1ms);
    h.observe(1500ms);
    std::string out;
    prometheus::append_histogram(out, "x_seconds", "topic=\"a\"", h);
    EXPECT_EQ(out,
              "x_seconds_bucket{topic=\"a\",le=\"0.001\"} 1\n"
              "x_seconds_bucket{topic=\"a\",le=\"0.01\"} 1\n"
              "x_seconds_bucket{topic=\"a\",le=\"0.1\"} 1\n"
              "x_seconds_bucket{topic=\"a\",le=\"+Inf\"} 2\n"
              "x_seconds_sum{topic=\"a\"} 1.501\n"
              "x_seconds_count{topic=\"a\"} 2\n");
}

TEST(Prometheus, HistogramWithoutLabels) {
    Histogram h(kBounds);
    std::string out;
    prometheus::append_histogram(out, "y_seconds", {}, h);
    EXPECT_EQ(out,
              "y_seconds_bucket{le=\"0.001\"} 0\n"
              "y_seconds_bucket{le=\"0.01\"} 0\n"
              "y_seconds_bucket{le=\"0.1\"} 0\n"
              "y_seconds_bucket{le=\"+Inf\"} 0\n"
              "y_seconds_sum 0\n"
              "y_seconds_count 0\n");
}

TEST(Prometheus, SecondsAreWrittenExactly) {
    auto seconds = [](std::uint64_t ns) {
        std::string s;
        prometheus::append_seconds(s, ns);
        return s;
    };
    EXPECT_EQ(seconds(0), "0");
    EXPECT_EQ(seconds(1), "0.000000001");
    EXPECT_EQ(seconds(1'234'567), "0.001234567");
    EXPECT_EQ(seconds(12'000'000'000), "12");
    EXPECT_EQ(seconds(12'500'000'000), "12.5");
}

TEST(Prometheus, HeaderSampleAndEscaping) {
    std::string out;
    prometheus::append_header(out, "a_total", "counter", "Things.");
    std::string labels = "k=\"";
    prometheus::append_label_value(labels, "q\"b\\s\nn");
    labels += '"';
    prometheus::append_sample(out, "a_total", labels, std::uint64_t{3});
    prometheus::append_sample(out, "g", {}, std::int64_t{-2});
    EXPECT_EQ(out,
              "# HELP a_total Things.\n# TYPE a_total counter\n"
              "a_total{k=\"q\\\"b\\\\s\\nn\"} 3\n"
              "g -2\n");
}

}  // namespace
}  // namespace herald
