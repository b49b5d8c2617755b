#include "cli/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace herald::cli::prom {
namespace {

TEST(PrometheusText, SamplesHelpAndType) {
    auto r = parse_text(
        "# HELP herald_topic_end_offset Next offset to be assigned in the topic's log.\n"
        "# TYPE herald_topic_end_offset gauge\n"
        "herald_topic_end_offset{topic=\"t1\"} 3\n"
        "herald_topic_end_offset{topic=\"t2\"} 1\n"
        "# a comment that is neither HELP nor TYPE\n"
        "\n"
        "herald_publish_events_total 4\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->samples.size(), 3u);
    EXPECT_EQ(r->samples[0].name, "herald_topic_end_offset");
    EXPECT_EQ(r->samples[0].label("topic"), "t1");
    EXPECT_EQ(r->samples[1].value, 1);
    EXPECT_EQ(r->samples[2].labels.size(), 0u);
    EXPECT_EQ(r->samples[2].value, 4);
    EXPECT_FALSE(r->samples[2].timestamp_ms);
    auto* f = r->family_of("herald_topic_end_offset");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->type, MetricType::gauge);
    EXPECT_EQ(f->help, "Next offset to be assigned in the topic's log.");
    EXPECT_EQ(r->family_of("herald_publish_events_total"), nullptr);  // no HELP or TYPE given
}

TEST(PrometheusText, LabelEscapesAndOddSpacing) {
    auto r = parse_text(
        "m{path=\"C:\\\\dir\\\\\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",other=\"x\\ty\"} 1\n"
        "m { a = \"1\" , b=\"2\", } 2\n"
        "m{} 3\n"
        "  \tm\t4\t\n"
        "m{a=\"}{,= \"} 5\r\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->samples.size(), 5u);
    auto& s = r->samples[0];
    EXPECT_EQ(s.label("path"), "C:\\dir\\");
    EXPECT_EQ(s.label("quote"), "say \"hi\"");
    EXPECT_EQ(s.label("nl"), "a\nb");
    EXPECT_EQ(s.label("other"), "x\\ty");  // not an escape of the format: kept as written
    EXPECT_EQ(s.label("absent"), "");
    EXPECT_EQ(r->samples[1].labels.size(), 2u);
    EXPECT_EQ(r->samples[1].label("b"), "2");
    EXPECT_EQ(r->samples[2].labels.size(), 0u);
    EXPECT_EQ(r->samples[3].value, 4);
    EXPECT_EQ(r->samples[4].label("a"), "}{,= ");
    EXPECT_EQ(r->samples[4].value, 5);
}

TEST(PrometheusText, SpecialValuesAndTimestamps) {
    auto r = parse_text(
        "a +Inf\n"
        "b -Inf\n"
        "c NaN\n"
        "d 1.5e3 1700000000000\n"
        "e -0.25 -5\n"
        "f inf\n"
        "g 1e400\n"
        "h .5\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->samples.size(), 8u);
    EXPECT_TRUE(std::isinf(r->samples[0].value) && r->samples[0].value > 0);
    EXPECT_TRUE(std::isinf(r->samples[1].value) && r->samples[1].value < 0);
    EXPECT_TRUE(std::isnan(r->samples[2].value));
    EXPECT_EQ(r->samples[3].value, 1500);
    EXPECT_EQ(*r->samples[3].timestamp_ms, 1700000000000);
    EXPECT_EQ(r->samples[4].value, -0.25);
    EXPECT_EQ(*r->samples[4].timestamp_ms, -5);
    EXPECT_TRUE(std::isinf(r->samples[5].value));
    EXPECT_TRUE(std::isinf(r->samples[6].value));  // out of range reads as Inf, like Prometheus
    EXPECT_EQ(r->samples[7].value, 0.5);
}

TEST(PrometheusText, HistogramFamilies) {
    auto r = parse_text(
        "# HELP lat_seconds Latency.\\nSecond line with a \\\\ backslash.\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{le=\"0.1\"} 1\n"
        "lat_seconds_bucket{le=\"+Inf\"} 2\n"
        "lat_seconds_sum 0.3\n"
        "lat_seconds_count 2\n"
        "# TYPE other_count gauge\n"
        "other_count 1\n");
    ASSERT_TRUE(r) << r.error().message;
    auto* f = r->family_of("lat_seconds_bucket");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->type, MetricType::histogram);
    EXPECT_EQ(f->help, "Latency.\nSecond line with a \\ backslash.");
    EXPECT_EQ(r->family_of("lat_seconds_count"), f);
    EXPECT_EQ(r->samples[1].label("le"), "+Inf");
    EXPECT_EQ(r->family_of("other_count")->type,
              MetricType::gauge);  // its own name wins over a suffix
    EXPECT_EQ(r->family_of("nothing_sum"), nullptr);
}

TEST(PrometheusText, MalformedLinesNameTheirNumber) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"ok 1\nm{a=\"1\" 2\n", "line 2: expected ',' or '}'"},
        {"m{a=\"unterminated} 1\n", "line 1: unterminated value"},
        {"m{a=1} 1\n", "line 1: expected a quoted value"},
        {"m{1a=\"x\"} 1\n", "line 1: expected a label name"},
        {"m{a=\"1\",a=\"2\"} 1\n", "line 1: the label a appears twice"},
        {"m\n", "line 1: m has no value"},
        {"m one\n", "line 1: 'one' is not a sample value"},
        {"m 1 2 3\n", "line 1: unexpected text after the timestamp"},
        {"m 1 1.5\n", "line 1: '1.5' is not a timestamp"},
        {"9m 1\n", "line 1: expected a metric name"},
        {"m-x 1\n", "line 1: unexpected '-'"},
        {"# TYPE m widget\n", "line 1: unknown metric type 'widget'"},
        {"# TYPE m counter extra\n", "line 1: unexpected text after the type"},
        {"# HELP\n", "line 1: # HELP without a metric name"},
        {"\n\n# TYPE m- gauge\n", "line 3: invalid character in the metric name"},
    };
    for (auto& c : cases) {
        auto r = parse_text(c.text);
        ASSERT_FALSE(r) << c.text;
        EXPECT_EQ(r.error().message.rfind(c.message, 0), 0u)
            << c.text << " → " << r.error().message;
    }
}

TEST(PrometheusText, Values) {
    EXPECT_EQ(*parse_value("42"), 42);
    EXPECT_EQ(*parse_value("+42"), 42);
    EXPECT_EQ(*parse_value("-1e-3"), -0.001);
    EXPECT_TRUE(std::isinf(*parse_value("+Infinity")));
    EXPECT_TRUE(std::isnan(*parse_value("nan")));
    EXPECT_EQ(*parse_value("1e-400"), 0);  // underflow reads as 0
    EXPECT_FALSE(parse_value(""));
    EXPECT_FALSE(parse_value("+"));
    EXPECT_FALSE(parse_value("--1"));
    EXPECT_FALSE(parse_value("+-1"));
    EXPECT_FALSE(parse_value("1x"));
    EXPECT_FALSE(parse_value("0x10"));
    EXPECT_FALSE(parse_value("Infx"));
}

TEST(PrometheusText, EmptyDocument) {
    auto r = parse_text("");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->samples.empty());
    EXPECT_TRUE(parse_text("\n\n# just comments\n"));
}

}  // namespace
}  // namespace herald::cli::prom
