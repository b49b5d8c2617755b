#pragma once
// Fan-out (DESIGN.md §2). The Hub is the engine's commit listener: it encodes each committed batch once per wire
// format on the engine thread, then posts the one immutable batch to every worker that has subscribers of its
// topic (Interest, below). Each worker's WorkerHub
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
#include <mutex>
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

// Which workers have subscribers of which topic, as each worker last said. The Hub encodes and posts a batch
// only to the workers interested in its topic: a topic nobody reads costs its publishers no frame encoding
// (about a seventh of the server's CPU when publishing batches) and the workers no wake-up.
//
// Exactness: a worker announces a topic before its new subscriber reads the log, and the engine makes a batch
// visible before asking; the mutex orders the two, so a subscriber either gets the batch live or finds it in
// the log. A worker withdraws only when a dispatch finds no subscriber left, so a stale announcement costs one
// more encoded batch, never a missed one.
//
// Threading: thread-safe.
class Interest {
public:
    explicit Interest(std::size_t workers) : workers_(workers) {}
    void announce(std::size_t worker, const std::string& topic);
    void withdraw(std::size_t worker, const std::string& topic);
    // The interested workers' indexes, in order; empty when nobody reads the topic.
    std::vector<std::size_t> workers_of(const std::string& topic) const;

private:
    std::size_t workers_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::vector<bool>> by_topic_;
};

class WorkerHub {
public:
    WorkerHub(boost::asio::io_context& io, std::chrono::milliseconds tick_period);
    ~WorkerHub();

    // Joins the Hub's interest registry as worker `index` (the Hub does this for the workers it is given).
    void attach(std::shared_ptr<Interest> interest, std::size_t index);
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

    struct TopicSubscribers {
        SubscriberList list;
        bool announced = false;  // this worker told interest_ it has subscribers of the topic
    };

    boost::asio::io_context& io_;
    std::unordered_map<std::string, TopicSubscribers> topics_;
    std::shared_ptr<Interest> interest_;
    std::size_t index_ = 0;
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
    // Batches committed while no worker had a subscriber of their topic: neither encoded nor posted.
    std::uint64_t unwatched_batches() const noexcept { return unwatched_.load(std::memory_order_relaxed); }
    const Encoders& encoders() const noexcept { return encoders_; }
    const Encoder& encoder(WireFormat f) const noexcept { return encoders_[static_cast<std::size_t>(f)]; }

private:
    Encoders encoders_;
    std::vector<WorkerHub*> workers_;
    std::shared_ptr<Interest> interest_;
    std::atomic<std::uint64_t> unwatched_{0};
};

}  // namespace herald::hub
