#include "engine/start_position.hpp"

namespace herald::engine {

Result<Start> resolve_start(const TopicReader& topic, std::string_view text, bool default_latest) {
    Start s;
    if (text.empty()) {
        s.next = default_latest ? topic.end_offset() : topic.start_offset();
        return s;
    }
    auto pos = parse_start(text);
    if (!pos) return std::move(pos).error();
    if (std::holds_alternative<StartEarliest>(*pos)) {
        s.next = topic.start_offset();
    } else if (std::holds_alternative<StartLatest>(*pos)) {
        s.next = topic.end_offset();
    } else {
        auto c = std::get<Cursor>(*pos);
        if (c.epoch != topic.epoch()) {
            s.next = topic.start_offset();
            s.reset_reason = "epoch";
        } else if (c.offset > topic.end_offset()) {
            return make_error(Errc::invalid_argument, "cursor is ahead of the topic's log", "cursor");
        } else if (c.offset < topic.start_offset()) {
            s.next = topic.start_offset();
            s.reset_reason = "retention";
            s.missed = topic.start_offset() - c.offset;
        } else {
            s.next = c.offset;
        }
    }
    return s;
}

}  // namespace herald::engine
