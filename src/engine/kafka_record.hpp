#pragma once
// The pure parts of the Kafka engine (docs/engines.md): how a Kafka record becomes a Herald event and back,
// following the CloudEvents Kafka protocol binding. No I/O, so all of it is unit-tested without a broker.
//
// Records Herald writes (structured mode by default): the value is the event's structured JSON, header
// `content-type: application/cloudevents+json; charset=UTF-8`, plus `herald-id`, `herald-type`, `herald-source`
// and, for a request with an Idempotency-Key, `herald-idempotency-key`, `herald-request-index` and
// `herald-request-count` — so that every node reads id, type and dedup key back without parsing the JSON, and
// records a request's key only once it has read every part of it (RequestRuns). In binary mode (a bridged topic whose consumers expect it) the value is the event's
// data and every attribute is a `ce_<name>` header, with `content-type` = datacontenttype.
//
// Records other services write (bridge mode) are read in this order:
//   1. `content-type` application/cloudevents+json  → structured mode: the value is the event;
//   2. a `ce_specversion` header                      → binary mode: attributes from `ce_*`, data = value;
//   3. anything else (or a record that claims 1 or 2 but is not a valid event) → wrapped: a new event whose
//      data is the value (JSON when it parses, else data_base64), id "<kafka topic>-<partition>-<offset>"
//      (the same on every node and every read), source and type from the bridge's settings, time the record's
//      timestamp, extension `partitionkey` the record key (CloudEvents partitioning extension).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "engine/dedup_window.hpp"

namespace herald::engine::kafka {

using RecordHeader = std::pair<std::string, std::string>;

// A record as fetched from Kafka, with the fields the conversion needs.
struct RecordIn {
    std::string_view topic;      // the Kafka topic
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestamp_ms = -1;  // -1: none
    std::optional<std::string_view> key;
    std::string_view value;
    const std::vector<RecordHeader>* headers = nullptr;
};

// How records that are not CloudEvents are wrapped.
struct WrapSettings {
    std::string type = "kafka.recordReceived.v1";
    std::string source;  // empty: "kafka:<kafka topic>"
};

// One event as Herald stores and sends it.
struct EventOut {
    std::string id;
    std::string source;
    std::string type;
    std::string idempotency_key;  // only on records Herald wrote for a request with one
    std::uint32_t request_index = 0;  // this event's place among the request's stored events
    std::uint32_t request_count = 0;  // how many the request stored (0: no key, or not Herald's record)
    std::string json;             // structured JSON on one line
    bool wrapped = false;         // the record was not a CloudEvent (rule 3)
};

// Never fails: a record that is not a valid CloudEvent is wrapped.
EventOut event_from_record(const RecordIn& record, const WrapSettings& wrap);

enum class WriteFormat { structured, binary };

// The value and headers of the record Herald produces for one event (`json` is its structured form).
struct RecordOut {
    std::string value;
    std::vector<RecordHeader> headers;
};
// The part of an Idempotency-Key request one record is: its index among the `count` events the request stores.
struct RequestPart {
    std::string_view key;  // empty: the request has no Idempotency-Key
    std::uint32_t index = 0;
    std::uint32_t count = 0;
};
// Errc::invalid_argument only when `json` is not a structured event (the publishing pipeline never passes one).
Result<RecordOut> record_from_event(std::string_view id, std::string_view source, std::string_view type,
                                    const RequestPart& request, std::string_view json, WriteFormat format);

// Follows the parts of Idempotency-Key requests as records are read in offset order: add() answers the request's
// first offset and event count when its last part arrives after all the others in order, and nothing for a
// request read only in part (it failed part way: its retry must store the rest, not be answered as a replay).
// Bounded: past `max_open` requests in progress the oldest knowledge is dropped (those requests are then not
// replayable from this node; their events still deduplicate one by one).
class RequestRuns {
public:
    explicit RequestRuns(std::size_t max_open = 4096) : max_open_(max_open) {}
    std::optional<DedupWindow::Hit> add(const std::string& key, std::uint64_t offset, std::uint32_t index,
                                        std::uint32_t count);

private:
    struct Run {
        std::uint64_t first = 0;
        std::uint32_t next = 0;
        std::uint32_t count = 0;
    };
    std::size_t max_open_;
    std::map<std::string, Run> open_;
};

// Epoch of a Kafka-backed topic: a hash of the cluster id and the Kafka topic name, the same on every node.
std::uint64_t topic_epoch(std::string_view cluster_id, std::string_view kafka_topic);

}  // namespace herald::engine::kafka
