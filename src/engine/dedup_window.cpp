#include "engine/dedup_window.hpp"

#include <algorithm>
#include <functional>

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

std::uint64_t DedupWindow::hash_of(std::string_view key) noexcept {
    // std::hash is 64 bits wide on this platform; the low bits pick the slot, all 64 are compared.
    return std::hash<std::string_view>{}(key);
}

std::size_t DedupWindow::probe(std::string_view key, std::uint64_t h) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.seq == kEmpty || (s.hash == h && entry(s.seq).key == key)) return i;
    }
}

std::optional<DedupWindow::Hit> DedupWindow::find(std::string_view key, std::int64_t now_ms) {
    expire(now_ms);
    if (entries_.empty()) return std::nullopt;
    const Slot& s = slots_[probe(key, hash_of(key))];
    if (s.seq == kEmpty) return std::nullopt;
    return entry(s.seq).hit;
}

std::optional<DedupWindow::Hit> DedupWindow::record(std::string key, Hit hit, std::int64_t at_ms) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash_of(key);
    Slot& s = slots_[probe(key, h)];
    if (s.seq != kEmpty) return entry(s.seq).hit;
    s = Slot{h, first_seq_ + entries_.size()};
    entries_.push_back(Entry{std::move(key), h, hit, at_ms});
    return std::nullopt;
}

void DedupWindow::insert(std::string key, Hit hit, std::int64_t at_ms) {
    if (options_.max_entries == 0) return;
    record(std::move(key), hit, at_ms);
    trim();
}

std::optional<DedupWindow::Hit> DedupWindow::find_or_insert(std::string key, Hit hit, std::int64_t now_ms) {
    expire(now_ms);
    return record(std::move(key), hit, now_ms);
}

void DedupWindow::trim() {
    while (entries_.size() > options_.max_entries) drop_oldest();
}

void DedupWindow::erase_newest(std::size_t n) {
    for (; n > 0 && !entries_.empty(); --n) {
        erase_slot(first_seq_ + entries_.size() - 1, entries_.back().hash);
        entries_.pop_back();
    }
}

void DedupWindow::grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(64, old.size() * 2), Slot{0, kEmpty});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
        if (s.seq == kEmpty) continue;
        std::size_t i = s.hash & mask;
        while (slots_[i].seq != kEmpty) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

void DedupWindow::expire(std::int64_t now_ms) {
    const std::int64_t oldest_kept = now_ms - options_.window_ms;
    while (!entries_.empty() && entries_.front().at_ms < oldest_kept) drop_oldest();
}

void DedupWindow::drop_oldest() {
    erase_slot(first_seq_, entries_.front().hash);
    entries_.pop_front();
    ++first_seq_;
}

void DedupWindow::erase_slot(std::uint64_t seq, std::uint64_t h) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i].seq != seq) i = (i + 1) & mask;
    // Backward-shift deletion: later slots of the same probe run move up into the hole, so lookups never
    // need tombstones and the table stays as short as if the entry had never been there.
    for (std::size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (slots_[j].seq == kEmpty) break;
        const std::size_t home = slots_[j].hash & mask;
        // Slot j may move to i only if its home is not in the cyclic range (i, j].
        const bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (home_between) continue;
        slots_[i] = slots_[j];
        i = j;
    }
    slots_[i].seq = kEmpty;
}

}  // namespace herald::engine
