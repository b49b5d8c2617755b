#pragma once
// One resource of the admin API that lives in its own file (topics: topic_admin.hpp, API keys:
// key_admin.hpp). The admin plane authenticates the request (admin token or `admin` scope) before
// offering it to a resource, and asks every resource for its part of the configuration dump (GET
// /config).
//
// Threading: handle() and dump() run on the admin listener's worker, one request at a time per
// connection; a resource that is also changed from elsewhere (a reload) guards its own state.

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "http/message.hpp"

namespace herald::server {

class AdminResource {
public:
    virtual ~AdminResource() = default;
    // The answer, or nullopt when the path is not this resource's.
    virtual boost::asio::awaitable<std::optional<http::Response>> handle(
        http::Request& request) = 0;
    // The route's name for access logs and spans (a literal: the request keeps a view of it); empty
    // when the path is not this resource's.
    virtual std::string_view route(std::string_view path) const = 0;
    // Adds this resource's effective state to the GET /config answer. Never secrets.
    virtual void dump(boost::json::object& config) const = 0;
};

}  // namespace herald::server
