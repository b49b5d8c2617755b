#pragma once
// A committed batch encoded once per wire format, shared read-only by every subscriber on every worker
// (DESIGN.md §2 "encode once, write many"). Each format's frames sit back to back in one string, so a run of
// consecutive frames is a single buffer for writev.

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cursor.hpp"

namespace herald::hub {

enum class WireFormat : std::uint8_t { sse = 0, websocket = 1 };
inline constexpr std::size_t kWireFormats = 2;

// What an encoder sees of an event, whether it comes from a live commit or from a read of the log.
struct EventView {
    std::string_view topic;
    engine::Cursor cursor;  // the position just after this event (what a client resumes from)
    std::string_view type;
    std::string_view json;  // the structured CloudEvent, one line
};

// Appends one event's frame in a wire format to `out`. Pure; called on the engine thread for live batches and on
// a worker for catch-up reads.
using Encoder = std::function<void(std::string& out, const EventView& event)>;
using Encoders = std::array<Encoder, kWireFormats>;

// Appends a compressed form of one encoded frame (permessage-deflate for WebSocket, supplied by that module so
// the hub stays transport-agnostic). Pure and thread-safe.
using CompressFn = void (*)(std::string& out, std::string_view frame);

struct EncodedBatch {
    std::string topic;
    std::uint64_t epoch = 0;
    std::uint64_t base_offset = 0;      // where the batch starts (engine::CommittedBatch)
    std::int64_t commit_ns = 0;
    std::vector<std::string> types;     // per event, for ?types= filters
    std::vector<std::uint64_t> offsets; // per event, ascending; consecutive except on a shared JetStream stream

    struct Frames {
        std::string bytes;
        std::vector<std::uint32_t> ends;  // ends[i] = one past frame i in `bytes`
    };
    std::array<Frames, kWireFormats> formats;

    // Frames [first, last) of `format`, each compressed by `compress` on its own: computed for the whole batch
    // by the first subscriber that asks, on its worker, then shared like `formats`. A process has a single
    // compression per format (permessage-deflate), so the cache is keyed by the format only.
    std::string_view compressed_frames(WireFormat format, CompressFn compress, std::size_t first,
                                       std::size_t last) const {
        auto& lazy = compressed_[static_cast<std::size_t>(format)];
        // call_once publishes the frames to every worker: the batch is otherwise immutable once shared, so
        // this is the only write after that point.
        std::call_once(lazy.once, [&] {
            auto& in = formats[static_cast<std::size_t>(format)];
            lazy.frames.ends.reserve(in.ends.size());
            for (std::size_t i = 0; i < in.ends.size(); ++i) {
                compress(lazy.frames.bytes, frames(format, i, i + 1));
                lazy.frames.ends.push_back(static_cast<std::uint32_t>(lazy.frames.bytes.size()));
            }
        });
        return slice(lazy.frames, first, last);
    }

    std::size_t size() const noexcept { return types.size(); }
    // The position after the batch (what a subscriber that took all of it resumes from).
    std::uint64_t end_offset() const noexcept { return offsets.empty() ? base_offset : offsets.back() + 1; }
    // The first event at or after `position` (size() when none is).
    std::size_t index_of(std::uint64_t position) const noexcept {
        return static_cast<std::size_t>(std::lower_bound(offsets.begin(), offsets.end(), position) - offsets.begin());
    }
    // Frames [first, last) of `format`, contiguous.
    std::string_view frames(WireFormat format, std::size_t first, std::size_t last) const noexcept {
        return slice(formats[static_cast<std::size_t>(format)], first, last);
    }

private:
    static std::string_view slice(const Frames& f, std::size_t first, std::size_t last) noexcept {
        std::uint32_t begin = first == 0 ? 0 : f.ends[first - 1];
        return std::string_view(f.bytes).substr(begin, f.ends[last - 1] - begin);
    }

    struct Lazy {
        std::once_flag once;
        Frames frames;
    };
    // Nothing is spent on compression until a subscriber that negotiated it needs this batch.
    mutable std::array<Lazy, kWireFormats> compressed_;
};

using BatchPtr = std::shared_ptr<const EncodedBatch>;

}  // namespace herald::hub
