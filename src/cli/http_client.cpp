// The command-line tools' only Beast translation unit.
#include "cli/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

namespace herald::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Result<Url> parse_base_url(std::string_view text) {
    auto u = boost::urls::parse_uri(text);
    if (!u || u->scheme() != "http" || u->host().empty())
        return make_error(Errc::invalid_argument, "expected a URL like http://127.0.0.1:8080", "url");
    Url out;
    out.host = std::string(u->host());
    out.port = u->has_port() ? std::string(u->port()) : "80";
    out.path_prefix = std::string(u->path());
    while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
    return out;
}

struct HttpClient::Impl {
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    bool connected = false;
};

HttpClient::HttpClient(Url base) : base_(std::move(base)), impl_(new Impl) {}
HttpClient::~HttpClient() { delete impl_; }

Result<HttpResult> HttpClient::request(const std::string& method, const std::string& target,
                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                       const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        beast::error_code ec;
        if (!impl_->connected) {
            tcp::resolver resolver(impl_->io);
            auto results = resolver.resolve(base_.host, base_.port, ec);
            if (!ec) impl_->stream.connect(results, ec);
            if (ec) return make_error(Errc::unavailable, "cannot connect to " + base_.host + ":" + base_.port + ": " +
                                                             ec.message());
            impl_->connected = true;
            impl_->buffer.clear();
        }
        bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), base_.path_prefix + target, 11};
        req.set(bhttp::field::host, base_.host);
        req.set(bhttp::field::user_agent, "herald-cli");
        for (auto& [k, v] : headers) req.set(k, v);
        req.body() = body;
        req.prepare_payload();
        bhttp::write(impl_->stream, req, ec);
        bhttp::response<bhttp::string_body> res;
        if (!ec) bhttp::read(impl_->stream, impl_->buffer, res, ec);
        if (ec) {
            impl_->stream.close();
            impl_->connected = false;
            if (attempt == 0 && (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
                                 ec == asio::error::broken_pipe))
                continue;  // a kept-alive connection the server had closed: one fresh try
            return make_error(Errc::unavailable, "request failed: " + ec.message());
        }
        if (!res.keep_alive()) {
            impl_->stream.close();
            impl_->connected = false;
        }
        return HttpResult{res.result_int(), std::string(res[bhttp::field::content_type]), std::move(res.body())};
    }
    return make_error(Errc::unavailable, "request failed");
}

Result<void> read_sse(const Url& base, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers, unsigned& status,
                      const std::function<bool(const std::string&, const std::string&, const std::string&)>& on_event,
                      const std::function<void(long)>& on_retry) {
    status = 0;
    asio::io_context io;
    tcp::socket socket(io);
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(base.host, base.port, ec);
    if (!ec) asio::connect(socket, results, ec);
    if (ec) return make_error(Errc::unavailable, "cannot connect: " + ec.message());

    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, base.path_prefix + target, 11};
    req.set(bhttp::field::host, base.host);
    req.set(bhttp::field::accept, "text/event-stream");
    req.set(bhttp::field::user_agent, "herald-cli");
    for (auto& [k, v] : headers) req.set(k, v);
    bhttp::write(socket, req, ec);
    if (ec) return make_error(Errc::unavailable, "request failed: " + ec.message());

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    bhttp::read_header(socket, buffer, parser, ec);
    if (ec) return make_error(Errc::unavailable, "no response: " + ec.message());
    status = parser.get().result_int();
    if (status != 200) return ok();

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
        // read_some returns as soon as some body arrived: an SSE body never fills the buffer on its own.
        bhttp::read_some(socket, buffer, parser, ec);
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) break;
        std::size_t n = sizeof chunk - parser.get().body().size;
        for (std::size_t i = 0; i < n; ++i) {
            char c = chunk[i];
            if (c == '\n') {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (!handle_line(line)) return ok();
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
