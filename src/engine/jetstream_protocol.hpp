#pragma once
// The pure parts of the NATS JetStream engine (docs/engines.md): how Herald names map onto JetStream, how
// publish acknowledgements and stored messages are read back, and the message ids that make JetStream's
// deduplication do Herald's. No I/O here, so all of it is unit-tested without a server.
//
// Mapping:
//   topic "orders.eu"  →  stream  <stream_prefix> + escape("orders.eu") = "HERALD_orders_deu"
//                      →  subject <subject_prefix> + "orders.eu"         = "herald.orders.eu"
//   offset N           →  stream sequence N + 1 (JetStream counts from 1, Herald offsets from 0)
//   epoch              →  a hash of the stream's name and creation time: the same on every node (cursors move
//                         between nodes), different after a delete and re-create (old cursors are detected).
// Stream names may not contain '.', so the escape writes '_' as "__" and '.' as "_d"; topic names have no other
// character a stream name forbids, and the escape is reversible so a stream listing gives the topics back.
//
// With `streams: shared` every topic is a subject of one stream, <stream_prefix>EVENTS (upper case, so no topic's
// own stream name can be it). Offsets are still stream sequences minus one, so a topic's offsets have holes
// where other topics' messages sit. Which topics exist, and their epochs, is a record per topic in the shared
// key-value bucket ("topic.<name>" → {"epoch":"<16 hex digits>"}), written once by the node that creates the
// topic: every node reads the same epoch, and a topic deleted and created again gets a new one. Message ids
// carry the topic, because the stream's duplicate window spans every topic. Each message carries its topic's
// epoch in a Herald-Epoch header, and readers take only those of the topic's current epoch: a publish from a node
// that has not yet noticed a delete is acknowledged under the old epoch and goes with it, instead of showing up
// in a topic of the same name created later.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::engine::jetstream {

std::string stream_name(std::string_view prefix, std::string_view topic);
std::string shared_stream_name(std::string_view prefix);

// The shared-layout topic record: its key, its text, and the epoch read back (nullopt when unreadable).
std::string topic_record_key(std::string_view topic);
std::string topic_record(std::uint64_t epoch);
// The epoch as the record and the Herald-Epoch header write it: 16 lower-case hex digits.
std::string epoch_text(std::uint64_t epoch);
inline constexpr const char* kEpochHeader = "Herald-Epoch";
std::optional<std::uint64_t> parse_topic_record(std::string_view text);
// A fresh epoch for a topic created now (never 0).
std::uint64_t new_topic_epoch(std::string_view stream, std::string_view topic);
// The topic a stream holds; nullopt when `stream` is not one of ours (other prefix, not a valid escape, not a
// valid topic name).
std::optional<std::string> topic_of_stream(std::string_view prefix, std::string_view stream);

// Nats-Msg-Id of one event. A request with an Idempotency-Key is deduplicated by the key (item `index` of that
// request); any other by the event's (source, id), the CloudEvents identity. The ids are SHA-256 based so that
// any source and id text fits a header value and distinct events never share an id. `scope` is empty for a
// stream of one topic and the topic's name on a shared stream (the same event id may be used on two topics).
std::string event_message_id(std::string_view scope, std::string_view source, std::string_view id);
std::string idempotency_message_id(std::string_view scope, std::string_view key, std::size_t index);

std::uint64_t stream_epoch(std::string_view stream, std::int64_t created_ns);

// A publish acknowledgement ({"stream":..,"seq":..,"duplicate":..} or {"error":{..}}).
struct PubAck {
    std::uint64_t sequence = 0;
    bool duplicate = false;
    int error_code = 0;      // the API error's HTTP-like code (503: no leader/unavailable); 0 when acknowledged
    int api_error_code = 0;  // JetStream's err_code (10060: expected stream mismatch, ...)
    std::string description;
    bool ok() const { return error_code == 0; }
    // An error a retry with the same message id can cure (no leader, timeouts inside the cluster).
    bool retryable() const { return error_code == 503 || error_code == 408 || error_code == 504; }
};
// Errc::corrupt when the text is not an acknowledgement at all.
Result<PubAck> parse_pub_ack(std::string_view json);

// A stored message as $JS.API.STREAM.MSG.GET answers it.
struct StoredMessage {
    std::uint64_t sequence = 0;
    std::int64_t timestamp_ms = 0;
    std::string data;
    std::string headers;  // the header block as stored ("NATS/1.0\r\nName: value\r\n\r\n"), empty when none
};
// Errc::not_found for "no message found" (deleted by retention or not yet written), Errc::unavailable for
// a cluster-side 503/408, Errc::corrupt for anything unreadable.
Result<StoredMessage> parse_msg_get(std::string_view json);

// The value of header `name` (case-insensitive) in a NATS header block; nullopt when it is not there.
std::optional<std::string> header_value(std::string_view headers, std::string_view name);

// "2026-11-27T15:04:05.123456789Z" (what JetStream writes) → milliseconds since the Unix epoch.
std::optional<std::int64_t> parse_timestamp_ms(std::string_view text);

}  // namespace herald::engine::jetstream
