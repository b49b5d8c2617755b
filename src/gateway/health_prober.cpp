#include "gateway/health_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <optional>

namespace herald::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Sends the probe and reads the answer's head on an open stream; the status, or nullopt.
template <class Stream>
asio::awaitable<std::optional<unsigned>> ask(Stream& s, beast::tcp_stream& tcp, const proxy::ProbeRequest& p,
                                             std::chrono::milliseconds timeout) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, p.target, 11};
    req.set(bhttp::field::host, p.host);
    req.set(bhttp::field::user_agent, "Herald-HealthCheck/1");
    req.keep_alive(false);
    tcp.expires_after(timeout);
    auto [wec, wn] = co_await bhttp::async_write(s, req, use_tuple);
    if (wec) co_return std::nullopt;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::empty_body> parser;
    parser.skip(true);  // the status is the verdict; the body is not read
    auto [rec, rn] = co_await bhttp::async_read_header(s, buffer, parser, use_tuple);
    if (rec) co_return std::nullopt;
    co_return parser.get().result_int();
}

}  // namespace

void HealthProber::start() {
    asio::co_spawn(io_, [self = shared_from_this()] { return self->loop(); }, asio::detached);
}

void HealthProber::stop() {
    stopped_ = true;
    timer_.cancel();
}

asio::awaitable<void> HealthProber::loop() {
    while (!stopped_) {
        auto snapshot = gateway_.snapshot();
        for (auto& [name, upstream] : snapshot->upstreams) {
            if (!upstream->spec().health_check.enabled) continue;
            for (std::size_t i = 0; i < upstream->size(); ++i) {
                if (!upstream->probe_due(i)) continue;
                upstream->probe_started(i);
                sent_.fetch_add(1, std::memory_order_relaxed);
                asio::co_spawn(io_, probe(snapshot, upstream, i), asio::detached);
            }
        }
        // Intervals are at least 100 ms (the config's minimum): ticking at 50 ms keeps probes within half a tick
        // of their schedule.
        timer_.expires_after(std::chrono::milliseconds(50));
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> HealthProber::probe(std::shared_ptr<const Snapshot> snapshot,
                                          std::shared_ptr<proxy::Upstream> upstream, std::size_t i) {
    const auto request = upstream->probe_request(i);
    const auto timeout = std::chrono::milliseconds(std::max<std::int64_t>(1, request.timeout_ms));
    const auto& target = upstream->target(i);
    std::optional<unsigned> status;
    tcp::resolver resolver(io_);
    auto [rec, results] = co_await resolver.async_resolve(target.host, std::to_string(target.port), use_tuple);
    if (!rec) {
        if (auto* tls = snapshot->tls_context(upstream->name())) {
            beast::ssl_stream<beast::tcp_stream> s(io_, *tls);
            s.next_layer().expires_after(timeout);
            auto [cec, ep] = co_await s.next_layer().async_connect(results, use_tuple);
            if (!cec) {
                const auto& spec = upstream->spec();
                const std::string name = spec.tls_server_name.empty() ? target.host : spec.tls_server_name;
                boost::system::error_code not_ip;
                (void)asio::ip::make_address(name, not_ip);
                if (not_ip) ::SSL_set_tlsext_host_name(s.native_handle(), name.c_str());  // SNI is for names only
                if (spec.verify) s.set_verify_callback(ssl::host_name_verification(name));
                auto [hec] = co_await s.async_handshake(ssl::stream_base::client, use_tuple);
                if (!hec) status = co_await ask(s, s.next_layer(), request, timeout);
            }
        } else {
            beast::tcp_stream s(io_);
            s.expires_after(timeout);
            auto [cec, ep] = co_await s.async_connect(results, use_tuple);
            if (!cec) status = co_await ask(s, s, request, timeout);
        }
    }
    // A reload may have replaced the upstream meanwhile: the result goes to the object that was probed, which
    // the next tick no longer looks at.
    upstream->record_probe(i, status);
}

}  // namespace herald::gateway
