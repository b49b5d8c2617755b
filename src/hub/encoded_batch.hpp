#pragma once
// A committed batch encoded once per wire format, shared read-only by every subscriber on every worker
// (DESIGN.md §2 "encode once, write many"). Each format's frames sit back to back in one string, so a run of
// consecutive frames is a single buffer for writev.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
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

struct EncodedBatch {
    std::string topic;
    std::uint64_t epoch = 0;
    std::uint64_t base_offset = 0;
    std::int64_t commit_ns = 0;
    std::vector<std::string> types;  // per event, for ?types= filters

    struct Frames {
        std::string bytes;
        std::vector<std::uint32_t> ends;  // ends[i] = one past frame i in `bytes`
    };
    std::array<Frames, kWireFormats> formats;

    std::size_t size() const noexcept { return types.size(); }
    std::uint64_t end_offset() const noexcept { return base_offset + size(); }
    // Frames [first, last) of `format`, contiguous.
    std::string_view frames(WireFormat format, std::size_t first, std::size_t last) const noexcept {
        auto& f = formats[static_cast<std::size_t>(format)];
        std::uint32_t begin = first == 0 ? 0 : f.ends[first - 1];
        return std::string_view(f.bytes).substr(begin, f.ends[last - 1] - begin);
    }
};

using BatchPtr = std::shared_ptr<const EncodedBatch>;

}  // namespace herald::hub
