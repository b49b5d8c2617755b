#pragma once
// The webhook subscriptions API on the data plane (docs/webhooks.md): /v1/subscriptions and below. Each call hops
// to the webhook thread, where the Service lives, and comes back with the response.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "webhook/service.hpp"

namespace herald::server {

// `segments` is the split path; segments[0..1] are "v1","subscriptions".
boost::asio::awaitable<http::Response> handle_subscriptions(webhook::Service& service,
                                                            boost::asio::io_context& webhook_io,
                                                            http::Request& request,
                                                            const std::vector<std::string_view>& segments);

}  // namespace herald::server
