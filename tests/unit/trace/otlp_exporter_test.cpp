#include "trace/otlp_exporter.hpp"
#include "protobuf_reader.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "trace/ids.hpp"

namespace herald::trace {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// A minimal OTLP/HTTP collector on loopback: keep-alive HTTP/1.1, Content-Length bodies, answers `status`.
class Collector {
public:
    explicit Collector(int status = 200) : status_(status) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 8);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~Collector() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    struct Received {
        std::string target;
        std::string content_type;
        std::string body;
    };
    std::vector<Received> received() {
        std::lock_guard lock(mutex_);
        return received_;
    }
    // Spans received, in either encoding (by the request's content type).
    std::size_t span_count() {
        std::size_t n = 0;
        for (auto& r : received()) {
            if (r.content_type.find("application/x-protobuf") != std::string::npos)
                n += protobuf_reader::spans_of(r.body).size();
            else
                n += json::parse(r.body).at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().size();
        }
        return n;
    }

private:
    bool wait_readable(int fd) {
        while (!stop_) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) > 0) return true;
        }
        return false;
    }
    void run() {
        while (wait_readable(fd_)) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            serve(c);
            ::close(c);
        }
    }
    void serve(int c) {
        std::string buf;
        char chunk[4096];
        for (;;) {
            auto head_end = buf.find("\r\n\r\n");
            while (head_end == std::string::npos) {
                if (!wait_readable(c)) return;
                auto n = ::read(c, chunk, sizeof chunk);
                if (n <= 0) return;
                buf.append(chunk, static_cast<std::size_t>(n));
                head_end = buf.find("\r\n\r\n");
            }
            std::string head = buf.substr(0, head_end);
            std::string lower = head;
            for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            std::size_t length = 0;
            if (auto at = lower.find("content-length:"); at != std::string::npos)
                length = std::stoul(head.substr(at + 15));
            std::string ct;
            if (auto at = lower.find("content-type:"); at != std::string::npos)
                ct = head.substr(at + 13, head.find("\r\n", at) - at - 13);
            while (buf.size() < head_end + 4 + length) {
                if (!wait_readable(c)) return;
                auto n = ::read(c, chunk, sizeof chunk);
                if (n <= 0) return;
                buf.append(chunk, static_cast<std::size_t>(n));
            }
            Received r;
            r.target = head.substr(head.find(' ') + 1, head.find(' ', head.find(' ') + 1) - head.find(' ') - 1);
            r.content_type = ct;
            r.body = buf.substr(head_end + 4, length);
            buf.erase(0, head_end + 4 + length);
            {
                std::lock_guard lock(mutex_);
                received_.push_back(std::move(r));
            }
            std::string res = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: 2\r\n\r\n{}";
            if (::write(c, res.data(), res.size()) < 0) return;
        }
    }

    int status_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<Received> received_;
};

Span a_span(const char* name) {
    SpanContext c;
    c.trace_id = new_trace_id();
    c.span_id = new_span_id();
    c.flags = kSampled;
    return make_span(c, SpanId{}, name, SpanKind::server, unix_nanos());
}

template <class F>
bool eventually(F f, std::chrono::milliseconds limit = 5s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return f();
}

TEST(OtlpExporter, TheEndpointGetsTheTracesPathUnlessItHasIt) {
    OtlpOptions o;
    o.endpoint = "http://127.0.0.1:4318";
    EXPECT_EQ((*OtlpExporter::create(o))->url(), "http://127.0.0.1:4318/v1/traces");
    o.endpoint = "http://127.0.0.1:4318/";
    EXPECT_EQ((*OtlpExporter::create(o))->url(), "http://127.0.0.1:4318/v1/traces");
    o.endpoint = "http://collector:4318/otel/";
    EXPECT_EQ((*OtlpExporter::create(o))->url(), "http://collector:4318/otel/v1/traces");
    o.endpoint = "https://collector/custom/v1/traces";
    EXPECT_EQ((*OtlpExporter::create(o))->url(), "https://collector/custom/v1/traces");
}

TEST(OtlpExporter, ABadEndpointIsAConfigurationError) {
    for (const char* bad : {"", "ftp://x/", "http://user:pw@x/", "not a url", "http://x/?q=1"}) {
        OtlpOptions o;
        o.endpoint = bad;
        auto e = OtlpExporter::create(o);
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().attribute, "otlp_endpoint") << bad;
    }
}

TEST(OtlpExporter, TheQueueIsBoundedAndCountsWhatItDrops) {
    OtlpOptions o;
    o.endpoint = "http://127.0.0.1:9";
    o.batch_size = 2;
    o.queue_size = 4;
    auto e = OtlpExporter::create(o);
    ASSERT_TRUE(e);
    // Not started: nothing leaves the queue.
    for (int i = 0; i < 7; ++i) (*e)->submit(a_span("s"));
    EXPECT_EQ((*e)->queued(), 4u);
    EXPECT_EQ((*e)->stats().dropped.load(), 3u);
}

TEST(OtlpExporter, SendsBatchesOfAtMostBatchSizeToTheCollector) {
    Collector collector;
    OtlpOptions o;
    o.protocol = OtlpProtocol::json;
    o.endpoint = collector.url();
    o.batch_size = 3;
    o.queue_size = 100;
    o.flush_interval = 50ms;
    o.resource.service_name = "unit";
    auto e = OtlpExporter::create(o);
    ASSERT_TRUE(e);
    (*e)->start();
    for (int i = 0; i < 8; ++i) (*e)->submit(a_span("batched"));
    ASSERT_TRUE(eventually([&] { return (*e)->stats().exported.load() == 8; }));
    auto got = collector.received();
    ASSERT_GE(got.size(), 3u);
    for (auto& r : got) {
        EXPECT_EQ(r.target, "/v1/traces");
        EXPECT_NE(r.content_type.find("application/json"), std::string::npos) << r.content_type;
        auto doc = json::parse(r.body);
        EXPECT_LE(doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().size(), 3u);
    }
    EXPECT_EQ(collector.span_count(), 8u);
    (*e)->stop();
    EXPECT_EQ((*e)->stats().failed.load(), 0u);
}

TEST(OtlpExporter, ProtobufIsTheDefaultEncoding) {
    Collector collector;
    OtlpOptions o;
    o.endpoint = collector.url();
    o.batch_size = 4;
    o.flush_interval = 50ms;
    auto e = OtlpExporter::create(o);
    ASSERT_TRUE(e);
    (*e)->start();
    for (int i = 0; i < 6; ++i) (*e)->submit(a_span("binary"));
    ASSERT_TRUE(eventually([&] { return (*e)->stats().exported.load() == 6; }));
    for (auto& r : collector.received()) {
        EXPECT_EQ(r.target, "/v1/traces");
        EXPECT_NE(r.content_type.find("application/x-protobuf"), std::string::npos) << r.content_type;
        auto spans = protobuf_reader::spans_of(r.body);
        EXPECT_LE(spans.size(), 4u);
        for (auto& s : spans) EXPECT_EQ(protobuf_reader::one(s, 5).bytes, "binary");
    }
    EXPECT_EQ(collector.span_count(), 6u);
    (*e)->stop();
}

TEST(OtlpExporter, StopSendsWhatIsStillQueued) {
    Collector collector;
    OtlpOptions o;
    o.endpoint = collector.url();
    o.flush_interval = std::chrono::milliseconds(60'000);  // only stop() will flush
    auto e = OtlpExporter::create(o);
    ASSERT_TRUE(e);
    (*e)->start();
    for (int i = 0; i < 5; ++i) (*e)->submit(a_span("late"));
    (*e)->stop();
    EXPECT_EQ(collector.span_count(), 5u);
    EXPECT_EQ((*e)->stats().exported.load(), 5u);
    // After stop, spans are refused (and counted), not queued forever.
    (*e)->submit(a_span("after"));
    EXPECT_EQ((*e)->stats().dropped.load(), 1u);
}

TEST(OtlpExporter, ARefusingCollectorCountsFailuresAndReportsTheStateOnce) {
    Collector collector(503);
    std::mutex m;
    std::vector<bool> states;
    OtlpOptions o;
    o.endpoint = collector.url();
    o.batch_size = 1;
    o.flush_interval = 20ms;
    o.on_state_change = [&](bool ok, const std::string&) {
        std::lock_guard lock(m);
        states.push_back(ok);
    };
    auto e = OtlpExporter::create(o);
    ASSERT_TRUE(e);
    (*e)->start();
    for (int i = 0; i < 3; ++i) (*e)->submit(a_span("refused"));
    ASSERT_TRUE(eventually([&] { return (*e)->stats().failed.load() == 3; }));
    (*e)->stop();
    EXPECT_EQ((*e)->stats().exported.load(), 0u);
    EXPECT_EQ((*e)->stats().failed_batches.load(), 3u);
    std::lock_guard lock(m);
    EXPECT_EQ(states, std::vector<bool>{false});
}

TEST(OtlpExporter, StopIsBoundedWhenTheCollectorIsAbsent) {
    OtlpOptions o;
    o.endpoint = "http://192.0.2.1:4318";  // TEST-NET-1: nothing answers
    o.flush_interval = std::chrono::milliseconds(60'000);
    auto e = OtlpExporter::create(o);
    ASSERT_TRUE(e);
    (*e)->start();
    (*e)->submit(a_span("nowhere"));
    auto t0 = std::chrono::steady_clock::now();
    (*e)->stop(300ms);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

}  // namespace
}  // namespace herald::trace
