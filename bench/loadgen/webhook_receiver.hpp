// The webhook receiver of `herald-loadgen --webhook-receiver`: an HTTP/1.1 keep-alive server on
// 127.0.0.1 (an ephemeral port) that answers every POST with 204 and verifies nothing. Each webhook
// subscription the generator creates points at its own path, /hook/<index>; the body (the
// structured CloudEvent) is scanned for the generator's seq and t, so each delivery gives a
// publish-to-receipt latency and each subscription a bitmap for lost and duplicated events.
//
// Threading: the receiver runs on its own thread with its own io_context, so its CPU time can be
// read apart from the publishers' (the claim to check is "the receiver was not the bottleneck").
// Its tallies, histogram and counters belong to that thread; other threads use only the methods
// marked "any thread", and read the rest after stop() joined the thread.
//
// Bounded: a fixed pool of connection objects allocated up front (a connection beyond it is
// accepted and closed at once, and counted), a fixed buffer per connection (a request larger
// than it closes the connection), no allocation per request.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loadgen/handler_memory.hpp"
#include "loadgen/histogram.hpp"
#include "loadgen/tally.hpp"

namespace herald::bench {

class WebhookReceiver {
public:
    struct Config {
        std::size_t hooks = 1;             // paths /hook/0 .. /hook/<hooks-1>
        std::uint64_t capacity = 1;        // the run's seq space
        std::size_t words = 1;             // bitmap words per hook
        std::size_t buffer_bytes = 65536;  // per connection: the largest request accepted
        std::size_t max_connections = 1024;
        std::size_t ports = 1;  // listening ports: hook i is served at port(i % ports), each a webhook origin
        bool track_worst = false;  // the slowest delivery per seq (runs of at most 1M events)
    };
    struct Stats {
        std::uint64_t accepted = 0;
        std::uint64_t refused = 0;  // beyond max_connections
        std::uint64_t closed_by_peer = 0;
        std::uint64_t requests = 0;
        std::uint64_t bad_requests = 0;  // malformed, chunked, too large: the connection is closed
        std::uint64_t unknown_path = 0;  // answered 204 but counted nowhere
        std::size_t open_max = 0;
    };

    explicit WebhookReceiver(const Config& config);
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    // Binds `ports` sockets on 127.0.0.1:0 and listens; connections queue in the kernel until start().
    bool listen(std::string& why);
    // The port of hook `i`'s URL: with several ports, each is a distinct origin to the server, with its own
    // connection pool (the "100 receivers" case rather than 100 paths of one).
    std::uint16_t port(std::size_t hook = 0) const { return listeners_[hook % listeners_.size()]->port; }
    // Marks hook `i` as subscribed (counts in the loss accounting); before start() only.
    void set_ready(std::size_t i) { tallies_[i].ready = true; }
    // Starts the thread. `acked` is the run's bitmap of acknowledged seqs: read only after
    // request_check(), when publishing is over and it no longer changes.
    void start(const std::uint64_t* acked);
    // Stops the io_context and joins the thread; idempotent.
    void stop();

    // Any thread.
    std::uint64_t deliveries() const {
        return deliveries_published_.load(std::memory_order_relaxed);
    }
    void request_check(std::uint64_t acked_count);
    bool all_complete() const { return all_complete_.load(std::memory_order_acquire); }
    double thread_cpu_seconds() const;

    // After stop().
    std::vector<Tally>& tallies() { return tallies_; }
    const Histogram& latency() const { return *latency_; }
    const std::vector<WorstDelivery>& worst() const { return worst_; }
    const Stats& stats() const { return stats_; }
    std::uint64_t deliveries_total() const { return deliveries_; }

private:
    struct Conn {
        Conn(boost::asio::io_context& io, std::size_t cap);
        boost::asio::ip::tcp::socket socket;
        std::unique_ptr<char[]> buf;
        std::size_t cap;
        std::size_t fill = 0;
        std::size_t due = 0;      // 204s owed
        std::size_t writing = 0;  // 204s in the write in flight
        bool open = false;
        bool reading = false;
        bool close_after_write = false;
        HandlerSlot<> read_slot;
        HandlerSlot<384> write_slot;
    };

    struct Listener {
        explicit Listener(boost::asio::io_context& io) : acceptor(io), spare(io) {}
        boost::asio::ip::tcp::acceptor acceptor;
        boost::asio::ip::tcp::socket spare;  // accepts and closes connections beyond the pool
        HandlerSlot<512> slot;  // an accept operation carries its socket: about 270 B
        std::uint16_t port = 0;
    };

    void accept(Listener* l);
    void read(Conn* c);
    void on_read(Conn* c, const boost::system::error_code& ec, std::size_t n);
    void write(Conn* c);
    void close(Conn* c);
    void maybe_release(Conn* c);
    void check_tick();

    Config config_;
    boost::asio::io_context io_{1};
    std::vector<std::unique_ptr<Listener>> listeners_;
    boost::asio::steady_timer check_timer_{io_};
    HandlerSlot<> check_slot_;
    std::vector<std::unique_ptr<Conn>> conns_;
    std::vector<Conn*> free_;
    std::size_t open_ = 0;

    std::vector<std::uint64_t> bits_;
    std::vector<Tally> tallies_;
    std::unique_ptr<Histogram> latency_ = std::make_unique<Histogram>();
    std::vector<WorstDelivery> worst_;
    std::uint64_t deliveries_ = 0;
    Stats stats_;

    const std::uint64_t* acked_ = nullptr;
    std::atomic<bool> check_requested_{false};
    std::atomic<std::uint64_t> check_acked_count_{0};
    std::atomic<bool> all_complete_{false};
    std::atomic<std::uint64_t> deliveries_published_{0};
    std::thread thread_;
    bool stopped_ = false;
};

}  // namespace herald::bench
