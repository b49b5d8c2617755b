#include "hub/hub.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace herald::hub {

WorkerHub::WorkerHub(boost::asio::io_context& io, std::chrono::milliseconds tick_period)
    : io_(io), tick_(io), tick_period_(tick_period) {
    arm_tick();
}

WorkerHub::~WorkerHub() {
    for (auto& [topic, subs] : topics_) subs.list.clear();
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

void Interest::announce(std::size_t worker, const std::string& topic) {
    std::lock_guard lock(mu_);
    auto& workers = by_topic_[topic];
    workers.resize(workers_);
    workers.at(worker) = true;
}

void Interest::withdraw(std::size_t worker, const std::string& topic) {
    std::lock_guard lock(mu_);
    auto it = by_topic_.find(topic);
    if (it == by_topic_.end()) return;
    it->second.at(worker) = false;
    if (std::find(it->second.begin(), it->second.end(), true) == it->second.end()) by_topic_.erase(it);
}

std::vector<std::size_t> Interest::workers_of(const std::string& topic) const {
    std::vector<std::size_t> out;
    std::lock_guard lock(mu_);
    auto it = by_topic_.find(topic);
    if (it == by_topic_.end()) return out;
    for (std::size_t i = 0; i < it->second.size(); ++i)
        if (it->second[i]) out.push_back(i);
    return out;
}

void WorkerHub::attach(std::shared_ptr<Interest> interest, std::size_t index) {
    interest_ = std::move(interest);
    index_ = index;
    for (auto& [topic, subs] : topics_) {
        subs.announced = !subs.list.empty();
        if (subs.announced) interest_->announce(index_, topic);
    }
}

void WorkerHub::subscribe(const std::string& topic, Subscriber& s) {
    s.unlink();
    auto& subs = topics_[topic];
    // Announced before the subscriber reads the log (it does so after this returns): see Interest.
    if (interest_ && !subs.announced) {
        interest_->announce(index_, topic);
        subs.announced = true;
    }
    subs.list.push_back(s);
}

std::size_t WorkerHub::subscriber_count(const std::string& topic) const {
    auto it = topics_.find(topic);
    return it == topics_.end() ? 0 : it->second.list.size();
}

void WorkerHub::dispatch(const BatchPtr& batch) {
    stats_.batches.fetch_add(1, std::memory_order_relaxed);
    auto it = topics_.find(batch->topic);
    if (it == topics_.end()) return;
    auto& subs = it->second;
    if (subs.list.empty()) {
        // The last subscriber left since this worker announced the topic: later batches need not come here.
        if (interest_ && subs.announced) interest_->withdraw(index_, batch->topic);
        subs.announced = false;
        return;
    }
    std::uint64_t n = 0;
    for (auto& s : subs.list) {
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
        for (auto& [topic, subs] : topics_)
            for (auto& s : subs.list) s.on_tick(now);
        for (auto& t : tickers_) t.on_tick(now);
        arm_tick();
    });
}

void WorkerHub::shutdown() {
    shut_down_ = true;
    tick_.cancel();
    // Subscribers may unlink themselves in on_shutdown; walk a snapshot.
    std::vector<Subscriber*> all;
    for (auto& [topic, subs] : topics_)
        for (auto& s : subs.list) all.push_back(&s);
    std::vector<Ticker*> tickers;
    for (auto& t : tickers_) tickers.push_back(&t);
    for (auto* s : all) s->on_shutdown();
    for (auto* t : tickers) t->on_shutdown();
}

Hub::Hub(Encoders encoders, std::vector<WorkerHub*> workers)
    : encoders_(std::move(encoders)),
      workers_(std::move(workers)),
      interest_(std::make_shared<Interest>(workers_.size())) {
    for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i]->attach(interest_, i);
}

void Hub::on_commit(engine::CommittedBatch&& committed) {
    // The engine made the batch visible before calling: asking now is what makes skipping it exact (Interest).
    const auto targets = interest_->workers_of(committed.topic);
    if (targets.empty()) {
        unwatched_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    auto batch = std::make_shared<EncodedBatch>();
    batch->topic = std::move(committed.topic);
    batch->epoch = committed.epoch;
    batch->base_offset = committed.base_offset;
    batch->commit_ns = committed.commit_ns;
    batch->types.reserve(committed.events.size());
    batch->offsets.reserve(committed.events.size());
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
    for (auto& e : committed.events) {
        batch->types.push_back(std::move(e.type));
        batch->offsets.push_back(e.offset);
    }
    BatchPtr shared = std::move(batch);
    for (auto i : targets) {
        WorkerHub* w = workers_[i];
        boost::asio::post(w->io(), [w, shared] { w->dispatch(shared); });
    }
}

}  // namespace herald::hub
