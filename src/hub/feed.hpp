#pragma once
// What one subscriber receives next (DESIGN.md §1: every consumer is a cursor into the log).
//
// A Feed holds the subscriber's next offset and moves between two modes:
//   live     — committed batches from the hub are sliced (from `next`) into the delivery queue, no copy;
//   catch-up — the subscriber is behind (it started in the past, or its queue passed the high-water mark), so
//              live batches are ignored and refill() reads from the log at `next` instead.
// The single rule that makes this exact: a batch is taken only when it covers next (its start at or before next,
// its end after it), from its first event at or after next, and taking it moves next to its end. A live batch
// that starts after next is a gap (switch to catch-up); one that ends at or before next is already delivered
// (skip). So no gap and no duplicate, whatever the order of live batches and log reads — and this holds when a
// topic's offsets have holes (a JetStream stream shared by several topics), since a batch says where it starts.
//
// Threading: owned by one connection on one worker.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "hub/delivery_queue.hpp"
#include "hub/encoded_batch.hpp"

namespace herald::hub {

// Writes a WebSocket text-frame header for a payload of `size` bytes into `out` (room for 10 bytes); returns
// its length. Supplied by the websocket module so the hub stays transport-agnostic.
using FrameHeaderFn = std::size_t (*)(unsigned char* out, std::uint64_t size);

struct FeedOptions {
    WireFormat format = WireFormat::sse;
    // Message framing (WebSocket): each event becomes header + prefix + the shared encoded frame, where the
    // prefix is the subscriber's own (its subscription id) and the frame is shared by every subscriber.
    std::shared_ptr<const std::string> frame_prefix;
    FrameHeaderFn frame_header = nullptr;
    // Compressed messages (WebSocket permessage-deflate): the shared frame is replaced by its compressed form,
    // made once per batch by `compress` (EncodedBatch::compressed_frames), and `frame_prefix` must already be
    // in the compressed format (so it can be written as is). `compressed_messages` counts what is queued.
    CompressFn compress = nullptr;
    std::atomic<std::uint64_t>* compressed_messages = nullptr;
    std::vector<std::string> types;              // deliver only these event types; empty = all
    std::size_t high_water_bytes = 256 * 1024;   // live → catch-up past this much unsent
    std::size_t refill_bytes = 64 * 1024;        // how much one catch-up read takes from the log
};

class Feed {
public:
    Feed(std::shared_ptr<engine::TopicReader> topic, std::uint64_t next_offset, FeedOptions options,
         const Encoder& encoder);

    // A live batch from the hub (same topic). Queues what this subscriber needs of it, or switches to catch-up.
    void on_batch(const BatchPtr& batch);

    enum class Refill { queued, idle, gap };
    // When the queue has drained below the low-water mark: in catch-up mode, reads the next chunk of the log
    // into the queue (queued), or switches to live when the log has nothing newer (idle). `gap` when the next
    // offset was removed by retention: next jumps to the first retained offset and gap_from() tells where it was.
    Refill refill();

    DeliveryQueue& queue() noexcept { return queue_; }
    std::uint64_t next_offset() const noexcept { return next_; }
    // The cursor a client resuming after everything queued so far should send back.
    engine::Cursor position() const noexcept { return engine::Cursor{topic_->epoch(), next_}; }
    bool live() const noexcept { return live_; }
    std::uint64_t gap_from() const noexcept { return gap_from_; }
    std::uint64_t catchup_switches() const noexcept { return catchup_switches_; }
    const engine::TopicReader& topic() const noexcept { return *topic_; }
    bool wants(std::string_view type) const noexcept;
    bool low_water() const noexcept { return queue_.bytes() < options_.high_water_bytes / 2; }

private:
    void push_framed(const BatchPtr& batch, std::size_t first, std::size_t last);
    void append_framed(std::string& out, std::string_view frame) const;

    std::shared_ptr<engine::TopicReader> topic_;
    FeedOptions options_;
    const Encoder& encoder_;
    DeliveryQueue queue_;
    std::string scratch_;  // catch-up encoding buffer, reused
    std::uint64_t next_;
    std::uint64_t gap_from_ = 0;
    std::uint64_t catchup_switches_ = 0;
    bool live_ = false;  // start in catch-up: the first refill() decides
};

}  // namespace herald::hub
