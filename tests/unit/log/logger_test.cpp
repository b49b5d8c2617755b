#include "log/logger.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace herald::log {
namespace {

namespace json = boost::json;

json::object parse_line(const std::string& line) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, one record";
    return json::parse(line).as_object();
}

std::unique_ptr<Logger> memory_logger(MemorySink*& sink, LoggerOptions o = {}) {
    auto s = std::make_unique<MemorySink>();
    sink = s.get();
    return std::make_unique<Logger>(std::move(s), o);
}

TEST(Render, JsonLineWithLevelModuleMessageAndTypedFields) {
    auto line = render(Format::json, 1'714'561'200'123'456, Level::warn, "webhook", "cannot save progress",
                       {{"error", "disk full"}, {"attempt", 3}, {"offset", std::uint64_t{18'000'000'000'000'000'000ull}},
                        {"negative", -5L}, {"ratio", 0.5}, {"retry", true}});
    auto o = parse_line(line);
    EXPECT_EQ(o.at("time").as_string(), "2024-05-01T11:00:00.123456Z");
    EXPECT_EQ(o.at("log").as_string(), "app");
    EXPECT_EQ(o.at("level").as_string(), "warn");
    EXPECT_EQ(o.at("module").as_string(), "webhook");
    EXPECT_EQ(o.at("msg").as_string(), "cannot save progress");
    EXPECT_EQ(o.at("error").as_string(), "disk full");
    EXPECT_EQ(o.at("attempt").as_int64(), 3);
    EXPECT_EQ(o.at("offset").as_uint64(), 18'000'000'000'000'000'000ull);
    EXPECT_EQ(o.at("negative").as_int64(), -5);
    EXPECT_DOUBLE_EQ(o.at("ratio").as_double(), 0.5);
    EXPECT_EQ(o.at("retry").as_bool(), true);
}

TEST(Render, EscapesEverythingThatCouldBreakOrForgeALine) {
    const std::string nasty = "a\"b\\c\nd\re\tf\x01g\x7f h\xff\xc3(i caf\xc3\xa9";
    auto line = render(Format::json, 0, Level::info, "mod\n", nasty, {{"k\"", nasty}});
    auto o = parse_line(line);
    EXPECT_EQ(o.at("msg").as_string(), "a\"b\\c\nd\re\tf\x01g\x7f h\xef\xbf\xbd\xef\xbf\xbd(i caf\xc3\xa9");
    EXPECT_EQ(o.at("module").as_string(), "mod\n");
    EXPECT_TRUE(o.contains("k\""));
    EXPECT_EQ(o.at("time").as_string(), "1970-01-01T00:00:00.000000Z");
}

TEST(Render, NonFiniteNumbersBecomeNull) {
    auto o = parse_line(render(Format::json, 0, Level::info, "m", "x", {{"nan", std::nan("")}}));
    EXPECT_TRUE(o.at("nan").is_null());
}

TEST(Render, TextFormatIsOneReadableLine) {
    auto line = render(Format::text, 1'714'561'200'000'001, Level::error, "server", "cannot listen",
                       {{"address", "127.0.0.1:80"}, {"why", "permission denied\nsecond line"}, {"n", 2}});
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    EXPECT_EQ(line.rfind("2024-05-01T11:00:00.000001Z ERROR server: cannot listen", 0), 0u) << line;
    EXPECT_NE(line.find(" address=127.0.0.1:80"), std::string::npos) << line;
    EXPECT_NE(line.find(" why=\"permission denied\\nsecond line\""), std::string::npos) << line;
    EXPECT_NE(line.find(" n=2"), std::string::npos) << line;
}

TEST(Levels, ParseAndPrint) {
    for (auto l : {Level::debug, Level::info, Level::warn, Level::error}) EXPECT_EQ(*parse_level(to_string(l)), l);
    EXPECT_EQ(*parse_level("warning"), Level::warn);
    EXPECT_FALSE(parse_level("verbose"));
    EXPECT_FALSE(parse_level("INFO"));
    EXPECT_EQ(*parse_format("text"), Format::text);
    EXPECT_FALSE(parse_format("xml"));
}

TEST(Logger, FiltersByLevelAndTheLevelChangesAtRunTime) {
    MemorySink* sink = nullptr;
    auto logger = memory_logger(sink, LoggerOptions{Level::warn, Format::json, true});
    EXPECT_FALSE(logger->enabled(Level::info));
    EXPECT_TRUE(logger->enabled(Level::error));
    logger->debug("m", "d");
    logger->info("m", "i");
    logger->warn("m", "w");
    logger->error("m", "e");
    auto lines = sink->lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(parse_line(lines[0]).at("msg").as_string(), "w");
    EXPECT_EQ(parse_line(lines[1]).at("msg").as_string(), "e");
    logger->set_level(Level::debug);
    EXPECT_EQ(logger->level(), Level::debug);
    logger->debug("m", "now visible");
    ASSERT_EQ(sink->lines().size(), 3u);
    EXPECT_EQ(parse_line(sink->lines()[2]).at("level").as_string(), "debug");
    EXPECT_EQ(logger->stats().lines.load(), 3u);
}

AccessRecord sample_access(std::string_view target) {
    AccessRecord r;
    r.time_unix_us = 1'714'561'200'000'000;
    r.request_id = "b7ad6b7169203331";
    r.plane = "data";
    r.method = "GET";
    r.target = target;
    r.remote = "127.0.0.1";
    r.principal = "api_key:subscriber";
    r.route = "/v1/topics/{topic}/events";
    r.status = 200;
    r.bytes_in = 120;
    r.bytes_out = 4096;
    r.duration_us = 812;
    r.trace_id = "0af7651916cd43dd8448eb211c80319c";
    return r;
}

TEST(Access, JsonRecordHasEveryFieldAndNoSecrets) {
    const std::string target =
        "/v1/topics/orders/events?from=earliest&access_token=SECRET-ONE&types=a.b.v1&API_KEY=SECRET-TWO"
        "&x-signature=SECRET-THREE&access%5Ftoken=SECRET-FOUR&password=SECRET-FIVE&flag";
    auto line = render_access(Format::json, sample_access(target));
    EXPECT_EQ(line.find("SECRET"), std::string::npos) << line;
    auto o = parse_line(line);
    EXPECT_EQ(o.at("log").as_string(), "access");
    EXPECT_EQ(o.at("time").as_string(), "2024-05-01T11:00:00.000000Z");
    EXPECT_EQ(o.at("request_id").as_string(), "b7ad6b7169203331");
    EXPECT_EQ(o.at("plane").as_string(), "data");
    EXPECT_EQ(o.at("method").as_string(), "GET");
    EXPECT_EQ(o.at("path").as_string(), "/v1/topics/orders/events");
    EXPECT_EQ(o.at("query").as_string(),
              "from=earliest&access_token=[REDACTED]&types=a.b.v1&API_KEY=[REDACTED]&x-signature=[REDACTED]"
              "&access%5Ftoken=[REDACTED]&password=[REDACTED]&flag");
    EXPECT_EQ(o.at("remote").as_string(), "127.0.0.1");
    EXPECT_EQ(o.at("principal").as_string(), "api_key:subscriber");
    EXPECT_EQ(o.at("route").as_string(), "/v1/topics/{topic}/events");
    EXPECT_EQ(o.at("status").as_int64(), 200);
    EXPECT_EQ(o.at("bytes_in").as_int64(), 120);
    EXPECT_EQ(o.at("bytes_out").as_int64(), 4096);
    EXPECT_EQ(o.at("duration_us").as_int64(), 812);
    EXPECT_EQ(o.at("trace_id").as_string(), "0af7651916cd43dd8448eb211c80319c");
    EXPECT_FALSE(o.contains("takeover"));
}

TEST(Access, WithoutAQueryThereIsNoQueryField) {
    auto o = parse_line(render_access(Format::json, sample_access("/v1/topics")));
    EXPECT_EQ(o.at("path").as_string(), "/v1/topics");
    EXPECT_FALSE(o.contains("query"));
}

TEST(Access, TakeoversAreMarked) {
    auto r = sample_access("/v1/ws");
    r.status = 101;
    r.takeover = true;
    auto o = parse_line(render_access(Format::json, r));
    EXPECT_EQ(o.at("status").as_int64(), 101);
    EXPECT_TRUE(o.at("takeover").as_bool());
}

TEST(Access, TextFormatRedactsToo) {
    auto line = render_access(Format::text, sample_access("/v1/x?token=SECRET&from=1"));
    EXPECT_EQ(line.find("SECRET"), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    EXPECT_NE(line.find(" ACCESS data 127.0.0.1 api_key:subscriber \"GET /v1/x?token=[REDACTED]&from=1\" 200"),
              std::string::npos)
        << line;
}

TEST(Access, AHostileTargetCannotForgeALine) {
    auto line = render_access(Format::json, sample_access("/v1/x\n{\"log\":\"access\"}?q=\r\n"));
    auto o = parse_line(line);
    EXPECT_EQ(o.at("path").as_string(), "/v1/x\n{\"log\":\"access\"}");
}

TEST(Access, WrittenWhenOnWhateverTheLevelAndNotWhenOff) {
    MemorySink* sink = nullptr;
    auto logger = memory_logger(sink, LoggerOptions{Level::error, Format::json, true});
    logger->access(sample_access("/a"));
    EXPECT_EQ(sink->lines().size(), 1u);
    logger->set_access(false);
    logger->access(sample_access("/b"));
    EXPECT_EQ(sink->lines().size(), 1u);
    EXPECT_EQ(logger->stats().access_lines.load(), 1u);
}

TEST(Redaction, SecretParameterNames) {
    for (auto name : {"access_token", "ACCESS_TOKEN", "access%5Ftoken", "token", "id_token", "api_key", "apikey",
                      "X-API-Key", "key", "secret", "client_secret", "password", "passwd", "auth", "authorization",
                      "sig", "signature", "credentials", "session", "sessionid", "cookie", "jwt", "code"})
        EXPECT_TRUE(is_secret_parameter(name)) << name;
    for (auto name : {"from", "limit", "wait", "types", "type", "topic", "cursor", ""})
        EXPECT_FALSE(is_secret_parameter(name)) << name;
}

TEST(Redaction, KeepsTheShapeOfTheQuery) {
    EXPECT_EQ(redact_query("a=1&token=x&b"), "a=1&token=[REDACTED]&b");
    EXPECT_EQ(redact_query("token"), "token");  // a name without a value carries nothing to hide
    EXPECT_EQ(redact_query("&&token=x&"), "&&token=[REDACTED]&");
    EXPECT_EQ(redact_query(""), "");
}

TEST(Time, FormatsRfc3339UtcWithMicroseconds) {
    EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_time(1'714'561'200'999'999), "2024-05-01T11:00:00.999999Z");
    // The per-thread cache of the seconds part must not leak into the next second.
    EXPECT_EQ(format_time(1'714'561'201'000'000), "2024-05-01T11:00:01.000000Z");
}

}  // namespace
}  // namespace herald::log
