#include "webhook/client_transport.hpp"

namespace herald::webhook {

const char* to_string(TransportError e) noexcept {
    switch (e) {
        case TransportError::none: return "none";
        case TransportError::timeout: return "timeout";
        case TransportError::connect: return "connection failed";
        case TransportError::dns: return "DNS failure";
        case TransportError::tls: return "TLS failure";
        case TransportError::blocked: return "destination blocked";
        case TransportError::protocol: return "protocol error";
    }
    return "?";
}

namespace {
TransportError map(ClientErrc e) {
    switch (e) {
        case ClientErrc::dns: return TransportError::dns;
        case ClientErrc::ssrf_blocked: return TransportError::blocked;
        case ClientErrc::connect_refused:
        case ClientErrc::connect_failed: return TransportError::connect;
        case ClientErrc::timeout: return TransportError::timeout;
        case ClientErrc::tls: return TransportError::tls;
        case ClientErrc::invalid_request: return TransportError::blocked;  // a bad URL cannot get better by retrying
        case ClientErrc::protocol:
        case ClientErrc::cancelled: return TransportError::protocol;
    }
    return TransportError::protocol;
}
}  // namespace

boost::asio::awaitable<TransportResult> ClientTransport::send(OutgoingRequest request) {
    TransportResult out;
    auto url = parse_url(request.url);
    if (!url) {
        out.error = TransportError::blocked;
        out.message = url.error().message;
        co_return out;
    }
    HttpRequest req;
    req.method = std::move(request.method);
    req.url = std::move(*url);
    req.headers = std::move(request.headers);
    req.body = std::move(request.body);
    req.timeout = request.timeout;
    auto r = co_await client_.send(std::move(req));
    if (!r) {
        out.error = map(r.error().code);
        out.message = r.error().message;
        co_return out;
    }
    out.status = static_cast<int>(r->status);
    out.duration = r->duration;
    if (auto* ra = r->header("retry-after")) out.retry_after = *ra;
    out.headers = std::move(r->headers);
    co_return out;
}

boost::asio::awaitable<Result<void>> ClientTransport::check_destination(std::string url) {
    auto r = co_await client_.check_destination(std::move(url));
    if (!r) co_return make_error(Errc::invalid_argument, r.error().message, "url");
    co_return ok();
}

}  // namespace herald::webhook
