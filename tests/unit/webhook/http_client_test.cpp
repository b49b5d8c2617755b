// The delivery HTTP client against scripted servers on 127.0.0.1:0. The servers are plain asio
// coroutines (no Beast, so this file compiles quickly) running on the same io_context as the
// client; each test drives the loop until its client coroutine finishes.
#include "webhook/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>

namespace herald::webhook {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Received {
    std::string method;
    std::string target;
    Headers headers;  // names lower-cased
    std::string body;
    std::string header(std::string_view name) const {
        for (auto& [k, v] : headers)
            if (k == name) return v;
        return {};
    }
};

struct Reply {
    std::string bytes;  // raw response bytes
    bool close_after =
        false;           // close the connection after writing (without saying so in the response)
    bool never = false;  // read the request and never answer
};

std::string response(int status, std::string_view reason, std::string body = {},
                     std::vector<std::string> extra_headers = {}) {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    for (auto& h : extra_headers) r += h + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Parses one request head (already split off) into `r`; returns the Content-Length.
std::size_t parse_head(const std::string& head, Received& r) {
    std::size_t pos = head.find("\r\n");
    const std::string line = head.substr(0, pos);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t length = 0;
    pos += 2;
    while (pos < head.size()) {
        const auto end = head.find("\r\n", pos);
        if (end == pos || end == std::string::npos) break;
        const std::string field = head.substr(pos, end - pos);
        const auto colon = field.find(':');
        std::string name = lower(field.substr(0, colon));
        std::string value = field.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") length = std::stoul(value);
        r.headers.emplace_back(std::move(name), std::move(value));
        pos = end + 2;
    }
    return length;
}

// Reads requests off `stream` and answers them per `script`, until the peer closes or the script
// says stop.
template <class Stream>
asio::awaitable<void> serve(Stream& stream, std::vector<Received>& requests,
                            const std::function<Reply(const Received&)>& script) {
    std::string buf;
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(stream, asio::dynamic_buffer(buf),
                                                       "\r\n\r\n", use_tuple);
        if (ec) co_return;
        Received r;
        const std::size_t length = parse_head(buf.substr(0, n), r);
        buf.erase(0, n);
        if (buf.size() < length) {
            auto [bec, bn] =
                co_await asio::async_read(stream, asio::dynamic_buffer(buf),
                                          asio::transfer_exactly(length - buf.size()), use_tuple);
            if (bec) co_return;
        }
        r.body = buf.substr(0, length);
        buf.erase(0, length);
        requests.push_back(r);
        Reply reply = script(r);
        if (reply.never) {
            asio::steady_timer hold(co_await asio::this_coro::executor, 30s);
            co_await hold.async_wait(use_tuple);
            co_return;
        }
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(reply.bytes), use_tuple);
        if (wec || reply.close_after) co_return;
    }
}

// A scripted plain-HTTP server on 127.0.0.1:0.
class TestServer {
public:
    using Script = std::function<Reply(const Received&)>;

    TestServer(asio::io_context& io, Script script)
        : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          script_(std::move(script)) {
        asio::co_spawn(io, accept_loop(), asio::detached);
    }
    // Instead of HTTP, write `greeting` on every accepted connection and close it.
    void greet_with(std::string greeting) { greeting_ = std::move(greeting); }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url(std::string_view path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
    }

    int accepted = 0;
    std::vector<Received> requests;

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            ++accepted;
            asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> session(tcp::socket socket) {
        if (greeting_) {
            co_await asio::async_write(socket, asio::buffer(*greeting_), use_tuple);
            co_return;
        }
        co_await serve(socket, requests, script_);
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
    }

    tcp::acceptor acceptor_;
    Script script_;
    std::optional<std::string> greeting_;
};

// Runs `work` on `io` until it finishes (or `limit` passes) and returns its result.
template <class T>
std::optional<T> run(asio::io_context& io, asio::awaitable<T> work,
                     std::chrono::milliseconds limit = 3s) {
    std::optional<T> out;
    auto wrapper = [](asio::awaitable<T> w, std::optional<T>* o,
                      asio::io_context* ctx) -> asio::awaitable<void> {
        o->emplace(co_await std::move(w));
        ctx->stop();
    };
    asio::co_spawn(io, wrapper(std::move(work), &out, &io), asio::detached);
    io.restart();
    io.run_for(limit);
    return out;
}

ClientOptions loopback_allowed() {
    ClientOptions o;
    o.guard = SsrfGuard({*parse_cidr("127.0.0.1/32"), *parse_cidr("::1/128")});
    o.connect_timeout = 1s;
    o.request_timeout = 1s;
    return o;
}

Reply ok_reply(const Received&) { return {response(200, "OK", "ok")}; }

TEST(HttpClient, PostArrivesWithHeadersAndBody) {
    asio::io_context io;
    TestServer server(io, [](const Received&) {
        return Reply{
            response(200, "OK", "thanks", {"Content-Type: text/plain", "X-Receiver: yes"})};
    });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url("/hooks/in?tenant=7"),
                                 {{"Content-Type", "application/cloudevents+json"},
                                  {"webhook-id", "msg_1"},
                                  {"webhook-signature", "v1,abc"}},
                                 R"({"id":"1"})"));
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(*r) << r->error().message;
    const HttpResponse& res = **r;
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "thanks");
    EXPECT_FALSE(res.body_truncated);
    EXPECT_TRUE(res.complete);
    EXPECT_FALSE(res.reused_connection);
    ASSERT_NE(res.header("x-receiver"), nullptr);
    EXPECT_EQ(*res.header("x-receiver"), "yes");
    EXPECT_EQ(res.header("nope"), nullptr);
    EXPECT_GT(res.duration.count(), 0);

    ASSERT_EQ(server.requests.size(), 1u);
    const Received& got = server.requests[0];
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.target, "/hooks/in?tenant=7");
    EXPECT_EQ(got.body, R"({"id":"1"})");
    EXPECT_EQ(got.header("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(got.header("content-type"), "application/cloudevents+json");
    EXPECT_EQ(got.header("content-length"), "10");
    EXPECT_EQ(got.header("webhook-id"), "msg_1");
    EXPECT_EQ(got.header("webhook-signature"), "v1,abc");
    EXPECT_EQ(got.header("user-agent"), "Herald-Webhooks/1");
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
    asio::io_context io;
    TestServer server(io, ok_reply);
    Client client(io, loopback_allowed());
    auto first = run(io, client.post(server.url(), {}, "one"));
    ASSERT_TRUE(first && *first);
    EXPECT_EQ(client.stats().idle, 1u);
    auto second = run(io, client.post(server.url(), {{"User-Agent", "custom"}}, "two"));
    ASSERT_TRUE(second && *second) << (second ? second->error().message : "no result");
    EXPECT_FALSE((*first)->reused_connection);
    EXPECT_TRUE((*second)->reused_connection);
    EXPECT_EQ(server.accepted, 1);
    ASSERT_EQ(server.requests.size(), 2u);
    EXPECT_EQ(server.requests[1].body, "two");
    EXPECT_EQ(server.requests[1].header("user-agent"), "custom");
    const auto s = client.stats();
    EXPECT_EQ(s.requests, 2u);
    EXPECT_EQ(s.connections_opened, 1u);
    EXPECT_EQ(s.connections_reused, 1u);
    EXPECT_EQ(s.idle, 1u);
    client.close_idle();
    EXPECT_EQ(client.stats().idle, 0u);
}

TEST(HttpClient, ConnectionCloseIsNotPooled) {
    asio::io_context io;
    TestServer server(io, [](const Received&) {
        return Reply{response(200, "OK", "", {"Connection: close"}), true};
    });
    Client client(io, loopback_allowed());
    for (int i = 0; i < 2; ++i) {
        auto r = run(io, client.post(server.url(), {}, "x"));
        ASSERT_TRUE(r && *r);
        EXPECT_FALSE((*r)->reused_connection);
    }
    EXPECT_EQ(server.accepted, 2);
    EXPECT_EQ(client.stats().idle, 0u);
}

TEST(HttpClient, ServerClosingAnIdleConnectionIsHandled) {
    // The server closes after each response without announcing it: the pooled connection is dead
    // when reused. Either the liveness check or the one retry on a fresh connection must deliver
    // the second request.
    asio::io_context io;
    TestServer server(io, [](const Received&) { return Reply{response(204, "No Content"), true}; });
    Client client(io, loopback_allowed());
    auto first = run(io, client.post(server.url(), {}, "1"));
    ASSERT_TRUE(first && *first);
    auto second = run(io, client.post(server.url(), {}, "2"));
    ASSERT_TRUE(second && *second) << (second ? second->error().message : "no result");
    EXPECT_EQ((*second)->status, 204u);
    EXPECT_EQ(server.accepted, 2);
    ASSERT_EQ(server.requests.size(), 2u);
    EXPECT_EQ(server.requests[1].body, "2");
}

TEST(HttpClient, PoolKeepsAtMostMaxIdlePerOrigin) {
    asio::io_context io;
    TestServer server(io, ok_reply);
    auto options = loopback_allowed();
    options.max_idle_per_origin = 1;
    Client client(io, options);
    // Three requests in flight at once need three connections; only one stays pooled afterwards.
    auto three = [](Client& c, std::string url) -> asio::awaitable<int> {
        int ok = 0;
        auto ex = co_await asio::this_coro::executor;
        std::vector<std::optional<ClientResult<HttpResponse>>> results(3);
        int done = 0;
        asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
        for (auto& slot : results)
            asio::co_spawn(
                ex,
                [&c, url, &slot, &done, &all_done]() -> asio::awaitable<void> {
                    slot.emplace(co_await c.post(url, {}, "x"));
                    if (++done == 3) all_done.cancel();
                },
                asio::detached);
        co_await all_done.async_wait(use_tuple);
        for (auto& r : results) ok += (r && *r) ? 1 : 0;
        co_return ok;
    };
    auto ok = run(io, three(client, server.url()));
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 3);
    EXPECT_EQ(server.accepted, 3);
    EXPECT_EQ(client.stats().idle, 1u);
}

TEST(HttpClient, TimesOutOnAServerThatNeverAnswers) {
    asio::io_context io;
    TestServer server(io, [](const Received&) { return Reply{{}, false, true}; });
    Client client(io, loopback_allowed());
    const auto start = std::chrono::steady_clock::now();
    auto r = run(io, client.post(server.url(), {}, "x", 150ms));
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::timeout);
    EXPECT_NE(r->error().message.find("150 ms"), std::string::npos) << r->error().message;
    EXPECT_GE(took, 140ms);
    EXPECT_LT(took, 1s);
    EXPECT_EQ(client.stats().idle, 0u);
}

TEST(HttpClient, RedirectIsReturnedNotFollowed) {
    asio::io_context io;
    TestServer server(io, [](const Received& r) {
        return Reply{
            response(302, "Found", "", {"Location: http://169.254.169.254/latest/meta-data/"})};
    });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url("/a"), {}, "x"));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->status, 302u);
    ASSERT_NE((*r)->header("location"), nullptr);
    EXPECT_EQ(server.requests.size(), 1u);
}

TEST(HttpClient, RetryAfterAndErrorBodyAreExposed) {
    asio::io_context io;
    TestServer server(io, [](const Received&) {
        return Reply{response(429, "Too Many Requests", "slow down", {"Retry-After: 7"})};
    });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->status, 429u);
    ASSERT_NE((*r)->header("retry-after"), nullptr);
    EXPECT_EQ(*(*r)->header("retry-after"), "7");
    EXPECT_EQ((*r)->body, "slow down");
}

TEST(HttpClient, LongBodyIsTruncatedAndTheConnectionKept) {
    asio::io_context io;
    TestServer server(
        io, [](const Received&) { return Reply{response(500, "Oops", std::string(10'000, 'e'))}; });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->status, 500u);
    EXPECT_EQ((*r)->body.size(), 4096u);
    EXPECT_TRUE((*r)->body_truncated);
    EXPECT_TRUE((*r)->complete);
    auto again = run(io, client.post(server.url(), {}, "y"));
    ASSERT_TRUE(again && *again);
    EXPECT_TRUE((*again)->reused_connection);
    EXPECT_EQ(server.accepted, 1);
}

TEST(HttpClient, BodyPastTheDrainLimitClosesTheConnection) {
    asio::io_context io;
    TestServer server(io, [](const Received&) {
        return Reply{response(200, "OK", std::string(64 * 1024, 'b'))};
    });
    auto options = loopback_allowed();
    options.max_drained_body = 16 * 1024;
    Client client(io, options);
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->status, 200u);
    EXPECT_TRUE((*r)->body_truncated);
    EXPECT_EQ(client.stats().idle, 0u);
}

TEST(HttpClient, ChunkedAndInterimResponses) {
    asio::io_context io;
    TestServer server(io, [](const Received&) {
        return Reply{
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
            "world\r\n0\r\n\r\n"};
    });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r && *r) << (r ? r->error().message : "");
    EXPECT_EQ((*r)->status, 200u);
    EXPECT_EQ((*r)->body, "hello world");
    EXPECT_EQ(client.stats().idle, 1u);
}

TEST(HttpClient, MalformedResponseIsAProtocolError) {
    asio::io_context io;
    TestServer server(io, [](const Received&) { return Reply{"SMTP ready\r\n\r\n", true}; });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::protocol);
}

TEST(HttpClient, ClosedWithoutAnswerIsAProtocolError) {
    asio::io_context io;
    TestServer server(io, [](const Received&) { return Reply{{}, true}; });
    Client client(io, loopback_allowed());
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::protocol);
    EXPECT_EQ(server.accepted, 1);  // a fresh connection is not retried
}

TEST(HttpClient, SsrfGuardRefusesLoopbackUnlessAllowListed) {
    asio::io_context io;
    TestServer server(io, ok_reply);
    ClientOptions options;  // built-in ranges, no allow-list
    Client client(io, options);
    auto r = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::ssrf_blocked);
    EXPECT_NE(r->error().message.find("127.0.0.1"), std::string::npos) << r->error().message;
    EXPECT_NE(r->error().message.find("127.0.0.0/8"), std::string::npos) << r->error().message;
    EXPECT_NE(r->error().message.find("loopback"), std::string::npos) << r->error().message;
    EXPECT_EQ(server.accepted, 0);
    EXPECT_EQ(client.stats().ssrf_refused, 1u);
    EXPECT_EQ(to_error(r->error()).code, Errc::invalid_argument);

    // Another allow-list entry does not help.
    options.guard = SsrfGuard({*parse_cidr("10.0.0.0/8")});
    Client other(io, options);
    auto again = run(io, other.post(server.url(), {}, "x"));
    ASSERT_TRUE(again);
    ASSERT_FALSE(*again);
    EXPECT_EQ(again->error().code, ClientErrc::ssrf_blocked);
}

TEST(HttpClient, ConnectionRefused) {
    asio::io_context io;
    std::uint16_t port;
    {
        tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = probe.local_endpoint().port();
    }
    Client client(io, loopback_allowed());
    auto r = run(io, client.post("http://127.0.0.1:" + std::to_string(port) + "/", {}, "x"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::connect_refused);
    EXPECT_NE(r->error().message.find(std::to_string(port)), std::string::npos);
}

TEST(HttpClient, UnresolvableHost) {
    asio::io_context io;
    ClientOptions options;
    options.request_timeout = 1s;
    Client client(io, options);
    auto r = run(io, client.post("http://nonexistent.invalid/", {}, "x"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    // NXDOMAIN from the resolver, or no resolver reachable within the deadline in a sandbox.
    EXPECT_TRUE(r->error().code == ClientErrc::dns || r->error().code == ClientErrc::timeout)
        << r->error().message;
}

TEST(HttpClient, RefusesBadRequests) {
    asio::io_context io;
    TestServer server(io, ok_reply);
    Client client(io, loopback_allowed());
    auto code = [&](Headers h, std::string url) {
        auto r = run(io, client.post(std::move(url), std::move(h), "x"));
        EXPECT_TRUE(r.has_value());
        return r && !*r ? r->error().code : ClientErrc::cancelled;
    };
    EXPECT_EQ(code({{"X-Evil", "a\r\nInjected: yes"}}, server.url()), ClientErrc::invalid_request);
    EXPECT_EQ(code({{"Bad Name", "x"}}, server.url()), ClientErrc::invalid_request);
    EXPECT_EQ(code({{"Content-Length", "5"}}, server.url()), ClientErrc::invalid_request);
    EXPECT_EQ(code({{"transfer-encoding", "chunked"}}, server.url()), ClientErrc::invalid_request);
    EXPECT_EQ(code({{"Host", "elsewhere"}}, server.url()), ClientErrc::invalid_request);
    EXPECT_EQ(code({}, "ftp://127.0.0.1/"), ClientErrc::invalid_request);
    EXPECT_EQ(server.accepted, 0);

    for (const char* method : {"FETCH ME", "TRACE", "CONNECT"}) {
        HttpRequest bad_method;
        bad_method.method = method;
        bad_method.url = *parse_url(server.url());
        bad_method.body = "x";
        auto r = run(io, client.send(bad_method));
        ASSERT_TRUE(r);
        ASSERT_FALSE(*r);
        EXPECT_EQ(r->error().code, ClientErrc::invalid_request) << method;
    }
    EXPECT_EQ(server.accepted, 0);
}

TEST(HttpClient, OtherMethodsForTheValidationHandshake) {
    asio::io_context io;
    TestServer server(io, [](const Received&) {
        return Reply{response(200, "OK", "",
                              {"WebHook-Allowed-Origin: herald", "WebHook-Allowed-Rate: 120"})};
    });
    Client client(io, loopback_allowed());
    HttpRequest req;
    req.method = "OPTIONS";
    req.url = *parse_url(server.url("/hook"));
    req.headers = {{"WebHook-Request-Origin", "herald"}};
    auto r = run(io, client.send(req));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(*(*r)->header("webhook-allowed-origin"), "herald");
    ASSERT_EQ(server.requests.size(), 1u);
    EXPECT_EQ(server.requests[0].method, "OPTIONS");
    EXPECT_EQ(server.requests[0].header("webhook-request-origin"), "herald");
}

TEST(HttpClient, ShutdownAbortsRequestsInFlight) {
    asio::io_context io;
    TestServer server(io, [](const Received&) { return Reply{{}, false, true}; });
    Client client(io, loopback_allowed());
    asio::steady_timer later(io, 50ms);
    later.async_wait([&](const boost::system::error_code&) { client.shutdown(); });
    const auto start = std::chrono::steady_clock::now();
    auto r = run(io, client.post(server.url(), {}, "x", 5s));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::cancelled);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    auto after = run(io, client.post(server.url(), {}, "x"));
    ASSERT_TRUE(after);
    ASSERT_FALSE(*after);
    EXPECT_EQ(after->error().code, ClientErrc::cancelled);
}

TEST(HttpClient, ResolveAndCheck) {
    asio::io_context io;
    Client client(io, ClientOptions{});
    auto literal = run(io, client.resolve_and_check("8.8.8.8", 443));
    ASSERT_TRUE(literal && *literal);
    ASSERT_EQ((*literal)->size(), 1u);
    EXPECT_EQ((**literal)[0].to_string(), "8.8.8.8");

    auto v6 = run(io, client.resolve_and_check("[2606:4700::1111]", 443));
    ASSERT_TRUE(v6 && *v6);

    for (const char* blocked :
         {"10.1.2.3", "169.254.169.254", "[::1]", "::ffff:127.0.0.1", "localhost"}) {
        auto r = run(io, client.resolve_and_check(blocked, 80));
        ASSERT_TRUE(r) << blocked;
        ASSERT_FALSE(*r) << blocked;
        EXPECT_EQ(r->error().code, ClientErrc::ssrf_blocked)
            << blocked << ": " << r->error().message;
    }
    auto meta = run(io, client.resolve_and_check("169.254.169.254", 80));
    EXPECT_NE(meta->error().message.find("metadata"), std::string::npos);

    auto bad_url = run(io, client.check_destination("ftp://example.com/"));
    ASSERT_TRUE(bad_url);
    ASSERT_FALSE(*bad_url);
    EXPECT_EQ(bad_url->error().code, ClientErrc::invalid_request);

    auto internal = run(io, client.check_destination("http://192.168.0.10:8080/hook"));
    ASSERT_TRUE(internal);
    ASSERT_FALSE(*internal);
    EXPECT_EQ(internal->error().code, ClientErrc::ssrf_blocked);

    Client allowing(io, loopback_allowed());
    auto fine = run(io, allowing.check_destination("http://127.0.0.1:9/hook"));
    ASSERT_TRUE(fine && *fine);
    EXPECT_EQ((*fine)->port, 9);
}

TEST(ParseUrl, AcceptsHttpAndHttps) {
    auto a = parse_url("https://Example.COM/hooks/in?x=1&y=%20#frag");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_TRUE(a->tls);
    EXPECT_EQ(a->scheme, "https");
    EXPECT_EQ(a->host, "example.com");
    EXPECT_FALSE(a->host_is_ip);
    EXPECT_EQ(a->port, 443);
    EXPECT_EQ(a->target, "/hooks/in?x=1&y=%20");
    EXPECT_EQ(a->origin(), "https://example.com:443");
    EXPECT_EQ(a->host_header(), "example.com");
    EXPECT_EQ(a->to_string(), "https://example.com/hooks/in?x=1&y=%20");

    auto b = parse_url("http://10.0.0.1:8080");
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->tls);
    EXPECT_TRUE(b->host_is_ip);
    EXPECT_EQ(b->port, 8080);
    EXPECT_EQ(b->target, "/");
    EXPECT_EQ(b->host_header(), "10.0.0.1:8080");

    auto c = parse_url("http://[2001:db8::1]:8443/x");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "2001:db8::1");
    EXPECT_TRUE(c->host_is_ip);
    EXPECT_EQ(c->host_header(), "[2001:db8::1]:8443");
    EXPECT_EQ(c->origin(), "http://[2001:db8::1]:8443");

    auto d = parse_url("HTTPS://receiver.example:443/");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->host_header(), "receiver.example");
    EXPECT_TRUE(parse_url("http://host:/path"));  // empty port: the default
}

TEST(ParseUrl, Refuses) {
    for (const char* bad :
         {"ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "/relative/path",
          "example.com/hook", "http://user:pass@example.com/", "http://user@example.com/",
          "http:///path", "http://example.com:0/", "http://example.com:65536/",
          "http://example.com:99999999/", "http://exa%6Dple.com/", "http://[v7.fe80::1]/",
          "http://exa mple.com/", "http://example.com/ path", "", "http://ex!ample.com/"}) {
        auto r = parse_url(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::invalid_argument);
            EXPECT_EQ(r.error().attribute, "url");
        }
    }
}

// ---- TLS ----------------------------------------------------------------------------------------

// A self-signed certificate for "localhost" (DNS SAN only), written to a PEM file the client can
// trust.
struct TestCertificate {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    std::string pem_path;

    TestCertificate() {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                                  std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
            X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        }
        X509_sign(cert, key, EVP_sha256());
        pem_path = (std::filesystem::temp_directory_path() /
                    ("herald-webhook-test-" + std::to_string(::getpid()) + ".pem"))
                       .string();
        FILE* f = std::fopen(pem_path.c_str(), "w");
        PEM_write_X509(f, cert);
        std::fclose(f);
    }
    ~TestCertificate() {
        std::remove(pem_path.c_str());
        X509_free(cert);
        EVP_PKEY_free(key);
    }
};

// An HTTPS server on 127.0.0.1:0 with the test certificate; records the SNI name it was asked for.
class TlsServer {
public:
    TlsServer(asio::io_context& io, const TestCertificate& cert)
        : ctx_(ssl::context::tls_server),
          acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        SSL_CTX_use_certificate(ctx_.native_handle(), cert.cert);
        SSL_CTX_use_PrivateKey(ctx_.native_handle(), cert.key);
        asio::co_spawn(io, accept_loop(), asio::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    int accepted = 0;
    int handshakes = 0;
    std::string sni;
    std::vector<Received> requests;

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            ++accepted;
            asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> session(tcp::socket socket) {
        ssl::stream<tcp::socket> stream(std::move(socket), ctx_);
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
        if (ec) co_return;
        ++handshakes;
        if (const char* name =
                SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name))
            sni = name;
        co_await serve(stream, requests,
                       [](const Received&) { return Reply{response(200, "OK", "secure")}; });
    }

    ssl::context ctx_;
    tcp::acceptor acceptor_;
};

TEST(HttpClient, HttpsWithSniVerificationAndReuse) {
    TestCertificate cert;
    asio::io_context io;
    TlsServer server(io, cert);
    auto options = loopback_allowed();
    options.ca_file = cert.pem_path;
    ASSERT_TRUE(check_options(options));
    Client client(io, options);
    const std::string url = "https://localhost:" + std::to_string(server.port()) + "/secure";
    auto r = run(io, client.post(url, {{"Content-Type", "application/json"}}, "{}"));
    ASSERT_TRUE(r);
    ASSERT_TRUE(*r) << r->error().message;
    EXPECT_EQ((*r)->status, 200u);
    EXPECT_EQ((*r)->body, "secure");
    EXPECT_EQ(server.sni, "localhost");
    auto again = run(io, client.post(url, {}, "{}"));
    ASSERT_TRUE(again && *again);
    EXPECT_TRUE((*again)->reused_connection);
    EXPECT_EQ(server.handshakes, 1);
    ASSERT_EQ(server.requests.size(), 2u);
    EXPECT_EQ(server.requests[0].target, "/secure");
}

TEST(HttpClient, HttpsRefusesAnUntrustedCertificate) {
    TestCertificate cert;
    asio::io_context io;
    TlsServer server(io, cert);
    Client client(
        io, loopback_allowed());  // system trust store: the self-signed certificate is unknown
    auto r =
        run(io, client.post("https://localhost:" + std::to_string(server.port()) + "/", {}, "{}"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::tls);
    EXPECT_NE(r->error().message.find("certificate"), std::string::npos) << r->error().message;
    EXPECT_EQ(server.requests.size(), 0u);
}

TEST(HttpClient, HttpsRefusesAHostNameMismatch) {
    TestCertificate cert;
    asio::io_context io;
    TlsServer server(io, cert);
    auto options = loopback_allowed();
    options.ca_file = cert.pem_path;
    Client client(io, options);
    // Trusted certificate, but issued to "localhost", not to the address 127.0.0.1.
    auto r =
        run(io, client.post("https://127.0.0.1:" + std::to_string(server.port()) + "/", {}, "{}"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::tls);
    EXPECT_EQ(server.requests.size(), 0u);
}

TEST(HttpClient, HttpsToAPlainServerIsATlsError) {
    asio::io_context io;
    TestServer server(io, ok_reply);
    server.greet_with("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    Client client(io, loopback_allowed());
    auto r =
        run(io, client.post("https://127.0.0.1:" + std::to_string(server.port()) + "/", {}, "{}"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::tls) << r->error().message;
}

TEST(HttpClient, BadCaFileIsReported) {
    auto options = loopback_allowed();
    options.ca_file = "/nonexistent/ca.pem";
    auto checked = check_options(options);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().attribute, "ca_file");

    asio::io_context io;
    Client client(io, options);
    auto r = run(io, client.post("https://127.0.0.1:1/", {}, "{}"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, ClientErrc::tls);
    EXPECT_NE(r->error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace herald::webhook
