#pragma once
// The herald.v1 WebSocket subprotocol (docs/websocket.md): JSON text messages, one per frame.
//
// client → server                                   server → client
//   {"op":"subscribe","id","topic","from"?,"types"?}  {"op":"subscribed","id","topic","cursor"}
//   {"op":"unsubscribe","id"}                         {"op":"unsubscribed","id","cursor"}
//   {"op":"publish","ref","topic","event"|"events",   {"op":"published","ref","results":[…]}
//        "idempotency_key"?}
//   {"op":"ack","id","cursor"}                        {"op":"event","id","topic","cursor","event"}
//   {"op":"ping"}  (application-level, optional)      {"op":"reset","id","reason","cursor","missed"}
//   {"op":"auth","ref"?,"token"}                      {"op":"authenticated","ref","expires_at"?}
//                                                     {"op":"error","ref"|"id"?,"status","problem"}
//                                                     {"op":"pong"}
// Decoding never throws; a malformed message yields an error naming the member at fault, which the session
// answers with an `error` message (the connection continues).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"

namespace herald::websocket {

struct Subscribe {
    std::string id;      // the client's name for this subscription (1–128 chars), unique per connection
    std::string topic;
    std::string from;    // "earliest", "latest" (default), "acked" or a cursor
    std::vector<std::string> types;
};
struct Unsubscribe {
    std::string id;
};
struct Publish {
    std::string ref;                  // echoed in the answer
    std::string topic;
    std::vector<std::string> events;  // each a CloudEvent in the JSON format, serialised
    bool batch = false;               // "events" (array) rather than "event"
    std::string idempotency_key;
};
struct Ack {
    std::string id;
    std::string cursor;
};
struct Ping {};
// A fresh credential for a long-lived connection whose token is about to expire (same principal).
struct Auth {
    std::string ref;
    std::string token;
};

using ClientMessage = std::variant<Subscribe, Unsubscribe, Publish, Ack, Ping, Auth>;

struct DecodeError {
    std::string message;
    std::string member;  // e.g. "op", "topic", "events[2]"
    std::string ref;     // the message's ref or id when it could be read, so the error can be correlated
    std::string id;
};

// Parses one text message. On failure the DecodeError says why.
std::variant<ClientMessage, DecodeError> decode_client_message(std::string_view text);

// Server messages. `json_*` arguments are already-serialised JSON values.
std::string encode_subscribed(std::string_view id, std::string_view topic, std::string_view cursor);
std::string encode_unsubscribed(std::string_view id, std::string_view cursor);
std::string encode_published(std::string_view ref, std::string_view json_results);
std::string encode_reset(std::string_view id, std::string_view reason, std::string_view cursor,
                         std::uint64_t missed);
// `json_problem` is an RFC 9457 object; `ref`/`id` are included when non-empty.
std::string encode_error(std::string_view ref, std::string_view id, unsigned status,
                         std::string_view json_problem);
std::string encode_pong();
std::string encode_authenticated(std::string_view ref, std::string_view expires_at);

// The shared part of an `event` message for one committed event, encoded once per event by the hub:
//   "topic":"<topic>","cursor":"<cursor>","event":<event json>}
// A subscriber prepends its own prefix: `{"op":"event","id":"<sub id>",` on /v1/ws, `{` on one-topic streams.
std::string event_prefix(std::string_view subscription_id);
void append_event_tail(std::string& out, std::string_view topic, std::string_view cursor,
                       std::string_view event_json);

// JSON string escaping for the small hand-built messages above.
void append_json_string(std::string& out, std::string_view s);

}  // namespace herald::websocket
