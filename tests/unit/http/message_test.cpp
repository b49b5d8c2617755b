#include "http/message.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/listener.hpp"
#include "http/problem.hpp"

namespace herald::http {
namespace {

TEST(Request, HeadersAreCaseInsensitive) {
    Request r;
    r.headers = {{"Content-Type", "application/json"}, {"last-event-id", "c"}};
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("Last-Event-ID"), "c");
    EXPECT_TRUE(r.has_header("LAST-EVENT-ID"));
    EXPECT_EQ(r.header("missing"), "");
}

TEST(Request, QueryParametersArePercentDecoded) {
    Request r;
    r.query = "from=1.abc.3&types=a.b.v1%2Cc.d.v1&empty=&flag&sp=a+b";
    EXPECT_EQ(*r.query_param("from"), "1.abc.3");
    EXPECT_EQ(*r.query_param("types"), "a.b.v1,c.d.v1");
    EXPECT_EQ(*r.query_param("empty"), "");
    EXPECT_EQ(*r.query_param("flag"), "");
    EXPECT_EQ(*r.query_param("sp"), "a b");
    EXPECT_FALSE(r.query_param("nope"));
}

TEST(Message, SplitPathAndPercentDecode) {
    auto s = split_path("/v1/topics/orders/events/");
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(s[2], "orders");
    EXPECT_EQ(percent_decode("a%2Fb%zz%4", false), "a/b%zz%4");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
}

TEST(Problem, BodyFollowsRfc9457) {
    auto r = problem_response({422, "invalid-event", "Invalid", "time is wrong", "time"});
    EXPECT_EQ(r.status, 422u);
    auto v = boost::json::parse(r.body).as_object();
    EXPECT_EQ(v["type"].as_string(), "urn:herald:problem:invalid-event");
    EXPECT_EQ(v["status"].as_int64(), 422);
    EXPECT_EQ(v["detail"].as_string(), "time is wrong");
    EXPECT_EQ(v["attribute"].as_string(), "time");
    bool has_ct = false;
    for (auto& [k, val] : r.headers) has_ct |= k == "Content-Type" && val == "application/problem+json";
    EXPECT_TRUE(has_ct);
}

// A detail quoting what the client sent must not break the body: found by the http_server fuzz target (a 404
// naming a path with bytes that are not UTF-8 was invalid JSON).
TEST(Problem, BodyIsValidJsonWhateverTheDetailHolds) {
    const std::string path = "no route for GET /v1/topics/a\x8c\xc0\x99" "b\"\n\x01";
    auto r = problem_response({404, "not-found", "Not found", path, std::string("p\xff")});
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    ASSERT_FALSE(ec) << r.body;
    EXPECT_EQ(v.at("detail").as_string(), "no route for GET /v1/topics/a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\"\n\x01");
    EXPECT_EQ(v.at("attribute").as_string(), "p\xEF\xBF\xBD");
    EXPECT_EQ(v.at("status").as_int64(), 404);
    auto with_violations = problem_response({422, "contract-violation", "Event breaks its contract", "d", "",
                                             R"([{"pointer":"/a","keyword":"type","message":"m"}])"});
    EXPECT_EQ(boost::json::parse(with_violations.body).at("violations").as_array().size(), 1u);
}

TEST(Problem, ErrorKindsMapToStatuses) {
    EXPECT_EQ(problem_from_error(make_error(Errc::no_space, "full")).status, 507u);
    EXPECT_EQ(problem_from_error(make_error(Errc::not_found, "x")).status, 404u);
    EXPECT_EQ(problem_from_error(make_error(Errc::unavailable, "x")).status, 503u);
    EXPECT_EQ(problem_from_error(make_error(Errc::invalid_argument, "x"), "invalid-event").kind, "invalid-event");
}

TEST(Endpoint, Parses) {
    auto e = parse_endpoint("127.0.0.1:8080", "listen");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->port(), 8080);
    EXPECT_TRUE(parse_endpoint("localhost:0", "listen"));
    EXPECT_TRUE(parse_endpoint("[::1]:9", "listen"));
    EXPECT_FALSE(parse_endpoint("127.0.0.1", "listen"));
    EXPECT_FALSE(parse_endpoint("127.0.0.1:99999", "listen"));
    EXPECT_FALSE(parse_endpoint("example.com:80", "listen"));
    EXPECT_EQ(parse_endpoint("x:1", "admin_listen").error().attribute, "admin_listen");
}

}  // namespace
}  // namespace herald::http
