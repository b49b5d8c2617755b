#pragma once
// Fan-out (DESIGN.md §2). The Hub is the engine's commit listener: it encodes each committed batch once per wire
// format on the engine thread, then posts the one immutable batch to every worker. Each worker's WorkerHub
// hands it to the subscribers of that topic living on that worker. No lock is taken on the delivery path; the
// only cross-thread traffic is one post and one reference count per batch per worker.
//
// Writes are batched per worker (the write scheduler): a subscriber that a batch gave bytes to does not write
// at once, it asks the WorkerHub for a flush. The worker then writes to the waiting connections in FIFO order,
// a slice of kFlushSlice connections per handler, so batches committed meanwhile are dispatched between slices.
// A connection still waiting for its turn when the next batch arrives writes both in one writev: under load
// the events per system call grow by themselves instead of the backlog (one loopback send costs the same for
// one event as for several, and that send is most of a delivery's cost), and a fan-out to many connections
// no longer holds up the worker's other work (publish requests, reads) for its whole length.
//
// Threading: Hub::on_commit runs on the engine thread. A WorkerHub and its subscribers belong to one worker
// thread; every WorkerHub method is called on it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"
#include "hub/encoded_batch.hpp"

namespace herald::hub {

using SubscriberHook = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

// Something on a worker that wants a topic's live batches: an SSE stream, a WebSocket subscription, a long-poll
// waiter. It unlinks itself on destruction (auto_unlink), so a closed connection needs no bookkeeping here.
class Subscriber : public SubscriberHook {
public:
    virtual ~Subscriber() = default;
    // Must not destroy or unlink any subscriber synchronously (post instead).
    virtual void on_batch(const BatchPtr& batch) = 0;
    // Called on every subscriber of the worker every heartbeat period, and once on shutdown.
    virtual void on_tick(std::chrono::steady_clock::time_point now) {}
    virtual void on_shutdown() {}
};

using SubscriberList = boost::intrusive::list<Subscriber, boost::intrusive::constant_time_size<false>>;

using WriterHook = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>,
                                                    boost::intrusive::tag<struct writer_tag>>;

// A connection whose writes the worker schedules (see the top of this file). It calls
// WorkerHub::request_flush() when it has bytes queued and no write in flight; the worker calls flush() once, on
// a later handler. Unlinks itself on destruction; flush() must not destroy any writer synchronously.
class Writer : public WriterHook {
public:
    virtual ~Writer() = default;
    virtual void flush() = 0;
};

using WriterList = boost::intrusive::list<Writer, boost::intrusive::base_hook<WriterHook>,
                                          boost::intrusive::constant_time_size<false>>;

using TickerHook = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>,
                                                    boost::intrusive::tag<struct ticker_tag>>;

// A connection that wants the worker's periodic tick and the shutdown notice without being a subscriber of one
// topic (a multiplexed WebSocket session: its subscriptions are Subscribers, the session is a Ticker).
// Unlinks itself on destruction. The same rules as Subscriber: never unlink another ticker synchronously.
class Ticker : public TickerHook {
public:
    virtual ~Ticker() = default;
    virtual void on_tick(std::chrono::steady_clock::time_point now) = 0;
    virtual void on_shutdown() = 0;
};

using TickerList = boost::intrusive::list<Ticker, boost::intrusive::base_hook<TickerHook>,
                                          boost::intrusive::constant_time_size<false>>;

// Counters of one worker's fan-out; read by metrics from other threads (relaxed atomics).
struct FanoutStats {
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> deliveries{0};  // events handed to subscribers (live path)
    std::atomic<std::uint64_t> flushes{0};     // Writer::flush calls (one write each, unless one was in flight)
};

class WorkerHub {
public:
    WorkerHub(boost::asio::io_context& io, std::chrono::milliseconds tick_period);
    ~WorkerHub();

    void subscribe(const std::string& topic, Subscriber& s);
    void add_ticker(Ticker& t);
    // Not needed for closing (auto_unlink); for moving a subscriber between topics.
    static void unsubscribe(Subscriber& s) { s.unlink(); }
    void dispatch(const BatchPtr& batch);
    // Queues `w` for a flush on a later handler of this worker; a writer already waiting keeps its place.
    void request_flush(Writer& w);
    // Connections flushed per handler before the worker turns to its other work.
    static constexpr std::size_t kFlushSlice = 64;
    void shutdown();
    boost::asio::io_context& io() noexcept { return io_; }
    std::size_t subscriber_count(const std::string& topic) const;
    FanoutStats& stats() noexcept { return stats_; }

private:
    void arm_tick();
    void run_flushes();
    void post_flushes();

    boost::asio::io_context& io_;
    std::unordered_map<std::string, SubscriberList> topics_;
    TickerList tickers_;
    WriterList flush_queue_;
    bool flush_posted_ = false;
    boost::asio::steady_timer tick_;
    std::chrono::milliseconds tick_period_;
    FanoutStats stats_;
    bool shut_down_ = false;
};

class Hub final : public engine::CommitListener {
public:
    Hub(Encoders encoders, std::vector<WorkerHub*> workers);
    void on_commit(engine::CommittedBatch&& batch) override;
    const Encoders& encoders() const noexcept { return encoders_; }
    const Encoder& encoder(WireFormat f) const noexcept { return encoders_[static_cast<std::size_t>(f)]; }

private:
    Encoders encoders_;
    std::vector<WorkerHub*> workers_;
};

}  // namespace herald::hub
