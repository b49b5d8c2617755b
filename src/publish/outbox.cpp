#include "publish/outbox.hpp"

#include <boost/asio/post.hpp>

#include <exception>
#include <string>

namespace herald::publish {

boost::asio::execution_context::id Outbox::id;

Outbox::Outbox(boost::asio::execution_context& context) : boost::asio::execution_context::service(context) {}

void Outbox::submit(engine::Engine& engine, engine::PublishRequest request, engine::PublishCallback done,
                    const boost::asio::any_io_executor& executor) {
    bool post = false;
    std::vector<engine::PendingPublish> earlier;
    engine::Engine* earlier_engine = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (engine_ && engine_ != &engine && !pending_.empty()) {
            // Another engine (tests run several): what waits for the first one goes first, below.
            earlier.swap(pending_);
            earlier_engine = engine_;
        }
        engine_ = &engine;
        pending_.push_back(engine::PendingPublish{std::move(request), std::move(done)});
        requests_.fetch_add(1, std::memory_order_relaxed);
        if (!posted_) post = posted_ = true;
    }
    if (earlier_engine) deliver(*earlier_engine, earlier);
    if (!post) return;
    try {
        boost::asio::post(executor, [this] { hand_over(); });
    } catch (...) {
        // Nothing was posted: take this request back (the caller gets the exception instead of an answer) and
        // let the next submit post again. It is the last one queued: submit runs on the context's one thread.
        std::lock_guard lock(mutex_);
        pending_.pop_back();
        posted_ = false;
        throw;
    }
}

void Outbox::deliver(engine::Engine& engine, std::vector<engine::PendingPublish>& batch) {
    hand_overs_.fetch_add(1, std::memory_order_relaxed);
    try {
        engine.publish_batch(batch);
    } catch (const std::exception& e) {
        // Requests the engine did not take (their callbacks are still set) are answered, not dropped: they
        // may belong to other connections than the one whose request failed.
        for (auto& p : batch)
            if (p.done) p.done(make_error(Errc::unavailable, std::string("the engine refused the request: ") + e.what()));
    }
    batch.clear();
}

void Outbox::hand_over() {
    engine::Engine* engine = nullptr;
    std::vector<engine::PendingPublish> batch;
    {
        std::lock_guard lock(mutex_);
        posted_ = false;
        batch.swap(pending_);
        engine = engine_;
    }
    if (!batch.empty()) deliver(*engine, batch);
}

void Outbox::shutdown() {
    std::vector<engine::PendingPublish> dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(pending_);
    }
    // Destroyed outside the lock: a completion's destructor may post to the scheduler.
}

}  // namespace herald::publish
