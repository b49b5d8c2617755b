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

    // Any server (bench/compare.sh drives nginx+nchan and Pushpin with the same generator): where
    // to publish and where to subscribe, given as URLs with {topic}; without them, Herald's paths
    // under
    // --url. Publishing to a URL counts any 2xx answer as acknowledged (Herald: 201; nchan: 201 or
    // 202; Pushpin's control API: 200).
    struct Target {
        bool set = false;
        std::string host;  // a loopback IP literal
        std::uint16_t port = 0;
        std::string host_header;  // HOST:PORT as given
        std::string path;         // path and query, {topic} already substituted
    };
    Target publish_target;    // --publish-url
    Target subscribe_target;  // --subscribe-url (SSE) or --ws-subscribe-url (plain WebSocket)
    bool ws_plain = false;    // --ws-subscribe-url: each message is the published body, no protocol
    // What a publish request carries: `herald` (the default) is the data object as application/json
    // with ?type= (Herald wraps it), or a CloudEvents batch with --batch; `raw` the data object
    // itself; `cloudevent` a structured CloudEvent; `template` the --publish-template text with
    // {data} replaced by the data object and {data_json} by the data object as the contents of a
    // JSON string (quotes escaped), e.g. Pushpin's publish command.
    enum class PublishBody {
        herald,
        raw,
        cloudevent,
        templated
    } publish_body = PublishBody::herald;
    std::string publish_template;
    std::string publish_content_type;  // default: by publish_body

    // Reconnect storm (--reconnect-storm N): at --storm-at S into the window every SSE subscriber
    // closes its connection; once N more events were acknowledged they all reconnect (connect
    // concurrency as at the start) with Last-Event-ID = the id of the last event each processed.
    std::uint64_t storm_behind = 0;
    double storm_at = 0;  // 0: a third of --duration

    // Polling instead of streaming (Herald's JSON pages, GET /v1/topics/{t}/events?from=<cursor>):
    // --poll long (each client asks again at once, with &wait=--poll-wait) or --poll interval
    // (each client asks every --poll-every seconds, without wait). --subscribers N clients.
    enum class Poll { none, long_poll, interval } poll = Poll::none;
    double poll_wait = 30;
    double poll_every = 1;
    std::size_t poll_limit = 1000;

    pid_t server_pid = 0;  // the first of --server-pid: its affinity names the server's cores
    std::vector<std::uint16_t> subscribe_ports;  // --subscribe-ports: spread subscribers over these ports of the subscribe host
    std::vector<pid_t> server_pids;  // every process of the server (CPU and RSS are summed)
    bool json = false;
    bool self_test = false;
    bool baseline = false;  // measure the machine instead of Herald (see baseline.hpp)
    int baseline_core = 0;  // where the echo side of --baseline runs: the server's core
};

// Parses argv into `out`; on failure returns false after printing the reason (and usage) to
// stderr. `exit_ok` is set when the options asked for help only.
bool parse_options(int argc, char** argv, Options& out, bool& exit_ok);

}  // namespace herald::bench
