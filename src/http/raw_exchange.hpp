#pragma once
// A request whose body the listener has NOT read, handed to an Interceptor (listener.hpp) that answers it itself
// on the connection's stream: the REST gateway streams request and response bodies through without buffering
// them, and tunnels WebSocket upgrades. Includes Beast: only the listener and the gateway's forwarding code
// include this header.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>

#include "http/byte_stream.hpp"
#include "http/message.hpp"

namespace herald::http {

struct ListenerOptions;

// A Response Herald makes itself, as a Beast message ready to write: Server header, keep-alive, Content-Length.
inline boost::beast::http::response<boost::beast::http::string_body> to_beast(Response&& r, unsigned version,
                                                                             bool keep_alive,
                                                                             const std::string& server) {
    boost::beast::http::response<boost::beast::http::string_body> res{
        static_cast<boost::beast::http::status>(r.status), version};
    res.set(boost::beast::http::field::server, server);
    for (auto& [k, v] : r.headers) res.insert(k, v);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

struct RawExchange {
    ConnectionStream& stream;  // the client connection, plain or TLS; its deadline is the interceptor's to set
    boost::beast::flat_buffer& buffer;  // bytes read past the request head (the start of the body, or more)
    // The parser that read the head; the body has not been read (is_done() when there is none). It may be
    // moved into a parser of another body type (Beast allows that before the body is read).
    boost::beast::http::request_parser<boost::beast::http::string_body>& parser;
    Request& head;  // the head as a Request (empty body), with the observer's trace fields
    const ListenerOptions& options;

    // Filled by the interceptor, for the access log.
    unsigned status = 0;
    std::uint64_t bytes_in = 0;   // body bytes read from the client (the head is counted by the listener)
    std::uint64_t bytes_out = 0;  // response bytes written to the client
    bool keep_alive = false;      // the connection may serve another request
};

}  // namespace herald::http
