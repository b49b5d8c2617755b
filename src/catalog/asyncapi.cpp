// The AsyncAPI 3.0.0 document (layout in catalog.hpp). AsyncAPI has no binding for Server-Sent
// Events nor for webhooks, so those are described in words and in "x-herald-*" extension objects
// that a reader (or the developer portal) can use; the official http operation binding states the
// HTTP method of publish and of the reads.

#include <boost/json.hpp>
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/parts.hpp"

namespace herald::catalog {
namespace {

namespace json = boost::json;
using detail::MessageEntry;
using detail::Model;
using detail::TopicEntry;
using detail::security_schemes;

constexpr const char* http_binding_version = "0.3.0";

std::string events_path(const CatalogTopic& topic) {
    return "/v1/topics/" + topic.name + "/events";
}

json::string ref_to(std::string_view pointer) {
    json::string s = "#";
    s.append(pointer);
    return s;
}

json::object ref_object(std::string_view pointer) {
    return json::object{{"$ref", ref_to(pointer)}};
}

json::object info(const CatalogInput& input) {
    json::object o;
    o["title"] = input.title;
    o["version"] = detail::version_or_default(input);
    o["description"] =
        "Event streams of this Herald deployment. Every event is a CloudEvents 1.0 event in the "
        "structured JSON "
        "format (application/cloudevents+json); each channel is a topic, an append-only log.\n"
        "\n"
        "Publish with HTTP POST /v1/topics/{topic}/events (structured, batch, binary or plain "
        "JSON) or with the "
        "WebSocket op \"publish\". Receive with Server-Sent Events or JSON pages (GET "
        "/v1/topics/{topic}/events), a WebSocket (one topic, or several over /v1/ws with "
        "subprotocol herald.v1), "
        "or webhooks (POST /v1/subscriptions).\n"
        "\n"
        "Every delivered event comes with a cursor (SSE id, WebSocket cursor, page next); hand it "
        "back (Last-Event-ID "
        "or ?from=) to resume right after that event, with no gap and no duplicate. The HTTP API "
        "itself is "
        "described by /openapi.json.";
    return o;
}

json::array security_refs(const CatalogAuth& auth) {
    json::array refs;
    if (!auth.enabled) return refs;
    if (auth.jwt || auth.api_keys) refs.push_back(ref_object("/components/securitySchemes/bearer"));
    if (auth.api_keys) refs.push_back(ref_object("/components/securitySchemes/apiKey"));
    if (auth.query_token) refs.push_back(ref_object("/components/securitySchemes/accessToken"));
    return refs;
}


json::object sse_extension() {
    json::object sse;
    sse["path"] = "/v1/topics/{topic}/events";
    sse["method"] = "GET";
    sse["headers"] = {{"Accept", "text/event-stream"},
                      {"Last-Event-ID",
                       "a cursor to resume after; wins over ?from= (EventSource sends it when it "
                       "reconnects)"}};
    sse["query"] = {
        {"from", "earliest, latest (the default) or a cursor"},
        {"types",
         "comma-separated event types to deliver; the cursor still advances past the others"}};
    sse["fields"] = {
        {"id", "the event's cursor"},
        {"event", "the CloudEvents type"},
        {"data", "the structured CloudEvent (application/cloudevents+json) on one line"}};
    sse["retry_ms"] = 3000;
    sse["heartbeat"] = "a ':' comment line when the stream was idle for 15 s";
    sse["control_events"] = {
        {"herald.reset",
         "{\"reason\":\"retention\"|\"epoch\",\"cursor\":…,\"missed\":N}: delivery continues at "
         "cursor after events were removed (retention) or the topic was recreated (epoch)"},
        {"herald.shutdown",
         "{\"reason\":\"shutdown\",\"cursor\":…}: the server is stopping; resume from cursor"},
        {"herald.auth-expired",
         "{\"reason\":\"token expired\",\"cursor\":…}: reconnect with a fresh token"}};
    return sse;
}

json::object servers(const CatalogInput& input) {
    const std::string host = detail::host_or_default(input);
    const json::array security = security_refs(input.auth);

    json::object http;
    http["host"] = host;
    http["protocol"] = input.tls ? "https" : "http";
    http["pathname"] = "/v1";
    http["title"] = "HTTP: publish, pages, Server-Sent Events, webhooks";
    http["description"] =
        "Publish: POST /v1/topics/{topic}/events. Read: GET /v1/topics/{topic}/events — JSON pages "
        "({\"events\":[…],\"next\":cursor}, long-poll with ?wait=) or, with Accept: "
        "text/event-stream, a "
        "Server-Sent Events stream (see x-herald-sse; AsyncAPI has no SSE binding). Webhooks: POST "
        "/v1/subscriptions registers a URL that receives each event as a signed POST (Standard "
        "Webhooks).";
    if (!security.empty()) http["security"] = security;
    http["x-herald-sse"] = sse_extension();

    json::object ws;
    ws["host"] = host;
    ws["protocol"] = input.tls ? "wss" : "ws";
    ws["pathname"] = "/v1/ws";
    ws["title"] = "WebSocket (herald.v1)";
    ws["description"] =
        "Multiplexed WebSocket: offer Sec-WebSocket-Protocol: herald.v1. One JSON object per text "
        "frame with an "
        "\"op\": subscribe / unsubscribe / publish / ack / ping from the client; event / published "
        "/ "
        "subscribed / unsubscribed / reset / error / pong from the server. Events arrive as "
        "{\"op\":\"event\",\"id\":<subscription>,\"topic\":…,\"cursor\":…,\"event\":<CloudEvent>}. "
        "A one-topic, receive-only stream is also offered at GET /v1/topics/{topic}/events with "
        "Upgrade: "
        "websocket (one {\"topic\",\"cursor\",\"event\"} object per frame).";
    if (!security.empty()) ws["security"] = security;
    ws["x-herald-subprotocol"] = "herald.v1";

    return json::object{{"http", std::move(http)}, {"ws", std::move(ws)}};
}

std::string accepted_types_sentence(const CatalogTopic& topic) {
    std::string s;
    if (topic.types.empty()) {
        s = "Accepts any event type";
    } else {
        s = "Accepts the event types ";
        for (std::size_t i = 0; i < topic.types.size(); ++i) {
            if (i) s += ", ";
            s += topic.types[i];
        }
    }
    s += topic.allow_unknown_types ? "." : ", and only those with a registered schema.";
    return s;
}

json::array message_refs(const Model& model, const TopicEntry& topic,
                         const std::string& channel_pointer) {
    json::array refs;
    for (std::size_t i : topic.messages)
        refs.push_back(ref_object(channel_pointer + "/messages/" + model.messages[i].key));
    return refs;
}

json::object channel(const Model& model, const TopicEntry& entry) {
    const CatalogTopic& topic = *entry.topic;
    json::object c;
    c["address"] = topic.name;
    c["title"] = topic.name;
    c["description"] =
        "Topic " + topic.name + ". " + accepted_types_sentence(topic) +
        " An event whose type has a registered schema is validated against it; one that does not "
        "match is refused (422).";
    json::object messages;
    for (std::size_t i : entry.messages) {
        const MessageEntry& m = model.messages[i];
        messages[m.key] = ref_object("/components/messages/" + m.key);
    }
    c["messages"] = std::move(messages);
    json::array types;
    for (const auto& t : topic.types) types.emplace_back(t);
    c["x-herald-topic"] = {{"name", topic.name},
                           {"types", std::move(types)},
                           {"allow_unknown_types", topic.allow_unknown_types},
                           {"start_offset", topic.start_offset},
                           {"end_offset", topic.end_offset}};
    return c;
}

// Operations stay short — they repeat per topic; the servers' descriptions explain the transports
// once.
json::object send_operation(const Model& model, const TopicEntry& entry) {
    const CatalogTopic& topic = *entry.topic;
    const std::string channel_pointer = "/channels/" + entry.key;
    json::object op;
    op["action"] = "send";
    op["channel"] = ref_object(channel_pointer);
    op["title"] = "Publish to " + topic.name;
    op["summary"] = "POST " + events_path(topic) +
                    " (one event, a batch, binary mode or plain JSON), or op publish over /v1/ws.";
    op["messages"] = message_refs(model, entry, channel_pointer);
    op["bindings"] = {{"http", {{"method", "POST"}, {"bindingVersion", http_binding_version}}}};
    op["x-herald-http"] = {{"method", "POST"}, {"path", events_path(topic)}};
    op["x-herald-websocket"] = {{"path", "/v1/ws"}, {"op", "publish"}, {"topic", topic.name}};
    return op;
}

json::object receive_operation(const Model& model, const TopicEntry& entry) {
    const CatalogTopic& topic = *entry.topic;
    const std::string channel_pointer = "/channels/" + entry.key;
    json::object op;
    op["action"] = "receive";
    op["channel"] = ref_object(channel_pointer);
    op["title"] = "Receive from " + topic.name;
    op["summary"] =
        "GET " + events_path(topic) +
        " as Server-Sent Events, JSON pages or a WebSocket; op subscribe over /v1/ws; or webhooks "
        "(POST /v1/subscriptions). In log order, resumable by cursor.";
    op["messages"] = message_refs(model, entry, channel_pointer);
    op["bindings"] = {{"http", {{"method", "GET"}, {"bindingVersion", http_binding_version}}}};
    op["x-herald-sse"] = {{"path", events_path(topic)}};
    op["x-herald-websocket"] = {{"path", "/v1/ws"}, {"op", "subscribe"}, {"topic", topic.name}};
    op["x-herald-webhooks"] = {{"path", "/v1/subscriptions"}, {"topic", topic.name}};
    return op;
}

json::object message(const MessageEntry& m) {
    json::object msg;
    if (m.type.empty()) {
        msg["name"] = std::string(detail::generic_message_key);
        msg["title"] = "CloudEvent";
        msg["summary"] =
            "Any CloudEvents 1.0 event; data is not constrained by a registered schema.";
        msg["contentType"] = "application/cloudevents+json";
        msg["payload"] = detail::cloud_event_schema(nullptr, json::object{}, /*describe=*/true);
        msg["examples"] = {{{"name", "example"},
                            {"payload", detail::example_event("example.thingHappened.v1", "",
                                                              {{"message", "hello"}})}}};
        return msg;
    }
    msg["name"] = m.type;
    msg["contentType"] = "application/cloudevents+json";
    json::value data;
    if (m.has_schema()) {
        msg["summary"] = "Event " + m.type + "; data follows " + m.source->schema_uri + ".";
        data = ref_object("/components/schemas/" + m.key);
    } else {
        msg["summary"] = "Event " + m.type + "; no schema is registered, so data is not validated.";
        data = json::object{};
    }
    // The attributes are described once, in the generic message and in the OpenAPI document: every
    // typed message repeating those sentences would be most of the document's size.
    msg["payload"] = detail::cloud_event_schema(&m.type, std::move(data), /*describe=*/false);
    if (m.source != nullptr && m.source->example) {
        msg["examples"] = {
            {{"name", "example"},
             {"payload", detail::example_event(m.type, m.source->schema_uri, *m.source->example)}}};
    }
    if (m.source != nullptr && !m.source->schema_uri.empty())
        msg["x-herald-schema-uri"] = m.source->schema_uri;
    return msg;
}

}  // namespace

json::object asyncapi_document(const CatalogInput& input) {
    const Model model = detail::build_model(input);

    json::object channels;
    json::object operations;
    for (const TopicEntry& entry : model.topics) {
        channels[entry.key] = channel(model, entry);
        operations[entry.key + ".send"] = send_operation(model, entry);
        operations[entry.key + ".receive"] = receive_operation(model, entry);
    }

    json::object messages;
    json::object schemas;
    for (const MessageEntry& m : model.messages) {
        messages[m.key] = message(m);
        if (m.has_schema())
            schemas[m.key] =
                detail::embed_schema(*m.source->schema, "/components/schemas/" + m.key);
    }
    json::object components;
    if (!schemas.empty()) components["schemas"] = std::move(schemas);
    if (!messages.empty()) components["messages"] = std::move(messages);
    if (auto schemes = security_schemes(input.auth, "httpApiKey"); !schemes.empty())
        components["securitySchemes"] = std::move(schemes);

    json::object doc;
    doc["asyncapi"] = "3.0.0";
    doc["info"] = info(input);
    doc["defaultContentType"] = "application/cloudevents+json";
    doc["servers"] = servers(input);
    doc["channels"] = std::move(channels);
    doc["operations"] = std::move(operations);
    if (!components.empty()) doc["components"] = std::move(components);
    return doc;
}

}  // namespace herald::catalog
