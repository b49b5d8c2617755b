// The event record codec; the byte layout is documented in event_record.hpp. Lengths are written
// byte by byte in little-endian order so the format does not depend on the host's endianness or
// alignment.

#include "core/event_record.hpp"

#include <cstddef>
#include <cstdint>

namespace herald::core {
namespace {

constexpr std::uint8_t record_version = 1;
constexpr std::size_t max_field = 0xFFFF;

void append_field(std::string& out, std::string_view field) {
    out.push_back(static_cast<char>(field.size() & 0xFF));
    out.push_back(static_cast<char>((field.size() >> 8) & 0xFF));
    out.append(field);
}

// Reads one u16-length-prefixed field at `pos`; false when the payload ends first.
bool read_field(std::string_view payload, std::size_t& pos, std::string_view& field) noexcept {
    if (payload.size() - pos < 2) return false;
    const std::size_t len =
        static_cast<unsigned char>(payload[pos]) |
        (static_cast<std::size_t>(static_cast<unsigned char>(payload[pos + 1])) << 8);
    pos += 2;
    if (payload.size() - pos < len) return false;
    field = payload.substr(pos, len);
    pos += len;
    return true;
}

}  // namespace

Result<void> append_event_record(std::string& out, std::string_view id, std::string_view type,
                                 std::string_view idempotency_key, std::string_view json) {
    if (id.size() > max_field) {
        return make_error(Errc::invalid_argument, "id must be at most 65535 bytes to be stored",
                          "id");
    }
    if (type.size() > max_field) {
        return make_error(Errc::invalid_argument, "type must be at most 65535 bytes to be stored",
                          "type");
    }
    if (idempotency_key.size() > max_field) {
        return make_error(Errc::invalid_argument,
                          "idempotency key must be at most 65535 bytes to be stored",
                          "idempotency_key");
    }
    // A record always carries its event; an empty JSON part is what a truncated record looks like,
    // so the decoder treats it as corruption and the encoder must never produce it.
    if (json.empty()) {
        return make_error(Errc::invalid_argument, "the event JSON must not be empty", "json");
    }
    out.reserve(out.size() + event_record_size(id, type, idempotency_key, json));
    out.push_back(static_cast<char>(record_version));
    append_field(out, id);
    append_field(out, type);
    append_field(out, idempotency_key);
    out.append(json);
    return ok();
}

Result<std::string> encode_event_record(std::string_view id, std::string_view type,
                                        std::string_view idempotency_key, std::string_view json) {
    std::string out;
    auto appended = append_event_record(out, id, type, idempotency_key, json);
    if (!appended) return std::move(appended).error();
    return out;
}

Result<EventRecordView> decode_event_record(std::string_view payload) {
    if (payload.empty()) return make_error(Errc::corrupt, "event record is empty");
    const auto version = static_cast<unsigned char>(payload[0]);
    if (version != record_version) {
        return make_error(Errc::corrupt,
                          "event record has unknown version " + std::to_string(version));
    }
    EventRecordView view;
    std::size_t pos = 1;
    if (!read_field(payload, pos, view.id) || !read_field(payload, pos, view.type) ||
        !read_field(payload, pos, view.idempotency_key) || pos == payload.size()) {
        return make_error(Errc::corrupt, "event record is truncated");
    }
    view.json = payload.substr(pos);
    return view;
}

}  // namespace herald::core
