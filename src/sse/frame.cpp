#include "sse/frame.hpp"

namespace herald::sse {

void encode_event(std::string& out, const hub::EventView& event) {
    out.append("id: ");
    engine::append_cursor(out, event.cursor);
    out.append("\nevent: ");
    out.append(event.type);
    out.append("\ndata: ");
    out.append(event.json);
    out.append("\n\n");
}

std::string control_event(std::string_view name, std::string_view json_data, std::optional<std::string_view> cursor) {
    std::string out;
    if (cursor) {
        out.append("id: ");
        out.append(*cursor);
        out.push_back('\n');
    }
    out.append("event: ");
    out.append(name);
    out.append("\ndata: ");
    out.append(json_data);
    out.append("\n\n");
    return out;
}

}  // namespace herald::sse
