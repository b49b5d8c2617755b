// The only translation unit of the webhook module that includes Beast and asio::ssl (see
// http_client.hpp).
//
// Await-point rule for this file: every await on a socket runs under the request's deadline
// (tcp_stream expiry), and every await on a timer is woken by either the deadline or the operation
// it stands in for; no await can outlive the request's deadline except the final return of a
// connection to the pool.
#include "webhook/http_client.hpp"

#include "base/http_token.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <unordered_map>
#include <unordered_set>

namespace herald::webhook {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ---- URLs ---------------------------------------------------------------------------------------

namespace {

std::uint16_t default_port(bool tls) noexcept { return tls ? 443 : 80; }

std::string bracketed(const ParsedUrl& u) {
    if (u.host_is_ip && u.host.find(':') != std::string::npos) return "[" + u.host + "]";
    return u.host;
}

bool host_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string ParsedUrl::origin() const {
    return scheme + "://" + bracketed(*this) + ":" + std::to_string(port);
}

std::string ParsedUrl::host_header() const {
    if (port == default_port(tls)) return bracketed(*this);
    return bracketed(*this) + ":" + std::to_string(port);
}

std::string ParsedUrl::to_string() const { return scheme + "://" + host_header() + target; }

Result<ParsedUrl> parse_url(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return make_error(Errc::invalid_argument, "invalid URL '" + std::string(text) + "': " + why,
                          "url");
    };
    // parse_uri rather than parse_absolute_uri: a fragment is harmless (it is never sent) and
    // people paste them.
    auto parsed = urls::parse_uri(text);
    if (!parsed) return bad(parsed.error().message());
    const urls::url_view u = *parsed;
    ParsedUrl out;
    switch (u.scheme_id()) {
        case urls::scheme::http:
            out.tls = false;
            out.scheme = "http";
            break;
        case urls::scheme::https:
            out.tls = true;
            out.scheme = "https";
            break;
        default:
            return bad("only http and https URLs can receive webhooks");
    }
    if (!u.has_authority()) return bad("there is no host");
    if (u.has_userinfo()) return bad("credentials in the URL (user:password@) are not allowed");
    switch (u.host_type()) {
        case urls::host_type::name: {
            const std::string_view enc = u.encoded_host();
            if (enc.empty()) return bad("there is no host");
            if (enc.find('%') != std::string_view::npos)
                return bad("percent-encoded host names are not allowed");
            std::string host(enc);
            std::transform(host.begin(), host.end(), host.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (!std::all_of(host.begin(), host.end(), host_name_char))
                return bad(
                    "the host name has characters outside [a-z0-9.-_] (write international names "
                    "in their punycode form)");
            out.host = std::move(host);
            break;
        }
        case urls::host_type::ipv4:
            out.host = u.host_ipv4_address().to_string();
            out.host_is_ip = true;
            break;
        case urls::host_type::ipv6:
            out.host = u.host_ipv6_address().to_string();
            out.host_is_ip = true;
            break;
        case urls::host_type::ipvfuture:
            return bad("IPvFuture addresses are not supported");
        default:
            return bad("there is no host");
    }
    out.port = default_port(out.tls);
    if (u.has_port() && !u.port().empty()) {
        const auto n = u.port_number();
        // port_number() is 0 when the digits do not fit 16 bits.
        if (n == 0) return bad("the port must be 1 to 65535");
        out.port = n;
    }
    out.target = std::string(u.encoded_path());
    if (out.target.empty()) out.target = "/";
    if (u.has_query()) {
        out.target += '?';
        out.target += std::string_view(u.encoded_query());
    }
    return out;
}

// ---- Errors -------------------------------------------------------------------------------------

const char* to_string(ClientErrc e) noexcept {
    switch (e) {
        case ClientErrc::invalid_request:
            return "invalid_request";
        case ClientErrc::dns:
            return "dns";
        case ClientErrc::ssrf_blocked:
            return "ssrf_blocked";
        case ClientErrc::connect_refused:
            return "connect_refused";
        case ClientErrc::connect_failed:
            return "connect_failed";
        case ClientErrc::timeout:
            return "timeout";
        case ClientErrc::tls:
            return "tls";
        case ClientErrc::protocol:
            return "protocol";
        case ClientErrc::cancelled:
            return "cancelled";
    }
    return "unknown";
}

Error to_error(const ClientError& e) {
    switch (e.code) {
        case ClientErrc::invalid_request:
        case ClientErrc::ssrf_blocked:
            return make_error(Errc::invalid_argument, e.message, "url");
        default:
            return make_error(Errc::unavailable, e.message);
    }
}

const std::string* HttpResponse::header(std::string_view lower_name) const noexcept {
    for (auto& [k, v] : headers)
        if (k == lower_name) return &v;
    return nullptr;
}

// ---- TLS context --------------------------------------------------------------------------------

namespace {

// Builds the client TLS context; the error names what failed.
std::optional<std::string> configure_tls(ssl::context& ctx, const ClientOptions& o) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (!o.verify_tls) {
        ctx.set_verify_mode(ssl::verify_none);
        return std::nullopt;
    }
    ctx.set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (o.ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
        if (ec) return "cannot load the system trust store: " + ec.message();
    } else {
        ctx.load_verify_file(o.ca_file, ec);
        if (ec) return "cannot load the CA file '" + o.ca_file + "': " + ec.message();
    }
    return std::nullopt;
}

}  // namespace

Result<void> check_options(const ClientOptions& options) {
    ssl::context ctx(ssl::context::tls_client);
    if (auto err = configure_tls(ctx, options))
        return make_error(Errc::invalid_argument, *err, "ca_file");
    if (options.connect_timeout.count() <= 0)
        return make_error(Errc::invalid_argument, "connect_timeout must be positive",
                          "connect_timeout");
    if (options.request_timeout.count() <= 0)
        return make_error(Errc::invalid_argument, "request_timeout must be positive",
                          "request_timeout");
    return ok();
}

// ---- Connections and the pool -------------------------------------------------------------------

namespace {

// One connection, plain or TLS. Owned by exactly one place at a time: a request in flight or the
// pool.
struct Connection {
    std::string origin;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    SteadyClock::time_point idle_since{};

    beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    void close() {
        beast::error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }
};
using ConnectionPtr = std::unique_ptr<Connection>;

// Whether a pooled connection still looks usable, without blocking. A FIN or an error means the
// server closed it. Unsolicited bytes on a plain connection mean the server said something out of
// turn (often a 408 before closing), which would corrupt the next response: not reusable. On TLS,
// pending bytes can be a post-handshake message (a session ticket) that the next read consumes, so
// they are tolerated.
bool looks_alive(Connection& c) {
    if (c.buffer.size() != 0) return false;
    const int fd = c.tcp().socket().native_handle();
    char byte;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    return c.secure != nullptr;
}


bool managed_header(std::string_view name) {
    static constexpr std::string_view managed[] = {
        "host", "content-length", "transfer-encoding", "connection", "keep-alive",
        "te",   "upgrade",        "proxy-connection"};
    for (auto m : managed)
        if (beast::iequals(name, m)) return true;
    return false;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string ms_text(SteadyClock::duration d) {
    return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

// Errors after the connection was up where the server closed (or reset) the connection: on a pooled
// connection before any response byte, this is the keep-alive race and worth one more try on a
// fresh connection.
bool closed_by_peer(const beast::error_code& ec) {
    return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

struct Exchange {
    beast::error_code ec;
    bool writing = false;       // the error happened while sending the request
    bool got_response = false;  // any byte of a final response head arrived
    bool keep_alive = false;
    HttpResponse response;
};

// Writes the request and reads the response on an established connection. Errors before a response
// head leave `ec` set; once the head has arrived, the response stands and problems with the body
// only mark it incomplete.
template <class Stream>
asio::awaitable<void> exchange(Stream& stream, Connection& conn,
                               const bhttp::request<bhttp::string_body>& req,
                               SteadyClock::time_point deadline, const ClientOptions& o,
                               Exchange& out) {
    conn.tcp().expires_at(deadline);
    auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
    if (wec) {
        out.ec = wec;
        out.writing = true;
        co_return;
    }
    for (;;) {
        bhttp::response_parser<bhttp::buffer_body> parser;
        parser.header_limit(
            static_cast<std::uint32_t>(std::min<std::size_t>(o.max_header_bytes, UINT32_MAX)));
        // No parser body limit: Beast would refuse a large Content-Length before handing over the
        // head, and the status is what matters. The drain limit below is enforced by counting.
        parser.body_limit(boost::none);
        if (req.method() == bhttp::verb::head) parser.skip(true);
        auto [hec, hn] = co_await bhttp::async_read_header(stream, conn.buffer, parser, use_tuple);
        if (hec) {
            out.ec = hec;
            out.got_response = parser.got_some();
            co_return;
        }
        const unsigned status = parser.get().result_int();
        // Interim responses (100 Continue, 103 Early Hints) precede the real one.
        if (status >= 100 && status < 200 && status != 101) continue;

        out.got_response = true;
        HttpResponse& r = out.response;
        r.status = status;
        for (auto& f : parser.get())
            r.headers.emplace_back(lower(f.name_string()), std::string(f.value()));

        std::array<char, 8192> chunk;
        std::size_t drained = 0;
        bool stopped_early = false;
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            auto [bec, bn] = co_await bhttp::async_read(stream, conn.buffer, parser, use_tuple);
            const std::size_t got = chunk.size() - parser.get().body().size;
            drained += got;
            const std::size_t room =
                o.max_kept_body > r.body.size() ? o.max_kept_body - r.body.size() : 0;
            r.body.append(chunk.data(), std::min(got, room));
            if (got > room) r.body_truncated = true;
            if (bec == bhttp::error::need_buffer) bec = {};
            if (bec) {
                // A TLS peer that ends a close-delimited body without close_notify: the body is
                // what arrived.
                if (!(bec == ssl::error::stream_truncated && parser.need_eof())) r.complete = false;
                stopped_early = true;
                break;
            }
            if (!parser.is_done() && drained >= o.max_drained_body) {
                // Not worth reading on to save the connection.
                r.body_truncated = true;
                stopped_early = true;
                break;
            }
        }
        out.keep_alive = !stopped_early && parser.is_done() && parser.keep_alive();
        co_return;
    }
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& io_, ClientOptions o) : io(io_), options(std::move(o)), sweeper(io_) {}

    asio::io_context& io;
    ClientOptions options;
    // Built on the first https request: loading the system trust store takes tens of milliseconds,
    // which a deployment with only http receivers (and every test) need not pay.
    std::optional<ssl::context> tls_context;
    std::string
        tls_error;  // non-empty: the context could not be built; https requests fail with this

    ssl::context* tls() {
        if (!tls_context && tls_error.empty()) {
            tls_context.emplace(ssl::context::tls_client);
            if (auto err = configure_tls(*tls_context, options)) {
                tls_error = *err;
                tls_context.reset();
            }
        }
        return tls_context ? &*tls_context : nullptr;
    }

    std::unordered_map<std::string, std::vector<ConnectionPtr>> idle;
    std::size_t idle_count = 0;
    std::unordered_set<Connection*> active;  // connections of requests in flight (for shutdown)
    std::unordered_set<asio::steady_timer*> waiting;  // resolutions in flight (for shutdown)
    asio::steady_timer sweeper;
    bool sweeper_armed = false;
    bool closed = false;

    std::atomic<std::uint64_t> n_requests{0}, n_opened{0}, n_reused{0}, n_refused{0}, n_idle{0};

    // RAII registration of a connection in use, so shutdown() can abort it.
    struct InUse {
        Impl& impl;
        Connection* c;
        InUse(Impl& i, Connection* conn) : impl(i), c(conn) { impl.active.insert(c); }
        ~InUse() { impl.active.erase(c); }
        InUse(const InUse&) = delete;
        InUse& operator=(const InUse&) = delete;
    };

    ClientError fail(ClientErrc code, std::string message) const {
        if (closed)
            return ClientError{ClientErrc::cancelled, "the webhook client is shutting down"};
        return ClientError{code, std::move(message)};
    }

    void set_idle_gauge() { n_idle.store(idle_count, std::memory_order_relaxed); }

    ConnectionPtr take_idle(const std::string& origin) {
        auto it = idle.find(origin);
        if (it == idle.end()) return nullptr;
        auto& list = it->second;
        const auto now = SteadyClock::now();
        ConnectionPtr found;
        // Most recently used first: the likeliest to be alive.
        while (!list.empty() && !found) {
            ConnectionPtr c = std::move(list.back());
            list.pop_back();
            --idle_count;
            if (now - c->idle_since < options.idle_timeout && looks_alive(*c))
                found = std::move(c);
            else
                c->close();
        }
        if (list.empty()) idle.erase(it);
        set_idle_gauge();
        return found;
    }

    void release(ConnectionPtr c) {
        auto& list = idle[c->origin];
        if (closed || c->buffer.size() != 0 || list.size() >= options.max_idle_per_origin ||
            idle_count >= options.max_idle_total) {
            c->close();
            if (list.empty()) idle.erase(c->origin);
            return;
        }
        c->tcp().expires_never();
        c->idle_since = SteadyClock::now();
        list.push_back(std::move(c));
        ++idle_count;
        set_idle_gauge();
        arm_sweeper();
    }

    // Closes idle connections past their time (or closed by the server) even when no request comes
    // to find them.
    void arm_sweeper() {
        if (sweeper_armed || idle_count == 0 || closed) return;
        sweeper_armed = true;
        sweeper.expires_after(std::max(options.idle_timeout / 2, milliseconds(100)));
        sweeper.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self) return;
            self->sweeper_armed = false;
            if (ec) return;
            self->sweep();
            self->arm_sweeper();
        });
    }

    void sweep() {
        const auto now = SteadyClock::now();
        for (auto it = idle.begin(); it != idle.end();) {
            auto& list = it->second;
            std::erase_if(list, [&](ConnectionPtr& c) {
                if (now - c->idle_since < options.idle_timeout && looks_alive(*c)) return false;
                c->close();
                --idle_count;
                return true;
            });
            it = list.empty() ? idle.erase(it) : std::next(it);
        }
        set_idle_gauge();
    }

    void close_idle() {
        for (auto& [origin, list] : idle)
            for (auto& c : list) c->close();
        idle.clear();
        idle_count = 0;
        set_idle_gauge();
    }

    void shutdown() {
        closed = true;
        close_idle();
        sweeper.cancel();
        for (auto* c : active) c->close();
        for (auto* t : waiting) t->cancel();
    }

    // Resolution with a deadline. asio's resolver runs getaddrinfo on a helper thread and cannot
    // abandon it, so the coroutine waits on a timer instead: the resolver's completion cancels the
    // timer, or the deadline fires first and the late answer is dropped into state nobody reads any
    // more.
    asio::awaitable<ClientResult<std::vector<asio::ip::address>>> resolve(
        std::string host, std::uint16_t port, bool is_ip, SteadyClock::time_point deadline) {
        auto self = shared_from_this();  // `waiting` and `closed` are read after the await
        std::vector<asio::ip::address> addresses;
        if (is_ip) {
            boost::system::error_code ec;
            auto a = asio::ip::make_address(host, ec);
            if (ec)
                co_return fail(ClientErrc::invalid_request, "'" + host + "' is not an IP address");
            addresses.push_back(a);
        } else {
            struct State {
                explicit State(asio::io_context& io) : resolver(io), wake(io) {}
                tcp::resolver resolver;
                asio::steady_timer wake;
                bool done = false;
                boost::system::error_code ec;
                tcp::resolver::results_type results;
            };
            auto st = std::make_shared<State>(io);
            st->wake.expires_at(deadline);
            st->resolver.async_resolve(
                host, std::to_string(port), tcp::resolver::numeric_service,
                [st](const boost::system::error_code& ec, tcp::resolver::results_type r) {
                    st->ec = ec;
                    st->results = std::move(r);
                    st->done = true;
                    st->wake.cancel();
                });
            waiting.insert(&st->wake);
            co_await st->wake.async_wait(use_tuple);
            waiting.erase(&st->wake);
            if (closed) co_return fail(ClientErrc::cancelled, {});
            if (!st->done) {
                st->resolver.cancel();
                co_return fail(ClientErrc::timeout, "resolving " + host + " timed out");
            }
            if (st->ec)
                co_return fail(ClientErrc::dns, "cannot resolve " + host + ": " + st->ec.message());
            for (auto& e : st->results) {
                auto a = e.endpoint().address();
                if (std::find(addresses.begin(), addresses.end(), a) == addresses.end())
                    addresses.push_back(a);
            }
            if (addresses.empty())
                co_return fail(ClientErrc::dns, host + " resolved to no address");
        }
        if (options.ssrf_protection) {
            for (auto& a : addresses) {
                auto v = options.guard.check(a);
                if (!v.allowed) {
                    n_refused.fetch_add(1, std::memory_order_relaxed);
                    co_return fail(ClientErrc::ssrf_blocked,
                                   "refusing to connect to " + host + ": " + v.reason);
                }
            }
        }
        co_return addresses;
    }

    // TCP connect (bounded by connect_timeout within the deadline) and, for https, the TLS
    // handshake.
    asio::awaitable<std::optional<ClientError>> connect(Connection& conn, const ParsedUrl& url,
                                                        const std::vector<tcp::endpoint>& endpoints,
                                                        SteadyClock::time_point deadline) {
        const auto where = url.host_header();
        const auto connect_start = SteadyClock::now();
        const auto connect_deadline = std::min(deadline, connect_start + options.connect_timeout);
        conn.tcp().expires_at(connect_deadline);
        auto [ec, ep] = co_await conn.tcp().async_connect(endpoints, use_tuple);
        if (ec) {
            if (ec == beast::error::timeout)
                co_return fail(ClientErrc::timeout, "connecting to " + where + " timed out after " +
                                                        ms_text(connect_deadline - connect_start));
            if (ec == asio::error::connection_refused)
                co_return fail(ClientErrc::connect_refused, "connection to " + where + " refused");
            if (ec == asio::error::operation_aborted)
                co_return fail(ClientErrc::cancelled, "connect aborted");
            co_return fail(ClientErrc::connect_failed,
                           "cannot connect to " + where + ": " + ec.message());
        }
        n_opened.fetch_add(1, std::memory_order_relaxed);
        beast::error_code ignored;
        conn.tcp().socket().set_option(tcp::no_delay(true), ignored);
        if (!conn.secure) co_return std::nullopt;

        SSL* ssl_handle = conn.secure->native_handle();
        // SNI carries host names only (RFC 6066 forbids literal addresses).
        if (!url.host_is_ip && SSL_set_tlsext_host_name(ssl_handle, url.host.c_str()) != 1)
            co_return fail(ClientErrc::tls, "cannot set SNI for " + url.host);
        if (options.verify_tls) {
            const int set = url.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(
                                                 SSL_get0_param(ssl_handle), url.host.c_str())
                                           : SSL_set1_host(ssl_handle, url.host.c_str());
            if (set != 1)
                co_return fail(ClientErrc::tls,
                               "cannot set the expected certificate name " + url.host);
        }
        conn.tcp().expires_at(deadline);
        auto [hec] = co_await conn.secure->async_handshake(ssl::stream_base::client, use_tuple);
        if (hec) {
            if (hec == beast::error::timeout)
                co_return fail(ClientErrc::timeout, "TLS handshake with " + where + " timed out");
            if (hec == asio::error::operation_aborted)
                co_return fail(ClientErrc::cancelled, "handshake aborted");
            const long verify = SSL_get_verify_result(ssl_handle);
            if (options.verify_tls && verify != X509_V_OK)
                co_return fail(ClientErrc::tls, "certificate of " + where + " not accepted: " +
                                                    X509_verify_cert_error_string(verify));
            co_return fail(ClientErrc::tls,
                           "TLS handshake with " + where + " failed: " + hec.message());
        }
        co_return std::nullopt;
    }

    ClientResult<bhttp::request<bhttp::string_body>> build(HttpRequest& r) const {
        // The methods a webhook sender has use for; TRACE and CONNECT are refused (and Beast would
        // throw while preparing a TRACE with a body).
        const auto verb = bhttp::string_to_verb(r.method);
        switch (verb) {
            case bhttp::verb::post:
            case bhttp::verb::put:
            case bhttp::verb::patch:
            case bhttp::verb::get:
            case bhttp::verb::delete_:
            case bhttp::verb::options:
            case bhttp::verb::head:
                break;
            default:
                return fail(ClientErrc::invalid_request,
                            "method '" + r.method + "' is not supported");
        }
        if (r.url.host.empty() || r.url.target.empty() || r.url.target.front() != '/')
            return fail(ClientErrc::invalid_request,
                        "the request URL was not produced by parse_url");
        bhttp::request<bhttp::string_body> req{verb, r.url.target, 11};
        req.set(bhttp::field::host, r.url.host_header());
        bool has_agent = false;
        for (auto& [name, value] : r.headers) {
            if (name.empty() || !std::all_of(name.begin(), name.end(), is_http_token_char))
                return fail(ClientErrc::invalid_request, "invalid header name '" + name + "'");
            if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
                return fail(ClientErrc::invalid_request,
                            "header " + name + " contains CR, LF or NUL");
            if (managed_header(name))
                return fail(ClientErrc::invalid_request,
                            "header " + name + " is set by the HTTP client");
            if (beast::iequals(name, "user-agent")) has_agent = true;
            req.insert(name, value);
        }
        if (!has_agent && !options.user_agent.empty())
            req.set(bhttp::field::user_agent, options.user_agent);
        req.body() = std::move(r.body);
        req.keep_alive(true);
        req.prepare_payload();
        return req;
    }

    ClientError exchange_error(const Exchange& ex, const ParsedUrl& url,
                               SteadyClock::duration budget) const {
        const auto where = url.host_header();
        const auto& ec = ex.ec;
        if (ec == beast::error::timeout)
            return fail(ClientErrc::timeout,
                        (ex.writing ? "sending the request to " : "no response from ") + where +
                            " within " + ms_text(budget));
        if (ec == asio::error::operation_aborted)
            return fail(ClientErrc::cancelled, "request aborted");
        if (ec == bhttp::error::header_limit)
            return fail(ClientErrc::protocol, "the response head from " + where + " exceeds " +
                                                  std::to_string(options.max_header_bytes) +
                                                  " bytes");
        if (closed_by_peer(ec))
            return fail(
                ClientErrc::protocol,
                where + " closed the connection before a complete response (" + ec.message() + ")");
        if (ec.category() == asio::error::get_ssl_category())
            return fail(ClientErrc::tls, "TLS error with " + where + ": " + ec.message());
        if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
            return fail(ClientErrc::protocol,
                        "malformed response from " + where + ": " + ec.message());
        return fail(ClientErrc::protocol, "connection to " + where + " failed: " + ec.message());
    }

    asio::awaitable<ClientResult<HttpResponse>> send(HttpRequest request) {
        // Owned by this frame too, and destroyed after the connection guards below, whatever order
        // an io_context being torn down destroys suspended frames in.
        auto self = shared_from_this();
        const auto start = SteadyClock::now();
        if (closed) co_return fail(ClientErrc::cancelled, {});
        const ParsedUrl url = request.url;
        auto built = build(request);
        if (!built) co_return std::move(built).error();
        const auto& req = *built;
        const auto budget = request.timeout.value_or(options.request_timeout);
        const auto deadline = start + budget;
        n_requests.fetch_add(1, std::memory_order_relaxed);
        if (url.tls && tls() == nullptr) co_return fail(ClientErrc::tls, tls_error);

        const auto origin = url.origin();
        std::optional<std::vector<tcp::endpoint>> endpoints;
        for (int round = 0;; ++round) {
            // The second round exists only for a pooled connection that turned out to be closed: go
            // fresh.
            ConnectionPtr conn = round == 0 ? take_idle(origin) : nullptr;
            const bool reused = conn != nullptr;
            if (!conn) {
                if (!endpoints) {
                    auto addresses = co_await resolve(url.host, url.port, url.host_is_ip, deadline);
                    if (!addresses) co_return std::move(addresses).error();
                    endpoints.emplace();
                    for (auto& a : *addresses) endpoints->emplace_back(a, url.port);
                }
                conn = std::make_unique<Connection>();
                conn->origin = origin;
                if (url.tls)
                    conn->secure =
                        std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls());
                else
                    conn->plain = std::make_unique<beast::tcp_stream>(io);
            } else {
                n_reused.fetch_add(1, std::memory_order_relaxed);
            }
            InUse in_use(*this, conn.get());
            if (!reused) {
                if (auto err = co_await connect(*conn, url, *endpoints, deadline))
                    co_return std::move(*err);
            }
            Exchange ex;
            if (conn->secure)
                co_await exchange(*conn->secure, *conn, req, deadline, options, ex);
            else
                co_await exchange(*conn->plain, *conn, req, deadline, options, ex);

            if (ex.ec) {
                conn->close();
                if (reused && !ex.got_response && closed_by_peer(ex.ec) && !closed &&
                    SteadyClock::now() < deadline)
                    continue;
                co_return exchange_error(ex, url, budget);
            }
            HttpResponse response = std::move(ex.response);
            response.reused_connection = reused;
            response.duration =
                std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
            if (ex.keep_alive && response.complete && !closed)
                release(std::move(conn));
            else
                conn->close();
            co_return response;
        }
    }
};

// ---- Client -------------------------------------------------------------------------------------

Client::Client(asio::io_context& io, ClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

Client::~Client() { impl_->shutdown(); }

asio::awaitable<ClientResult<HttpResponse>> Client::send(HttpRequest request) {
    auto impl = impl_;  // the request keeps the state alive even if the Client goes away meanwhile
    co_return co_await impl->send(std::move(request));
}

asio::awaitable<ClientResult<HttpResponse>> Client::post(ParsedUrl url, Headers headers,
                                                         std::string body,
                                                         std::optional<milliseconds> timeout) {
    HttpRequest r;
    r.method = "POST";
    r.url = std::move(url);
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.timeout = timeout;
    auto impl = impl_;
    co_return co_await impl->send(std::move(r));
}

asio::awaitable<ClientResult<HttpResponse>> Client::post(std::string url, Headers headers,
                                                         std::string body,
                                                         std::optional<milliseconds> timeout) {
    auto parsed = parse_url(url);
    if (!parsed) co_return ClientError{ClientErrc::invalid_request, parsed.error().message};
    HttpRequest r;
    r.method = "POST";
    r.url = std::move(*parsed);
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.timeout = timeout;
    auto impl = impl_;
    co_return co_await impl->send(std::move(r));
}

asio::awaitable<ClientResult<std::vector<asio::ip::address>>> Client::resolve_and_check(
    std::string host, std::uint16_t port) {
    auto impl = impl_;
    boost::system::error_code ec;
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
        bare = bare.substr(1, bare.size() - 2);
    asio::ip::make_address(bare, ec);
    const bool is_ip = !ec;
    co_return co_await impl->resolve(is_ip ? bare : host, port, is_ip,
                                     SteadyClock::now() + impl->options.connect_timeout);
}

asio::awaitable<ClientResult<ParsedUrl>> Client::check_destination(std::string url) {
    auto parsed = parse_url(url);
    if (!parsed) co_return ClientError{ClientErrc::invalid_request, parsed.error().message};
    auto impl = impl_;
    auto addresses = co_await impl->resolve(parsed->host, parsed->port, parsed->host_is_ip,
                                            SteadyClock::now() + impl->options.connect_timeout);
    if (!addresses) co_return std::move(addresses).error();
    co_return std::move(*parsed);
}

void Client::close_idle() { impl_->close_idle(); }

void Client::shutdown() { impl_->shutdown(); }

ClientStats Client::stats() const noexcept {
    ClientStats s;
    s.requests = impl_->n_requests.load(std::memory_order_relaxed);
    s.connections_opened = impl_->n_opened.load(std::memory_order_relaxed);
    s.connections_reused = impl_->n_reused.load(std::memory_order_relaxed);
    s.ssrf_refused = impl_->n_refused.load(std::memory_order_relaxed);
    s.idle = impl_->n_idle.load(std::memory_order_relaxed);
    return s;
}

const ClientOptions& Client::options() const noexcept { return impl_->options; }

}  // namespace herald::webhook
