#pragma once
// Publishing figures per topic (docs/observability.md, herald_topic_* and
// herald_publish_duration_seconds): events and bytes appended, dedup hits, contract refusals and
// how long producers waited.
//
// Bounded: an entry is made only for a topic the engine has (declared, created through the admin
// API, or auto-created by a publish that got that far), never for a name a request merely mentions.
// Entries are never removed, so a reference stays valid for the registry's life; the exposition
// shows only the topics that still exist (a deleted topic's counters resume if it comes back, which
// Prometheus reads as a continuing counter).
//
// Threading: for_topic() and for_each() from any thread. The map is behind a shared mutex taken for
// reading on every publish (one uncontended atomic pair next to the engine's own per-publish work)
// and for writing only when a topic gets its entry; the counters are relaxed atomics.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "base/histogram.hpp"

namespace herald::publish {

struct TopicCounters {
    std::atomic<std::uint64_t> events{0};      // appended (duplicates excluded)
    std::atomic<std::uint64_t> bytes{0};       // event records appended (core/event_record.hpp)
    std::atomic<std::uint64_t> duplicates{0};  // events answered from the dedup window
    // Requests refused by a contract (schema, naming, accepted types).
    std::atomic<std::uint64_t> validation_failures{0};
    // Acknowledged publish requests: received → answer ready.
    Histogram publish_duration;
};

class TopicMetrics {
public:
    // The entry for `topic`, made on first use. Only for a topic the engine has (see above).
    TopicCounters& for_topic(std::string_view topic);
    // `f(name, counters)` for every entry, in name order, under the read lock: `f` must not call
    // for_topic().
    void for_each(const std::function<void(const std::string&, const TopicCounters&)>& f) const;

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, std::unique_ptr<TopicCounters>, std::less<>> topics_;
};

}  // namespace herald::publish
