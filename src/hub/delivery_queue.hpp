#pragma once
// The bounded list of bytes waiting to be written to one subscriber: slices of shared encoded batches (live
// delivery, no copy) and owned strings (catch-up reads, control frames). The owner checks bytes() against its
// high-water mark before pushing more; the queue itself never refuses.
//
// Threading: owned by one connection on one worker; not thread-safe.

#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "hub/encoded_batch.hpp"

namespace herald::hub {

class DeliveryQueue {
public:
    // `bytes` must point into memory that `keepalive` keeps alive (a shared batch, a subscription's prefix).
    // `ends_unit` false marks the first pieces of a unit that must reach the wire contiguously (a WebSocket
    // frame pushed as header, prefix and shared payload): gather() never stops inside a unit, because the
    // writer may put another queue's bytes right after what it gathered here.
    void push(std::shared_ptr<const void> keepalive, std::string_view bytes, bool ends_unit = true);
    void push(std::string owned, bool ends_unit = true);

    std::size_t bytes() const noexcept { return bytes_; }
    bool empty() const noexcept { return items_.empty(); }

    // Appends buffers for the front of the queue to `out`, whole units only: at most max_buffers, stopping once
    // max_bytes is reached — except that the first unit is always taken whole, so that progress is possible
    // whatever the limits. Returns the bytes covered. The buffers stay valid until consume().
    std::size_t gather(std::vector<boost::asio::const_buffer>& out, std::size_t max_buffers,
                       std::size_t max_bytes) const;
    // Drops `n` bytes from the front (what a write completed).
    void consume(std::size_t n);
    void clear();

private:
    struct Item {
        std::shared_ptr<const void> keepalive;  // keeps `view` alive when it points into shared memory
        std::string owned;   // or the bytes themselves
        std::string_view view;
        bool ends_unit = true;
    };
    std::deque<Item> items_;
    std::size_t bytes_ = 0;
};

}  // namespace herald::hub
