#pragma once
// Keeps the keys of JWT issuers configured with `jwks_url` fresh: fetches each key set in the background (as the
// Cache-Control of the answer says, 60 s to 24 h), keeps the last good set when a fetch fails, refetches early
// (at most every 10 s) when a token names a kid the set lacks, and publishes a new verifier to every worker.
//
// Threading: lives on one io_context (the webhook thread's); unknown_kid() may be called from any thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "security/jwks_cache.hpp"
#include "server/access.hpp"
#include "webhook/http_client.hpp"

namespace herald::server {

class JwksRefresher {
public:
    JwksRefresher(boost::asio::io_context& io, SecurityContext& context, const config::AuthSettings& auth);
    bool empty() const noexcept { return sources_.empty(); }
    // Call on the io_context's thread.
    void start();
    void stop();
    // A token named `kid` for `issuer` and the set lacked it. Any thread.
    void unknown_kid(std::string issuer, std::string kid);

private:
    struct Source {
        std::string issuer;
        security::JwksCache cache;
        security::KeySet static_keys;  // configured keys kept beside the fetched ones
    };
    boost::asio::awaitable<void> loop();
    boost::asio::awaitable<void> fetch(Source& source);
    void publish();

    boost::asio::io_context& io_;
    SecurityContext& ctx_;
    webhook::Client client_;
    std::vector<std::unique_ptr<Source>> sources_;
    boost::asio::steady_timer timer_;
    bool stopped_ = false;
};

}  // namespace herald::server
