#pragma once
// The production Transport: deliveries go out on the pooled, TLS-verifying, SSRF-guarded http_client.

#include "webhook/http_client.hpp"
#include "webhook/transport.hpp"

namespace herald::webhook {

class ClientTransport final : public Transport {
public:
    ClientTransport(boost::asio::io_context& io, ClientOptions options) : client_(io, std::move(options)) {}
    boost::asio::awaitable<TransportResult> send(OutgoingRequest request) override;
    boost::asio::awaitable<Result<void>> check_destination(std::string url) override;
    Client& client() noexcept { return client_; }

private:
    Client client_;
};

}  // namespace herald::webhook
