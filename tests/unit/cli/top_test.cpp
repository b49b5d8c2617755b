#include "cli/top.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald::cli::top {
namespace {

prom::Exposition parse(const std::string& text) {
    auto r = prom::parse_text(text);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : prom::Exposition{};
}

// Two scrapes two seconds apart, in the shape Herald's admin listener writes them.
const char* kBefore = R"(# TYPE herald_topic_end_offset gauge
herald_topic_end_offset{topic="orders"} 100
herald_topic_end_offset{topic="audit"} 10
herald_topic_end_offset{topic="idle"} 7
herald_topic_start_offset{topic="orders"} 0
herald_topic_start_offset{topic="audit"} 0
herald_topic_start_offset{topic="idle"} 2
herald_topic_log_bytes{topic="orders"} 10000
herald_topic_log_bytes{topic="audit"} 1000
herald_topic_log_bytes{topic="idle"} 700
herald_publish_events_total 117
herald_publish_requests_total 60
herald_publish_duplicates_total 1
herald_publish_contract_rejections_total 0
herald_publish_rejected_total 0
herald_http_requests_total 70
herald_hub_deliveries_total 300
herald_sse_streams_open 1
herald_sse_bytes_written_total 1000
herald_websocket_sessions_open 2
herald_websocket_subscriptions_open 3
herald_websocket_bytes_written_total 500
herald_websocket_consumer_lag_events 4
herald_sse_catchup_switches_total 0
herald_http_connections_open 5
herald_webhook_attempts_total{outcome="delivered"} 10
herald_webhook_attempts_total{outcome="retry"} 0
herald_webhook_attempts_total{outcome="dead_letter"} 0
herald_webhook_subscriptions{state="active"} 2
herald_webhook_subscriptions{state="paused"} 0
herald_webhook_subscriptions{state="disabled"} 1
herald_webhook_lag_events{subscription="wh_a",topic="orders"} 3
herald_webhook_lag_events{subscription="wh_b",topic="orders"} 0
herald_webhook_dead_letters_total{subscription="wh_a",topic="orders"} 0
herald_webhook_dead_letters_total{subscription="wh_b",topic="orders"} 1
herald_process_resident_memory_bytes 20971520
herald_process_uptime_seconds 3725
herald_build_info{version="0.1.0"} 1
herald_proxy_requests_total 0
herald_proxy_responses_total{class="5xx"} 0
)";

const char* kAfter = R"(herald_topic_end_offset{topic="orders"} 300
herald_topic_end_offset{topic="audit"} 30
herald_topic_end_offset{topic="idle"} 7
herald_topic_end_offset{topic="fresh"} 4
herald_topic_start_offset{topic="orders"} 0
herald_topic_start_offset{topic="audit"} 0
herald_topic_start_offset{topic="idle"} 2
herald_topic_start_offset{topic="fresh"} 0
herald_topic_log_bytes{topic="orders"} 30000
herald_topic_log_bytes{topic="audit"} 3000
herald_topic_log_bytes{topic="idle"} 500
herald_topic_log_bytes{topic="fresh"} 400
herald_publish_events_total 341
herald_publish_requests_total 100
herald_publish_duplicates_total 5
herald_publish_contract_rejections_total 2
herald_publish_rejected_total 2
herald_http_requests_total 120
herald_hub_deliveries_total 900
herald_sse_streams_open 1
herald_sse_bytes_written_total 3048
herald_websocket_sessions_open 2
herald_websocket_subscriptions_open 3
herald_websocket_bytes_written_total 1500
herald_websocket_consumer_lag_events 4
herald_sse_catchup_switches_total 0
herald_http_connections_open 5
herald_webhook_attempts_total{outcome="delivered"} 30
herald_webhook_attempts_total{outcome="retry"} 2
herald_webhook_attempts_total{outcome="dead_letter"} 1
herald_webhook_subscriptions{state="active"} 2
herald_webhook_subscriptions{state="paused"} 0
herald_webhook_subscriptions{state="disabled"} 1
herald_webhook_lag_events{subscription="wh_a",topic="orders"} 5
herald_webhook_lag_events{subscription="wh_b",topic="orders"} 2
herald_webhook_dead_letters_total{subscription="wh_a",topic="orders"} 0
herald_webhook_dead_letters_total{subscription="wh_b",topic="orders"} 3
herald_process_resident_memory_bytes 20971520
herald_process_uptime_seconds 3727
herald_build_info{version="0.1.0"} 1
herald_proxy_requests_total 0
herald_proxy_responses_total{class="5xx"} 0
)";

TEST(TopFrame, RatesFromTwoScrapes) {
    auto before = parse(kBefore), after = parse(kAfter);
    auto f = make_frame(after, &before, 2.0);

    ASSERT_EQ(f.topics.size(), 4u);
    // By events per second: orders 100/s, audit 10/s, fresh 2/s (created in between: all its events
    // are new), idle 0.
    EXPECT_EQ(f.topics[0].name, "orders");
    EXPECT_DOUBLE_EQ(*f.topics[0].events, 100);
    EXPECT_DOUBLE_EQ(*f.topics[0].bytes, 10000);
    EXPECT_EQ(f.topics[0].end_offset, 300);
    EXPECT_EQ(f.topics[0].webhooks, 2u);
    EXPECT_DOUBLE_EQ(*f.topics[0].webhook_lag, 7);
    EXPECT_EQ(f.topics[1].name, "audit");
    EXPECT_DOUBLE_EQ(*f.topics[1].events, 10);
    EXPECT_FALSE(f.topics[1].webhook_lag);
    EXPECT_EQ(f.topics[2].name, "fresh");
    EXPECT_DOUBLE_EQ(*f.topics[2].events, 2);
    EXPECT_EQ(f.topics[3].name, "idle");
    EXPECT_DOUBLE_EQ(*f.topics[3].events, 0);
    EXPECT_DOUBLE_EQ(*f.topics[3].bytes,
                     0);  // retention shrank the log: growth, not a negative rate

    auto& h = f.header;
    EXPECT_EQ(h.version, "0.1.0");
    EXPECT_DOUBLE_EQ(*h.publish_events, 112);
    EXPECT_DOUBLE_EQ(*h.publish_requests, 20);
    EXPECT_DOUBLE_EQ(*h.duplicates, 5);
    EXPECT_DOUBLE_EQ(*h.duplicates_rate, 2);
    EXPECT_DOUBLE_EQ(*h.contract_rejections, 2);
    EXPECT_DOUBLE_EQ(*h.deliveries, 300);
    EXPECT_DOUBLE_EQ(*h.bytes_out, (2048 + 1000) / 2.0);
    EXPECT_DOUBLE_EQ(*h.webhook_delivered, 10);
    EXPECT_DOUBLE_EQ(*h.webhook_dead_letters, 0.5);
    EXPECT_DOUBLE_EQ(*h.webhooks_disabled, 1);
    EXPECT_FALSE(h.open_fds);

    ASSERT_EQ(f.webhooks.size(), 2u);
    EXPECT_EQ(f.webhooks[0].id, "wh_a");  // the larger lag first
    EXPECT_DOUBLE_EQ(*f.webhooks[1].dead_letter_rate, 1);
    EXPECT_FALSE(f.proxy);  // no route used, no upstream configured
}

TEST(TopFrame, FirstScrapeHasTotalsButNoRates) {
    auto after = parse(kAfter);
    auto f = make_frame(after, nullptr, 0);
    ASSERT_EQ(f.topics.size(), 4u);
    EXPECT_EQ(f.topics[0].name, "orders");  // by total when there are no rates
    EXPECT_FALSE(f.topics[0].events);
    EXPECT_FALSE(f.header.publish_events);
    EXPECT_DOUBLE_EQ(*f.header.duplicates, 5);
}

TEST(TopFrame, ResetCounterCountsFromZero) {
    auto before =
        parse("herald_publish_events_total 1000\nherald_topic_end_offset{topic=\"t\"} 50\n");
    auto after = parse("herald_publish_events_total 30\nherald_topic_end_offset{topic=\"t\"} 10\n");
    auto f = make_frame(after, &before, 1.0);
    EXPECT_DOUBLE_EQ(*f.header.publish_events, 30);
    EXPECT_DOUBLE_EQ(*f.topics[0].events, 10);
}

TEST(TopFrame, NaNIsNoValue) {
    auto before = parse("herald_sse_streams_open NaN\nherald_publish_events_total 1\n");
    auto after = parse("herald_sse_streams_open NaN\nherald_publish_events_total NaN\n");
    auto f = make_frame(after, &before, 1.0);
    EXPECT_FALSE(f.header.sse);
    EXPECT_FALSE(f.header.publish_events);
}

TEST(TopFrame, ProxyAndUpstreams) {
    auto before = parse(
        "herald_proxy_requests_total 10\n"
        "herald_proxy_responses_total{class=\"2xx\"} 9\n"
        "herald_proxy_responses_total{class=\"5xx\"} 1\n"
        "herald_proxy_errors_total{kind=\"upstream-timeout\"} 1\n"
        "herald_proxy_retries_total 0\n"
        "herald_proxy_upstream_latency_seconds_sum 0.5\n"
        "herald_proxy_upstream_latency_seconds_count 10\n"
        "herald_proxy_upstream_targets{upstream=\"api\",state=\"available\"} 2\n"
        "herald_proxy_upstream_targets{upstream=\"api\",state=\"ejected\"} 0\n"
        "herald_proxy_upstream_targets{upstream=\"api\",state=\"unhealthy\"} 0\n"
        "herald_proxy_upstream_ejections_total{upstream=\"api\"} 0\n");
    auto after = parse(
        "herald_proxy_requests_total 30\n"
        "herald_proxy_responses_total{class=\"2xx\"} 25\n"
        "herald_proxy_responses_total{class=\"5xx\"} 5\n"
        "herald_proxy_errors_total{kind=\"upstream-timeout\"} 3\n"
        "herald_proxy_retries_total 2\n"
        "herald_proxy_upstream_latency_seconds_sum 0.9\n"
        "herald_proxy_upstream_latency_seconds_count 30\n"
        "herald_proxy_upstream_targets{upstream=\"api\",state=\"available\"} 1\n"
        "herald_proxy_upstream_targets{upstream=\"api\",state=\"ejected\"} 1\n"
        "herald_proxy_upstream_targets{upstream=\"api\",state=\"unhealthy\"} 0\n"
        "herald_proxy_upstream_ejections_total{upstream=\"api\"} 1\n");
    auto f = make_frame(after, &before, 2.0);
    ASSERT_TRUE(f.proxy);
    EXPECT_DOUBLE_EQ(*f.proxy->requests, 10);
    EXPECT_DOUBLE_EQ(*f.proxy->server_errors, 2);
    EXPECT_DOUBLE_EQ(*f.proxy->server_errors_total, 5);
    EXPECT_DOUBLE_EQ(*f.proxy->errors, 1);
    EXPECT_NEAR(*f.proxy->latency_seconds, 0.02, 1e-12);
    ASSERT_EQ(f.upstreams.size(), 1u);
    EXPECT_EQ(f.upstreams[0].ejected, 1);
    EXPECT_EQ(*f.upstreams[0].ejections, 1);

    auto lines = render(f, Layout{});
    std::string all;
    for (auto& l : lines) all += l + "\n";
    EXPECT_NE(all.find("proxy        10.0 req/s   5xx 2.0/s (5 total)"), std::string::npos) << all;
    EXPECT_NE(all.find("upstream latency 20.0ms"), std::string::npos) << all;
    EXPECT_NE(all.find("UPSTREAM"), std::string::npos) << all;
}

TEST(TopRender, HeaderAndTopicTable) {
    auto before = parse(kBefore), after = parse(kAfter);
    auto f = make_frame(after, &before, 2.0);
    Layout layout;
    layout.source = "127.0.0.1:9180";
    auto lines = render(f, layout);
    ASSERT_GE(lines.size(), 10u);
    EXPECT_EQ(lines[0], "herald 0.1.0   up 1h02m   rss 20.0MiB   admin 127.0.0.1:9180   every 1s");
    EXPECT_EQ(lines[1],
              "connections  http 2   sse 1   websocket 2 (3 subscriptions)   webhooks 2 active, 1 "
              "disabled");
    EXPECT_EQ(lines[2],
              "publish      112.0 ev/s   20.0 req/s   dedup hits 5 (2.0/s)   validation failures 2 "
              "(1.0/s)   "
              "rejected 2 (1.0/s)");
    EXPECT_EQ(lines[3],
              "fan-out      300.0 ev/s to live subscribers   1.5KiB/s out   25.0 http req/s   "
              "websocket lag 4   "
              "sse catch-ups 0");
    EXPECT_EQ(lines[4], "");
    EXPECT_EQ(lines[5],
              "TOPIC    EV/S  BYTES/S  EVENTS  LAST  RETAINED      LOG  WEBHOOKS  WH-LAG");
    EXPECT_EQ(lines[6],
              "orders  100.0   9.8KiB     300   299       300  29.3KiB         2       7");
    EXPECT_EQ(lines[7],
              "audit    10.0    1000B      30    29        30   2.9KiB         -       -");
    EXPECT_EQ(lines[8],
              "fresh     2.0     200B       4     3         4     400B         -       -");
    EXPECT_EQ(lines[9],
              "idle      0.0       0B       7     6         5     500B         -       -");
    EXPECT_EQ(lines[11], "webhooks     delivered 10.0/s   retries 1.0/s   dead-lettered 0.5/s");
    EXPECT_EQ(lines[12], "SUBSCRIPTION  TOPIC   LAG  DLQ  DLQ/S");
    EXPECT_EQ(lines[13], "wh_a          orders    5    0    0.0");
}

TEST(TopRender, BoundedToTheHeightAndWidth) {
    std::string before_text, after_text;
    for (int i = 0; i < 40; ++i) {
        auto name = "topic" + std::to_string(i);
        before_text += "herald_topic_end_offset{topic=\"" + name + "\"} 0\n";
        after_text += "herald_topic_end_offset{topic=\"" + name + "\"} " + std::to_string(i) + "\n";
    }
    auto before = parse(before_text), after = parse(after_text);
    auto f = make_frame(after, &before, 1.0);
    Layout layout;
    layout.rows = 12;
    layout.cols = 30;
    auto lines = render(f, layout);
    ASSERT_EQ(lines.size(), 12u);
    // 4 header lines, a blank, the table head, 5 topics (the fastest first) and the rest counted.
    EXPECT_EQ(lines[6].substr(0, 7), "topic39");
    EXPECT_EQ(lines[10].substr(0, 7), "topic35");
    EXPECT_EQ(lines[11], "+35 more topics");
    for (auto& l : lines) EXPECT_LE(l.size(), 30u) << l;
}

TEST(TopRender, SmallTerminalDropsLaterSectionsFirst) {
    auto before = parse(kBefore), after = parse(kAfter);
    auto f = make_frame(after, &before, 2.0);
    Layout layout;
    layout.rows = 10;
    auto lines = render(f, layout);
    ASSERT_EQ(lines.size(), 10u);
    for (auto& l : lines) EXPECT_EQ(l.find("SUBSCRIPTION"), std::string::npos) << l;
    EXPECT_EQ(lines[9],
              "idle      0.0       0B       7     6         5     500B         -       -");
}

TEST(TopRender, NoTopicsYet) {
    auto f = make_frame(parse("herald_build_info{version=\"0.1.0\"} 1\n"), nullptr, 0);
    auto lines = render(f, Layout{});
    EXPECT_EQ(lines.back(), "no topics yet");
    EXPECT_EQ(lines[2].substr(0, 22), "publish      - ev/s   ");
}

TEST(TopFormat, Cells) {
    EXPECT_EQ(format_rate(std::nullopt), "-");
    EXPECT_EQ(format_rate(0.04), "0.0");
    EXPECT_EQ(format_rate(999.94), "999.9");
    EXPECT_EQ(format_rate(12345), "12.3k");
    EXPECT_EQ(format_rate(2.5e6), "2.5M");
    EXPECT_EQ(format_bytes(812), "812B");
    EXPECT_EQ(format_bytes(1536), "1.5KiB");
    EXPECT_EQ(format_bytes(17.1 * 1024 * 1024), "17.1MiB");
    EXPECT_EQ(format_bytes(std::nullopt), "-");
    EXPECT_EQ(format_count(123456789), "123456789");
    EXPECT_EQ(format_duration(42), "42s");
    EXPECT_EQ(format_duration(187), "3m07s");
    EXPECT_EQ(format_duration(7380), "2h03m");
    EXPECT_EQ(format_duration(363600), "4d05h");
}

}  // namespace
}  // namespace herald::cli::top
