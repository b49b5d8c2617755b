// The command-line HTTP client: every operation is written once over ClientStream, which is plain
// TCP or TLS as the URL says (cli/client_stream.hpp).
#include "cli/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <optional>

#include "cli/client_stream.hpp"

namespace herald::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Result<Url> parse_base_url(std::string_view text) {
    const auto refused = [] {
        return make_error(Errc::invalid_argument,
                          "expected a URL like http://127.0.0.1:8080 or https://herald.example.com",
                          "url");
    };
    auto u = boost::urls::parse_uri(text);
    if (!u || u->encoded_host().empty()) return refused();
    Url out;
    // scheme_id() ignores case, as RFC 3986 says schemes do.
    if (u->scheme_id() == boost::urls::scheme::https)
        out.tls = true;
    else if (u->scheme_id() != boost::urls::scheme::http)
        return refused();
    out.host = u->host_address();
    if (u->has_port()) {
        if (u->port().empty() || u->port_number() == 0) return refused();
        out.port = std::string(u->port());
    } else {
        out.port = out.tls ? "443" : "80";
    }
    out.path_prefix = std::string(u->path());
    while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
    return out;
}

std::string Url::host_for_header() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]";
    return host;
}

struct HttpClient::Impl {
    asio::io_context io;
    std::optional<ClientStream> stream;  // engaged while connected
    beast::flat_buffer buffer;
};

HttpClient::HttpClient(Url base, TlsTrust trust)
    : base_(std::move(base)), trust_(std::move(trust)), impl_(new Impl) {}

HttpClient::~HttpClient() {
    if (impl_->stream) impl_->stream->shutdown_and_close(kTlsCloseLimit);
    delete impl_;
}

Result<HttpResult> HttpClient::request(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        beast::error_code ec;
        if (!impl_->stream) {
            auto context = tls_context_for(base_, trust_);
            if (!context) return std::move(context).error();
            tcp::resolver resolver(impl_->io);
            auto results = resolver.resolve(base_.host, base_.port, ec);
            auto& stream = impl_->stream.emplace(impl_->io, base_, std::move(*context));
            if (!ec) stream.tcp().connect(results, ec);
            if (ec) {
                impl_->stream.reset();
                return make_error(Errc::unavailable,
                                  "cannot connect to " + base_.authority() + ": " + ec.message());
            }
            ec = stream.handshake(kTlsHandshakeLimit);
            if (ec) {
                auto failure = stream.handshake_failure(ec);
                impl_->stream.reset();
                return failure;
            }
            impl_->buffer.clear();
        }
        auto& stream = *impl_->stream;
        bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method),
                                               base_.path_prefix + target, 11};
        req.set(bhttp::field::host, base_.host_for_header());
        req.set(bhttp::field::user_agent, "herald-cli");
        for (auto& [k, v] : headers) req.set(k, v);
        req.body() = body;
        req.prepare_payload();
        bhttp::write(stream, req, ec);
        bhttp::response<bhttp::string_body> res;
        if (!ec) bhttp::read(stream, impl_->buffer, res, ec);
        if (ec) {
            stream.close();
            impl_->stream.reset();
            // A kept-alive connection the server had closed: one fresh try. Over TLS the server's
            // close shows as the end of the stream (with close_notify) or a truncated one
            // (without).
            if (attempt == 0 &&
                (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
                 ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated))
                continue;
            return make_error(Errc::unavailable, "request failed: " + ec.message());
        }
        if (!res.keep_alive()) {
            stream.shutdown_and_close(kTlsCloseLimit);
            impl_->stream.reset();
        }
        return HttpResult{res.result_int(), std::string(res[bhttp::field::content_type]),
                          std::move(res.body())};
    }
    return make_error(Errc::unavailable, "request failed");
}

Result<HttpResult> fetch(const Url& base, const TlsTrust& trust, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::chrono::milliseconds timeout,
                         const std::function<bool()>& cancelled) {
    auto context = tls_context_for(base, trust);
    if (!context) return std::move(context).error();
    asio::io_context io;
    tcp::resolver resolver(io);
    ClientStream stream(io, base, std::move(*context));
    beast::flat_buffer buffer;
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, base.path_prefix + target, 11};
    req.set(bhttp::field::host, base.host_for_header());
    req.set(bhttp::field::user_agent, "herald-cli");
    req.set(bhttp::field::connection, "close");
    for (auto& [k, v] : headers) req.set(k, v);
    bhttp::response_parser<bhttp::string_body> parser;
    // A scrape grows with topics and subscriptions; Beast's default of 8 MiB is too tight for a
    // large server.
    parser.body_limit(std::uint64_t{256} << 20);

    // The handlers below run inside io.run_for on this thread, so they may share these locals by
    // reference.
    bool done = false;
    bool answered = false;  // the whole response is in; only the closing handshake may be left
    beast::error_code failure;
    const char* step = "";
    auto fail = [&](beast::error_code ec, const char* what) {
        failure = ec;
        step = what;
        done = true;
    };
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    stream.tcp().expires_after(timeout);
    resolver.async_resolve(
        base.host, base.port, [&](beast::error_code ec, tcp::resolver::results_type results) {
            if (ec) return fail(ec, "resolve");
            stream.tcp().async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return fail(ec, "connect");
                stream.async_handshake([&](beast::error_code ec) {
                    if (ec) return fail(ec, "handshake");
                    bhttp::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
                        if (ec) return fail(ec, "write");
                        bhttp::async_read(
                            stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
                                if (ec) return fail(ec, "read");
                                answered = true;
                                // The server closes after this answer (Connection: close); over TLS
                                // both sides say so with close_notify, within what is left of the
                                // deadline and at most kTlsCloseLimit.
                                stream.tcp().expires_at(
                                    std::min<std::chrono::steady_clock::time_point>(
                                        deadline,
                                        std::chrono::steady_clock::now() + kTlsCloseLimit));
                                stream.async_shutdown([&](beast::error_code) { done = true; });
                            });
                    });
                });
            });
        });
    while (!done) {
        io.run_for(std::chrono::milliseconds(50));
        if (done) break;
        const bool give_up = cancelled && cancelled();
        // The resolver has no deadline of its own (the stream's covers connect, handshake, write
        // and read).
        const bool late =
            std::chrono::steady_clock::now() > deadline + std::chrono::milliseconds(100);
        if (give_up || late || io.stopped()) {
            resolver.cancel();
            stream.close();
            io.restart();
            io.run();  // lets every handler see the cancellation before the locals they use go away
            if (give_up) return make_error(Errc::conflict, "cancelled");
            if (answered) break;  // only the closing handshake was cut short
            const std::string where = base.authority();
            if (late)
                return make_error(Errc::unavailable, "no answer from " + where + " within " +
                                                         std::to_string(timeout.count()) + " ms");
            return make_error(Errc::unavailable, "request to " + where + " did not finish");
        }
    }
    if (failure) {
        const std::string where = base.authority();
        if (failure == beast::error::timeout)
            return make_error(Errc::unavailable, "no answer from " + where + " within " +
                                                     std::to_string(timeout.count()) + " ms");
        if (std::string_view(step) == "resolve" || std::string_view(step) == "connect")
            return make_error(Errc::unavailable,
                              "cannot connect to " + where + ": " + failure.message());
        if (std::string_view(step) == "handshake") return stream.handshake_failure(failure);
        return make_error(Errc::unavailable,
                          "request to " + where + " failed: " + failure.message());
    }
    auto& res = parser.get();
    return HttpResult{res.result_int(), std::string(res[bhttp::field::content_type]),
                      std::move(res.body())};
}

Result<void> read_sse(
    const Url& base, const TlsTrust& trust, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, unsigned& status,
    const std::function<bool(const std::string&, const std::string&, const std::string&)>& on_event,
    const std::function<void(long)>& on_retry) {
    status = 0;
    auto context = tls_context_for(base, trust);
    if (!context) return std::move(context).error();
    asio::io_context io;
    ClientStream stream(io, base, std::move(*context));
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(base.host, base.port, ec);
    if (!ec) stream.tcp().connect(results, ec);
    if (ec) return make_error(Errc::unavailable, "cannot connect: " + ec.message());
    ec = stream.handshake(kTlsHandshakeLimit);
    if (ec) return stream.handshake_failure(ec);

    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, base.path_prefix + target, 11};
    req.set(bhttp::field::host, base.host_for_header());
    req.set(bhttp::field::accept, "text/event-stream");
    req.set(bhttp::field::user_agent, "herald-cli");
    for (auto& [k, v] : headers) req.set(k, v);
    bhttp::write(stream, req, ec);
    if (ec) return make_error(Errc::unavailable, "request failed: " + ec.message());

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    bhttp::read_header(stream, buffer, parser, ec);
    if (ec) return make_error(Errc::unavailable, "no response: " + ec.message());
    status = parser.get().result_int();
    if (status != 200) {
        stream.shutdown_and_close(kTlsCloseLimit);
        return ok();
    }

    // Field accumulation per the WHATWG event-stream interpretation rules.
    std::string line, id, event, data;
    bool has_data = false;
    auto handle_line = [&](const std::string& l) -> bool {
        if (l.empty()) {
            if (has_data) {
                if (!on_event(id, event.empty() ? "message" : event, data)) return false;
            }
            event.clear();
            data.clear();
            has_data = false;
            return true;
        }
        if (l[0] == ':') return true;
        auto colon = l.find(':');
        std::string field = l.substr(0, colon), value;
        if (colon != std::string::npos) {
            value = l.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        }
        if (field == "data") {
            if (has_data) data += '\n';
            data += value;
            has_data = true;
        } else if (field == "event") {
            event = value;
        } else if (field == "id") {
            if (value.find('\0') == std::string::npos) id = value;
        } else if (field == "retry") {
            if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos)
                on_retry(std::stol(value));
        }
        return true;
    };
    char chunk[16384];
    for (;;) {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        // read_some returns as soon as some body arrived: an SSE body never fills the buffer on its
        // own.
        bhttp::read_some(stream, buffer, parser, ec);
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) break;
        std::size_t n = sizeof chunk - parser.get().body().size;
        for (std::size_t i = 0; i < n; ++i) {
            char c = chunk[i];
            if (c == '\n') {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (!handle_line(line)) {
                    // We end the stream: over TLS, say so with close_notify, briefly.
                    stream.shutdown_and_close(kTlsCloseLimit);
                    return ok();
                }
                line.clear();
            } else {
                line.push_back(c);
            }
        }
        if (parser.is_done()) break;
    }
    return ok();
}

}  // namespace herald::cli
