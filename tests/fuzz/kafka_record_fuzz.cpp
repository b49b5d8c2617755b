// Fuzz target: Kafka records other services write to a bridged topic (engine/kafka_record.hpp), read per the
// CloudEvents Kafka binding — structured, binary (ce_ headers) or wrapped.
//
// Input layout: byte 0 = header count (mod 8); then per header a length byte and name, a length byte and value;
// then a length byte and key (255 = no key); the rest is the record value.
// Invariants beyond "no crash, no sanitizer report":
//  - unless the record carries Herald's own headers (trusted: only Herald writes them), the event read is a
//    valid structured CloudEvent whose id, source and type are what the conversion reports;
//  - a wrapped record's id is "<topic>-<partition>-<offset>" (stable across nodes and reads);
//  - a valid event written in binary mode reads back as the same id, source and type.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "engine/kafka_record.hpp"
#include "fuzz_check.hpp"

using namespace herald;
namespace kafka = herald::engine::kafka;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::size_t pos = 0;
    auto take = [&](std::size_t n) {
        n = std::min(n, size - pos);
        std::string out(reinterpret_cast<const char*>(data + pos), n);
        pos += n;
        return out;
    };
    auto byte = [&]() -> int { return pos < size ? data[pos++] : 0; };
    if (size == 0) return 0;
    int count = byte() % 8;
    std::vector<kafka::RecordHeader> headers;
    bool herald_headers = false;
    for (int i = 0; i < count && pos < size; ++i) {
        auto name = take(static_cast<std::size_t>(byte()));
        auto value = take(static_cast<std::size_t>(byte()));
        herald_headers |= name.rfind("herald-", 0) == 0;
        headers.emplace_back(std::move(name), std::move(value));
    }
    int key_len = byte();
    std::string key = key_len == 255 ? std::string() : take(static_cast<std::size_t>(key_len));
    std::string value = take(size - pos);

    kafka::RecordIn in;
    in.topic = "legacy";
    in.partition = 3;
    in.offset = 1234;
    in.timestamp_ms = 1'700'000'000'000;
    if (key_len != 255) in.key = key;
    in.value = value;
    in.headers = &headers;
    auto ev = kafka::event_from_record(in, {});
    if (!herald_headers) {
        auto parsed = core::decode_structured(ev.json);
        HERALD_FUZZ_CHECK(parsed);
        HERALD_FUZZ_CHECK(parsed->id == ev.id && parsed->source == ev.source && parsed->type == ev.type);
        if (ev.wrapped) HERALD_FUZZ_CHECK(ev.id == "legacy-3-1234");
    }

    // The value as a structured event: written in binary mode, it reads back as itself.
    if (auto e = core::decode_structured(value)) {
        auto json = core::encode_structured(*e);
        auto rec = kafka::record_from_event(e->id, e->source, e->type, {}, json, kafka::WriteFormat::binary);
        HERALD_FUZZ_CHECK(rec);
        kafka::RecordIn back;
        back.topic = "legacy";
        back.value = rec->value;
        back.headers = &rec->headers;
        auto again = kafka::event_from_record(back, {});
        HERALD_FUZZ_CHECK(!again.wrapped);
        HERALD_FUZZ_CHECK(again.id == e->id && again.source == e->source && again.type == e->type);
    }
    return 0;
}
