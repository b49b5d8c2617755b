// herald-loadgen — load generator for Herald's publish API and its three delivery transports.
//
// What it measures (all on one machine, loopback only):
//   * publishing: events acknowledged per second, paced (--rate) or closed-loop as fast as the
//     server answers (--max), one event or K events (--batch) per request; over C keep-alive HTTP
//     connections (201 answers), or over ONE WebSocket connection to /v1/ws with up to N `publish`
//     ops in flight (--ws-publish; `published` answers); the acknowledgement round trip as a
//     latency distribution.
//   * fan-out: N subscribers on the topic, SSE streams or WebSocket connections to /v1/ws
//     (--transport ws: subprotocol herald.v1, one `subscribe` each); every event carries
//     {"seq":N,"t":<CLOCK_MONOTONIC ns at send>}, so each delivery's latency is now - t (same
//     clock, same machine); per subscriber a bitmap of received seqs gives lost (acknowledged but
//     never received once publishing stopped and the drain time passed) and duplicated events.
//   * webhooks (--webhook-receiver): K webhook subscriptions created through the API, pointing at
//     an HTTP receiver inside the generator (its own thread, so its CPU is reported apart): the
//     same latency, loss and duplicate figures per subscription, and deliveries per second.
//   * idle: N held SSE connections: the server's RSS before and after, per connection, then the
//     time for one event to reach all of them.
//   * the server's CPU seconds and RSS from /proc/<pid> (--server-pid), and this process's own CPU
//     time, with a warning when the generator was the bottleneck (>= 90% of a core).
//   --header adds request headers (a bearer token) to every publish and subscribe request.
//   * other servers (bench/compare.sh: nginx+nchan, Pushpin): --publish-url / --subscribe-url /
//     --ws-subscribe-url templates, a raw, CloudEvent or templated publish body, any 2xx as the
//     acknowledgement, chunked SSE and CRLF line ends, plain WebSocket streams; the receive side
//     finds "seq" and "t" wherever a server's envelope puts them.
//   * a reconnect storm (--reconnect-storm N): every SSE stream drops and resumes with
//     Last-Event-ID N events later; the time until all are live again, loss and duplicates.
//   * polling (--poll long|interval): Herald's JSON pages, long-polled or fetched every second,
//     with requests and bytes per delivered event, to compare with streams.
//
// How: one thread, one io_context, plain Asio sockets with per-connection handler memory (no heap
// allocation per message; the report counts any); SSE frames and WebSocket frames are split in
// place in each connection's fixed buffer and the two fields are found by scanning, not by a JSON
// parser. The webhook receiver is the one exception to "one thread" (see webhook_receiver.hpp).
//
// Limits: HTTP/1.1 and ws:// without TLS, LF-delimited SSE only (what Herald writes), unfragmented
// WebSocket messages only (what Herald sends); latency is measured from the moment the publish
// request is handed to the kernel, so time a request waits for a busy publisher connection (paced
// mode falling behind) is reported as schedule lag, not as latency;
// subscribers are not reconnected (a dropped stream is reported, and its missing events count as
// lost) except by --reconnect-storm, nor is the WebSocket publisher; latency includes the
// generator's own time to reach a socket (one thread reads them one after the other, and on
// loopback the client's kernel work per delivery is about the server's); the 20000-fd limit caps
// one process at about 19000 connections. Every run ends by a hard deadline (connect timeout +
// settle + duration + drain + 30 s); webhook setup and cleanup are bounded by their own timeouts
// (60 s and 10 s).

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen/alloc_counter.hpp"
#include "loadgen/baseline.hpp"
#include "loadgen/handler_memory.hpp"
#include "loadgen/histogram.hpp"
#include "loadgen/http_blocking.hpp"
#include "loadgen/options.hpp"
#include "loadgen/proc_stats.hpp"
#include "loadgen/scan.hpp"
#include "loadgen/tally.hpp"
#include "loadgen/webhook_receiver.hpp"
#include "loadgen/ws_frame.hpp"

namespace herald::bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::int64_t kRequestTimeoutNs = 10 * kNsPerSec;

// steady_clock is CLOCK_MONOTONIC on Linux, so deadlines computed with mono_ns() convert directly.
asio::steady_timer::time_point at_ns(std::int64_t ns) {
    return asio::steady_timer::time_point(std::chrono::nanoseconds(ns));
}

std::size_t digits(std::uint64_t v) {
    std::size_t d = 1;
    while (v >= 10) {
        v /= 10;
        ++d;
    }
    return d;
}

void append_uint(std::string& out, std::uint64_t v) {
    char tmp[24];
    auto [p, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    out.append(tmp, p);
}

class Run;

// ---------------------------------------------------------------------------------------------
// One subscriber connection. SSE: connect, send the GET, check the 200 head, then split frames in
// place (a chunked response is decoded in place first). WebSocket (--transport ws): connect, send
// the upgrade to /v1/ws (herald.v1), check the 101 head, send one masked `subscribe`, wait for
// `subscribed`, then split frames in place and scan each `event` message; pings are answered with
// pongs. Plain WebSocket (--ws-subscribe-url): the upgrade, the 101, then every text message is
// scanned for seq and t. What arrived is counted in the Tally. With --reconnect-storm an SSE
// subscriber remembers the id of the last event it processed, and can be dropped and reconnected
// with it as Last-Event-ID.
class Subscriber : public Tally {
public:
    enum class State { pending, connecting, head, subscribing, streaming, failed, closed, dropped };

    Subscriber(Run& run, std::uint64_t* bits, std::size_t buffer_bytes, std::uint64_t seed);
    void start();
    void abort(const char* why);  // close without waiting (deadline, connect timeout)
    void drop();                  // --reconnect-storm: close the stream on purpose
    void reconnect();             // --reconnect-storm: open it again with Last-Event-ID

    State state = State::pending;
    int http_status = 0;  // of the response head; for WebSocket, an `error` answer's status
    const char* failure = nullptr;
    std::uint64_t heartbeats = 0;
    std::uint64_t controls = 0;   // herald.reset / herald.shutdown; herald.v1 reset / unsubscribed
    std::uint64_t ws_errors = 0;  // herald.v1 `error` messages after subscribing
    std::uint64_t ws_pings = 0;
    std::uint64_t bytes_in = 0;  // everything read, heads included, once the window opened
    bool resuming = false;       // reconnected by the storm (its connect reports go to the storm)
    bool live_again = false;     // resumed and has every event acknowledged before it reconnected
    bool had_id = false;         // had an event id to resume from when it was dropped

private:
    void connect();
    void read();
    void on_read(const error_code& ec, std::size_t n, std::uint32_t gen);
    void on_frame(std::string_view frame, std::int64_t now);
    bool on_ws_frame(const WsFrame& f, std::int64_t now);
    void on_event(std::int64_t seq, std::int64_t t, std::int64_t now);
    void send_ws(WsOpcode opcode, std::string_view payload);
    void flush();
    void fail(const char* why);

    Run& run_;
    const bool ws_;        // herald.v1
    const bool plain_ws_;  // --ws-subscribe-url
    tcp::socket socket_;
    tcp::endpoint endpoint_;  // the server this subscriber connects (and reconnects) to
    HandlerSlot<> connect_slot_, read_slot_;
    HandlerSlot<384> write_slot_;  // composed async_write of the request
    std::unique_ptr<char[]> buf_;
    std::size_t cap_;
    std::size_t fill_ = 0;  // decoded bytes at the front of buf_
    std::size_t raw_ = 0;   // chunked responses: undecoded bytes right after them
    bool chunked_ = false;
    ChunkedDecoder dechunk_;
    std::uint32_t gen_ =
        0;  // bumped when the storm closes the socket: stale completions are ignored
    // --reconnect-storm: the `id:` of the last event processed (Herald: its cursor).
    std::array<char, 160> last_id_{};
    std::size_t last_id_len_ = 0;
    // WebSocket: the upgrade request (its own key), and the frames this side sends (one
    // `subscribe`, pongs), masked, through a small fixed buffer: queued while a write is in flight.
    std::string request_;
    Rng rng_;
    bool writing_ = false;
    std::array<char, 1024> out_{};
    std::size_t out_len_ = 0;
    std::array<char, 1024> wbuf_{};
};

// ---------------------------------------------------------------------------------------------
// One keep-alive publishing connection: claims the next request from the Run's schedule, sends
// it, waits for the answer, repeats. One request in flight per connection (closed loop).
class Publisher {
public:
    enum class State { idle, connecting, waiting, in_flight, done };

    Publisher(Run& run, std::size_t index);
    void connect();
    void go();  // start claiming requests (after every publisher connected)
    void watchdog(std::int64_t now);

    State state = State::idle;
    bool connected_once = false;
    std::uint64_t reconnects = 0;

private:
    void next();
    void send();
    void read_answer();
    void on_answer(const ResponseHead& head, std::string_view body);
    void on_failure();
    void finish();

    Run& run_;
    std::size_t index_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    HandlerSlot<> connect_slot_, read_slot_, timer_slot_;
    HandlerSlot<1536> write_slot_;  // composed async_write over two buffers
    std::string head_;
    std::string body_;
    std::string scratch_;  // --publish-template {data_json}: the data object before escaping
    std::unique_ptr<char[]> rbuf_;
    std::size_t rcap_;
    std::size_t rfill_ = 0;
    std::uint64_t request_ = 0;
    std::int64_t due_ns_ = 0;
    std::int64_t sent_ns_ = 0;
    int connect_failures_ = 0;
};

// ---------------------------------------------------------------------------------------------
// One WebSocket connection to /v1/ws publishing with `publish` ops (--ws-publish): keeps up to
// --ws-inflight ops in flight, each with its own ref (the index of a slot that remembers the
// request and its send time), claims requests from the Run's schedule like the HTTP publishers,
// and counts `published` answers (and `error` answers with their status). Frames are built in
// place into one of two reserved buffers (one being written, one filling), so the steady state
// allocates nothing. It does not reconnect: a dropped connection ends publishing and its ops in
// flight count as failed.
class WsPublisher {
public:
    enum class State { idle, connecting, handshake, ready, running, done };

    explicit WsPublisher(Run& run);
    void connect();
    void go();  // start publishing (the window opened)
    void watchdog(std::int64_t now);

    State state = State::idle;
    bool connected_once = false;
    const char* failure = nullptr;
    std::uint64_t errors_without_ref = 0;
    std::size_t inflight_max = 0;
    std::uint64_t writes = 0;  // write calls: ops per write says how well the ops were pipelined
    std::uint64_t ops_sent = 0;

private:
    struct Slot {
        bool busy = false;
        std::uint64_t request = 0;
        std::int64_t sent_ns = 0;
    };
    void pump();
    void send_now(std::uint64_t request, std::int64_t now, std::int64_t due);
    void flush();
    void read();
    void on_read(const error_code& ec, std::size_t n);
    bool on_frame(const WsFrame& f, std::int64_t now);
    void fail(const char* why);
    void finish();

    Run& run_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    HandlerSlot<> connect_slot_, read_slot_, timer_slot_;
    HandlerSlot<384> write_slot_;
    std::string request_;        // the upgrade request
    std::string msg_;            // one publish message, unmasked, rebuilt in place
    std::string pending_, out_;  // masked frames waiting for / in the write in flight
    std::unique_ptr<char[]> rbuf_;
    std::size_t rcap_;
    std::size_t rfill_ = 0;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::size_t inflight_ = 0;
    bool writing_ = false;
    bool stopping_ = false;  // the schedule is over: finish when nothing is in flight
    bool waiting_ = false;   // a claimed request waits on the timer for its due time
    std::uint64_t waiting_request_ = 0;
    std::int64_t waiting_due_ = 0;
    Rng rng_;
};

// ---------------------------------------------------------------------------------------------
// One polling client (--poll): a keep-alive connection asking Herald for JSON pages,
// GET /v1/topics/{topic}/events?from=<cursor>&limit=N[&wait=W]. The first request asks from=latest
// without waiting (its answer's `next` is where the client starts, and makes it ready); then
// `long` asks again as soon as an answer arrives, with &wait=W, and `interval` asks every
// --poll-every seconds (client i first at (i + 0.5) / N of the period, so the clients are spread).
// Every `"seq"` in a page is one delivery. Requests and bytes are counted once the window opened.
class Poller : public Tally {
public:
    enum class State { pending, connecting, in_flight, waiting, failed };

    Poller(Run& run, std::uint64_t* bits, std::size_t index, std::size_t buffer_bytes);
    void start();
    void abort(const char* why);

    State state = State::pending;
    int http_status = 0;
    const char* failure = nullptr;
    std::uint64_t requests = 0;  // sent once the window opened
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t empty_pages = 0;

private:
    void send();
    void read();
    void on_read(const error_code& ec, std::size_t n);
    void on_page(std::string_view body, std::int64_t now);
    void fail(const char* why);

    Run& run_;
    std::size_t index_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    HandlerSlot<> connect_slot_, read_slot_, timer_slot_;
    HandlerSlot<384> write_slot_;
    std::string req_;
    std::unique_ptr<char[]> buf_;
    std::size_t cap_;
    std::size_t fill_ = 0;
    std::array<char, 160> cursor_{};
    std::size_t cursor_len_ = 0;
    bool first_ = true;
    std::int64_t next_due_ = 0;
};

// ---------------------------------------------------------------------------------------------
class Run {
public:
    explicit Run(const Options& o);
    int execute();

    // For the connections.
    asio::io_context& io() { return io_; }
    const tcp::endpoint& endpoint() const { return endpoint_; }  // --url (Herald's own API)
    const tcp::endpoint& pub_endpoint() const { return pub_endpoint_; }
    const tcp::endpoint& sub_endpoint() const { return sub_endpoint_; }
    // --subscribe-ports: subscribers are spread over several servers (nodes of one cluster) in turn.
    tcp::endpoint next_sub_endpoint() {
        if (o_.subscribe_ports.empty()) return sub_endpoint_;
        auto e = sub_endpoint_;
        e.port(o_.subscribe_ports[next_sub_port_++ % o_.subscribe_ports.size()]);
        return e;
    }
    const std::string& publish_path() const { return publish_path_; }
    const std::string& publish_host() const { return publish_host_; }
    const std::string& publish_content_type() const { return publish_ct_; }
    // Appends one publish body per --publish-body; `scratch` is the caller's reserved string.
    void append_publish_body(std::string& out, std::string& scratch, std::uint64_t seq,
                             std::int64_t now) const;
    std::size_t publish_template_bytes() const { return publish_template_bytes_; }
    bool counting() const { return window_open_ && !ending_; }
    // --reconnect-storm: every event acknowledged before the reconnect started is in [0, target).
    std::uint64_t storm_target() const { return storm_target_; }
    void on_storm_live(std::int64_t now);
    const Options& opts() const { return o_; }
    const std::string& subscribe_request() const { return subscribe_request_; }
    // Where the 24-character Sec-WebSocket-Key goes in subscribe_request() (WebSocket only).
    std::size_t ws_key_offset() const { return ws_key_offset_; }
    const std::string& ws_publish_request() const { return ws_publish_request_; }
    const std::string& ws_subscribe_message() const { return ws_subscribe_message_; }
    const std::string& extra_headers() const { return extra_headers_; }
    // Appends the CloudEvent (structured JSON) for one generator event: id <run id>-<seq>.
    void append_cloudevent(std::string& out, std::uint64_t seq, std::int64_t now) const;
    // Appends the generator's data member {"seq":N,"t":T,"pad":"xx…"}, padded to about --size.
    void append_data(std::string& out, std::uint64_t seq, std::int64_t now) const;
    const std::string& pad() const { return pad_; }
    std::uint64_t capacity() const { return capacity_; }
    void on_latency(std::uint64_t seq, std::int64_t sent_ns, std::int64_t ns) {
        latency_.record(ns);
        // The slowest delivery of each event, to say *when* slow deliveries happened.
        if (seq < worst_.size() && ns > worst_[seq].ns) worst_[seq] = {sent_ns, ns};
    }
    const std::string& run_id() const { return run_id_; }

    void on_sub_connected(Subscriber& s);
    void on_sub_failed(Subscriber& s);
    void on_sub_closed(Subscriber& s);
    void on_poller_ready(Poller& p);
    void on_poller_failed(Poller& p);
    std::size_t receivers() const { return subs_.size() + pollers_.size(); }
    void on_delivery() { ++deliveries_; }

    void on_publisher_connected();
    void on_publisher_gave_up();
    std::optional<std::uint64_t> claim_request(std::int64_t now);
    std::int64_t due_ns(std::uint64_t request) const;
    void on_sent(std::int64_t lag_ns) { max_lag_ns_ = std::max(max_lag_ns_, lag_ns); }
    void on_answer(std::uint64_t request, int status, std::int64_t rtt_ns);
    void on_publish_failed(std::uint64_t request);
    void on_publisher_done();
    bool ending() const { return ending_; }

private:
    void connect_more();
    void all_connected();
    void start_publishers();
    void begin_window();
    void sample_tick();
    void drain_tick();
    void finish(const char* why);
    void receiver_settled(bool ok);
    void storm_drop();
    void storm_reconnect();
    void storm_more();
    ProcSample sample_server() const;
    int report();
    bool create_webhooks();
    void delete_webhooks();
    std::size_t webhooks_action(const char* action);  // pause / resume: how many succeeded

    Options o_;
    asio::io_context io_{1};  // one thread: Asio's scheduler takes its single-thread path
    tcp::endpoint endpoint_;
    tcp::endpoint pub_endpoint_;
    tcp::endpoint sub_endpoint_;
    std::size_t next_sub_port_ = 0;
    std::string publish_path_;  // path and query of every publish request
    std::string publish_host_;  // its Host header
    std::string publish_ct_;    // its Content-Type
    // --publish-template split at its {data} and {data_json} fields: literal text, then the field that follows it.
    enum class Piece { none, data, data_json };
    std::vector<std::pair<std::string, Piece>> publish_pieces_;
    std::size_t publish_template_bytes_ = 0;
    std::string extra_headers_;  // "Name: value\r\n" for each --header
    std::string subscribe_request_;
    std::size_t ws_key_offset_ = 0;
    std::string ws_publish_request_;
    std::string ws_subscribe_message_;
    std::string pad_;
    std::string run_id_;
    std::uint64_t capacity_ = 0;  // seqs 0..capacity-1 can be published
    std::size_t words_ = 0;       // bitmap words per subscriber

    std::vector<std::uint64_t> sub_bits_;
    std::vector<std::unique_ptr<Subscriber>> subs_;
    std::vector<std::unique_ptr<Poller>> pollers_;
    std::vector<std::unique_ptr<Publisher>> pubs_;
    std::unique_ptr<WsPublisher> ws_pub_;
    std::vector<std::uint64_t> acked_;  // bitmap of acknowledged seqs
    std::vector<WorstDelivery> worst_;  // per seq, when the run has at most kWorstTracked events

    // Webhooks (--webhook-receiver).
    std::unique_ptr<WebhookReceiver> receiver_;
    std::vector<std::string> hook_ids_;  // per hook, the subscription id (empty: not created)
    std::size_t hooks_ready_ = 0;
    std::string hook_error_;  // the first creation failure
    std::size_t hooks_deleted_ = 0;
    double receiver_cpu_t0_ = 0;
    double receiver_cpu_end_ = 0;
    std::uint64_t receiver_deliveries_at_pub_end_ = 0;
    std::int64_t t_resumed_ = 0;  // --webhook-backlog: when the subscriptions were resumed
    std::size_t hooks_paused_ = 0;
    std::size_t hooks_resumed_ = 0;
    bool receiver_check_requested_ = false;

    asio::steady_timer deadline_timer_{io_};
    asio::steady_timer connect_timer_{io_};
    asio::steady_timer phase_timer_{io_};
    asio::steady_timer sample_timer_{io_};
    asio::steady_timer drain_timer_{io_};
    HandlerSlot<> deadline_slot_, connect_slot_, phase_slot_, sample_slot_, drain_slot_;
    asio::signal_set signals_{io_, SIGINT, SIGTERM};

    // Subscriber connection phase.
    std::size_t next_sub_ = 0;
    std::size_t connecting_ = 0;
    std::size_t subs_settled_ = 0;  // connected or failed
    std::size_t subs_ready_ = 0;
    std::size_t subs_failed_ = 0;
    std::size_t subs_dropped_ = 0;  // streams that ended during the run
    bool connect_phase_over_ = false;
    bool connect_timed_out_ = false;
    std::int64_t t_connect_start_ = 0;
    std::int64_t t_connected_ = 0;

    // Publishing.
    std::size_t pubs_connected_ = 0;
    std::size_t pubs_settled_ = 0;
    std::size_t pubs_done_ = 0;
    bool window_open_ = false;
    std::uint64_t next_request_ = 0;
    bool capacity_hit_ = false;
    std::int64_t t0_ = 0;      // start of the measured window
    std::int64_t t_stop_ = 0;  // no request is started at or after this
    std::int64_t t_pub_end_ = 0;
    std::int64_t t_finish_ = 0;
    std::uint64_t requests_ok_ = 0;
    std::uint64_t requests_failed_ = 0;
    std::uint64_t events_ok_ = 0;
    std::uint64_t events_failed_ = 0;
    std::uint64_t events_dup_answer_ = 0;  // 200: the server took it for a duplicate
    int last_bad_status_ = 0;
    std::int64_t max_lag_ns_ = 0;
    Histogram ack_rtt_;
    Histogram latency_;
    std::uint64_t deliveries_ = 0;

    // Measurements.
    ProcSample server_before_{};
    ProcSample server_connected_{};
    ProcSample server_t0_{};
    ProcSample server_end_{};
    std::uint64_t server_rss_peak_ = 0;
    SelfCpu self_cpu_t0_{};
    SelfCpu self_cpu_end_{};
    cpu_set_t server_cores_{};  // where the server may run (its affinity)
    cpu_set_t own_cores_{};
    CoreTimes server_cores_t0_{}, server_cores_end_{}, own_cores_t0_{}, own_cores_end_{};
    std::uint64_t allocs_t0_ = 0;
    std::uint64_t allocs_end_ = 0;
    std::uint64_t fallbacks_t0_ = 0;
    std::uint64_t fallbacks_end_ = 0;

    // --reconnect-storm.
    enum class Storm { off, armed, down, reconnecting, done } storm_ = Storm::off;
    asio::steady_timer storm_timer_{io_};
    HandlerSlot<> storm_slot_;
    std::int64_t t_storm_drop_ = 0;
    std::int64_t t_storm_reconnect_ = 0;
    std::int64_t t_storm_all_live_ = 0;
    std::uint64_t storm_acked_at_drop_ = 0;
    std::uint64_t storm_acked_at_reconnect_ = 0;
    std::uint64_t storm_target_ = 0;
    std::size_t storm_dropped_ = 0;
    std::size_t storm_without_id_ = 0;
    std::size_t storm_next_ = 0;
    std::size_t storm_connecting_ = 0;
    std::size_t storm_reconnected_ = 0;
    std::size_t storm_failed_ = 0;
    std::size_t storm_live_ = 0;

    bool ending_ = false;
    const char* end_reason_ = "";
    bool deadline_hit_ = false;
    bool interrupted_ = false;
};

// ---------------------------------------------------------------------------------------------
Subscriber::Subscriber(Run& run, std::uint64_t* bits_slice, std::size_t buffer_bytes,
                       std::uint64_t seed)
    : run_(run),
      ws_(run.opts().transport == Options::Transport::ws),
      plain_ws_(run.opts().ws_plain),
      socket_(run.io()),
      endpoint_(run.next_sub_endpoint()),
      buf_(new char[buffer_bytes]),
      cap_(buffer_bytes),
      rng_(seed) {
    bits = bits_slice;
    // WebSocket: each connection its own Sec-WebSocket-Key (RFC 6455 §4.1); storm: room for a
    // Last-Event-ID header. Built before any traffic.
    if (ws_ || plain_ws_ || run.opts().storm_behind > 0) {
        request_.reserve(run.subscribe_request().size() + 256);
        request_ = run.subscribe_request();
    }
    if (ws_ || plain_ws_) ws_random_key(rng_, request_.data() + run.ws_key_offset());
}

void Subscriber::start() {
    state = State::connecting;
    connect();
}

void Subscriber::connect() {
    const std::uint32_t gen = gen_;
    socket_.async_connect(
        endpoint_, in_slot(connect_slot_, [this, gen](const error_code& ec) {
            if (gen != gen_ || state != State::connecting) return;
            if (ec) return fail("connect");
            error_code ignored;
            socket_.set_option(tcp::no_delay(true), ignored);
            state = State::head;
            const auto& req = request_.empty() ? run_.subscribe_request() : request_;
            writing_ = true;
            asio::async_write(socket_, asio::buffer(req),
                              in_slot(write_slot_, [this, gen](const error_code& wec, std::size_t) {
                                  if (gen != gen_) return;
                                  writing_ = false;
                                  if (wec) return fail("write");
                                  flush();
                              }));
            read();
        }));
}

void Subscriber::read() {
    const std::uint32_t gen = gen_;
    socket_.async_read_some(asio::buffer(buf_.get() + fill_ + raw_, cap_ - fill_ - raw_),
                            in_slot(read_slot_, [this, gen](const error_code& ec, std::size_t n) {
                                on_read(ec, n, gen);
                            }));
}

void Subscriber::on_read(const error_code& ec, std::size_t n, std::uint32_t gen) {
    if (gen != gen_) return;  // the storm closed that connection; a new one may be open
    if (state == State::failed || state == State::closed || state == State::dropped) return;
    if (ec) return fail(ec == asio::error::eof ? "closed by server" : "read");
    const std::int64_t now = mono_ns();  // one clock read per wakeup, not per frame
    if (run_.counting()) bytes_in += n;
    if (state == State::head) {
        fill_ += n;
        ResponseHead h;
        switch (parse_response_head(std::string_view(buf_.get(), fill_), h)) {
            case HeadResult::incomplete:
                if (fill_ == cap_) return fail("response head too large");
                return read();
            case HeadResult::malformed:
                return fail("malformed response head");
            case HeadResult::ok:
                break;
        }
        http_status = h.status;
        std::memmove(buf_.get(), buf_.get() + h.head_bytes, fill_ - h.head_bytes);
        fill_ -= h.head_bytes;
        if (ws_) {
            if (h.status != 101) return fail("status not 101");
            state = State::subscribing;
            send_ws(WsOpcode::text, run_.ws_subscribe_message());
        } else {
            if (h.status != (plain_ws_ ? 101 : 200))
                return fail(plain_ws_ ? "status not 101" : "status not 200");
            chunked_ = !plain_ws_ && h.chunked;
            if (chunked_) {
                raw_ = fill_;
                fill_ = 0;
                dechunk_ = ChunkedDecoder{};
            }
            state = State::streaming;
            ready = true;
            run_.on_sub_connected(*this);
            if (state != State::streaming) return;
        }
    } else if (chunked_) {
        raw_ += n;
    } else {
        fill_ += n;
    }
    if (chunked_) {
        raw_ = dechunk_.decode(buf_.get(), fill_, raw_);
        if (dechunk_.bad) return fail("bad chunked transfer coding");
    }
    std::size_t used = 0;
    if (ws_ || plain_ws_) {
        const char* error = nullptr;
        used = scan_ws_frames(buf_.get(), fill_, error,
                              [this, now](const WsFrame& f) { return on_ws_frame(f, now); });
        if (error) return fail(error);
        if (state == State::failed || state == State::closed) return;
    } else {
        used =
            scan_frames(buf_.get(), fill_, [this, now](std::string_view f) { on_frame(f, now); });
    }
    if (used > 0) {
        std::memmove(buf_.get(), buf_.get() + used, fill_ - used + raw_);
        fill_ -= used;
    }
    if (chunked_ && dechunk_.state == 3) return fail("closed by server (last chunk)");
    if (fill_ + raw_ == cap_)
        return fail(ws_ || plain_ws_ ? "WebSocket frame larger than the receive buffer"
                                     : "SSE frame larger than the receive buffer");
    read();
}

void Subscriber::on_frame(std::string_view frame, std::int64_t now) {
    SseFrame f = classify_frame(frame);
    switch (f.kind) {
        case SseFrame::Kind::heartbeat:
            ++heartbeats;
            return;
        case SseFrame::Kind::control:
            ++controls;
            return;
        case SseFrame::Kind::retry:
        case SseFrame::Kind::other:
            return;
        case SseFrame::Kind::event:
            break;
    }
    if (!f.id.empty() && f.id.size() <= last_id_.size()) {
        std::memcpy(last_id_.data(), f.id.data(), f.id.size());
        last_id_len_ = f.id.size();
    }
    on_event(f.seq, f.t, now);
}

bool Subscriber::on_ws_frame(const WsFrame& f, std::int64_t now) {
    if (!f.fin || f.opcode == WsOpcode::continuation) {
        fail("fragmented WebSocket message (Herald sends whole messages)");
        return false;
    }
    switch (f.opcode) {
        case WsOpcode::ping:
            ++ws_pings;
            send_ws(WsOpcode::pong, f.payload);
            return true;
        case WsOpcode::close:
            fail("closed by server (close frame)");
            return false;
        case WsOpcode::text:
            break;
        default:
            return true;  // pong, binary: nothing herald.v1 defines
    }
    const std::string_view m = f.payload;
    if (plain_ws_) {
        // The published body itself (nchan, Pushpin): one event per message.
        std::int64_t seq, t;
        scan_seq_t(m, seq, t);
        on_event(seq, t, now);
    } else if (ws_op_is(m, "event")) {
        std::int64_t seq, t;
        scan_seq_t(m, seq, t);
        on_event(seq, t, now);
    } else if (ws_op_is(m, "subscribed")) {
        if (state == State::subscribing) {
            state = State::streaming;
            ready = true;
            run_.on_sub_connected(*this);
        }
    } else if (ws_op_is(m, "error")) {
        if (state == State::subscribing) {
            auto status = scan_int_field(m, "\"status\":");
            http_status = status ? static_cast<int>(*status) : 0;
            fail("subscribe refused");
            return false;
        }
        ++ws_errors;
    } else if (ws_op_is(m, "reset") || ws_op_is(m, "unsubscribed")) {
        ++controls;
    }
    return true;
}

void Subscriber::on_event(std::int64_t seq, std::int64_t t, std::int64_t now) {
    if (seq < 0) {
        ++foreign;
        return;
    }
    run_.on_delivery();
    if (t >= 0) run_.on_latency(static_cast<std::uint64_t>(seq), t, now - t);
    record(static_cast<std::uint64_t>(seq), run_.capacity(), now);
    if (resuming && !live_again && static_cast<std::uint64_t>(seq) + 1 >= run_.storm_target()) {
        // Live again once every event acknowledged before the reconnect is here: [0, target).
        const std::uint64_t target = run_.storm_target();
        bool all = true;
        for (std::uint64_t w = 0; all && w < target / 64; ++w) all = bits[w] == ~std::uint64_t{0};
        if (all && target % 64) {
            const std::uint64_t mask = (std::uint64_t{1} << (target % 64)) - 1;
            all = (bits[target / 64] & mask) == mask;
        }
        if (all) {
            live_again = true;
            run_.on_storm_live(now);
        }
    }
}

void Subscriber::send_ws(WsOpcode opcode, std::string_view payload) {
    const std::size_t n = ws_masked_header_size(payload.size()) + payload.size();
    if (out_len_ + n > out_.size()) return fail("WebSocket send buffer full");
    out_len_ += ws_write_masked_frame(out_.data() + out_len_, opcode, payload.data(),
                                      payload.size(), static_cast<std::uint32_t>(rng_.next()));
    flush();
}

void Subscriber::flush() {
    if (writing_ || out_len_ == 0 || state == State::failed || state == State::closed) return;
    std::memcpy(wbuf_.data(), out_.data(), out_len_);
    const std::size_t n = out_len_;
    out_len_ = 0;
    writing_ = true;
    const std::uint32_t gen = gen_;
    asio::async_write(socket_, asio::buffer(wbuf_.data(), n),
                      in_slot(write_slot_, [this, gen](const error_code& ec, std::size_t) {
                          if (gen != gen_) return;
                          writing_ = false;
                          if (ec) return fail("write");
                          flush();
                      }));
}

void Subscriber::fail(const char* why) {
    if (state == State::failed || state == State::closed) return;
    error_code ignored;
    socket_.close(ignored);
    if (state == State::streaming) {
        state = State::closed;
        failure = why;
        run_.on_sub_closed(*this);
    } else {
        state = State::failed;
        failure = why;
        run_.on_sub_failed(*this);
    }
}

void Subscriber::abort(const char* why) {
    if (state == State::pending || state == State::dropped) {
        state = State::failed;
        failure = why;
        return;
    }
    fail(why);
}

void Subscriber::drop() {
    if (state != State::streaming) return;
    ++gen_;  // completions of this connection's operations are ignored from now on
    error_code ignored;
    socket_.close(ignored);
    state = State::dropped;
    writing_ = false;
    had_id = last_id_len_ > 0;
}

void Subscriber::reconnect() {
    if (state != State::dropped) return;
    // The same request with Last-Event-ID before the blank line (capacity reserved: no allocation).
    request_ = run_.subscribe_request();
    if (last_id_len_ > 0) {
        request_.resize(request_.size() - 2);
        request_.append("Last-Event-ID: ");
        request_.append(last_id_.data(), last_id_len_);
        request_.append("\r\n\r\n");
    }
    fill_ = raw_ = 0;
    chunked_ = false;
    resuming = true;
    state = State::connecting;
    connect();
}

// ---------------------------------------------------------------------------------------------
Publisher::Publisher(Run& run, std::size_t index)
    : run_(run), index_(index), socket_(run.io()), timer_(run.io()) {
    const Options& o = run.opts();
    // Reserve once: requests are rebuilt in place, so the strings never reallocate afterwards.
    head_.reserve(512 + run.publish_path().size() + run.publish_host().size() +
                  run.publish_content_type().size() + run.extra_headers().size());
    body_.reserve(o.batch * (o.size + 192 + o.type.size() + run.run_id().size()) + 64 +
                  run.publish_template_bytes() + 2 * o.size + 128);
    if (o.publish_body == Options::PublishBody::templated) scratch_.reserve(o.size + 128);
    rcap_ = std::max<std::size_t>(64 * 1024, o.batch * 160 + 4096);
    rbuf_.reset(new char[rcap_]);
}

void Publisher::connect() {
    state = State::connecting;
    error_code ignored;
    socket_.close(ignored);
    rfill_ = 0;
    socket_.async_connect(
        run_.pub_endpoint(), in_slot(connect_slot_, [this](const error_code& ec) {
            if (ec) {
                // Bounded retries with a pause: a server that refuses publishers ends the run.
                if (++connect_failures_ >= 20 || run_.ending()) {
                    if (!connected_once) run_.on_publisher_gave_up();
                    return finish();
                }
                timer_.expires_after(std::chrono::milliseconds(50));
                timer_.async_wait(in_slot(timer_slot_, [this](const error_code& tec) {
                    if (!tec) connect();
                }));
                return;
            }
            connect_failures_ = 0;
            error_code ignored2;
            socket_.set_option(tcp::no_delay(true), ignored2);
            state = State::idle;
            if (!connected_once) {
                connected_once = true;
                run_.on_publisher_connected();  // the Run calls go() once all are connected
            } else {
                next();
            }
        }));
}

void Publisher::go() { next(); }

void Publisher::next() {
    const std::int64_t now = mono_ns();
    auto claimed = run_.claim_request(now);
    if (!claimed) return finish();
    request_ = *claimed;
    due_ns_ = run_.due_ns(request_);
    if (due_ns_ > now) {
        state = State::waiting;
        timer_.expires_at(at_ns(due_ns_));
        timer_.async_wait(in_slot(timer_slot_, [this](const error_code& ec) {
            if (ec || state != State::waiting) return;
            send();
        }));
        return;
    }
    send();
}

void Publisher::send() {
    const Options& o = run_.opts();
    const std::int64_t now = mono_ns();
    if (due_ns_ > 0) run_.on_sent(now - due_ns_);
    sent_ns_ = now;
    const std::uint64_t first = request_ * o.batch;

    body_.clear();
    if (o.batch == 1) {
        run_.append_publish_body(body_, scratch_, first, now);
    } else {
        body_.push_back('[');
        for (std::size_t i = 0; i < o.batch; ++i) {
            if (i) body_.push_back(',');
            run_.append_cloudevent(body_, first + i, now);
        }
        body_.push_back(']');
    }
    head_.clear();
    head_.append("POST ");
    head_.append(run_.publish_path());
    head_.append(" HTTP/1.1\r\nHost: ");
    head_.append(run_.publish_host());
    head_.append("\r\nContent-Type: ");
    head_.append(run_.publish_content_type());
    head_.append("\r\nContent-Length: ");
    append_uint(head_, body_.size());
    head_.append("\r\n");
    head_.append(run_.extra_headers());
    head_.append("\r\n");

    state = State::in_flight;
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(body_)};
    asio::async_write(socket_, bufs,
                      in_slot(write_slot_, [this](const error_code& ec, std::size_t) {
                          if (ec) return on_failure();
                          read_answer();
                      }));
}

void Publisher::read_answer() {
    socket_.async_read_some(
        asio::buffer(rbuf_.get() + rfill_, rcap_ - rfill_),
        in_slot(read_slot_, [this](const error_code& ec, std::size_t n) {
            if (state != State::in_flight) return;
            if (ec) return on_failure();
            rfill_ += n;
            ResponseHead h;
            auto r = parse_response_head(std::string_view(rbuf_.get(), rfill_), h);
            if (r == HeadResult::malformed || (r == HeadResult::ok && !h.content_length))
                return on_failure();
            if (r == HeadResult::incomplete) {
                if (rfill_ == rcap_) return on_failure();
                return read_answer();
            }
            std::size_t total = h.head_bytes + *h.content_length;
            if (total > rcap_) return on_failure();
            if (rfill_ < total) return read_answer();
            on_answer(h, std::string_view(rbuf_.get() + h.head_bytes, *h.content_length));
            // Herald never pipelines answers; anything extra would be a protocol error.
            rfill_ = 0;
            if (h.close) {
                ++reconnects;
                return connect();
            }
            next();
        }));
}

void Publisher::on_answer(const ResponseHead& head, std::string_view) {
    run_.on_answer(request_, head.status, mono_ns() - sent_ns_);
}

void Publisher::on_failure() {
    if (state == State::done) return;
    if (state == State::in_flight) run_.on_publish_failed(request_);
    ++reconnects;
    if (run_.ending()) return finish();
    connect();
}

void Publisher::watchdog(std::int64_t now) {
    // A request without an answer for 10 s counts as failed; closing the socket makes the
    // pending operation complete with an error, which reconnects.
    if (state == State::in_flight && now - sent_ns_ > kRequestTimeoutNs) {
        error_code ignored;
        socket_.close(ignored);
    }
}

void Publisher::finish() {
    if (state == State::done) return;
    state = State::done;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    run_.on_publisher_done();
}

// ---------------------------------------------------------------------------------------------
WsPublisher::WsPublisher(Run& run)
    : run_(run), socket_(run.io()), timer_(run.io()), rng_(static_cast<std::uint64_t>(mono_ns())) {
    const Options& o = run.opts();
    const std::size_t n = o.ws_inflight;
    // Reserve once: messages are rebuilt in place and frames appended, never beyond these sizes
    // (at most n frames wait while n more are written).
    msg_.reserve(o.batch * (o.size + 192 + o.type.size() + run.run_id().size()) + 128 +
                 o.topic.size());
    pending_.reserve(n * (msg_.capacity() + 16));
    out_.reserve(n * (msg_.capacity() + 16));
    rcap_ = std::max<std::size_t>(256 * 1024, n * (o.batch * 200 + 512));
    rbuf_.reset(new char[rcap_]);
    slots_.resize(n);
    free_slots_.reserve(n);
    for (std::size_t i = n; i-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(i));
    request_ = run.ws_publish_request();
    ws_random_key(rng_, request_.data() + run.ws_key_offset());
}

void WsPublisher::connect() {
    state = State::connecting;
    socket_.async_connect(run_.endpoint(), in_slot(connect_slot_, [this](const error_code& ec) {
                              if (ec) return fail("connect");
                              error_code ignored;
                              socket_.set_option(tcp::no_delay(true), ignored);
                              state = State::handshake;
                              writing_ = true;
                              asio::async_write(
                                  socket_, asio::buffer(request_),
                                  in_slot(write_slot_, [this](const error_code& wec, std::size_t) {
                                      writing_ = false;
                                      if (wec) return fail("write");
                                      flush();
                                  }));
                              read();
                          }));
}

void WsPublisher::go() {
    if (state != State::ready) return;
    state = State::running;
    pump();
}

void WsPublisher::pump() {
    if (state != State::running) return;
    const Options& o = run_.opts();
    const std::int64_t now = mono_ns();
    while (!stopping_ && !waiting_ && inflight_ < o.ws_inflight) {
        auto claimed = run_.claim_request(now);
        if (!claimed) {
            stopping_ = true;
            break;
        }
        const std::int64_t due = run_.due_ns(*claimed);
        if (due > now) {
            // Paced: one claimed request waits for its time; the ones after it wait behind it.
            waiting_ = true;
            waiting_request_ = *claimed;
            waiting_due_ = due;
            timer_.expires_at(at_ns(due));
            timer_.async_wait(in_slot(timer_slot_, [this](const error_code& ec) {
                if (ec || !waiting_ || state != State::running) return;
                waiting_ = false;
                send_now(waiting_request_, mono_ns(), waiting_due_);
                pump();
            }));
            break;
        }
        send_now(*claimed, now, due);
    }
    flush();
    if (stopping_ && inflight_ == 0 && !waiting_) finish();
}

void WsPublisher::send_now(std::uint64_t request, std::int64_t now, std::int64_t due) {
    const Options& o = run_.opts();
    if (due > 0) run_.on_sent(now - due);
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = Slot{true, request, now};
    ++inflight_;
    inflight_max = std::max(inflight_max, inflight_);
    ++ops_sent;

    // {"op":"publish","ref":"<slot>","topic":"<topic>","event":<CloudEvent>} (or "events":[…])
    const std::uint64_t first = request * o.batch;
    msg_.clear();
    msg_.append(R"({"op":"publish","ref":")");
    append_uint(msg_, slot);
    msg_.append(R"(","topic":")");
    msg_.append(o.topic);
    if (o.batch == 1) {
        msg_.append(R"(","event":)");
        run_.append_cloudevent(msg_, first, now);
    } else {
        msg_.append(R"(","events":[)");
        for (std::size_t i = 0; i < o.batch; ++i) {
            if (i) msg_.push_back(',');
            run_.append_cloudevent(msg_, first + i, now);
        }
        msg_.push_back(']');
    }
    msg_.push_back('}');
    ws_append_masked_frame(pending_, WsOpcode::text, msg_, static_cast<std::uint32_t>(rng_.next()));
}

void WsPublisher::flush() {
    if (writing_ || pending_.empty() || state == State::done) return;
    std::swap(pending_, out_);  // swaps the reserved buffers: no allocation
    pending_.clear();
    writing_ = true;
    ++writes;
    asio::async_write(socket_, asio::buffer(out_),
                      in_slot(write_slot_, [this](const error_code& ec, std::size_t) {
                          writing_ = false;
                          if (ec) return fail("write");
                          flush();
                      }));
}

void WsPublisher::read() {
    socket_.async_read_some(
        asio::buffer(rbuf_.get() + rfill_, rcap_ - rfill_),
        in_slot(read_slot_, [this](const error_code& ec, std::size_t n) { on_read(ec, n); }));
}

void WsPublisher::on_read(const error_code& ec, std::size_t n) {
    if (state == State::done) return;
    if (ec) return fail(ec == asio::error::eof ? "closed by server" : "read");
    const std::int64_t now = mono_ns();
    rfill_ += n;
    if (state == State::handshake) {
        ResponseHead h;
        switch (parse_response_head(std::string_view(rbuf_.get(), rfill_), h)) {
            case HeadResult::incomplete:
                if (rfill_ == rcap_) return fail("response head too large");
                return read();
            case HeadResult::malformed:
                return fail("malformed response head");
            case HeadResult::ok:
                break;
        }
        if (h.status != 101) return fail("upgrade refused (status not 101)");
        std::memmove(rbuf_.get(), rbuf_.get() + h.head_bytes, rfill_ - h.head_bytes);
        rfill_ -= h.head_bytes;
        state = State::ready;
        connected_once = true;
        run_.on_publisher_connected();  // the Run calls go() when the window opens
        if (state == State::done) return;
    }
    const char* error = nullptr;
    const std::size_t used = scan_ws_frames(
        rbuf_.get(), rfill_, error, [this, now](const WsFrame& f) { return on_frame(f, now); });
    if (error) return fail(error);
    if (state == State::done) return;
    if (used > 0) {
        std::memmove(rbuf_.get(), rbuf_.get() + used, rfill_ - used);
        rfill_ -= used;
    }
    if (rfill_ == rcap_) return fail("WebSocket frame larger than the receive buffer");
    read();
    pump();  // answers freed slots
}

bool WsPublisher::on_frame(const WsFrame& f, std::int64_t now) {
    if (!f.fin || f.opcode == WsOpcode::continuation) {
        fail("fragmented WebSocket message (Herald sends whole messages)");
        return false;
    }
    if (f.opcode == WsOpcode::ping) {
        // Rare (Herald pings after 30 s of silence, and a publisher is never silent): queued
        // behind the frames waiting.
        ws_append_masked_frame(pending_, WsOpcode::pong, f.payload,
                               static_cast<std::uint32_t>(rng_.next()));
        flush();
        return true;
    }
    if (f.opcode == WsOpcode::close) {
        fail("closed by server (close frame)");
        return false;
    }
    if (f.opcode != WsOpcode::text) return true;
    const std::string_view m = f.payload;
    const bool published = ws_op_is(m, "published");
    if (!published && !ws_op_is(m, "error")) return true;
    // "ref":"<slot>"
    static constexpr std::string_view ref_key = "\"ref\":\"";
    auto at = m.find(ref_key);
    std::uint32_t slot = 0;
    bool ok = at != std::string_view::npos;
    if (ok) {
        const char* p = m.data() + at + ref_key.size();
        auto [q, e] = std::from_chars(p, m.data() + m.size(), slot);
        ok = e == std::errc() && q < m.data() + m.size() && *q == '"' && slot < slots_.size() &&
             slots_[slot].busy;
    }
    if (!ok) {
        ++errors_without_ref;
        return true;
    }
    Slot& s = slots_[slot];
    int status = 201;
    if (published) {
        // Herald answers a deduplicated publish with "duplicate":true (HTTP answers 200).
        static constexpr std::string_view dup = "\"duplicate\":true";
        if (::memmem(m.data(), m.size(), dup.data(), dup.size())) status = 200;
    } else {
        auto st = scan_int_field(m, "\"status\":");
        status = st ? static_cast<int>(*st) : 0;
    }
    run_.on_answer(s.request, status, now - s.sent_ns);
    s.busy = false;
    free_slots_.push_back(slot);
    --inflight_;
    return true;
}

void WsPublisher::watchdog(std::int64_t now) {
    if (state != State::running) return;
    for (auto& s : slots_)
        if (s.busy && now - s.sent_ns > kRequestTimeoutNs) return fail("publish answer timeout");
}

void WsPublisher::fail(const char* why) {
    if (state == State::done) return;
    if (!failure) failure = why;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (!slots_[i].busy) continue;
        slots_[i].busy = false;
        run_.on_publish_failed(slots_[i].request);
        free_slots_.push_back(static_cast<std::uint32_t>(i));
    }
    inflight_ = 0;
    waiting_ = false;
    if (!connected_once) {
        state = State::done;
        error_code ignored;
        socket_.close(ignored);
        run_.on_publisher_gave_up();
        return;
    }
    finish();
}

void WsPublisher::finish() {
    if (state == State::done) return;
    state = State::done;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    run_.on_publisher_done();
}

// ---------------------------------------------------------------------------------------------
Poller::Poller(Run& run, std::uint64_t* bits_slice, std::size_t index, std::size_t buffer_bytes)
    : run_(run),
      index_(index),
      socket_(run.io()),
      timer_(run.io()),
      buf_(new char[buffer_bytes]),
      cap_(buffer_bytes) {
    bits = bits_slice;
    req_.reserve(512 + run.opts().topic.size() + run.opts().host_header.size() +
                 3 * cursor_.size() + run.extra_headers().size());
}

void Poller::start() {
    state = State::connecting;
    socket_.async_connect(run_.endpoint(), in_slot(connect_slot_, [this](const error_code& ec) {
                              if (state != State::connecting) return;
                              if (ec) return fail("connect");
                              error_code ignored;
                              socket_.set_option(tcp::no_delay(true), ignored);
                              send();
                          }));
}

void Poller::send() {
    const Options& o = run_.opts();
    req_.clear();
    req_.append("GET /v1/topics/");
    req_.append(o.topic);
    req_.append("/events?from=");
    if (first_) {
        req_.append("latest");
    } else {
        // Percent-encode anything outside the unreserved set (Herald's cursors need none).
        static constexpr char hex[] = "0123456789ABCDEF";
        for (std::size_t i = 0; i < cursor_len_; ++i) {
            const unsigned char c = static_cast<unsigned char>(cursor_[i]);
            if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
                req_.push_back(static_cast<char>(c));
            } else {
                req_.push_back('%');
                req_.push_back(hex[c >> 4]);
                req_.push_back(hex[c & 15]);
            }
        }
    }
    req_.append("&limit=");
    append_uint(req_, o.poll_limit);
    if (!first_ && o.poll == Options::Poll::long_poll) {
        req_.append("&wait=");
        append_uint(req_, static_cast<std::uint64_t>(std::ceil(o.poll_wait)));
    }
    req_.append(" HTTP/1.1\r\nHost: ");
    req_.append(o.host_header);
    req_.append("\r\nAccept: application/json\r\n");
    req_.append(run_.extra_headers());
    req_.append("\r\n");
    if (run_.counting()) {
        ++requests;
        bytes_out += req_.size();
    }
    state = State::in_flight;
    asio::async_write(socket_, asio::buffer(req_),
                      in_slot(write_slot_, [this](const error_code& ec, std::size_t) {
                          if (state != State::in_flight) return;
                          if (ec) return fail("write");
                          read();
                      }));
}

void Poller::read() {
    socket_.async_read_some(
        asio::buffer(buf_.get() + fill_, cap_ - fill_),
        in_slot(read_slot_, [this](const error_code& ec, std::size_t n) { on_read(ec, n); }));
}

void Poller::on_read(const error_code& ec, std::size_t n) {
    if (state != State::in_flight) return;
    if (ec) return fail(ec == asio::error::eof ? "closed by server" : "read");
    fill_ += n;
    if (run_.counting()) bytes_in += n;
    ResponseHead h;
    switch (parse_response_head(std::string_view(buf_.get(), fill_), h)) {
        case HeadResult::incomplete:
            if (fill_ == cap_) return fail("response head too large");
            return read();
        case HeadResult::malformed:
            return fail("malformed response head");
        case HeadResult::ok:
            break;
    }
    if (!h.content_length) return fail("page answer without Content-Length");
    const std::size_t total = h.head_bytes + *h.content_length;
    if (total > cap_) return fail("page larger than the receive buffer (lower --poll-limit)");
    if (fill_ < total) return read();
    http_status = h.status;
    if (h.status != 200) return fail("page status not 200");
    const std::int64_t now = mono_ns();
    on_page(std::string_view(buf_.get() + h.head_bytes, *h.content_length), now);
    fill_ = 0;  // one request in flight: nothing can follow the answer
    if (state == State::failed) return;
    if (h.close) return fail("server closed the keep-alive connection");
    const Options& o = run_.opts();
    const bool was_first = first_;
    first_ = false;
    if (was_first) {
        ready = true;
        run_.on_poller_ready(*this);
        if (state == State::failed) return;
        if (o.poll == Options::Poll::interval)
            next_due_ = now + static_cast<std::int64_t>(o.poll_every * kNsPerSec *
                                                        ((index_ + 0.5) / run_.opts().subscribers));
    }
    if (o.poll == Options::Poll::long_poll) return send();
    if (!was_first) {
        next_due_ += static_cast<std::int64_t>(o.poll_every * kNsPerSec);
        if (next_due_ < now) next_due_ = now;  // behind schedule: ask at once, do not catch up
    }
    state = State::waiting;
    timer_.expires_at(at_ns(next_due_));
    timer_.async_wait(in_slot(timer_slot_, [this](const error_code& tec) {
        if (tec || state != State::waiting || run_.ending()) return;
        send();
    }));
}

void Poller::on_page(std::string_view body, std::int64_t now) {
    const std::size_t events = scan_all_seq_t(body, [&](std::int64_t seq, std::int64_t t) {
        if (seq < 0) return;
        run_.on_delivery();
        if (t >= 0) run_.on_latency(static_cast<std::uint64_t>(seq), t, now - t);
        record(static_cast<std::uint64_t>(seq), run_.capacity(), now);
    });
    if (events == 0 && run_.counting()) ++empty_pages;
    const std::string_view next = find_member_string(body, "\"next\"");
    if (next.empty() || next.size() > cursor_.size()) return fail("page without a usable next");
    std::memcpy(cursor_.data(), next.data(), next.size());
    cursor_len_ = next.size();
}

void Poller::fail(const char* why) {
    if (state == State::failed) return;
    const bool was_ready = ready;
    state = State::failed;
    failure = why;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    (void)was_ready;
    run_.on_poller_failed(*this);
}

void Poller::abort(const char* why) {
    if (state == State::pending) {
        state = State::failed;
        failure = why;
        return;
    }
    fail(why);
}

// ---------------------------------------------------------------------------------------------
Run::Run(const Options& o) : o_(o) {
    endpoint_ = tcp::endpoint(asio::ip::make_address(o_.host), o_.port);
    auto endpoint_of = [&](const Options::Target& t) {
        return t.set ? tcp::endpoint(asio::ip::make_address(t.host), t.port) : endpoint_;
    };
    pub_endpoint_ = endpoint_of(o_.publish_target);
    sub_endpoint_ = endpoint_of(o_.subscribe_target);
    for (const auto& h : o_.headers) extra_headers_ += h + "\r\n";

    // Publishing: Herald's path under --url, or --publish-url; the body per --publish-body.
    if (o_.publish_target.set) {
        publish_path_ = o_.publish_target.path;
        publish_host_ = o_.publish_target.host_header;
    } else {
        publish_path_ = "/v1/topics/" + o_.topic + "/events";
        if (o_.batch == 1 && o_.publish_body == Options::PublishBody::herald)
            publish_path_ += "?type=" + o_.type;
        publish_host_ = o_.host_header;
    }
    if (!o_.publish_content_type.empty())
        publish_ct_ = o_.publish_content_type;
    else if (o_.publish_body == Options::PublishBody::cloudevent)
        publish_ct_ = "application/cloudevents+json";
    else if (o_.publish_body == Options::PublishBody::herald && o_.batch > 1)
        publish_ct_ = "application/cloudevents-batch+json";
    else
        publish_ct_ = "application/json";
    if (o_.publish_body == Options::PublishBody::templated) {
        std::string_view t = o_.publish_template;
        publish_template_bytes_ = t.size();
        for (;;) {
            const auto a = t.find("{data}");
            const auto b = t.find("{data_json}");
            const auto at = std::min(a, b);
            if (at == std::string_view::npos) {
                publish_pieces_.emplace_back(std::string(t), Piece::none);
                break;
            }
            const bool json = at == b;
            publish_pieces_.emplace_back(std::string(t.substr(0, at)),
                                         json ? Piece::data_json : Piece::data);
            t.remove_prefix(at + (json ? 11 : 6));
        }
    }
    // The WebSocket upgrade; each connection overwrites the key field with its own random key.
    const std::string upgrade = "GET /v1/ws HTTP/1.1\r\nHost: " + o_.host_header +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n"
                                "Sec-WebSocket-Key: ";
    ws_key_offset_ = upgrade.size();
    const std::string ws_request =
        upgrade + "KEYKEYKEYKEYKEYKEYKEYK==\r\n" + extra_headers_ + "\r\n";
    const auto& st = o_.subscribe_target;
    if (o_.transport == Options::Transport::ws) {
        subscribe_request_ = ws_request;
        ws_subscribe_message_ = R"({"op":"subscribe","id":"b","topic":")" + o_.topic + "\"}";
    } else if (o_.ws_plain) {
        // A plain WebSocket stream (nchan's websocket subscriber, Pushpin's WebSocket-over-HTTP):
        // no subprotocol, nothing sent after the upgrade.
        const std::string plain = "GET " + st.path + " HTTP/1.1\r\nHost: " + st.host_header +
                                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ";
        ws_key_offset_ = plain.size();
        subscribe_request_ = plain + "KEYKEYKEYKEYKEYKEYKEYK==\r\n" + extra_headers_ + "\r\n";
    } else {
        const std::string path = st.set ? st.path : "/v1/topics/" + o_.topic + "/events";
        subscribe_request_ = "GET " + path +
                             " HTTP/1.1\r\nHost: " + (st.set ? st.host_header : o_.host_header) +
                             "\r\nAccept: text/event-stream\r\n" + extra_headers_ + "\r\n";
    }
    if (o_.ws_publish) {
        ws_publish_request_ = ws_request;
        ws_key_offset_ = upgrade.size();  // subscribers and the publisher share the herald.v1 form
    }
    pad_.assign(o_.size, 'x');
    char id[48];
    std::snprintf(id, sizeof id, "b%x%llx", static_cast<unsigned>(::getpid()),
                  static_cast<unsigned long long>(mono_ns()));
    run_id_ = id;

    // How many seqs can exist: paced runs know it; closed-loop runs are capped so the bitmaps stay
    // bounded (1 GiB across all subscribers at most).
    std::uint64_t cap;
    if (o_.idle) {
        cap = 1;
    } else if (o_.rate > 0) {
        cap = static_cast<std::uint64_t>(std::ceil(o_.rate * o_.duration)) + o_.batch;
    } else {
        cap = 50'000'000;
        const std::size_t receivers = o_.subscribers + (o_.webhook_receiver ? o_.webhooks : 0);
        if (receivers > 0) cap = std::min<std::uint64_t>(cap, (8ull << 30) / receivers);
    }
    if (o_.max_events > 0) cap = std::min(cap, o_.max_events);
    capacity_ = std::max<std::uint64_t>(cap, 1);
    words_ = (capacity_ + 63) / 64;
    acked_.assign(words_, 0);
    constexpr std::uint64_t kWorstTracked = 1'000'000;
    if ((o_.subscribers > 0 || o_.webhook_receiver) && capacity_ <= kWorstTracked)
        worst_.resize(capacity_);
}

void Run::append_data(std::string& out, std::uint64_t seq, std::int64_t now) const {
    // {"seq":N,"t":T,"pad":"xx…"}, padded so its length is exactly --size when possible.
    out.append("{\"seq\":");
    append_uint(out, seq);
    out.append(",\"t\":");
    append_uint(out, static_cast<std::uint64_t>(now));
    // --data-fields: the members of a fixed JSON object spliced in, so events can satisfy a schema.
    if (!o_.data_fields.empty()) {
        out.push_back(',');
        out.append(o_.data_fields);
    }
    out.append(",\"pad\":\"");
    const std::size_t fixed = 22 + digits(seq) + digits(static_cast<std::uint64_t>(now)) +
                              (o_.data_fields.empty() ? 0 : o_.data_fields.size() + 1);
    const std::size_t pad = o_.size > fixed ? o_.size - fixed : 0;
    out.append(pad_.data(), pad);
    out.append("\"}");
}

void Run::append_publish_body(std::string& out, std::string& scratch, std::uint64_t seq,
                              std::int64_t now) const {
    switch (o_.publish_body) {
        case Options::PublishBody::herald:
        case Options::PublishBody::raw:
            return append_data(out, seq, now);
        case Options::PublishBody::cloudevent:
            return append_cloudevent(out, seq, now);
        case Options::PublishBody::templated:
            break;
    }
    for (const auto& [text, piece] : publish_pieces_) {
        out.append(text);
        if (piece == Piece::data) {
            append_data(out, seq, now);
        } else if (piece == Piece::data_json) {
            // The data object as the contents of a JSON string.
            scratch.clear();
            append_data(scratch, seq, now);
            for (char c : scratch) {
                if (c == '"' || c == '\\') {
                    out.push_back('\\');
                    out.push_back(c);
                } else if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out.append("\\u00");
                    out.push_back(hex[(c >> 4) & 15]);
                    out.push_back(hex[c & 15]);
                } else {
                    out.push_back(c);
                }
            }
        }
    }
}

void Run::append_cloudevent(std::string& out, std::uint64_t seq, std::int64_t now) const {
    // Unique ids per run, so a rerun on the same data dir is not answered from dedup.
    out.append(R"({"specversion":"1.0","id":")");
    out.append(run_id_);
    out.push_back('-');
    append_uint(out, seq);
    out.append(R"(","source":"/bench","type":")");
    out.append(o_.type);
    out.append(R"(","data":)");
    append_data(out, seq, now);
    out.push_back('}');
}

int Run::execute() {
    // Raise the soft fd limit to the hard one: 10k subscribers need 10k descriptors.
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    ::getrlimit(RLIMIT_NOFILE, &rl);
    const std::size_t conns =
        o_.subscribers + o_.publishers + (o_.webhook_receiver ? o_.receiver_connections : 0);
    if (rl.rlim_cur != RLIM_INFINITY && conns + 64 > rl.rlim_cur) {
        std::fprintf(stderr, "herald-loadgen: %zu connections need more than the fd limit %llu\n",
                     conns, static_cast<unsigned long long>(rl.rlim_cur));
        return 1;
    }

    // Everything a run will touch is allocated here, before any traffic.
    const std::size_t sub_buffer = std::max<std::size_t>(8 * 1024, 4 * o_.size + 4096);
    sub_bits_.assign(o_.subscribers * words_, 0);
    if (o_.poll != Options::Poll::none) {
        // A page holds up to --poll-limit events of about --size + 400 bytes (the CloudEvent).
        const std::size_t page =
            std::max<std::size_t>(64 * 1024, o_.poll_limit * (o_.size + 512) + 4096);
        pollers_.reserve(o_.subscribers);
        for (std::size_t i = 0; i < o_.subscribers; ++i)
            pollers_.push_back(
                std::make_unique<Poller>(*this, sub_bits_.data() + i * words_, i, page));
    } else {
        subs_.reserve(o_.subscribers);
        for (std::size_t i = 0; i < o_.subscribers; ++i)
            subs_.push_back(std::make_unique<Subscriber>(*this, sub_bits_.data() + i * words_,
                                                         sub_buffer, mono_ns() + i));
    }
    if (o_.ws_publish) {
        ws_pub_ = std::make_unique<WsPublisher>(*this);
    } else {
        pubs_.reserve(o_.publishers);
        for (std::size_t i = 0; i < o_.publishers; ++i)
            pubs_.push_back(std::make_unique<Publisher>(*this, i));
    }
    if (o_.webhook_receiver) {
        WebhookReceiver::Config rc;
        rc.hooks = o_.webhooks;
        rc.capacity = capacity_;
        rc.words = words_;
        // A structured CloudEvent with the data padded to --size, plus the request head.
        rc.buffer_bytes = std::max<std::size_t>(64 * 1024, 2 * o_.size + 16 * 1024);
        rc.max_connections = o_.receiver_connections;
        rc.ports = o_.receiver_ports;
        rc.track_worst = !worst_.empty();
        receiver_ = std::make_unique<WebhookReceiver>(rc);
        std::string why;
        if (!receiver_->listen(why)) {
            std::fprintf(stderr, "herald-loadgen: %s\n", why.c_str());
            return 1;
        }
        // Setup, before the run's clock starts: the subscriptions start at `latest`, so nothing
        // is delivered before the first publish.
        if (!create_webhooks()) {
            // The SSRF guard refuses 127.0.0.1 with a 400 naming `url` unless it is allow-listed.
            const bool ssrf = hook_error_.find("\"url\"") != std::string::npos;
            std::fprintf(stderr, "herald-loadgen: no webhook subscription could be created: %s\n%s",
                         hook_error_.c_str(),
                         ssrf ? "(the server needs webhooks: {allow_destinations: "
                                "[\"127.0.0.1/32\"]})\n"
                              : "");
            delete_webhooks();
            return 1;
        }
        receiver_->start(acked_.data());
    }

    server_before_ = sample_server();
    if (o_.server_pid > 0 && !server_before_.ok) {
        std::fprintf(stderr, "herald-loadgen: cannot read /proc/<pid> of every --server-pid\n");
        return 1;
    }
    server_rss_peak_ = server_before_.rss_bytes;
    CPU_ZERO(&server_cores_);
    CPU_ZERO(&own_cores_);
    if (o_.server_pid > 0) ::sched_getaffinity(o_.server_pid, sizeof server_cores_, &server_cores_);
    ::sched_getaffinity(0, sizeof own_cores_, &own_cores_);

    const double hard = o_.connect_timeout + o_.settle + o_.duration + o_.drain + 30;
    deadline_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(hard * 1000)));
    deadline_timer_.async_wait(in_slot(deadline_slot_, [this](const error_code& ec) {
        if (ec) return;
        deadline_hit_ = true;
        finish("hard deadline");
    }));
    signals_.async_wait([this](const error_code& ec, int) {
        if (ec) return;
        interrupted_ = true;
        finish("interrupted");
    });
    sample_tick();

    t_connect_start_ = mono_ns();
    if (o_.subscribers > 0) {
        connect_timer_.expires_after(
            std::chrono::milliseconds(static_cast<long>(o_.connect_timeout * 1000)));
        connect_timer_.async_wait(in_slot(connect_slot_, [this](const error_code& ec) {
            if (ec || connect_phase_over_) return;
            connect_timed_out_ = true;  // stops connect_more() from starting the rest
            for (auto& s : subs_)
                if (s->state == Subscriber::State::pending ||
                    s->state == Subscriber::State::connecting ||
                    s->state == Subscriber::State::head ||
                    s->state == Subscriber::State::subscribing)
                    s->abort("connect timeout");
            for (auto& p : pollers_)
                if (!p->ready && p->state != Poller::State::failed) p->abort("connect timeout");
            all_connected();
        }));
        connect_more();
    } else {
        all_connected();
    }
    io_.run();
    if (receiver_) {
        // The receiver's figures belong to its thread until it is joined; then they join ours.
        receiver_->stop();
        latency_.merge(receiver_->latency());
        deliveries_ += receiver_->deliveries_total();
        const auto& w = receiver_->worst();
        for (std::size_t q = 0; q < w.size() && q < worst_.size(); ++q)
            if (w[q].ns > worst_[q].ns) worst_[q] = w[q];
        delete_webhooks();
    }
    return report();
}

bool Run::create_webhooks() {
    // Bounded: 10 s per request and 60 s for all of them.
    const std::int64_t deadline = mono_ns() + 60 * kNsPerSec;
    hook_ids_.assign(o_.webhooks, {});
    for (std::size_t i = 0; i < o_.webhooks && mono_ns() < deadline; ++i) {
        std::string body = R"({"topic":")" + o_.topic + R"(","url":"http://127.0.0.1:)" +
                           std::to_string(receiver_->port(i)) + "/hook/" + std::to_string(i) +
                           R"(","from":"latest","mode":")" + o_.webhook_mode + "\"";
        if (o_.webhook_mode == "concurrent")
            body += ",\"max_in_flight\":" + std::to_string(o_.webhook_max_in_flight);
        body += '}';
        std::string req =
            "POST /v1/subscriptions HTTP/1.1\r\nHost: " + o_.host_header +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nConnection: close\r\n" + extra_headers_ + "\r\n" + body;
        HttpAnswer a = blocking_http(o_.host, o_.port, req, 10);
        std::string id = a.status == 201 ? json_string_member(a.body, "id") : std::string();
        if (id.empty()) {
            if (hook_error_.empty())
                hook_error_ =
                    a.status ? "status " + std::to_string(a.status) + ": " + a.body.substr(0, 300)
                             : a.error;
            continue;
        }
        hook_ids_[i] = id;
        receiver_->set_ready(i);
        ++hooks_ready_;
    }
    if (o_.webhook_backlog) hooks_paused_ = webhooks_action("pause");
    return hooks_ready_ > 0;
}

std::size_t Run::webhooks_action(const char* action) {
    const std::int64_t deadline = mono_ns() + 30 * kNsPerSec;
    std::size_t ok = 0;
    for (const auto& id : hook_ids_) {
        if (id.empty()) continue;
        const double left = (deadline - mono_ns()) / 1e9;
        if (left <= 0) break;
        std::string req =
            "POST /v1/subscriptions/" + id + "/" + action + " HTTP/1.1\r\nHost: " + o_.host_header +
            "\r\nContent-Length: 0\r\nConnection: close\r\n" + extra_headers_ + "\r\n";
        const int status = blocking_http(o_.host, o_.port, req, std::min(left, 10.0)).status;
        if (status >= 200 && status < 300) ++ok;
    }
    return ok;
}

void Run::delete_webhooks() {
    // Leave the server as we found it (a long-lived server would otherwise keep delivering to a
    // receiver that is gone); bounded by 10 s in all.
    const std::int64_t deadline = mono_ns() + 10 * kNsPerSec;
    for (const auto& id : hook_ids_) {
        if (id.empty()) continue;
        const double left = (deadline - mono_ns()) / 1e9;
        if (left <= 0) break;
        std::string req = "DELETE /v1/subscriptions/" + id +
                          " HTTP/1.1\r\nHost: " + o_.host_header + "\r\nConnection: close\r\n" +
                          extra_headers_ + "\r\n";
        if (blocking_http(o_.host, o_.port, req, std::min(left, 5.0)).status == 204)
            ++hooks_deleted_;
    }
}

void Run::connect_more() {
    while (!ending_ && !connect_timed_out_ && connecting_ < o_.connect_concurrency &&
           next_sub_ < receivers()) {
        ++connecting_;
        const std::size_t i = next_sub_++;
        if (i < subs_.size())
            subs_[i]->start();
        else
            pollers_[i - subs_.size()]->start();
    }
}

void Run::receiver_settled(bool ok) {
    if (connecting_ > 0) --connecting_;
    if (ok)
        ++subs_ready_;
    else
        ++subs_failed_;
    if (++subs_settled_ == receivers())
        all_connected();
    else
        connect_more();
}

void Run::on_sub_connected(Subscriber& s) {
    if (s.resuming) {  // reconnected by the storm
        --storm_connecting_;
        ++storm_reconnected_;
        return storm_more();
    }
    receiver_settled(true);
}

void Run::on_sub_failed(Subscriber& s) {
    if (s.resuming) {
        if (storm_connecting_ > 0) --storm_connecting_;
        ++storm_failed_;
        return storm_more();
    }
    receiver_settled(false);
}

void Run::on_sub_closed(Subscriber&) {
    if (!ending_) ++subs_dropped_;
}

void Run::on_poller_ready(Poller&) { receiver_settled(true); }

void Run::on_poller_failed(Poller& p) {
    if (p.ready) {  // after its first answer: a dropped client
        if (!ending_) ++subs_dropped_;
        return;
    }
    receiver_settled(false);
}

// --reconnect-storm: drop every stream at --storm-at, reconnect them all once --reconnect-storm N
// more events were acknowledged (or publishing ended), --connect-concurrency at a time.
void Run::storm_drop() {
    if (storm_ != Storm::armed || ending_) return;
    storm_ = Storm::down;
    t_storm_drop_ = mono_ns();
    storm_acked_at_drop_ = events_ok_;
    for (auto& s : subs_) {
        if (s->state != Subscriber::State::streaming) continue;
        s->drop();
        ++storm_dropped_;
        if (!s->had_id) ++storm_without_id_;
    }
    if (storm_dropped_ == 0) storm_ = Storm::done;
}

void Run::storm_reconnect() {
    if (storm_ != Storm::down) return;
    storm_ = Storm::reconnecting;
    t_storm_reconnect_ = mono_ns();
    storm_acked_at_reconnect_ = events_ok_;
    // Every event acknowledged so far: the contiguous prefix of acked_ (one publisher connection
    // keeps it contiguous; with several, a gap ends it early, which only lowers the bar).
    std::uint64_t target = 0;
    for (std::size_t w = 0; w < words_; ++w) {
        if (acked_[w] == ~std::uint64_t{0}) {
            target += 64;
            continue;
        }
        target += std::countr_one(acked_[w]);
        break;
    }
    storm_target_ = target;
    storm_next_ = 0;
    storm_more();
}

void Run::storm_more() {
    while (!ending_ && storm_connecting_ < o_.connect_concurrency && storm_next_ < subs_.size()) {
        Subscriber& s = *subs_[storm_next_++];
        if (s.state != Subscriber::State::dropped) continue;
        ++storm_connecting_;
        s.reconnect();
    }
}

void Run::on_storm_live(std::int64_t now) {
    if (++storm_live_ == storm_dropped_) {
        t_storm_all_live_ = now;
        storm_ = Storm::done;
    }
}

ProcSample Run::sample_server() const {
    // Every process of the server (nginx: master and worker; Pushpin: its runner and services).
    ProcSample sum;
    if (o_.server_pids.empty()) return sum;
    sum.ok = true;
    for (pid_t pid : o_.server_pids) {
        const ProcSample p = sample_process(pid);
        if (!p.ok) {
            sum.ok = false;
            continue;
        }
        sum.cpu_seconds += p.cpu_seconds;
        sum.rss_bytes += p.rss_bytes;
        sum.hwm_bytes += p.hwm_bytes;
    }
    return sum;
}

void Run::all_connected() {
    if (connect_phase_over_ || ending_) return;
    connect_phase_over_ = true;
    connect_timer_.cancel();
    t_connected_ = mono_ns();
    if (o_.subscribers > 0 && subs_ready_ == 0) return finish("no subscriber could connect");
    if (o_.subscribers == 0 && !receiver_) return start_publishers();
    // Let the server finish whatever the connection burst left behind before sampling RSS.
    phase_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(o_.settle * 1000)));
    phase_timer_.async_wait(in_slot(phase_slot_, [this](const error_code& ec) {
        if (ec || ending_) return;
        server_connected_ = sample_server();
        start_publishers();
    }));
}

void Run::start_publishers() {
    if (ws_pub_) ws_pub_->connect();
    for (auto& p : pubs_) p->connect();
}

void Run::on_publisher_connected() {
    ++pubs_connected_;
    if (++pubs_settled_ == o_.publishers) begin_window();
}

void Run::on_publisher_gave_up() {
    if (++pubs_settled_ == o_.publishers) {
        if (pubs_connected_ == 0) return finish("no publisher could connect");
        begin_window();
    }
}

void Run::begin_window() {
    if (ending_) return;
    window_open_ = true;
    server_t0_ = sample_server();
    self_cpu_t0_ = self_cpu();
    server_cores_t0_ = sample_cores(server_cores_);
    own_cores_t0_ = sample_cores(own_cores_);
    fallbacks_t0_ = g_slot_fallbacks;
    t0_ = mono_ns();
    t_stop_ = t0_ + static_cast<std::int64_t>(o_.duration * kNsPerSec);
    if (receiver_) receiver_cpu_t0_ = receiver_->thread_cpu_seconds();
    allocs_t0_ = heap_allocations();
    for (auto& p : pubs_)
        if (p->connected_once && p->state == Publisher::State::idle) p->go();
    if (ws_pub_) ws_pub_->go();
    if (o_.storm_behind > 0 && subs_ready_ > 0) {
        storm_ = Storm::armed;
        storm_timer_.expires_at(at_ns(t0_ + static_cast<std::int64_t>(o_.storm_at * kNsPerSec)));
        storm_timer_.async_wait(in_slot(storm_slot_, [this](const error_code& ec) {
            if (!ec) storm_drop();
        }));
    }
}

std::optional<std::uint64_t> Run::claim_request(std::int64_t now) {
    if (ending_) return std::nullopt;
    const std::uint64_t first = next_request_ * o_.batch;
    if (first + o_.batch > capacity_) {
        capacity_hit_ = true;
        return std::nullopt;
    }
    // Paced: the schedule ends at t_stop; and a publisher that fell far behind (a server that
    // stopped answering) does not send leftovers after it either, so publishing is bounded by
    // duration + one request timeout.
    if (o_.rate > 0 && due_ns(next_request_) >= t_stop_) return std::nullopt;
    if (!o_.idle && now >= t_stop_) {
        return std::nullopt;
    }
    return next_request_++;
}

std::int64_t Run::due_ns(std::uint64_t request) const {
    if (o_.rate <= 0) return 0;
    // Absolute schedule from t0: a late request does not shift the ones after it.
    const double seconds = static_cast<double>(request * o_.batch) / o_.rate;
    return t0_ + static_cast<std::int64_t>(seconds * kNsPerSec);
}

void Run::on_answer(std::uint64_t request, int status, std::int64_t rtt_ns) {
    const std::uint64_t first = request * o_.batch;
    // Herald answers 201 (200 means a duplicate); another server's 2xx is its acknowledgement.
    if (status == 201 || (o_.publish_target.set && status >= 200 && status < 300)) {
        ++requests_ok_;
        events_ok_ += o_.batch;
        ack_rtt_.record(rtt_ns);
        for (std::uint64_t s = first; s < first + o_.batch; ++s)
            acked_[s >> 6] |= std::uint64_t{1} << (s & 63);
        if (storm_ == Storm::down && events_ok_ - storm_acked_at_drop_ >= o_.storm_behind)
            storm_reconnect();
    } else {
        if (status == 200) events_dup_answer_ += o_.batch;
        last_bad_status_ = status;
        ++requests_failed_;
        events_failed_ += o_.batch;
    }
}

void Run::on_publish_failed(std::uint64_t) {
    ++requests_failed_;
    events_failed_ += o_.batch;
}

void Run::on_publisher_done() {
    if (++pubs_done_ < o_.publishers || ending_) return;
    t_pub_end_ = mono_ns();
    if (storm_ == Storm::armed) {
        storm_timer_.cancel();
        storm_ = Storm::off;
    }
    storm_reconnect();  // still down: the rest of the schedule was shorter than N events
    if (receiver_) receiver_deliveries_at_pub_end_ = receiver_->deliveries();
    if (receiver_ && o_.webhook_backlog) {
        // Blocks this thread for the resume requests only; the receiver runs on its own.
        t_resumed_ = mono_ns();
        hooks_resumed_ = webhooks_action("resume");
    }
    if (subs_ready_ == 0 && !receiver_) return finish("published");
    drain_tick();
}

void Run::sample_tick() {
    // Every 100 ms: the server's RSS (for its peak during this run; VmHWM covers the whole life
    // of the process) and the publishers' request timeouts.
    const std::int64_t now = mono_ns();
    if (o_.server_pid > 0) {
        auto s = sample_server();
        if (s.ok) server_rss_peak_ = std::max(server_rss_peak_, s.rss_bytes);
    }
    for (auto& p : pubs_) p->watchdog(now);
    if (ws_pub_) ws_pub_->watchdog(now);
    sample_timer_.expires_after(std::chrono::milliseconds(100));
    sample_timer_.async_wait(in_slot(sample_slot_, [this](const error_code& ec) {
        if (!ec && !ending_) sample_tick();
    }));
}

void Run::drain_tick() {
    std::uint64_t acked_count = 0;
    for (auto w : acked_) acked_count += std::popcount(w);
    bool all = true;
    for (auto& s : subs_) {
        if (s->state != Subscriber::State::streaming) continue;
        s->finish_check(acked_.data(), words_, acked_count);
        if (!s->complete) {
            all = false;
            break;
        }
    }
    for (auto& p : pollers_) {
        if (!all) break;
        if (!p->ready || p->state == Poller::State::failed) continue;
        p->finish_check(acked_.data(), words_, acked_count);
        if (!p->complete) all = false;
    }
    // A storm still reconnecting keeps the drain going (dropped streams are not "streaming").
    if (storm_ == Storm::reconnecting && storm_connecting_ > 0) all = false;
    if (receiver_) {
        // Publishing is over, so acked_ is final: the receiver's thread may read it now.
        if (!receiver_check_requested_) {
            receiver_check_requested_ = true;
            receiver_->request_check(acked_count);
        }
        if (!receiver_->all_complete()) all = false;
    }
    const std::int64_t now = mono_ns();
    if (all) return finish("drained");
    if (now - t_pub_end_ >= static_cast<std::int64_t>(o_.drain * kNsPerSec))
        return finish("drain timeout");
    drain_timer_.expires_after(std::chrono::milliseconds(10));
    drain_timer_.async_wait(in_slot(drain_slot_, [this](const error_code& ec) {
        if (!ec && !ending_) drain_tick();
    }));
}

void Run::finish(const char* why) {
    if (ending_) return;
    ending_ = true;
    end_reason_ = why;
    t_finish_ = mono_ns();
    if (t_pub_end_ == 0) t_pub_end_ = t_finish_;
    allocs_end_ = heap_allocations();
    fallbacks_end_ = g_slot_fallbacks;
    self_cpu_end_ = self_cpu();
    if (receiver_) receiver_cpu_end_ = receiver_->thread_cpu_seconds();
    server_cores_end_ = sample_cores(server_cores_);
    own_cores_end_ = sample_cores(own_cores_);
    server_end_ = sample_server();
    if (server_end_.ok) server_rss_peak_ = std::max(server_rss_peak_, server_end_.rss_bytes);
    if (!window_open_) {
        t0_ = t_finish_;
        self_cpu_t0_ = self_cpu_end_;
        receiver_cpu_t0_ = receiver_cpu_end_;
        server_cores_t0_ = server_cores_end_;
        own_cores_t0_ = own_cores_end_;
        server_t0_ = server_end_;
    }
    io_.stop();  // the report reads state; sockets close when the Run is destroyed
}

// ---------------------------------------------------------------------------------------------
// Report.

struct Json {
    std::string s = "{";
    void key(const char* k) {
        if (s.size() > 1 && s.back() != '{' && s.back() != '[') s += ',';
        s += '"';
        s += k;
        s += "\":";
    }
    void num(const char* k, double v, int prec = 3) {
        key(k);
        char b[64];
        if (!std::isfinite(v)) v = 0;
        std::snprintf(b, sizeof b, "%.*f", prec, v);
        s += b;
    }
    void num(const char* k, std::uint64_t v) {
        key(k);
        append_uint(s, v);
    }
    void str(const char* k, std::string_view v) {
        key(k);
        s += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') s += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) s += c;
        }
        s += '"';
    }
    void boolean(const char* k, bool v) {
        key(k);
        s += v ? "true" : "false";
    }
    void open(const char* k) {
        key(k);
        s += '{';
    }
    void close() { s += '}'; }
};

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

int Run::report() {
    const char* mode = o_.idle                               ? "idle"
                       : o_.webhook_receiver                 ? "webhooks"
                       : o_.poll == Options::Poll::long_poll ? "poll-long"
                       : o_.poll == Options::Poll::interval  ? "poll-interval"
                       : o_.storm_behind > 0                 ? "storm"
                       : o_.subscribers > 0                  ? "fanout"
                       : o_.ws_publish                       ? "ws-publish"
                                                             : "publish";
    const std::size_t receivers_ready = subs_ready_ + hooks_ready_;
    const double window_s = std::max(1e-9, (t_pub_end_ - t0_) / 1e9);
    const double total_s = std::max(1e-9, (t_finish_ - t0_) / 1e9);
    const double connect_s = t_connected_ > 0 ? (t_connected_ - t_connect_start_) / 1e9 : 0.0;

    // Loss accounting against the acknowledged set, per receiving end that was subscribed (an
    // SSE stream that got its 200 head, a WebSocket subscription that got `subscribed`, a webhook
    // subscription that was created).
    std::uint64_t acked_count = 0;
    for (auto w : acked_) acked_count += std::popcount(w);
    std::uint64_t expected = 0, received = 0, lost = 0, dups = 0, unexpected = 0, foreign = 0;
    std::uint64_t heartbeats = 0, controls = 0, subs_with_loss = 0, max_lost = 0;
    std::uint64_t lost_on_dropped = 0, ws_errors = 0, ws_pings = 0;
    std::int64_t last_recv = 0;
    auto account = [&](const Tally& t, bool dropped) {
        std::uint64_t got = 0, extra = 0;
        for (std::size_t w = 0; w < words_; ++w) {
            got += std::popcount(acked_[w] & t.bits[w]);
            extra += std::popcount(~acked_[w] & t.bits[w]);
        }
        const std::uint64_t missing = acked_count - got;
        expected += acked_count;
        received += got;
        lost += missing;
        if (missing) ++subs_with_loss;
        if (missing && dropped) lost_on_dropped += missing;
        max_lost = std::max(max_lost, missing);
        dups += t.dups;
        unexpected += extra + t.out_of_range;
        foreign += t.foreign;
        last_recv = std::max(last_recv, t.last_recv_ns);
    };
    // Bytes and requests on the receiving side during the window (from its opening to the end of
    // the drain): what it costs to get the events, for comparing streams with polling.
    std::uint64_t rx_bytes = 0, rx_requests = 0, tx_bytes = 0, empty_pages = 0;
    for (auto& s : subs_) {
        if (!s->ready) continue;
        account(*s, s->state != Subscriber::State::streaming);
        heartbeats += s->heartbeats;
        controls += s->controls;
        ws_errors += s->ws_errors;
        ws_pings += s->ws_pings;
        rx_bytes += s->bytes_in;
    }
    for (auto& p : pollers_) {
        if (!p->ready) continue;
        account(*p, p->state == Poller::State::failed);
        rx_bytes += p->bytes_in;
        tx_bytes += p->bytes_out;
        rx_requests += p->requests;
        empty_pages += p->empty_pages;
    }
    std::int64_t last_hook_recv = 0;
    if (receiver_)
        for (const auto& t : receiver_->tallies()) {
            if (!t.ready) continue;
            account(t, false);
            last_hook_recv = std::max(last_hook_recv, t.last_recv_ns);
        }
    const double drain_ms = last_recv > t_pub_end_ ? (last_recv - t_pub_end_) / 1e6 : 0.0;
    // The five events whose slowest delivery took longest, with their send time in the window.
    std::vector<std::pair<std::int64_t, std::uint64_t>> worst;  // (ns, seq)
    for (std::uint64_t q = 0; q < worst_.size(); ++q)
        if (worst_[q].ns > 0) worst.emplace_back(worst_[q].ns, q);
    const std::size_t nworst = std::min<std::size_t>(5, worst.size());
    std::partial_sort(worst.begin(), worst.begin() + nworst, worst.end(),
                      [](auto& a, auto& b) { return a.first > b.first; });
    worst.resize(nworst);
    const double deliver_s = last_recv > t0_ ? (last_recv - t0_) / 1e9 : total_s;

    const double server_cpu =
        (server_end_.ok && server_t0_.ok) ? server_end_.cpu_seconds - server_t0_.cpu_seconds : 0;
    const double self_cpu = self_cpu_end_.total() - self_cpu_t0_.total();
    const double self_sys = self_cpu_end_.sys - self_cpu_t0_.sys;
    const double self_pct = 100.0 * self_cpu / total_s;
    const bool gen_bound = window_open_ && self_pct >= 90.0;
    const std::uint64_t allocs = allocs_end_ - allocs_t0_;
    std::int64_t rss_delta = 0;
    double rss_per_conn = 0;
    if (o_.idle && server_connected_.ok && subs_ready_ > 0) {
        rss_delta = static_cast<std::int64_t>(server_connected_.rss_bytes) -
                    static_cast<std::int64_t>(server_before_.rss_bytes);
        rss_per_conn = static_cast<double>(rss_delta) / static_cast<double>(subs_ready_);
    }
    // Noise: what else the pinned cores did during the window. "others" is process time that
    // was neither ours nor the server's (someone's build on our core); softirq is mostly the
    // loopback traffic itself; iowait on the server's core means its log writes waited.
    struct Share {
        double others = 0, softirq = 0, iowait = 0, steal = 0;
    };
    static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    auto core_share = [&](const CoreTimes& a, const CoreTimes& b, double own_cpu_s) {
        Share sh;
        if (!a.ok || !b.ok || b.total <= a.total) return sh;
        const double total = static_cast<double>(b.total - a.total);
        auto pct = [&](std::uint64_t x, std::uint64_t y) { return 100.0 * (y - x) / total; };
        sh.others = std::max(0.0, pct(a.task, b.task) - 100.0 * own_cpu_s * ticks / total);
        sh.softirq = pct(a.softirq, b.softirq);
        sh.iowait = pct(a.iowait, b.iowait);
        sh.steal = pct(a.steal, b.steal);
        return sh;
    };
    const Share srv_core =
        core_share(server_cores_t0_, server_cores_end_, o_.server_pid > 0 ? server_cpu : 0);
    const Share gen_core = core_share(own_cores_t0_, own_cores_end_, self_cpu);
    std::size_t reconnects = 0;
    for (auto& p : pubs_) reconnects += p->reconnects;
    // Webhooks: the receiver's own thread CPU, and the delivery rate once publishing had stopped
    // (the server then does nothing but deliver the backlog).
    const double receiver_cpu = receiver_cpu_end_ - receiver_cpu_t0_;
    const double receiver_pct = 100.0 * receiver_cpu / total_s;
    double hook_rate = 0, hook_rate_after = 0;
    std::uint64_t hook_deliveries = 0;
    if (receiver_) {
        hook_deliveries = receiver_->deliveries_total();
        if (last_hook_recv > t0_) hook_rate = hook_deliveries / ((last_hook_recv - t0_) / 1e9);
        // Only when the backlog lasted long enough (200 ms) to give a rate.
        const std::uint64_t after = hook_deliveries - receiver_deliveries_at_pub_end_;
        const std::int64_t from = t_resumed_ > 0 ? t_resumed_ : t_pub_end_;
        if (last_hook_recv > from + kNsPerSec / 5 && after > 0)
            hook_rate_after = after / ((last_hook_recv - from) / 1e9);
    }

    std::vector<std::string> warnings;
    if (deadline_hit_) warnings.push_back("hard deadline reached: figures are partial");
    if (interrupted_) warnings.push_back("interrupted: figures are partial");
    if (gen_bound)
        warnings.push_back("generator CPU >= 90% of wall time: the generator was the bottleneck");
    if (subs_failed_) {
        std::string why;
        for (auto& sub : subs_)
            if (sub->state == Subscriber::State::failed && sub->failure) {
                why = std::string(" (first: ") + sub->failure +
                      (sub->http_status ? ", status " + std::to_string(sub->http_status) : "") +
                      ")";
                break;
            }
        for (auto& p : pollers_)
            if (why.empty() && !p->ready && p->failure) {
                why = std::string(" (first: ") + p->failure +
                      (p->http_status ? ", status " + std::to_string(p->http_status) : "") + ")";
                break;
            }
        warnings.push_back(std::to_string(subs_failed_) + " subscribers failed to connect" + why);
    }
    if (o_.storm_behind > 0) {
        if (storm_dropped_ == 0)
            warnings.push_back("reconnect storm: no stream was dropped (the window ended first?)");
        if (storm_failed_)
            warnings.push_back("reconnect storm: " + std::to_string(storm_failed_) +
                               " streams could not reconnect");
        if (storm_without_id_)
            warnings.push_back("reconnect storm: " + std::to_string(storm_without_id_) +
                               " streams had no event id to resume from");
        if (storm_dropped_ > 0 && storm_live_ < storm_dropped_)
            warnings.push_back("reconnect storm: only " + std::to_string(storm_live_) + " of " +
                               std::to_string(storm_dropped_) + " streams were live again");
    }
    if (subs_dropped_) {
        std::string why;
        for (auto& sub : subs_)
            if (sub->state == Subscriber::State::closed && sub->failure) {
                why = std::string(" (first: ") + sub->failure + ")";
                break;
            }
        for (auto& p : pollers_)
            if (why.empty() && p->ready && p->state == Poller::State::failed && p->failure) {
                why = std::string(" (first: ") + p->failure + ")";
                break;
            }
        warnings.push_back(std::to_string(subs_dropped_) +
                           " subscriber streams ended during the run" + why);
    }
    if (events_failed_) {
        warnings.push_back(std::to_string(events_failed_) +
                           " events failed to publish (last status " +
                           std::to_string(last_bad_status_) + ")");
    }
    if (capacity_hit_ && !o_.idle)
        warnings.push_back("publishing stopped at the event cap (" + std::to_string(capacity_) +
                           ")");
    if (o_.rate > 0 && max_lag_ns_ > 10'000'000)
        warnings.push_back("publishers fell behind the schedule by up to " +
                           std::to_string(max_lag_ns_ / 1'000'000) + " ms");
    // Other processes on the server's core matter when the server wanted the core (it was busy);
    // on the generator's core they delay its wakeups, which slows closed-loop publishing and adds
    // to measured latency even when the generator itself is far from busy.
    if (window_open_ && o_.server_pid > 0 && srv_core.others + srv_core.steal >= 10 &&
        100 * server_cpu / total_s + srv_core.others + srv_core.steal >= 90)
        warnings.push_back("other processes took " +
                           std::to_string(static_cast<int>(srv_core.others + srv_core.steal)) +
                           "% of the server's core: figures are disturbed");
    if (window_open_ && gen_core.others + gen_core.steal >= 10)
        warnings.push_back("other processes took " +
                           std::to_string(static_cast<int>(gen_core.others + gen_core.steal)) +
                           "% of the generator's core: its wakeups were delayed, figures may be "
                           "disturbed");
    if (receiver_) {
        if (hooks_ready_ < o_.webhooks)
            warnings.push_back(std::to_string(o_.webhooks - hooks_ready_) +
                               " webhook subscriptions could not be created: " + hook_error_);
        const auto& st = receiver_->stats();
        if (receiver_pct >= 90)
            warnings.push_back(
                "webhook receiver thread CPU >= 90% of wall time: the receiver was "
                "the bottleneck");
        if (st.refused)
            warnings.push_back(std::to_string(st.refused) +
                               " receiver connections refused (pool full)");
        if (st.bad_requests)
            warnings.push_back(std::to_string(st.bad_requests) +
                               " bad requests at the receiver (connection closed)");
        if (o_.webhook_backlog && (hooks_paused_ < hooks_ready_ || hooks_resumed_ < hooks_ready_))
            warnings.push_back("pausing / resuming webhook subscriptions failed (" +
                               std::to_string(hooks_paused_) + " paused, " +
                               std::to_string(hooks_resumed_) + " resumed of " +
                               std::to_string(hooks_ready_) + ")");
        if (hooks_deleted_ < hooks_ready_)
            warnings.push_back(std::to_string(hooks_ready_ - hooks_deleted_) +
                               " webhook subscriptions could not be deleted afterwards");
    }
    if (ws_pub_ && ws_pub_->failure)
        warnings.push_back(std::string("WebSocket publisher: ") + ws_pub_->failure);
    if (ws_pub_ && ws_pub_->errors_without_ref)
        warnings.push_back(std::to_string(ws_pub_->errors_without_ref) +
                           " herald.v1 error messages without a known ref");
    if (ws_errors)
        warnings.push_back(std::to_string(ws_errors) +
                           " herald.v1 error messages on subscriber connections");
    if (latency_.negatives()) warnings.push_back("negative latencies seen (clock or payload bug)");
    // A handful of allocations (a timer queue growing once) are not per message; more would be.
    // Each receiver connection open at the same time costs Asio's reactor one registration
    // record, allocated once and reused: those are per connection, not per message.
    const std::uint64_t alloc_allowance = 64 + (receiver_ ? receiver_->stats().open_max : 0);
    if (allocs >= alloc_allowance || fallbacks_end_ > fallbacks_t0_)
        warnings.push_back(std::to_string(allocs) + " heap allocations during the window (" +
                           std::to_string(fallbacks_end_ - fallbacks_t0_) +
                           " handler-slot fallbacks, largest " +
                           std::to_string(g_slot_fallback_max_bytes.load()) + " B)");

    // Human table.
    FILE* out = o_.json ? stderr : stdout;
    std::fprintf(out, "herald-loadgen %s  (%s)  ended: %s\n", mode, o_.label.c_str(), end_reason_);
    const char* transport = o_.transport == Options::Transport::ws ? "ws"
                            : o_.ws_plain                          ? "ws-plain"
                            : o_.poll != Options::Poll::none       ? "poll"
                                                                   : "sse";
    if (o_.subscribers > 0)
        std::fprintf(out, "  %-28s %zu ready / %zu failed / %zu dropped (%s, opened in %.2f s)\n",
                     "subscribers", subs_ready_, subs_failed_, subs_dropped_, transport, connect_s);
    if (receiver_)
        std::fprintf(out, "  %-28s %zu of %zu created (%s%s), receiver 127.0.0.1:%u (%zu port%s)\n",
                     "webhook subscriptions", hooks_ready_, o_.webhooks, o_.webhook_mode.c_str(),
                     o_.webhook_mode == "concurrent"
                         ? (", max_in_flight " + std::to_string(o_.webhook_max_in_flight)).c_str()
                         : "",
                     unsigned(receiver_->port()), o_.receiver_ports, o_.receiver_ports == 1 ? "" : "s");
    if (ws_pub_)
        std::fprintf(out,
                     "  %-28s 1 WebSocket conn, up to %zu in flight (max seen %zu, %.1f ops per "
                     "write), batch %zu, data %zu B, %s\n",
                     "publishers", o_.ws_inflight, ws_pub_->inflight_max,
                     ws_pub_->writes ? double(ws_pub_->ops_sent) / ws_pub_->writes : 0.0, o_.batch,
                     o_.size, o_.max ? "max" : "paced");
    else
        std::fprintf(out, "  %-28s %zu conns, batch %zu, data %zu B, %s\n", "publishers",
                     o_.publishers, o_.batch, o_.size,
                     o_.idle ? "one event" : (o_.max ? "max" : "paced"));
    std::fprintf(out, "  %-28s %llu ok / %llu failed in %.3f s\n", "events published",
                 (unsigned long long)events_ok_, (unsigned long long)events_failed_, window_s);
    if (!o_.idle)
        std::fprintf(out, "  %-28s %.0f events/s (%.0f requests/s)\n", "publish rate",
                     events_ok_ / window_s, requests_ok_ / window_s);
    if (ack_rtt_.count())
        std::fprintf(out, "  %-28s p50 %.3f  p99 %.3f  max %.3f ms\n", "publish round trip",
                     ms(ack_rtt_.quantile(0.5)), ms(ack_rtt_.quantile(0.99)), ms(ack_rtt_.max()));
    if (receivers_ready > 0) {
        std::fprintf(out, "  %-28s %llu (%.0f/s)\n", "deliveries", (unsigned long long)deliveries_,
                     deliveries_ / deliver_s);
        if (receiver_)
            std::fprintf(out,
                         "  %-28s %.0f/s from the first publish to the last receipt, %.0f/s "
                         "after publishing ended%s\n",
                         "webhook deliveries", hook_rate, hook_rate_after,
                         o_.webhook_backlog ? " (subscriptions paused until then: a backlog)" : "");
        std::fprintf(out, "  %-28s %llu expected / %llu received\n", "deliveries of acked events",
                     (unsigned long long)expected, (unsigned long long)received);
        std::fprintf(out,
                     "  %-28s %llu lost (%llu subscribers, max %llu), %llu duplicated, "
                     "%llu unexpected\n",
                     "integrity", (unsigned long long)lost, (unsigned long long)subs_with_loss,
                     (unsigned long long)max_lost, (unsigned long long)dups,
                     (unsigned long long)unexpected);
        std::fprintf(out, "  %-28s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
                     "delivery latency", ms(latency_.quantile(0.5)), ms(latency_.quantile(0.9)),
                     ms(latency_.quantile(0.99)), ms(latency_.quantile(0.999)), ms(latency_.max()));
        std::fprintf(out, "  %-28s %.1f ms after publishing ended\n", "last delivery", drain_ms);
        std::fprintf(out, "  %-28s mean %.3f ms; %.0f B received per delivery%s\n",
                     "receiving side", latency_.mean() / 1e6,
                     deliveries_ ? double(rx_bytes) / deliveries_ : 0.0,
                     pollers_.empty() ? ""
                                      : (", " + std::to_string(rx_requests) + " requests (" +
                                         std::to_string(empty_pages) + " empty pages)")
                                            .c_str());
        if (!worst.empty()) {
            std::fprintf(out, "  %-28s", "slowest events (sent at)");
            for (auto& [ns, q] : worst)
                std::fprintf(out, " #%llu %.1f ms (t+%.3f s);", (unsigned long long)q, ns / 1e6,
                             (worst_[q].sent_ns - t0_) / 1e9);
            std::fprintf(out, "\n");
        }
    }
    if (o_.storm_behind > 0)
        std::fprintf(
            out,
            "  %-28s %zu dropped at t+%.2f s, down %.3f s (%llu events behind), %zu "
            "reconnected / %zu failed, %zu live again; all live %.3f s after the "
            "reconnect began\n",
            "reconnect storm", storm_dropped_, t_storm_drop_ ? (t_storm_drop_ - t0_) / 1e9 : 0.0,
            t_storm_reconnect_ > t_storm_drop_ ? (t_storm_reconnect_ - t_storm_drop_) / 1e9 : 0.0,
            (unsigned long long)(storm_acked_at_reconnect_ - storm_acked_at_drop_),
            storm_reconnected_, storm_failed_, storm_live_,
            t_storm_all_live_ ? (t_storm_all_live_ - t_storm_reconnect_) / 1e9 : -1.0);
    if (o_.idle) {
        std::fprintf(out, "  %-28s %.3f ms\n", "one event to all", ms(latency_.max()));
        std::fprintf(out, "  %-28s %.1f MiB -> %.1f MiB: %.0f B per connection\n", "server RSS",
                     server_before_.rss_bytes / 1048576.0, server_connected_.rss_bytes / 1048576.0,
                     rss_per_conn);
    }
    if (receiver_) {
        const auto& st = receiver_->stats();
        std::fprintf(out,
                     "  %-28s thread cpu %.2f s (%.0f%% of a core), %llu requests, %llu "
                     "connections (at most %zu open), %llu refused, %llu bad\n",
                     "webhook receiver", receiver_cpu, receiver_pct,
                     (unsigned long long)st.requests, (unsigned long long)st.accepted, st.open_max,
                     (unsigned long long)st.refused, (unsigned long long)st.bad_requests);
    }
    if (o_.server_pid > 0)
        std::fprintf(out,
                     "  %-28s cpu %.2f s (%.0f%% of a core), RSS peak %.1f MiB, end %.1f MiB\n",
                     "server", server_cpu, 100 * server_cpu / total_s, server_rss_peak_ / 1048576.0,
                     server_end_.rss_bytes / 1048576.0);
    std::fprintf(out,
                 "  %-28s cpu %.2f s (%.0f%% of a core, %.0f%% of it in the kernel), %llu heap "
                 "allocations in window\n",
                 "generator", self_cpu, self_pct, self_cpu > 0 ? 100 * self_sys / self_cpu : 0.0,
                 (unsigned long long)allocs);
    std::fprintf(out,
                 "  %-28s others / softirq / iowait / steal: server's %.0f / %.0f / %.0f / %.0f%%, "
                 "generator's %.0f / %.0f / %.0f / %.0f%%\n",
                 "pinned cores", srv_core.others, srv_core.softirq, srv_core.iowait, srv_core.steal,
                 gen_core.others, gen_core.softirq, gen_core.iowait, gen_core.steal);
    for (auto& w : warnings) std::fprintf(out, "  WARNING: %s\n", w.c_str());

    if (o_.json) {
        Json j;
        j.str("mode", mode);
        j.str("label", o_.label);
        j.str("ended", end_reason_);
        j.str("transport", transport);
        j.str("publish_transport", o_.ws_publish ? "ws" : "http");
        j.num("extra_headers", std::uint64_t{o_.headers.size()});
        j.num("subscribers", o_.subscribers);
        j.num("subscribers_ready", subs_ready_);
        j.num("subscribers_failed", subs_failed_);
        j.num("subscribers_dropped", subs_dropped_);
        j.num("subscribers_connect_s", connect_s);
        j.num("publishers", o_.publishers);
        j.num("batch", o_.batch);
        j.num("size", o_.size);
        j.num("rate_target", o_.rate, 1);
        j.num("duration_s", o_.duration);
        j.num("window_s", window_s);
        j.num("published_ok", events_ok_);
        j.num("published_failed", events_failed_);
        j.num("published_dup_answers", events_dup_answer_);
        j.num("requests_ok", requests_ok_);
        j.num("requests_failed", requests_failed_);
        j.num("publisher_reconnects", reconnects);
        j.num("publish_rate", events_ok_ / window_s, 1);
        j.num("schedule_lag_max_ms", max_lag_ns_ / 1e6);
        j.open("ack_ms");
        j.num("p50", ms(ack_rtt_.quantile(0.5)));
        j.num("p99", ms(ack_rtt_.quantile(0.99)));
        j.num("max", ms(ack_rtt_.max()));
        j.close();
        j.num("deliveries", deliveries_);
        j.num("deliveries_per_s", receivers_ready ? deliveries_ / deliver_s : 0.0, 1);
        j.num("expected_deliveries", expected);
        j.num("received_deliveries", received);
        j.num("lost", lost);
        j.num("lost_on_dropped_streams", lost_on_dropped);
        j.num("subscribers_with_loss", subs_with_loss);
        j.num("max_lost_per_subscriber", max_lost);
        j.num("duplicated", dups);
        j.num("unexpected", unexpected);
        j.num("foreign_events", foreign);
        j.num("heartbeats", heartbeats);
        j.num("control_events", controls);
        j.num("drain_ms", drain_ms);
        j.open("transfer");
        j.num("requests", rx_requests);
        j.num("bytes_in", rx_bytes);
        j.num("bytes_out", tx_bytes);
        j.num("empty_pages", empty_pages);
        j.close();
        if (o_.storm_behind > 0) {
            j.open("storm");
            j.num("behind_target", o_.storm_behind);
            j.num("behind", storm_acked_at_reconnect_ - storm_acked_at_drop_);
            j.num("dropped", std::uint64_t{storm_dropped_});
            j.num("without_id", std::uint64_t{storm_without_id_});
            j.num("reconnected", std::uint64_t{storm_reconnected_});
            j.num("failed", std::uint64_t{storm_failed_});
            j.num("live_again", std::uint64_t{storm_live_});
            j.num("target_events", storm_target_);
            j.num("drop_s", t_storm_drop_ ? (t_storm_drop_ - t0_) / 1e9 : 0.0);
            j.num("down_s", t_storm_reconnect_ > t_storm_drop_
                                ? (t_storm_reconnect_ - t_storm_drop_) / 1e9
                                : 0.0);
            j.num("all_live_s",
                  t_storm_all_live_ ? (t_storm_all_live_ - t_storm_reconnect_) / 1e9 : -1.0);
            j.close();
        }
        j.open("latency_ms");
        j.num("mean", latency_.mean() / 1e6);
        j.num("p50", ms(latency_.quantile(0.5)));
        j.num("p90", ms(latency_.quantile(0.9)));
        j.num("p99", ms(latency_.quantile(0.99)));
        j.num("p999", ms(latency_.quantile(0.999)));
        j.num("max", ms(latency_.max()));
        j.num("count", latency_.count());
        j.close();
        j.key("slowest_events");
        j.s += '[';
        for (std::size_t i = 0; i < worst.size(); ++i) {
            if (i) j.s += ',';
            char b[128];
            std::snprintf(b, sizeof b, "{\"seq\":%llu,\"sent_s\":%.4f,\"max_ms\":%.3f}",
                          (unsigned long long)worst[i].second,
                          (worst_[worst[i].second].sent_ns - t0_) / 1e9, worst[i].first / 1e6);
            j.s += b;
        }
        j.s += ']';
        j.num("time_to_all_ms", o_.idle && lost == 0 ? ms(latency_.max()) : 0.0);
        if (ws_pub_) {
            j.open("ws_publish");
            j.num("inflight_limit", std::uint64_t{o_.ws_inflight});
            j.num("inflight_max", std::uint64_t{ws_pub_->inflight_max});
            j.num("ops", ws_pub_->ops_sent);
            j.num("writes", ws_pub_->writes);
            j.num("errors_without_ref", ws_pub_->errors_without_ref);
            j.str("failure", ws_pub_->failure ? ws_pub_->failure : "");
            j.close();
        }
        if (ws_pings || ws_errors) {
            j.num("ws_pings", ws_pings);
            j.num("ws_errors", ws_errors);
        }
        if (receiver_) {
            const auto& st = receiver_->stats();
            j.open("webhooks");
            j.num("subscriptions", std::uint64_t{o_.webhooks});
            j.num("created", std::uint64_t{hooks_ready_});
            j.num("deleted", std::uint64_t{hooks_deleted_});
            j.str("mode", o_.webhook_mode);
            j.num("max_in_flight",
                  std::uint64_t{o_.webhook_mode == "concurrent" ? o_.webhook_max_in_flight : 1});
            j.num("deliveries", hook_deliveries);
            j.num("deliveries_per_s", hook_rate, 1);
            j.num("deliveries_after_publish_per_s", hook_rate_after, 1);
            j.boolean("backlog", o_.webhook_backlog);
            j.num("resume_s", t_resumed_ > 0 ? (t_resumed_ - t0_) / 1e9 : 0.0);
            j.num("receiver_cpu_s", receiver_cpu);
            j.num("receiver_cpu_pct", receiver_pct, 1);
            j.num("requests", st.requests);
            j.num("connections_accepted", st.accepted);
            j.num("connections_open_max", std::uint64_t{st.open_max});
            j.num("connections_refused", st.refused);
            j.num("connections_closed_by_peer", st.closed_by_peer);
            j.num("bad_requests", st.bad_requests);
            j.num("unknown_path", st.unknown_path);
            j.close();
        }
        j.open("server");
        j.num("pid", static_cast<std::uint64_t>(o_.server_pid));
        j.num("processes", std::uint64_t{o_.server_pids.size()});
        j.num("cpu_s", server_cpu);
        j.num("rss_before_bytes", server_before_.rss_bytes);
        j.num("rss_connected_bytes", server_connected_.rss_bytes);
        j.num("rss_peak_bytes", server_rss_peak_);
        j.num("rss_end_bytes", server_end_.rss_bytes);
        j.num("hwm_bytes", server_end_.hwm_bytes);
        j.num("rss_per_connection_bytes", rss_per_conn, 0);
        j.close();
        j.open("generator");
        j.num("cpu_s", self_cpu);
        j.num("cpu_pct", self_pct, 1);
        j.num("sys_s", self_sys);
        j.boolean("bottleneck", gen_bound);
        j.num("heap_allocs_in_window", allocs);
        j.num("slot_fallbacks", fallbacks_end_);
        j.num("slot_fallback_max_bytes", std::uint64_t{g_slot_fallback_max_bytes.load()});
        j.close();
        j.open("cores");
        j.num("server_others_pct", srv_core.others, 1);
        j.num("server_softirq_pct", srv_core.softirq, 1);
        j.num("server_iowait_pct", srv_core.iowait, 1);
        j.num("server_steal_pct", srv_core.steal, 1);
        j.num("generator_others_pct", gen_core.others, 1);
        j.num("generator_softirq_pct", gen_core.softirq, 1);
        j.num("generator_steal_pct", gen_core.steal, 1);
        j.close();
        j.boolean("deadline_hit", deadline_hit_);
        j.key("warnings");
        j.s += '[';
        for (std::size_t i = 0; i < warnings.size(); ++i) {
            if (i) j.s += ',';
            j.s += '"';
            for (char c : warnings[i]) {
                if (c == '"' || c == '\\') j.s += '\\';
                j.s += c;
            }
            j.s += '"';
        }
        j.s += ']';
        j.close();
        std::fprintf(stdout, "%s\n", j.s.c_str());
    }
    std::fflush(stdout);
    if (deadline_hit_ || interrupted_) return 2;
    if (!window_open_) return 2;  // never got to publish: setup failed
    return 0;
}

// ---------------------------------------------------------------------------------------------
// --self-test: the parsers and the histogram, on inputs split at every byte boundary.
int self_test() {
    int failures = 0;
    auto check = [&](bool ok, const char* what) {
        if (!ok) {
            ++failures;
            std::fprintf(stderr, "self-test FAILED: %s\n", what);
        }
    };

    const std::string stream =
        "retry: 3000\n\n"
        "id: 1.abc.1\nevent: bench.tick.v1\ndata: {\"specversion\":\"1.0\",\"id\":\"x\","
        "\"time\":\"2026\",\"data\":{\"seq\":41,\"t\":123456789,\"pad\":\"xx\"}}\n\n"
        ":\n\n"
        "event: herald.reset\ndata: {\"reason\":\"retention\"}\n\n"
        "id: 1.abc.2\nevent: other.thing.v1\ndata: {\"data\":{\"hello\":1}}\n\n"
        "id: 1.abc.3\nevent: bench.tick.v1\ndata: {\"data\":{\"seq\":42,\"t\":7}}\n\n";
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        std::string buf;
        std::vector<SseFrame> frames;
        auto feed = [&](std::string_view part) {
            buf.append(part);
            auto used = scan_frames(buf.data(), buf.size(), [&](std::string_view f) {
                frames.push_back(classify_frame(f));
            });
            buf.erase(0, used);
        };
        feed(std::string_view(stream).substr(0, split));
        feed(std::string_view(stream).substr(split));
        bool ok = frames.size() == 6 && buf.empty() && frames[0].kind == SseFrame::Kind::retry &&
                  frames[1].kind == SseFrame::Kind::event && frames[1].seq == 41 &&
                  frames[1].t == 123456789 && frames[2].kind == SseFrame::Kind::heartbeat &&
                  frames[3].kind == SseFrame::Kind::control &&
                  frames[4].kind == SseFrame::Kind::event && frames[4].seq == -1 &&
                  frames[5].seq == 42 && frames[5].t == 7;
        if (!ok) {
            check(false, "SSE frames split at a byte boundary");
            break;
        }
    }

    // Any server: seq and t wherever they are, with whitespace, in either order, and a value "t"
    // (Herald's herald.v1 topic) not taken for the member.
    {
        auto st = [](std::string_view m, std::int64_t want_seq, std::int64_t want_t) {
            std::int64_t q, t;
            scan_seq_t(m, q, t);
            return q == want_seq && t == want_t;
        };
        check(st(R"({"seq":5,"t":9,"pad":"x"})", 5, 9), "seq/t: the generator's own layout");
        check(st(R"({"t" : 7, "seq" :	42})", 42, 7), "seq/t: t first, whitespace");
        check(
            st(R"({"op":"event","topic":"t","event":{"data":{"seq":3,"pad":"t","t":11}}})", 3, 11),
            "seq/t: nested, a value \"t\" skipped");
        check(st(R"({"seqx":1,"t":2})", -1, -1), "seq/t: no seq member");
        check(st(R"({"seq":"4","seq":6})", 6, -1), "seq/t: a string seq is skipped, no t");
        check(st(R"({"seq":8,"t":"x","u":{"t":12}})", 8, 12), "seq/t: a string t is skipped");
        // A JSON page of events (--poll) and its next cursor.
        const std::string page =
            R"({"events":[{"specversion":"1.0","id":"a","data":{"seq":1,"t":10,"pad":"x"}},)"
            R"({"id":"b","data":{"seq":2,"pad":"y"}},{"id":"c","data":{"t":30,"seq":3}}],)"
            R"("next": "1.ab.3"})";
        std::vector<std::pair<std::int64_t, std::int64_t>> got;
        scan_all_seq_t(page, [&](std::int64_t q, std::int64_t t) { got.emplace_back(q, t); });
        check(got.size() == 3 && got[0] == std::make_pair<std::int64_t, std::int64_t>(1, 10) &&
                  got[1] == std::make_pair<std::int64_t, std::int64_t>(2, -1) &&
                  got[2] == std::make_pair<std::int64_t, std::int64_t>(3, -1),
              "page: every seq with the t of its own object");
        got.clear();
        scan_all_seq_t(R"([{"seq":4,"pad":""t":9","x":{"t":8},"t":5}])",
                       [&](std::int64_t q, std::int64_t t) { got.emplace_back(q, t); });
        check(got.size() == 1 && got[0].second == 5,
              "page: t in strings and nested objects skipped");
        check(find_member_string(page, "\"next\"") == "1.ab.3", "page: next cursor");
        check(find_member_string(R"({"events":[],"next":3})", "\"next\"").empty(),
              "page: a non-string next is refused");
    }

    // nchan's stream (CRLF-free, ": hi" first, id lines) and a CRLF stream, split at every byte;
    // the ids are kept for Last-Event-ID.
    for (const std::string& stream :
         {std::string(": hi\n\nid: 1795772109:0\ndata: {\"seq\":1,\"t\":5,\"pad\":\"xx\"}\n\n"
                      "id: 1795772109:1\ndata: {\"seq\":2,\"t\":6}\n\n"),
          std::string(
              ": hi\r\n\r\nid: 1795772109:0\r\ndata: {\"seq\":1,\"t\":5,\"pad\":\"xx\"}\r\n\r\n"
              "id: 1795772109:1\r\ndata: {\"seq\":2,\"t\":6}\r\n\r\n")}) {
        for (std::size_t split = 0; split <= stream.size(); ++split) {
            std::string buf;
            std::vector<SseFrame> frames;
            std::vector<std::string> ids;
            auto feed = [&](std::string_view part) {
                buf.append(part);
                auto used = scan_frames(buf.data(), buf.size(), [&](std::string_view f) {
                    frames.push_back(classify_frame(f));
                    ids.emplace_back(frames.back().id);
                });
                buf.erase(0, used);
            };
            feed(std::string_view(stream).substr(0, split));
            feed(std::string_view(stream).substr(split));
            const bool ok = frames.size() == 3 && buf.empty() &&
                            frames[0].kind == SseFrame::Kind::heartbeat && frames[1].seq == 1 &&
                            frames[1].t == 5 && ids[1] == "1795772109:0" && frames[2].seq == 2 &&
                            frames[2].t == 6 && ids[2] == "1795772109:1";
            if (!ok) {
                check(false, "nchan / CRLF SSE frames split at a byte boundary");
                break;
            }
        }
    }

    // Pushpin's chunked SSE, decoded in place and split at every byte boundary (an event split
    // across two chunks, a chunk extension, the last chunk).
    {
        const std::string body =
            "5\r\n:ok\n\n\r\n17;x=y\r\ndata: {\"seq\":1,\"t\":5}\n\n\r\n"
            "8\r\ndata: {\"\r\nF\r\nseq\":2,\"t\":6}\n\n\r\n0\r\n\r\n";
        for (std::size_t split = 0; split <= body.size(); ++split) {
            std::vector<char> buf(256);
            std::size_t decoded = 0, raw = 0;
            ChunkedDecoder dec;
            std::vector<SseFrame> frames;
            auto feed = [&](std::string_view part) {
                std::memcpy(buf.data() + decoded + raw, part.data(), part.size());
                raw += part.size();
                raw = dec.decode(buf.data(), decoded, raw);
                auto used = scan_frames(buf.data(), decoded, [&](std::string_view f) {
                    frames.push_back(classify_frame(f));
                });
                std::memmove(buf.data(), buf.data() + used, decoded - used + raw);
                decoded -= used;
            };
            feed(std::string_view(body).substr(0, split));
            feed(std::string_view(body).substr(split));
            const bool ok = !dec.bad && dec.state == 3 && decoded == 0 && raw == 0 &&
                            frames.size() == 3 && frames[0].kind == SseFrame::Kind::heartbeat &&
                            frames[1].seq == 1 && frames[1].t == 5 && frames[2].seq == 2 &&
                            frames[2].t == 6 && frames[2].id.empty();
            if (!ok) {
                check(false, "chunked SSE split at a byte boundary");
                break;
            }
        }
        ChunkedDecoder bad;
        std::string junk = "zz\r\nabc";
        std::size_t d = 0;
        bad.decode(junk.data(), d, junk.size());
        check(bad.bad, "a bad chunk size is refused");
        ResponseHead ch;
        check(parse_response_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ch) ==
                      HeadResult::ok &&
                  ch.chunked && !ch.content_length,
              "chunked response head");
    }

    // --publish-template: Pushpin's publish command, the data as the contents of a JSON string;
    // Boost.JSON must read the content back as the SSE frame around the data object.
    {
        Options o;
        o.host = "127.0.0.1";
        o.port = 9;
        o.host_header = "127.0.0.1:9";
        o.rate = 1;
        o.duration = 1;
        o.size = 64;
        o.publish_body = Options::PublishBody::templated;
        o.publish_template =
            R"({"items":[{"channel":"c","formats":)"
            R"({"http-stream":{"content":"data: {data_json}\n\n"},)"
            R"("ws-message":{"content":"{data_json}"}}}],"raw":{data}})";
        auto run = std::make_unique<Run>(o);
        std::string out, scratch, data;
        run->append_publish_body(out, scratch, 7, 123456);
        run->append_data(data, 7, 123456);
        boost::system::error_code ec;
        auto v = boost::json::parse(out, ec);
        bool ok = !ec && v.is_object();
        if (ok) {
            const auto& item = v.at("items").at(0).at("formats");
            ok = item.at("http-stream").at("content").as_string() == "data: " + data + "\n\n" &&
                 item.at("ws-message").at("content").as_string() == data &&
                 boost::json::serialize(v.at("raw")) == data;
        }
        check(ok, "publish template with {data_json} and {data}");
        std::int64_t q, t;
        scan_seq_t(data, q, t);
        check(q == 7 && t == 123456 && data.size() == 64, "data object: seq, t, padded size");
    }

    ResponseHead h;
    const std::string answer =
        "HTTP/1.1 201 Created\r\nServer: herald\r\ncontent-length: 12\r\nConnection: close\r\n\r\n"
        "{\"offset\":1}";
    check(parse_response_head(std::string_view(answer).substr(0, 30), h) == HeadResult::incomplete,
          "incomplete head");
    check(parse_response_head(answer, h) == HeadResult::ok && h.status == 201 &&
              h.content_length == 12u && h.close && answer.size() - h.head_bytes == 12,
          "response head fields");
    check(parse_response_head("HTTX/1.1 200 OK\r\n\r\n", h) == HeadResult::malformed,
          "malformed head");

    // WebSocket: server frames of each length form (7-bit, 16-bit, 64-bit), a ping, split at
    // every byte boundary; then client masking against an unmasking done here.
    {
        auto frame = [](unsigned char op, std::string_view payload) {
            std::string f(1, static_cast<char>(0x80 | op));
            const std::size_t n = payload.size();
            if (n < 126) {
                f.push_back(static_cast<char>(n));
            } else if (n < 65536) {
                f.push_back(126);
                f.push_back(static_cast<char>(n >> 8));
                f.push_back(static_cast<char>(n));
            } else {
                f.push_back(127);
                for (int sh = 56; sh >= 0; sh -= 8) f.push_back(static_cast<char>(n >> sh));
            }
            return f.append(payload);
        };
        const std::string ev = R"({"op":"event","id":"b","topic":"t","cursor":"1.a.2","event":)"
                               R"({"data":{"seq":7,"t":99,"pad":"x"}}})";
        const std::string mid(300, 'm'), big(70000, 'b');
        const std::string stream = frame(1, R"({"op":"subscribed","id":"b","topic":"t"})") +
                                   frame(1, ev) + frame(9, "hi") + frame(1, mid) + frame(2, big) +
                                   frame(1, ev);
        for (std::size_t split = 0; split <= stream.size(); split += (split < 400 ? 1 : 997)) {
            std::string buf;
            int subscribed = 0, events = 0, pings = 0, others = 0;
            bool bad = false;
            auto feed = [&](std::string_view part) {
                buf.append(part);
                const char* err = nullptr;
                auto used = scan_ws_frames(buf.data(), buf.size(), err, [&](const WsFrame& f) {
                    if (f.opcode == WsOpcode::ping) {
                        pings += f.payload == "hi";
                    } else if (ws_op_is(f.payload, "subscribed")) {
                        ++subscribed;
                    } else if (ws_op_is(f.payload, "event")) {
                        std::int64_t q, t;
                        scan_seq_t(f.payload, q, t);
                        events += (q == 7 && t == 99);
                    } else {
                        others += (f.payload.size() == 300 || f.payload.size() == 70000);
                    }
                    return true;
                });
                if (err) bad = true;
                buf.erase(0, used);
            };
            feed(std::string_view(stream).substr(0, split));
            feed(std::string_view(stream).substr(split));
            if (bad || !buf.empty() || subscribed != 1 || events != 2 || pings != 1 ||
                others != 2) {
                check(false, "WebSocket frames split at a byte boundary");
                break;
            }
        }
        const char* err = nullptr;
        std::string masked = "\x81\x85\x01\x02\x03\x04hello";
        scan_ws_frames(masked.data(), masked.size(), err, [](const WsFrame&) { return true; });
        check(err != nullptr, "a masked server frame is refused");
        check(!ws_op_is(R"({"op":"events"})", "event") && ws_op_is(R"({"op":"event",)", "event"),
              "herald.v1 op match");

        Rng rng(42);
        for (std::size_t n : {0u, 5u, 125u, 126u, 1000u, 65535u, 65536u, 70001u}) {
            std::string payload(n, '\0');
            for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(rng.next());
            std::string out;
            const auto mask = static_cast<std::uint32_t>(rng.next());
            ws_append_masked_frame(out, WsOpcode::text, payload, mask);
            const auto* o = reinterpret_cast<const unsigned char*>(out.data());
            std::size_t h = 2;
            std::uint64_t len = o[1] & 0x7F;
            if (len == 126) {
                len = (std::uint64_t{o[2]} << 8) | o[3];
                h = 4;
            } else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; ++i) len = (len << 8) | o[2 + i];
                h = 10;
            }
            bool ok = o[0] == 0x81 && (o[1] & 0x80) && len == n && out.size() == h + 4 + n;
            for (std::size_t i = 0; ok && i < n; ++i)
                ok = static_cast<char>(o[h + 4 + i] ^ o[h + (i & 3)]) == payload[i];
            if (!ok) {
                check(false, "masked client frame round trip");
                break;
            }
        }
        char key[24];
        ws_random_key(rng, key);
        check(key[22] == '=' && key[23] == '=' && key[21] != '=', "Sec-WebSocket-Key form");
    }

    // The webhook receiver's request heads.
    {
        RequestHead rh;
        const std::string req =
            "POST /hook/12 HTTP/1.1\r\nHost: 127.0.0.1:9\r\ncontent-length: 5\r\n"
            "Webhook-Id: x\r\n\r\nhello";
        check(parse_request_head(std::string_view(req).substr(0, 20), rh) == HeadResult::incomplete,
              "incomplete request head");
        check(parse_request_head(req, rh) == HeadResult::ok && rh.method == "POST" &&
                  rh.target == "/hook/12" && rh.content_length == 5 && !rh.chunked &&
                  req.size() - rh.head_bytes == 5,
              "request head fields");
        check(parse_request_head("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", rh) ==
                      HeadResult::ok &&
                  rh.chunked,
              "chunked request detected");
        check(parse_request_head("garbage\r\n\r\n", rh) == HeadResult::malformed,
              "malformed request head");
    }

    auto hist = std::make_unique<Histogram>();
    for (std::int64_t v = 1; v <= 1'000'000; ++v) hist->record(v * 1000);  // 1 µs .. 1 s
    auto near = [](double got, double want) { return std::abs(got - want) <= want * 0.016; };
    check(near(hist->quantile(0.5), 500e6), "histogram p50");
    check(near(hist->quantile(0.99), 990e6), "histogram p99");
    check(near(hist->quantile(0.999), 999e6), "histogram p99.9");
    check(hist->quantile(1.0) == 1'000'000'000u && hist->min() == 1000u, "histogram max/min");
    for (std::uint64_t v :
         {0ull, 1ull, 127ull, 128ull, 129ull, 1000ull, 123456789ull, (1ull << 41) + 5}) {
        auto i = Histogram::index_of(v);
        check(i < Histogram::kBuckets && Histogram::upper_bound_of(i) >= v &&
                  (i == 0 || Histogram::upper_bound_of(i - 1) < v),
              "histogram bucket bounds");
    }
    std::printf(failures ? "self-test: %d failures\n" : "self-test: ok\n", failures);
    return failures ? 1 : 0;
}

}  // namespace
}  // namespace herald::bench

int main(int argc, char** argv) {
    herald::bench::Options o;
    bool exit_ok = false;
    if (!herald::bench::parse_options(argc, argv, o, exit_ok)) return exit_ok ? 0 : 1;
    if (o.self_test) return herald::bench::self_test();
    if (o.baseline) {
        herald::bench::BaselineResult b;
        if (!herald::bench::run_baseline(o.baseline_core, o.duration, b)) {
            std::fprintf(stderr, "herald-loadgen: baseline failed\n");
            return 1;
        }
        if (o.json)
            std::printf(
                "{\"mode\":\"baseline\",\"label\":\"%s\",\"roundtrips_per_s\":%.1f,"
                "\"cpu_ns_per_iter\":%.3f}\n",
                o.label.c_str(), b.roundtrips_per_s, b.cpu_ns_per_iter);
        else
            std::printf(
                "baseline: %.0f round trips/s (1 KiB / 64 B, loopback TCP), CPU loop "
                "%.3f ns/iteration on core %d\n",
                b.roundtrips_per_s, b.cpu_ns_per_iter, o.baseline_core);
        return 0;
    }
    // Deliberately never destroyed: pending operations still point into the connections' handler
    // slots, and tearing down thousands of sockets in order buys nothing at exit.
    auto* run = new herald::bench::Run(o);
    return run->execute();
}
