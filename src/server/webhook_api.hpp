#pragma once
// The webhook subscriptions API on the data plane (docs/webhooks.md): /v1/subscriptions and below. Each call hops
// to the webhook thread, where the Service lives, and comes back with the response.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "webhook/service.hpp"

namespace herald::server {

// Whether the caller may subscribe to a topic (and so create, see and manage its webhook subscriptions).
using TopicPermission = std::function<bool(const std::string& topic)>;

// `segments` is the split path; segments[0..1] are "v1","subscriptions". Subscriptions on topics the caller may
// not subscribe to are invisible to it (404, left out of lists); creating one is a 403.
boost::asio::awaitable<http::Response> handle_subscriptions(webhook::Service& service,
                                                            boost::asio::io_context& webhook_io,
                                                            http::Request& request,
                                                            const std::vector<std::string_view>& segments,
                                                            TopicPermission may_subscribe);

}  // namespace herald::server
