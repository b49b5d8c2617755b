#include "server/request_metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace herald::server {
namespace {

using namespace std::chrono_literals;

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(RequestMetrics, CountsByRouteAndStatusClass) {
    RequestMetrics m;
    m.record("/v1/topics/{topic}/events", 201, 2ms);
    m.record("/v1/topics/{topic}/events", 201, 3ms);
    m.record("/v1/topics/{topic}/events", 422, 1ms);
    m.record("", 404, 100us);
    EXPECT_EQ(m.count("/v1/topics/{topic}/events", 2), 2u);
    EXPECT_EQ(m.count("/v1/topics/{topic}/events", 4), 1u);
    EXPECT_EQ(m.count("unmatched", 4), 1u);
    EXPECT_EQ(m.count("", 4), 1u) << "an empty route is the unmatched one";

    std::string out;
    m.append_requests(out, "data");
    EXPECT_NE(out.find("herald_http_requests_by_route_total{plane=\"data\",route=\"/v1/topics/"
                       "{topic}/events\","
                       "status_class=\"2xx\"} 2\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("herald_http_requests_by_route_total{plane=\"data\",route=\"/v1/topics/"
                       "{topic}/events\","
                       "status_class=\"4xx\"} 1\n"),
              std::string::npos);
    EXPECT_NE(out.find("{plane=\"data\",route=\"unmatched\",status_class=\"4xx\"} 1\n"),
              std::string::npos);
    EXPECT_EQ(out.find("5xx"), std::string::npos) << "classes never seen are not written";

    std::string durations;
    m.append_durations(durations, "data");
    EXPECT_NE(
        durations.find(
            "herald_http_request_duration_seconds_count{plane=\"data\",route=\"/v1/topics/{topic}/"
            "events\"} 3\n"),
        std::string::npos)
        << durations;
    EXPECT_NE(
        durations.find(
            "herald_http_request_duration_seconds_sum{plane=\"data\",route=\"/v1/topics/{topic}/"
            "events\"} 0.006\n"),
        std::string::npos);
    EXPECT_NE(durations.find(
                  "herald_http_request_duration_seconds_bucket{plane=\"data\",route=\"unmatched\","
                  "le=\"0.0005\"} 1\n"),
              std::string::npos);
}

TEST(RequestMetrics, StatusesOutsideTheClassesCountAsOther) {
    RequestMetrics m;
    m.record("/x", 0, 1ms);
    m.record("/x", 700, 1ms);
    EXPECT_EQ(m.count("/x", 0), 2u);
    std::string out;
    m.append_requests(out, "admin");
    EXPECT_NE(out.find("{plane=\"admin\",route=\"/x\",status_class=\"other\"} 2\n"),
              std::string::npos)
        << out;
}

TEST(RequestMetrics, RoutesBeyondTheTableShareTheOtherSlot) {
    RequestMetrics m;
    std::vector<std::string> routes;
    for (std::size_t i = 0; i < RequestMetrics::kRoutes + 5; ++i)
        routes.push_back("/r" + std::to_string(i));
    for (auto& r : routes) m.record(r, 200, 1ms);
    m.record(std::string(RequestMetrics::kMaxRouteLength + 1, 'x'), 200, 1ms);
    EXPECT_EQ(m.count("/r0", 2), 1u);
    EXPECT_EQ(m.count("/r63", 2), 1u);
    EXPECT_EQ(m.count("/r64", 2), 0u);
    EXPECT_EQ(m.count("other", 2), 6u);
    std::string out;
    m.append_requests(out, "data");
    EXPECT_EQ(occurrences(out, "\n"), RequestMetrics::kRoutes + 1);
}

// Workers race to claim a slot for the same new route: a route may get more than one slot, but the
// exposition shows it once with every request counted.
TEST(RequestMetrics, ConcurrentFirstUseMergesInTheExposition) {
    for (int round = 0; round < 20; ++round) {
        RequestMetrics m;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 500; ++i) {
                    m.record("/a", 200, 1ms);
                    m.record("/b", 500, 1ms);
                }
            });
        for (auto& t : threads) t.join();
        EXPECT_EQ(m.count("/a", 2), 2000u);
        EXPECT_EQ(m.count("/b", 5), 2000u);
        std::string out;
        m.append_requests(out, "data");
        EXPECT_EQ(occurrences(out, "route=\"/a\""), 1u) << out;
        std::string durations;
        m.append_durations(durations, "data");
        EXPECT_NE(
            durations.find(
                "herald_http_request_duration_seconds_count{plane=\"data\",route=\"/b\"} 2000\n"),
            std::string::npos)
            << durations;
    }
}

}  // namespace
}  // namespace herald::server
