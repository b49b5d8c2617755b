#include "hub/delivery_queue.hpp"

namespace herald::hub {

void DeliveryQueue::push(std::shared_ptr<const void> keepalive, std::string_view bytes) {
    if (bytes.empty()) return;
    bytes_ += bytes.size();
    items_.push_back(Item{std::move(keepalive), {}, bytes});
}

void DeliveryQueue::push(std::string owned) {
    if (owned.empty()) return;
    bytes_ += owned.size();
    items_.push_back(Item{nullptr, std::move(owned), {}});
    items_.back().view = items_.back().owned;  // small strings live inside Item: point after the move
}

std::size_t DeliveryQueue::gather(std::vector<boost::asio::const_buffer>& out, std::size_t max_buffers,
                                  std::size_t max_bytes) const {
    std::size_t total = 0;
    for (auto& item : items_) {
        if (max_buffers == 0 || total >= max_bytes) break;
        out.emplace_back(item.view.data(), item.view.size());
        total += item.view.size();
        --max_buffers;
    }
    return total;
}

void DeliveryQueue::consume(std::size_t n) {
    bytes_ -= n;
    while (n > 0 && !items_.empty()) {
        auto& front = items_.front();
        if (n >= front.view.size()) {
            n -= front.view.size();
            items_.pop_front();
        } else {
            front.view.remove_prefix(n);
            n = 0;
        }
    }
}

void DeliveryQueue::clear() {
    items_.clear();
    bytes_ = 0;
}

}  // namespace herald::hub
