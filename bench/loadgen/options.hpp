// Command-line options of herald-loadgen, validated before any socket is opened.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace herald::bench {

struct Options {
    std::string host;  // a loopback IP literal; never resolved through DNS
    std::uint16_t port = 0;
    std::string host_header;  // HOST:PORT as given, for the Host header
    std::string topic = "bench";
    std::string type = "bench.tick.v1";
    std::string label;  // copied into the JSON report, for scripts

    std::size_t subscribers = 0;
    double rate = 0;             // events/s, paced; 0 when --max or --idle
    bool max = false;            // publish as fast as the server answers
    bool idle = false;           // hold the subscribers, then time one event to all of them
    std::size_t publishers = 0;  // keep-alive publishing connections
    std::size_t batch = 1;       // events per request (batch content type when > 1)
    std::size_t size = 256;      // bytes of each event's data member (padded)

    // Subscribers: SSE streams, or WebSocket connections to /v1/ws (subprotocol herald.v1), each
    // with one `subscribe`.
    enum class Transport { sse, ws } transport = Transport::sse;
    // Publish over one WebSocket connection (/v1/ws `publish` ops) instead of HTTP requests, with
    // up to ws_inflight ops in flight.
    bool ws_publish = false;
    std::size_t ws_inflight = 32;
    // Webhooks: run a receiver on 127.0.0.1 and create `webhooks` subscriptions to it.
    bool webhook_receiver = false;
    std::size_t webhooks = 1;
    std::string webhook_mode = "concurrent";  // or "ordered"
    std::size_t webhook_max_in_flight = 32;   // concurrent mode only
    std::size_t receiver_connections = 1024;
    std::size_t receiver_ports = 1;
    // --data-fields FILE: the members of the JSON object in FILE (without its braces), added to every
    // event's data after seq and t.
    std::string data_fields;  // hook i at port i % receiver_ports: that many webhook origins
    // Pause the subscriptions while publishing and resume them once it ended: the delivery rate
    // of a backlog, with the server doing nothing else.
    bool webhook_backlog = false;
    // Extra request headers ("Name: value") on every publish, subscribe and subscription request.
    std::vector<std::string> headers;

    double duration = 0;  // seconds of publishing (default 5; --baseline: 1)
    double drain = 5;     // seconds to wait for deliveries after publishing ends
    double settle = 1;    // seconds between the last subscriber connect and RSS sample/publishing
    double connect_timeout = 60;
    std::size_t connect_concurrency = 200;
    std::size_t max_connections = 19'000;  // below the 20000-fd hard limit, with room to spare
    std::uint64_t max_events = 0;          // cap on published events; 0 = derived from the mode

    pid_t server_pid = 0;
    bool json = false;
    bool self_test = false;
    bool baseline = false;  // measure the machine instead of Herald (see baseline.hpp)
    int baseline_core = 0;  // where the echo side of --baseline runs: the server's core
};

// Parses argv into `out`; on failure returns false after printing the reason (and usage) to
// stderr. `exit_ok` is set when the options asked for help only.
bool parse_options(int argc, char** argv, Options& out, bool& exit_ok);

}  // namespace herald::bench
