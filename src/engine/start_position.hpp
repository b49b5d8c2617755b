#pragma once
// Where a reader starts in a topic, from what a client sent (`from`, Last-Event-ID, a WebSocket subscribe):
// "earliest", "latest", a cursor, or nothing (the transport's default). A cursor of another epoch, or one whose
// events retention removed, is not an error: the reader starts at the first retained event and is told why.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "engine/engine.hpp"

namespace herald::engine {

struct Start {
    std::uint64_t next = 0;    // first offset to deliver
    std::string reset_reason;  // "epoch" or "retention" when the requested position could not be honoured
    std::uint64_t missed = 0;  // events skipped for retention
};

// Errc::invalid_argument for text that is not a position, or a cursor ahead of the log.
Result<Start> resolve_start(const TopicReader& topic, std::string_view text, bool default_latest);

}  // namespace herald::engine
