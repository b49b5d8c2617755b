#include "hub/hub.hpp"

#include <boost/asio/post.hpp>

namespace herald::hub {

WorkerHub::WorkerHub(boost::asio::io_context& io, std::chrono::milliseconds tick_period)
    : io_(io), tick_(io), tick_period_(tick_period) {
    arm_tick();
}

WorkerHub::~WorkerHub() {
    for (auto& [topic, list] : topics_) list.clear();
    tickers_.clear();
    flush_queue_.clear();
}

void WorkerHub::request_flush(Writer& w) {
    if (w.WriterHook::is_linked()) return;
    flush_queue_.push_back(w);
    if (!flush_posted_) post_flushes();
}

void WorkerHub::post_flushes() {
    // The flag is set only once the handler is posted: if posting throws, the next request tries again.
    boost::asio::post(io_, [this] { run_flushes(); });
    flush_posted_ = true;
}

void WorkerHub::run_flushes() {
    flush_posted_ = false;
    std::uint64_t n = 0;
    for (; n < kFlushSlice && !flush_queue_.empty(); ++n) {
        Writer& w = flush_queue_.front();
        flush_queue_.pop_front();
        w.flush();
    }
    stats_.flushes.fetch_add(n, std::memory_order_relaxed);
    // The rest waits behind whatever was posted meanwhile (batches to dispatch, I/O completions).
    if (!flush_queue_.empty() && !flush_posted_) post_flushes();
}

void WorkerHub::add_ticker(Ticker& t) {
    t.TickerHook::unlink();
    tickers_.push_back(t);
}

void WorkerHub::subscribe(const std::string& topic, Subscriber& s) {
    s.unlink();
    topics_[topic].push_back(s);
}

std::size_t WorkerHub::subscriber_count(const std::string& topic) const {
    auto it = topics_.find(topic);
    return it == topics_.end() ? 0 : it->second.size();
}

void WorkerHub::dispatch(const BatchPtr& batch) {
    stats_.batches.fetch_add(1, std::memory_order_relaxed);
    auto it = topics_.find(batch->topic);
    if (it == topics_.end()) return;
    std::uint64_t n = 0;
    for (auto& s : it->second) {
        s.on_batch(batch);
        ++n;
    }
    stats_.deliveries.fetch_add(n * batch->size(), std::memory_order_relaxed);
}

void WorkerHub::arm_tick() {
    tick_.expires_after(tick_period_);
    tick_.async_wait([this](boost::system::error_code ec) {
        if (ec || shut_down_) return;
        auto now = std::chrono::steady_clock::now();
        for (auto& [topic, list] : topics_)
            for (auto& s : list) s.on_tick(now);
        for (auto& t : tickers_) t.on_tick(now);
        arm_tick();
    });
}

void WorkerHub::shutdown() {
    shut_down_ = true;
    tick_.cancel();
    // Subscribers may unlink themselves in on_shutdown; walk a snapshot.
    std::vector<Subscriber*> all;
    for (auto& [topic, list] : topics_)
        for (auto& s : list) all.push_back(&s);
    std::vector<Ticker*> tickers;
    for (auto& t : tickers_) tickers.push_back(&t);
    for (auto* s : all) s->on_shutdown();
    for (auto* t : tickers) t->on_shutdown();
}

Hub::Hub(Encoders encoders, std::vector<WorkerHub*> workers)
    : encoders_(std::move(encoders)), workers_(std::move(workers)) {}

void Hub::on_commit(engine::CommittedBatch&& committed) {
    auto batch = std::make_shared<EncodedBatch>();
    batch->topic = std::move(committed.topic);
    batch->epoch = committed.epoch;
    batch->base_offset = committed.base_offset;
    batch->commit_ns = committed.commit_ns;
    batch->types.reserve(committed.events.size());
    std::size_t json_bytes = 0;
    for (auto& e : committed.events) json_bytes += e.json.size() + e.type.size();
    for (std::size_t f = 0; f < kWireFormats; ++f) {
        if (!encoders_[f]) continue;
        auto& frames = batch->formats[f];
        frames.bytes.reserve(json_bytes + committed.events.size() * 64);
        frames.ends.reserve(committed.events.size());
        for (auto& e : committed.events) {
            encoders_[f](frames.bytes, EventView{batch->topic, engine::Cursor{committed.epoch, e.offset + 1}, e.type, e.json});
            frames.ends.push_back(static_cast<std::uint32_t>(frames.bytes.size()));
        }
    }
    for (auto& e : committed.events) batch->types.push_back(std::move(e.type));
    BatchPtr shared = std::move(batch);
    for (auto* w : workers_)
        boost::asio::post(w->io(), [w, shared] { w->dispatch(shared); });
}

}  // namespace herald::hub
