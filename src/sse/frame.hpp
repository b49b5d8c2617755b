#pragma once
// Server-Sent Events framing (WHATWG HTML §9.2). An event is
//   id: <cursor>\nevent: <type>\ndata: <structured CloudEvent JSON on one line>\n\n
// The JSON encoder never emits a raw newline (string escapes keep \n out), so one `data:` line always suffices.

#include <optional>
#include <string>
#include <string_view>

#include "hub/encoded_batch.hpp"

namespace herald::sse {

void encode_event(std::string& out, const hub::EventView& event);
// A Herald control event (herald.reset, herald.shutdown, herald.end); `cursor` becomes the id: line when set,
// so a reconnecting EventSource resumes from it.
std::string control_event(std::string_view name, std::string_view json_data,
                          std::optional<std::string_view> cursor = std::nullopt);

}  // namespace herald::sse
