#include "engine/dedup_window.hpp"

namespace herald::engine {

std::string DedupWindow::event_key(std::string_view source, std::string_view id) {
    std::string k;
    k.reserve(source.size() + id.size() + 2);
    k.push_back('e');
    k.append(id);
    k.push_back('\0');  // cannot occur in a valid id, so (source, id) pairs never collide
    k.append(source);
    return k;
}

std::string DedupWindow::request_key(std::string_view key) {
    std::string k;
    k.reserve(key.size() + 1);
    k.push_back('k');
    k.append(key);
    return k;
}

std::optional<DedupWindow::Hit> DedupWindow::find(const std::string& key, std::int64_t now_ms) {
    expire(now_ms);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second.hit;
}

void DedupWindow::insert(std::string key, Hit hit, std::int64_t at_ms) {
    if (options_.max_entries == 0) return;
    auto [it, inserted] = map_.try_emplace(std::move(key), Entry{hit, at_ms});
    if (!inserted) return;
    order_.push_back(&it->first);
    while (map_.size() > options_.max_entries) drop_oldest();
}

void DedupWindow::expire(std::int64_t now_ms) {
    while (!order_.empty()) {
        auto it = map_.find(*order_.front());
        if (it->second.at_ms >= now_ms - options_.window_ms) break;
        drop_oldest();
    }
}

void DedupWindow::drop_oldest() {
    map_.erase(map_.find(*order_.front()));
    order_.pop_front();
}

}  // namespace herald::engine
