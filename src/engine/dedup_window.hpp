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
#include <vector>

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
    std::optional<Hit> find(std::string_view key, std::int64_t now_ms);
    // Records `key`; an existing entry is kept (the first append is the original).
    void insert(std::string key, Hit hit, std::int64_t at_ms);
    // find() and insert() in one probe: the existing entry if `key` is inside the window at `now_ms`, otherwise
    // nullopt and `key` is recorded with `hit` (the writer records an event's offset-to-be before appending it,
    // and takes it back with erase_newest if the append fails). It evicts nothing by count, so taking a round
    // back never loses an older entry and a round larger than max_entries still sees its own copies: the
    // writer calls trim() once the round is decided.
    std::optional<Hit> find_or_insert(std::string key, Hit hit, std::int64_t now_ms);
    // Removes the `n` most recent entries (at most size()).
    void erase_newest(std::size_t n);
    // Evicts the oldest entries down to max_entries (all of them when it is 0).
    void trim();
    std::size_t size() const noexcept { return entries_.size(); }
    const DedupOptions& options() const noexcept { return options_; }

private:
    // Every appended event is looked up and inserted, and once the window is full each insert drops the oldest
    // entry: three probes per event into a table of up to max_entries keys, far larger than the CPU caches. A
    // node-based hash map paid a cache miss per bucket and per node on each (a sixth of the server's CPU when
    // publishing batches); this index is a flat, open-addressed array of (hash, sequence) pairs probed
    // linearly, so a probe reads one cache line and touches an entry only when the full 64-bit hash matches.
    struct Entry {
        std::string key;
        std::uint64_t hash;
        Hit hit;
        std::int64_t at_ms;
    };
    struct Slot {
        std::uint64_t hash;
        std::uint64_t seq;  // kEmpty, or the sequence number of the entry (its position since the first insert)
    };
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

    static std::uint64_t hash_of(std::string_view key) noexcept;
    // The existing entry for `key`, or nullopt after adding it (no expiry, no eviction: the callers decide).
    std::optional<Hit> record(std::string key, Hit hit, std::int64_t at_ms);
    // The slot holding `key` (hash `h`), or the empty slot where it would go.
    std::size_t probe(std::string_view key, std::uint64_t h) const noexcept;
    const Entry& entry(std::uint64_t seq) const noexcept { return entries_[seq - first_seq_]; }
    void expire(std::int64_t now_ms);
    void drop_oldest();
    // Empties the slot of entry `seq` (hash `h`), closing the gap by backward shift.
    void erase_slot(std::uint64_t seq, std::uint64_t h);
    void grow();

    DedupOptions options_;
    std::deque<Entry> entries_;  // insertion order, oldest first; entry k has sequence number first_seq_ + k
    std::uint64_t first_seq_ = 0;
    std::vector<Slot> slots_;  // power-of-two size, at most half full
};

}  // namespace herald::engine
