// Fuzz target: the HTTP request path end to end. The whole server (`herald serve`, src/server) runs inside the
// fuzzer process on loopback, with its real listener, router, authentication, publishing, streams, WebSocket
// sessions, REST gateway, portal and admin API; each input is written to a fresh connection exactly as a client
// would send it, and the answer is read back and checked.
//
// Why a real socket rather than an in-memory stream: the listener's own behaviour (deadlines, keep-alive and
// pipelining, Expect: 100-continue, the hand-over to SSE and WebSocket takeovers, the gateway's interceptor that
// reads bodies itself) is part of what is fuzzed, and it is written against TCP sockets. A loopback connection
// costs a few system calls per input; everything else is the production code path, byte for byte.
//
// Input: byte 0 picks the listener (bit 0: 0 data plane, 1 admin plane); the rest is sent as is, then the
// connection is half-closed. The answer is read until the server closes, or until it has been quiet for
// 100 ms (an event stream, a long poll, a WebSocket session stays open).
//
// Invariants beyond "no crash, no sanitizer report" (in the server's threads too: it is the same process):
//  - whatever the server sends parses as HTTP/1.1 responses; interim 100 responses are followed by a final one;
//  - the first final response has a status from 200 to 599, and when it is 400 or more (and the request was not
//    HEAD) it is RFC 9457 problem+json: Content-Type application/problem+json, a JSON object whose integer
//    `status` equals the HTTP status and whose `title` is a non-empty string;
//  - the server keeps accepting connections (each input's connect would fail otherwise).
//
// Confinement: the admin API can point upstreams at any address, and webhook subscriptions make Herald connect
// to receivers. Before starting the server the harness moves the process into a network namespace of its own
// whose only interface is loopback (unshare(CLONE_NEWNET), as root), so no input can make it reach beyond
// 127.0.0.1. Where that is not permitted (not root, or a container without CAP_SYS_ADMIN), it says so and fuzzes
// the data plane only, with webhook subscriptions refused (a limit of zero), which leaves no path to another
// address.

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "config/config.hpp"
#include "fuzz_check.hpp"
#include "server/app.hpp"

namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using namespace herald;

namespace {

struct Harness {
    bool confined = false;
    std::uint16_t data_port = 0;
    std::uint16_t admin_port = 0;
};

Harness* harness = nullptr;  // set once by LLVMFuzzerInitialize, read-only afterwards

// A network namespace with only the loopback interface, brought up. The calling thread is the only one at this
// point, and every thread started later (the server's) inherits it. Only as root (CAP_SYS_ADMIN): a user namespace
// would work without it, but a failure halfway through would leave the process unable to write its own corpus.
// Any failure after the unshare returns the process to its original namespace, so the fallback still has a
// loopback interface to listen on.
bool confine_to_loopback() {
    if (geteuid() != 0) return false;
    const int original = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) return false;
    if (unshare(CLONE_NEWNET) != 0) {
        close(original);
        return false;
    }
    bool up = false;
    if (const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); s >= 0) {
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
            ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
            up = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
        }
        close(s);
    }
    if (!up && setns(original, CLONE_NEWNET) != 0) {
        std::perror("http_server_fuzz: cannot return to the original network namespace");
        std::abort();
    }
    close(original);
    return up;
}

std::uint16_t port_of(const std::string& endpoint) {
    return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

// A minimal upstream for the gateway's route: reads whatever arrives for a moment and answers one small response,
// then closes. Enough for the proxy's request and response relays, its retries and its error paths to run.
void run_upstream(int listener) {
    for (;;) {
        const int c = accept(listener, nullptr, nullptr);
        if (c < 0) continue;
        pollfd p{c, POLLIN, 0};
        char buf[4096];
        std::string head;
        while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536 && poll(&p, 1, 50) > 0) {
            const ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0) break;
            head.append(buf, static_cast<std::size_t>(n));
        }
        static constexpr std::string_view answer =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
            "{\"ok\":true}";
        (void)!send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
        close(c);
    }
}

int listen_loopback(std::uint16_t* port) {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 64) != 0 ||
        getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        std::perror("http_server_fuzz: upstream listener");
        std::abort();
    }
    *port = ntohs(a.sin_port);
    return s;
}

std::string configuration(const fs::path& dir, std::uint16_t upstream_port) {
    // Auth on, with anonymous callers allowed everything on the data plane so that unauthenticated inputs reach
    // the handlers, while the token paths (API keys, the admin token) are there to be found (see the dictionary).
    return R"(listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: )" + (dir / "data").string() + R"(
threads: 1
long_poll_max_wait: 2s
http:
  header_timeout: 2s
  body_timeout: 2s
  idle_timeout: 2s
sse:
  heartbeat: 1s
log:
  level: error
  access: false
topics:
  auto_create: false
  defaults:
    fsync: never
    segment_bytes: 1MiB
    retention: {max_bytes: 8MiB}
  declared:
    - name: orders
      accepted_types: ["shop.order*"]
      default_type: shop.orderPlaced.v1
    - name: events
schemas:
  files:
    - type: shop.orderPlaced.v1
      file: )" + (dir / "order-placed.json").string() + R"(
auth:
  enabled: true
  anonymous_scopes: ["publish:*", "subscribe:*"]
  allow_query_token: true
  admin_token: fuzz-admin-token-0123456789
  api_keys:
    - {name: fuzz-client, key: fuzz-client-key-0123456789, scopes: ["publish:orders", "subscribe:orders"]}
upstreams:
  backend:
    targets: [127.0.0.1:)" + std::to_string(upstream_port) + R"(]
    timeouts: {connect: 1s, read: 1s, total: 2s}
routes:
  - name: api
    match: {prefix: /api/}
    upstream: backend
    rewrite: {strip_prefix: /api}
  - name: item
    match: {path: "/items/{id}", methods: [GET, PUT]}
    upstream: backend
    policy: {auth: required, rate_limit: {rate: 1000, burst: 1000}}
)";
}

constexpr std::string_view kOrderSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["order_id", "total"],
  "properties": {
    "order_id": {"type": "string", "pattern": "^ord_[a-z0-9]+$"},
    "total": {"type": "number", "minimum": 0},
    "items": {"type": "array", "maxItems": 10, "items": {"type": "string"}}
  },
  "additionalProperties": false
})";

void start_server() {
    harness = new Harness;
    harness->confined = confine_to_loopback();
    if (!harness->confined)
        std::fprintf(stderr, "http_server_fuzz: network namespaces are not permitted here: fuzzing the data plane "
                             "only, with webhook subscriptions refused\n");

    // mkdtemp replaces the trailing six characters with a unique suffix.
    std::string pattern = "/tmp/herald-http-fuzz-" + std::string(6, 'X');
    const char* made = mkdtemp(pattern.data());
    if (!made) {
        std::perror("http_server_fuzz: mkdtemp");
        std::abort();
    }
    const fs::path dir = made;
    std::ofstream(dir / "order-placed.json") << kOrderSchema;

    std::uint16_t upstream_port = 0;
    const int upstream = listen_loopback(&upstream_port);
    std::thread(run_upstream, upstream).detach();

    auto cfg = config::parse_config(configuration(dir, upstream_port), "http_server_fuzz.yaml");
    if (!cfg) {
        std::fprintf(stderr, "http_server_fuzz: configuration: %s\n", cfg.error().message.c_str());
        std::abort();
    }
    // Webhook receivers are other addresses: only inside the namespace may subscriptions exist.
    cfg->webhooks.max_subscriptions = harness->confined ? 20 : 0;
    cfg->webhooks.allow_destinations = {"127.0.0.1/32"};

    server::ServeOptions options{std::move(*cfg), dir / "ready.json"};
    std::thread([options = std::move(options)]() mutable {
        const int code = server::serve(std::move(options));
        std::fprintf(stderr, "http_server_fuzz: the server stopped (exit code %d)\n", code);
        std::abort();
    }).detach();

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(dir / "ready.json")) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "http_server_fuzz: the server did not start within 60 s\n");
            std::abort();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream in(dir / "ready.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto ready = boost::json::parse(text).as_object();
    harness->data_port = port_of(std::string(ready.at("listen").as_string()));
    harness->admin_port = port_of(std::string(ready.at("admin").as_string()));
}

// libFuzzer's timers (SIGALRM for -timeout, and its RSS thread's) interrupt blocking calls: retry those.
int poll_one(pollfd& p, int timeout_ms) {
    int r;
    do r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r;
}

ssize_t read_some(int s, char* buf, std::size_t n) {
    ssize_t r;
    do r = read(s, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

// A blocking connect that a signal interrupts goes on in the background: wait for it, then ask how it ended.
bool connect_loopback(int s, const sockaddr_in& a) {
    if (connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) return true;
    if (errno != EINTR) return false;
    pollfd p{s, POLLOUT, 0};
    if (poll_one(p, 10'000) <= 0) return false;
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return false;
    errno = error;
    return error == 0;
}

// Sends `request` on a new connection to `port`, half-closes, and returns everything the server sent until it
// closed or fell quiet.
std::string exchange(std::uint16_t port, std::string_view request) {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    HERALD_FUZZ_CHECK(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    // The server must keep accepting: a refused connect means it stopped listening.
    if (!connect_loopback(s, a)) {
        std::fprintf(stderr, "http_server_fuzz: connect to port %u: %s\n", port, std::strerror(errno));
        HERALD_FUZZ_CHECK(false);
    }
    const int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    std::string out;
    char buf[16384];
    pollfd p{s, POLLIN, 0};
    std::size_t sent = 0;
    // Write and read together: a server that answers early (413, 431) and stops reading must not block us.
    while (sent < request.size()) {
        p.events = POLLIN | POLLOUT;
        if (poll_one(p, 1000) <= 0) break;
        if (p.revents & POLLIN) {
            const ssize_t n = read_some(s, buf, sizeof buf);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        if (p.revents & POLLOUT) {
            const ssize_t n = send(s, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            sent += static_cast<std::size_t>(n);
        }
        if (p.revents & (POLLERR | POLLHUP)) break;
    }
    shutdown(s, SHUT_WR);
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    p.events = POLLIN;
    while (std::chrono::steady_clock::now() < limit && out.size() < (1u << 20)) {
        if (poll_one(p, 100) <= 0) break;  // quiet for 100 ms: a stream that stays open
        const ssize_t n = read_some(s, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    // An abortive close, as a vanished client would leave it; the server must cope with both kinds.
    linger hard{1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(s);
    return out;
}

// The method of the first request in `input`, as the server's parser would read it ("" when it does not parse).
std::string first_method(std::string_view input) {
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(64 * 1024);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (!parser.is_header_done()) return "";
    return std::string(parser.get().method_string());
}

void check_problem(const bhttp::response<bhttp::string_body>& res) {
    const auto type = res[bhttp::field::content_type];
    if (type != "application/problem+json") {
        std::fprintf(stderr, "status %u answered with Content-Type '%.*s'\n", res.result_int(),
                     static_cast<int>(type.size()), type.data());
    }
    HERALD_FUZZ_CHECK(type == "application/problem+json");
    boost::system::error_code ec;
    const auto doc = boost::json::parse(res.body(), ec);
    HERALD_FUZZ_CHECK(!ec && doc.is_object());
    const auto& o = doc.as_object();
    const auto* status = o.if_contains("status");
    HERALD_FUZZ_CHECK(status && status->is_int64() && status->as_int64() == res.result_int());
    const auto* title = o.if_contains("title");
    HERALD_FUZZ_CHECK(title && title->is_string() && !title->as_string().empty());
}

void check_answer(std::string_view request, const std::string& answer) {
    if (answer.empty()) return;  // nothing to answer (an empty or cut request), or a refused upgrade closed at once
    const bool head = first_method(request) == "HEAD";
    std::size_t at = 0;
    for (;;) {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.header_limit(64 * 1024);
        parser.body_limit(std::uint64_t{1} << 21);
        if (head) parser.skip(true);
        boost::beast::error_code ec;
        while (at < answer.size() && !parser.is_done()) {
            const auto n = parser.put(boost::asio::buffer(answer.data() + at, answer.size() - at), ec);
            at += n;
            if (ec == bhttp::error::need_more) {
                ec = {};
                if (n == 0) break;
                continue;
            }
            if (ec) break;
        }
        if (!parser.is_header_done()) {
            // Only a head cut short by our 3 s or 1 MiB read limit may be incomplete.
            HERALD_FUZZ_CHECK(!ec);
            return;
        }
        HERALD_FUZZ_CHECK(!ec);
        const auto& res = parser.get();
        const unsigned status = res.result_int();
        if (status == 100) continue;  // 100-continue, then the final answer
        HERALD_FUZZ_CHECK(status >= 101 && status <= 599);
        if (status == 101) return;  // a WebSocket session follows; its frames have their own fuzz targets
        // A body still arriving when we stopped reading is a stream (SSE, long poll, proxied stream).
        if (!parser.is_done()) {
            parser.put_eof(ec);
            if (ec) return;
        }
        if (status >= 400 && !head) check_problem(res);
        return;  // only the first final answer is tied to a request we know
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    start_server();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const bool admin = (data[0] & 1) != 0;
    if (admin && !harness->confined) return -1;  // keep admin inputs out of the corpus where they cannot run
    const std::string_view request(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::string answer = exchange(admin ? harness->admin_port : harness->data_port, request);
    check_answer(request, answer);
    return 0;
}
