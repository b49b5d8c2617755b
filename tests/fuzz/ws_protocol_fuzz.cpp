// Fuzz target: the herald.v1 message decoder (websocket::decode_client_message), which reads every
// text message a /v1/ws client sends, followed by what the session does next with a decoded
// message: publish events go to core::decode_structured, ack cursors to engine::parse_cursor.
//
// Invariants beyond "no crash, no sanitizer report":
//  - decoded messages respect the documented bounds (ids 1-128 characters, topics 1-200, `from`
//    defaulted to "latest", publish events serialised JSON objects, ...);
//  - every answer the session builds from a message (subscribed, unsubscribed, error with the
//    message's ref/id) is valid JSON that carries those strings unchanged;
//  - append_json_string of any valid UTF-8 text parses back to that text.

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "core/codec.hpp"
#include "engine/cursor.hpp"
#include "fuzz_check.hpp"
#include "websocket/protocol.hpp"

using namespace herald;
namespace json = boost::json;
namespace ws = herald::websocket;

namespace {

// Parses `text`, which must be a JSON object, and returns it.
json::object must_parse_object(const std::string& text) {
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) std::fprintf(stderr, "not JSON (%s): %s\n", ec.message().c_str(), text.c_str());
    HERALD_FUZZ_CHECK(!ec);
    HERALD_FUZZ_CHECK(v.is_object());
    return std::move(v.as_object());
}

bool member_is(const json::object& o, const char* name, std::string_view expected) {
    const json::value* v = o.if_contains(name);
    return v != nullptr && v->is_string() && std::string_view(v->as_string()) == expected;
}

void check_error_answer(const ws::DecodeError& err) {
    HERALD_FUZZ_CHECK(!err.message.empty());
    json::object problem{{"type", "https://herald.dev/problems/invalid-message"},
                         {"title", "Invalid message"},
                         {"status", 400},
                         {"detail", err.message}};
    if (!err.member.empty()) problem["member"] = err.member;
    const std::string answer = ws::encode_error(err.ref, err.id, 400, json::serialize(problem));
    const json::object o = must_parse_object(answer);
    HERALD_FUZZ_CHECK(err.ref.empty() || member_is(o, "ref", err.ref));
    HERALD_FUZZ_CHECK(err.id.empty() || member_is(o, "id", err.id));
}

void check_message(const ws::ClientMessage& msg) {
    if (const auto* s = std::get_if<ws::Subscribe>(&msg)) {
        HERALD_FUZZ_CHECK(!s->id.empty() && s->id.size() <= 128);
        HERALD_FUZZ_CHECK(!s->topic.empty() && s->topic.size() <= 200);
        HERALD_FUZZ_CHECK(!s->from.empty() && s->from.size() <= 256);
        for (const auto& t : s->types) HERALD_FUZZ_CHECK(!t.empty());
        (void)engine::parse_start(s->from);
        const json::object o = must_parse_object(ws::encode_subscribed(s->id, s->topic, s->from));
        HERALD_FUZZ_CHECK(member_is(o, "id", s->id) && member_is(o, "topic", s->topic) &&
                          member_is(o, "cursor", s->from));
        std::string event = ws::event_prefix(s->id);
        ws::append_event_tail(event, "orders", "1.9f86d081884c7d65.42",
                              "{\"specversion\":\"1.0\"}");
        HERALD_FUZZ_CHECK(member_is(must_parse_object(event), "id", s->id));
    } else if (const auto* u = std::get_if<ws::Unsubscribe>(&msg)) {
        HERALD_FUZZ_CHECK(!u->id.empty() && u->id.size() <= 128);
        const json::object o =
            must_parse_object(ws::encode_unsubscribed(u->id, "1.0000000000000001.0"));
        HERALD_FUZZ_CHECK(member_is(o, "id", u->id));
    } else if (const auto* p = std::get_if<ws::Publish>(&msg)) {
        HERALD_FUZZ_CHECK(p->ref.size() <= 128);
        HERALD_FUZZ_CHECK(!p->topic.empty() && p->topic.size() <= 200);
        HERALD_FUZZ_CHECK(p->idempotency_key.size() <= 256);
        HERALD_FUZZ_CHECK(!p->events.empty());
        HERALD_FUZZ_CHECK(p->batch || p->events.size() == 1);
        for (const std::string& e : p->events) {
            (void)must_parse_object(e);
            auto decoded = core::decode_structured(e);
            if (decoded) HERALD_FUZZ_CHECK(core::validate(*decoded).has_value());
        }
        const json::object o = must_parse_object(ws::encode_published(p->ref, "[]"));
        HERALD_FUZZ_CHECK(member_is(o, "ref", p->ref));
    } else if (const auto* a = std::get_if<ws::Ack>(&msg)) {
        HERALD_FUZZ_CHECK(!a->id.empty() && a->id.size() <= 128);
        HERALD_FUZZ_CHECK(!a->cursor.empty() && a->cursor.size() <= 256);
        (void)engine::parse_cursor(a->cursor);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    auto decoded = ws::decode_client_message(text);
    if (const auto* err = std::get_if<ws::DecodeError>(&decoded)) {
        check_error_answer(*err);
    } else {
        check_message(std::get<ws::ClientMessage>(decoded));
    }

    if (fuzz::reference_utf8(text)) {
        std::string quoted;
        ws::append_json_string(quoted, text);
        json::error_code ec;
        json::value v = json::parse(quoted, ec);
        HERALD_FUZZ_CHECK(!ec && v.is_string() && std::string_view(v.as_string()) == text);
    }
    return 0;
}
