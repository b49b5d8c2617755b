#include "hub/feed.hpp"

#include <algorithm>

#include "core/event_record.hpp"

namespace herald::hub {

Feed::Feed(std::shared_ptr<engine::TopicReader> topic, std::uint64_t next_offset, FeedOptions options,
           const Encoder& encoder)
    : topic_(std::move(topic)), options_(std::move(options)), encoder_(encoder), next_(next_offset) {}

bool Feed::wants(std::string_view type) const noexcept {
    if (options_.types.empty()) return true;
    return std::find(options_.types.begin(), options_.types.end(), type) != options_.types.end();
}

void Feed::on_batch(const BatchPtr& batch) {
    if (!live_) return;  // catch-up reads will get these offsets from the log
    // A topic deleted and created again under the same name: this feed holds the old one, whose positions say
    // nothing about the new one's events (the client reconnects and gets the reset).
    if (batch->epoch != topic_->epoch()) return;
    if (batch->end_offset() <= next_) return;  // already delivered
    if (batch->base_offset > next_ || queue_.bytes() >= options_.high_water_bytes) {
        // A gap (we missed a batch) or a slow consumer: stop taking live batches, read the log instead.
        live_ = false;
        ++catchup_switches_;
        return;
    }
    // On a shared JetStream stream the batch may start before its first event (offsets have holes).
    auto first = batch->index_of(next_);
    auto n = batch->size();
    // Each slice carries the batch's commit time and its event count, for the delivery latency.
    auto stamp = [&](std::size_t from, std::size_t to) {
        return CommitStamp{batch->commit_ns, static_cast<std::uint32_t>(to - from)};
    };
    if (options_.frame_header) {
        push_framed(batch, first, n);
    } else if (options_.types.empty()) {
        queue_.push(batch, batch->frames(options_.format, first, n), true, stamp(first, n));
    } else {
        // Consecutive wanted frames become one slice.
        std::size_t run = first;
        for (std::size_t i = first; i < n; ++i) {
            if (wants(batch->types[i])) continue;
            if (run < i) queue_.push(batch, batch->frames(options_.format, run, i), true, stamp(run, i));
            run = i + 1;
        }
        if (run < n) queue_.push(batch, batch->frames(options_.format, run, n), true, stamp(run, n));
    }
    next_ = batch->end_offset();
}

void Feed::push_framed(const BatchPtr& batch, std::size_t first, std::size_t last) {
    const auto& prefix = *options_.frame_prefix;
    std::uint64_t compressed = 0;
    for (std::size_t i = first; i < last; ++i) {
        if (!wants(batch->types[i])) continue;
        auto frame = options_.compress ? batch->compressed_frames(options_.format, options_.compress, i, i + 1)
                                       : batch->frames(options_.format, i, i + 1);
        compressed += options_.compress != nullptr;
        unsigned char header[10];
        auto len = options_.frame_header(header, prefix.size() + frame.size());
        // The header fits in the string's inline buffer: no allocation per delivery.
        queue_.push(std::string(reinterpret_cast<const char*>(header), len), false);
        queue_.push(options_.frame_prefix, prefix, false);
        queue_.push(batch, frame, true, CommitStamp{batch->commit_ns, 1});
    }
    // One shared counter update per batch, not per event: every worker's subscribers write it.
    if (compressed && options_.compressed_messages)
        options_.compressed_messages->fetch_add(compressed, std::memory_order_relaxed);
}

void Feed::append_framed(std::string& out, std::string_view frame) const {
    const auto& prefix = *options_.frame_prefix;
    unsigned char header[10];
    auto len = options_.frame_header(header, prefix.size() + frame.size());
    out.append(reinterpret_cast<const char*>(header), len);
    out.append(prefix);
    out.append(frame);
}

Feed::Refill Feed::refill() {
    if (live_) return Refill::idle;
    auto records = topic_->read(next_, 1024, options_.refill_bytes);
    if (!records) {
        if (records.error().code == Errc::gone) {
            gap_from_ = next_;
            next_ = topic_->start_offset();
            return Refill::gap;
        }
        return Refill::idle;  // an I/O error: stay in catch-up, the caller retries later
    }
    if (records->empty()) {
        if (next_ < topic_->start_offset()) {
            gap_from_ = next_;
            next_ = topic_->start_offset();
            return Refill::gap;
        }
        // Nothing newer in the log: every later offset will arrive as a live batch.
        live_ = true;
        return Refill::idle;
    }
    std::string chunk;
    std::uint64_t compressed = 0;
    const auto epoch = topic_->epoch();
    for (auto& r : *records) {
        next_ = r.offset + 1;
        auto rec = core::decode_event_record(r.payload);
        if (!rec || !wants(rec->type)) continue;
        EventView view{topic_->name(), engine::Cursor{epoch, r.offset + 1}, rec->type, rec->json};
        if (options_.frame_header) {
            scratch_.clear();
            encoder_(scratch_, view);
            if (options_.compress) {
                // A catch-up read is this subscriber's own, so there is nothing to share: compress here.
                // The buffer is per thread, not per feed, so subscribers that never compress pay nothing.
                thread_local std::string compressed_frame;
                compressed_frame.clear();
                options_.compress(compressed_frame, scratch_);
                append_framed(chunk, compressed_frame);
                ++compressed;
            } else {
                append_framed(chunk, scratch_);
            }
        } else {
            encoder_(chunk, view);
        }
    }
    queue_.push(std::move(chunk));
    if (compressed && options_.compressed_messages)
        options_.compressed_messages->fetch_add(compressed, std::memory_order_relaxed);
    return Refill::queued;
}

}  // namespace herald::hub
