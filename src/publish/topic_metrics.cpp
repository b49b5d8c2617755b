#include "publish/topic_metrics.hpp"

#include <mutex>

namespace herald::publish {

TopicCounters& TopicMetrics::for_topic(std::string_view topic) {
    {
        std::shared_lock lock(mutex_);
        if (auto it = topics_.find(topic); it != topics_.end()) return *it->second;
    }
    std::unique_lock lock(mutex_);
    auto [it, inserted] = topics_.try_emplace(std::string(topic));
    if (inserted) it->second = std::make_unique<TopicCounters>();
    return *it->second;
}

void TopicMetrics::for_each(
    const std::function<void(const std::string&, const TopicCounters&)>& f) const {
    std::shared_lock lock(mutex_);
    for (auto& [name, counters] : topics_) f(name, *counters);
}

}  // namespace herald::publish
