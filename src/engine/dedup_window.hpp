#pragma once
// The idempotency window of one topic: which event keys (source + id) and Idempotency-Key values were appended
// recently, and at which offsets. Bounded twice: by age (the window, default 24 h) and by entry count (so a
// flood of unique ids costs a known amount of memory); the oldest entries go first either way.
//
// Threading: owned by the topic's writer; not thread-safe.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace herald::engine {

struct DedupOptions {
    std::int64_t window_ms = 24ll * 3600 * 1000;
    std::size_t max_entries = 100'000;
};

class DedupWindow {
public:
    // An event's dedup key: CloudEvents consumers may treat equal (source, id) as the same event.
    static std::string event_key(std::string_view source, std::string_view id);
    // An Idempotency-Key header value covers a whole request: it maps to the request's first offset and count.
    static std::string request_key(std::string_view key);

    explicit DedupWindow(DedupOptions options = {}) : options_(options) {}

    struct Hit {
        std::uint64_t offset;
        std::uint32_t count;
    };
    // The entry for `key` if it is still inside the window at `now_ms`.
    std::optional<Hit> find(const std::string& key, std::int64_t now_ms);
    // Records `key`; an existing entry is kept (the first append is the original).
    void insert(std::string key, Hit hit, std::int64_t at_ms);
    std::size_t size() const noexcept { return map_.size(); }
    const DedupOptions& options() const noexcept { return options_; }

private:
    void expire(std::int64_t now_ms);
    void drop_oldest();

    struct Entry {
        Hit hit;
        std::int64_t at_ms;
    };
    DedupOptions options_;
    std::unordered_map<std::string, Entry> map_;
    // Insertion order, oldest first. Pointers to keys stay valid across rehashing (iterators would not).
    std::deque<const std::string*> order_;
};

}  // namespace herald::engine
