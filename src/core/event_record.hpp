#pragma once
// The payload of one event inside the log: the few attributes Herald needs without parsing JSON (id for dedup,
// type for ?types= filters, the idempotency key for the dedup window rebuilt on restart) followed by the event in
// its structured JSON form, exactly the bytes sent to subscribers.
//
// Byte layout (little-endian), version 1:
//   u8  version (=1)
//   u16 id length          | id bytes
//   u16 type length        | type bytes
//   u16 idempotency length | idempotency key bytes (0 when none)
//   json: the rest of the payload
// Fields longer than 65535 bytes cannot be stored; the codec rejects them (the HTTP layer bounds them first).

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::core {

struct EventRecordView {
    std::string_view id;
    std::string_view type;
    std::string_view idempotency_key;
    std::string_view json;
};

Result<std::string> encode_event_record(std::string_view id, std::string_view type,
                                        std::string_view idempotency_key, std::string_view json);
// The same record appended to `out` (a writer building many records in one buffer); on error `out` is unchanged.
Result<void> append_event_record(std::string& out, std::string_view id, std::string_view type,
                                 std::string_view idempotency_key, std::string_view json);
// The size of the record encode_event_record makes of these fields (the layout above), without making it.
constexpr std::size_t event_record_size(std::string_view id, std::string_view type,
                                        std::string_view idempotency_key, std::string_view json) noexcept {
    return 1 + 2 + id.size() + 2 + type.size() + 2 + idempotency_key.size() + json.size();
}
// Views point into `payload`; Errc::corrupt when it is not a valid version-1 record.
Result<EventRecordView> decode_event_record(std::string_view payload);

}  // namespace herald::core
