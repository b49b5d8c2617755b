// What one receiving end — an SSE stream, a WebSocket subscription, a webhook subscription — got:
// a bitmap of the generator's sequence numbers (a slice of one big array owned by the run) and
// counters, from which the report computes lost, duplicated and unexpected deliveries against the
// set of acknowledged publishes. Threading: written by one thread (the one that owns the
// connection), read by others only after that thread is done with it.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>

namespace herald::bench {

constexpr std::int64_t kNsPerSec = 1'000'000'000;

// CLOCK_MONOTONIC, the clock every event's `t` is taken from.
inline std::int64_t mono_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

// The slowest delivery of one event, to say *when* slow deliveries happened.
struct WorstDelivery {
    std::int64_t sent_ns = 0;
    std::int64_t ns = 0;
};

struct Tally {
    std::uint64_t* bits = nullptr;  // received seqs
    bool ready = false;             // subscribed: counts in the loss accounting
    bool complete = false;          // has every acknowledged event (checked while draining)
    std::uint64_t unique = 0;       // distinct in-range seqs received
    std::uint64_t deliveries = 0;   // messages carrying a seq, duplicates included
    std::uint64_t dups = 0;
    std::uint64_t out_of_range = 0;
    std::uint64_t foreign = 0;  // events without a generator seq (someone else publishing)
    std::int64_t last_recv_ns = 0;

    // One delivery of `seq` (>= 0) seen at `now`; the seq space is [0, capacity).
    void record(std::uint64_t seq, std::uint64_t capacity, std::int64_t now) {
        ++deliveries;
        last_recv_ns = now;
        if (seq >= capacity) {
            ++out_of_range;
            return;
        }
        std::uint64_t& word = bits[seq >> 6];
        const std::uint64_t bit = std::uint64_t{1} << (seq & 63);
        if (word & bit) {
            ++dups;
        } else {
            word |= bit;
            ++unique;
        }
    }

    // Sets `complete` once every acknowledged seq has arrived.
    void finish_check(const std::uint64_t* acked, std::size_t words, std::uint64_t acked_count) {
        if (complete || unique < acked_count) return;
        for (std::size_t w = 0; w < words; ++w)
            if (acked[w] & ~bits[w]) return;
        complete = true;
    }
};

}  // namespace herald::bench
