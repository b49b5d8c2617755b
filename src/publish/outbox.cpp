#include "publish/outbox.hpp"

#include <boost/asio/post.hpp>

namespace herald::publish {

boost::asio::execution_context::id Outbox::id;

Outbox::Outbox(boost::asio::execution_context& context) : boost::asio::execution_context::service(context) {}

void Outbox::submit(engine::Engine& engine, engine::PublishRequest request, engine::PublishCallback done,
                    const boost::asio::any_io_executor& executor) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        if (engine_ && engine_ != &engine && !pending_.empty()) {
            // Another engine (tests run several): what waits for the first one goes now, in order.
            std::vector<engine::PendingPublish> earlier;
            earlier.swap(pending_);
            engine_->publish_batch(earlier);
        }
        engine_ = &engine;
        pending_.push_back(engine::PendingPublish{std::move(request), std::move(done)});
        requests_.fetch_add(1, std::memory_order_relaxed);
        if (!posted_) post = posted_ = true;
    }
    if (post) boost::asio::post(executor, [this] { hand_over(); });
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
    if (batch.empty()) return;
    hand_overs_.fetch_add(1, std::memory_order_relaxed);
    engine->publish_batch(batch);
}

void Outbox::shutdown() {
    std::lock_guard lock(mutex_);
    pending_.clear();
}

}  // namespace herald::publish
