#include "hub/delivery_queue.hpp"

#include <chrono>

namespace herald::hub {

std::int64_t steady_now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void DeliveryQueue::push(std::shared_ptr<const void> keepalive, std::string_view bytes, bool ends_unit,
                         CommitStamp stamp) {
    if (bytes.empty()) {
        // An empty last piece still closes its unit.
        if (ends_unit && !items_.empty()) items_.back().ends_unit = true;
        return;
    }
    bytes_ += bytes.size();
    items_.push_back(Item{std::move(keepalive), {}, bytes, ends_unit, stamp});
}

void DeliveryQueue::push(std::string owned, bool ends_unit) {
    if (owned.empty()) {
        if (ends_unit && !items_.empty()) items_.back().ends_unit = true;
        return;
    }
    bytes_ += owned.size();
    items_.push_back(Item{nullptr, std::move(owned), {}, ends_unit, {}});
    items_.back().view = items_.back().owned;  // small strings live inside Item: point after the move
}

std::size_t DeliveryQueue::gather(std::vector<boost::asio::const_buffer>& out, std::size_t max_buffers,
                                  std::size_t max_bytes) const {
    const std::size_t start = out.size();
    std::size_t total = 0;
    std::size_t committed_bytes = 0;    // up to the last unit boundary
    std::size_t committed_buffers = 0;
    for (auto& item : items_) {
        const bool have_a_unit = committed_buffers > 0;
        if (have_a_unit && (out.size() - start >= max_buffers || total >= max_bytes)) break;
        out.emplace_back(item.view.data(), item.view.size());
        total += item.view.size();
        if (item.ends_unit) {
            committed_bytes = total;
            committed_buffers = out.size() - start;
            if (out.size() - start >= max_buffers || total >= max_bytes) break;
        }
    }
    out.resize(start + committed_buffers);
    return committed_bytes;
}

void DeliveryQueue::consume(std::size_t n, LatencyRecorder* latency) {
    bytes_ -= n;
    // Consecutive slices of one batch (a WebSocket subscriber's frames, an SSE filter's runs) become one
    // histogram update.
    std::int64_t run_commit = 0;
    std::uint64_t run_events = 0;
    auto record = [&] {
        if (run_events == 0) return;
        if (latency->now_ns == 0) latency->now_ns = steady_now_ns();
        latency->histogram->observe(std::chrono::nanoseconds(latency->now_ns - run_commit), run_events);
        run_events = 0;
    };
    const bool recording = latency && latency->histogram;
    while (n > 0 && !items_.empty()) {
        auto& front = items_.front();
        if (n >= front.view.size()) {
            n -= front.view.size();
            if (recording && front.stamp.events && front.stamp.commit_ns) {
                if (front.stamp.commit_ns != run_commit) {
                    record();
                    run_commit = front.stamp.commit_ns;
                }
                run_events += front.stamp.events;
            }
            items_.pop_front();
        } else {
            front.view.remove_prefix(n);
            n = 0;
        }
    }
    if (recording) record();
}

void DeliveryQueue::clear() {
    items_.clear();
    bytes_ = 0;
}

}  // namespace herald::hub
