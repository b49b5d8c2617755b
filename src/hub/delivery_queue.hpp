#pragma once
// The bounded list of bytes waiting to be written to one subscriber: slices of shared encoded batches (live
// delivery, no copy) and owned strings (catch-up reads, control frames). The owner checks bytes() against its
// high-water mark before pushing more; the queue itself never refuses.
//
// Delivery latency: a live slice carries its batch's commit time and how many events it holds; when a write
// completes the last byte of such a slice, consume() records commit → now once for those events (one
// histogram update per batch slice, one clock read per write, nothing per event). Catch-up reads and control
// frames carry no commit time and are not recorded.
//
// Threading: owned by one connection on one worker; not thread-safe.

#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/histogram.hpp"
#include "hub/encoded_batch.hpp"

namespace herald::hub {

// The live events a slice of a committed batch holds, for the delivery-latency histogram.
struct CommitStamp {
    std::int64_t commit_ns = 0;  // EncodedBatch::commit_ns (steady clock); 0: not a live slice
    std::uint32_t events = 0;
};

// Where consume() records delivery latency. One per completed write, shared by every queue the write took bytes
// from, so the clock is read at most once per write.
struct LatencyRecorder {
    Histogram* histogram = nullptr;
    std::int64_t now_ns = 0;  // steady clock, read on first use
};

// The steady clock in the unit of EncodedBatch::commit_ns.
std::int64_t steady_now_ns() noexcept;

class DeliveryQueue {
public:
    // `bytes` must point into memory that `keepalive` keeps alive (a shared batch, a subscription's prefix).
    // `ends_unit` false marks the first pieces of a unit that must reach the wire contiguously (a WebSocket
    // frame pushed as header, prefix and shared payload): gather() never stops inside a unit, because the
    // writer may put another queue's bytes right after what it gathered here. `stamp`: the live events in
    // `bytes` (see the top of this file).
    void push(std::shared_ptr<const void> keepalive, std::string_view bytes, bool ends_unit = true,
              CommitStamp stamp = {});
    void push(std::string owned, bool ends_unit = true);

    std::size_t bytes() const noexcept { return bytes_; }
    bool empty() const noexcept { return items_.empty(); }

    // Appends buffers for the front of the queue to `out`, whole units only: at most max_buffers, stopping once
    // max_bytes is reached — except that the first unit is always taken whole, so that progress is possible
    // whatever the limits. Returns the bytes covered. The buffers stay valid until consume().
    std::size_t gather(std::vector<boost::asio::const_buffer>& out, std::size_t max_buffers,
                       std::size_t max_bytes) const;
    // Drops `n` bytes from the front (what a write completed). With a recorder, the live events whose last
    // byte this write completed are recorded in its histogram: commit → now.
    void consume(std::size_t n, LatencyRecorder* latency = nullptr);
    void clear();

private:
    struct Item {
        std::shared_ptr<const void> keepalive;  // keeps `view` alive when it points into shared memory
        std::string owned;   // or the bytes themselves
        std::string_view view;
        bool ends_unit = true;
        CommitStamp stamp;
    };
    std::deque<Item> items_;
    std::size_t bytes_ = 0;
};

}  // namespace herald::hub
