#pragma once
// The REST gateway on the data-plane listener (docs/gateway.md): requests outside Herald's own API are matched
// against the configured routes and, once the route's policy allows them, relayed to its upstream by the
// streaming forwarder. One policy model with the event endpoints: the same Access (authentication, scopes, the
// per-principal request limit) plus the route's own scopes, rate limit and body limit.
//
// One ProxyPlane per worker, installed as the listener's Interceptor.

#include <boost/asio/awaitable.hpp>

#include "base/clock.hpp"
#include "gateway/forwarder.hpp"
#include "gateway/gateway.hpp"
#include "http/listener.hpp"
#include "log/logger.hpp"
#include "server/access.hpp"

namespace herald::server {

class ProxyPlane final : public http::Interceptor {
public:
    ProxyPlane(gateway::Gateway& gateway, SecurityContext& security, log::Logger* logger);

    // Not Herald's own API and at least one route configured.
    bool claims(std::string_view target) const noexcept override;
    boost::asio::awaitable<void> handle(http::RawExchange& exchange) override;

private:
    gateway::Gateway& gateway_;
    Access access_;
    log::Logger* logger_;
    gateway::Forwarder forwarder_;
};

}  // namespace herald::server
