#include "trace/tracer.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "trace/ids.hpp"

namespace herald::trace {
namespace {

struct FakeExporter final : SpanExporter {
    void submit(Span span) noexcept override {
        std::lock_guard lock(mutex);
        spans.push_back(std::move(span));
    }
    std::mutex mutex;
    std::vector<Span> spans;
};

TEST(Ids, AreNonZeroAndDistinctAcrossThreads) {
    std::mutex m;
    std::set<TraceId> traces;
    std::set<SpanId> spans;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            std::vector<TraceId> tl;
            std::vector<SpanId> sl;
            for (int i = 0; i < 2000; ++i) {
                tl.push_back(new_trace_id());
                sl.push_back(new_span_id());
            }
            std::lock_guard lock(m);
            for (auto& x : tl) {
                EXPECT_FALSE(is_zero(x));
                traces.insert(x);
            }
            for (auto& x : sl) {
                EXPECT_FALSE(is_zero(x));
                spans.insert(x);
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(traces.size(), 8000u);
    EXPECT_EQ(spans.size(), 8000u);
}

TEST(Tracer, AChildKeepsTheTraceAndTheCallersDecision) {
    Tracer tracer;  // no exporter
    SpanContext parent;
    parent.trace_id = new_trace_id();
    parent.span_id = new_span_id();
    parent.flags = kSampled;
    auto child = tracer.start(&parent);
    EXPECT_EQ(child.trace_id, parent.trace_id);
    EXPECT_NE(child.span_id, parent.span_id);
    EXPECT_TRUE(child.valid());
    EXPECT_TRUE(child.sampled());
    parent.flags = 0;
    EXPECT_FALSE(tracer.start(&parent).sampled());
}

TEST(Tracer, AnInvalidParentStartsANewTrace) {
    Tracer tracer;
    SpanContext zero;
    auto root = tracer.start(&zero);
    EXPECT_TRUE(root.valid());
    EXPECT_NE(root.trace_id, zero.trace_id);
}

TEST(Tracer, WithoutAnExporterNewTracesAreNotSampledAndNothingIsRecorded) {
    Tracer tracer(TracerOptions{1.0}, nullptr);
    EXPECT_FALSE(tracer.recording());
    auto root = tracer.start(nullptr);
    EXPECT_TRUE(root.valid());
    EXPECT_FALSE(root.sampled());
    EXPECT_FALSE(tracer.records(root));
}

TEST(Tracer, SampleRatioDecidesNewTraces) {
    FakeExporter exporter;
    Tracer all(TracerOptions{1.0}, &exporter);
    Tracer none(TracerOptions{0.0}, &exporter);
    Tracer half(TracerOptions{0.5}, &exporter);
    int sampled = 0;
    for (int i = 0; i < 2000; ++i) {
        EXPECT_TRUE(all.start(nullptr).sampled());
        EXPECT_FALSE(none.start(nullptr).sampled());
        sampled += half.start(nullptr).sampled() ? 1 : 0;
    }
    EXPECT_GT(sampled, 800);
    EXPECT_LT(sampled, 1200);
}

TEST(Tracer, TheRatioDecisionDependsOnlyOnTheTraceId) {
    TraceId low{}, high{};
    low[15] = 1;
    for (std::size_t i = 8; i < 16; ++i) high[i] = 0xff;
    EXPECT_TRUE(Tracer::sample(low, 0.01));
    EXPECT_FALSE(Tracer::sample(high, 0.99));
    EXPECT_TRUE(Tracer::sample(high, 1.0));
    EXPECT_FALSE(Tracer::sample(low, 0.0));
}

TEST(Tracer, EndExportsSampledSpansOnly) {
    FakeExporter exporter;
    Tracer tracer(TracerOptions{1.0}, &exporter);
    auto sampled = tracer.start(nullptr);
    ASSERT_TRUE(tracer.records(sampled));
    tracer.end(make_span(sampled, SpanId{}, "kept", SpanKind::server, 1));
    SpanContext unsampled = sampled;
    unsampled.flags = 0;
    EXPECT_FALSE(tracer.records(unsampled));
    tracer.end(make_span(unsampled, SpanId{}, "dropped", SpanKind::server, 1));
    ASSERT_EQ(exporter.spans.size(), 1u);
    EXPECT_EQ(exporter.spans[0].name, "kept");
    EXPECT_EQ(exporter.spans[0].trace_id, sampled.trace_id);
}

TEST(Span, AttributeOverloadsKeepTheirTypes) {
    Span s;
    s.attr("b", true).attr("i", 7).attr("u", 8u).attr("l", std::uint64_t{9}).attr("s", "text").attr("d", 1.5);
    ASSERT_EQ(s.attributes.size(), 6u);
    EXPECT_TRUE(std::holds_alternative<bool>(s.attributes[0].value));
    EXPECT_EQ(std::get<std::int64_t>(s.attributes[1].value), 7);
    EXPECT_EQ(std::get<std::int64_t>(s.attributes[2].value), 8);
    EXPECT_EQ(std::get<std::int64_t>(s.attributes[3].value), 9);
    EXPECT_EQ(std::get<std::string>(s.attributes[4].value), "text");
    EXPECT_DOUBLE_EQ(std::get<double>(s.attributes[5].value), 1.5);
}

}  // namespace
}  // namespace herald::trace
