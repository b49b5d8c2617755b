// The OpenAPI 3.1.0 document of Herald's data-plane HTTP API. The shapes follow what the server
// answers (docs/api.md, docs/webhooks.md, docs/security.md, server/data_plane.cpp,
// webhook/service.cpp); when one of those changes, this file changes with it. Response objects are
// open (no additionalProperties: false) so that a member added later does not make existing
// clients' validation fail; request objects that the server checks strictly (unknown fields
// refused) are closed.
//
// Event data schemas are not repeated here: the AsyncAPI document carries them, and repeating every
// registered schema in the publish request body would double the catalog's size for no new
// information.

#include <cctype>
#include <boost/json.hpp>
#include <map>
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/parts.hpp"

namespace herald::catalog {
namespace {

namespace json = boost::json;
using detail::Model;
using detail::security_schemes;

constexpr const char* topic_pattern = "^[a-z0-9][a-z0-9._-]{0,199}$";

json::object ref_to(std::string_view pointer) {
    json::string s = "#";
    s.append(pointer);
    return json::object{{"$ref", std::move(s)}};
}
json::object schema_ref(std::string_view name) {
    return ref_to("/components/schemas/" + std::string(name));
}
json::object parameter_ref(std::string_view name) {
    return ref_to("/components/parameters/" + std::string(name));
}

json::object json_content(json::value schema) {
    return json::object{{"application/json", {{"schema", std::move(schema)}}}};
}

json::object json_response(std::string description, json::value schema) {
    return json::object{{"description", std::move(description)},
                        {"content", json_content(std::move(schema))}};
}

json::object no_content(std::string description) {
    return json::object{{"description", std::move(description)}};
}

// --- Security ------------------------------------------------------------------------------------

// The security requirement alternatives every operation accepts ({"bearer":[]}, {"apiKey":[]}).
json::array header_security(const CatalogAuth& auth) {
    json::array alternatives;
    if (!auth.enabled) return alternatives;
    if (auth.jwt || auth.api_keys) alternatives.push_back(json::object{{"bearer", json::array{}}});
    if (auth.api_keys) alternatives.push_back(json::object{{"apiKey", json::array{}}});
    return alternatives;
}

// SSE and WebSocket endpoints also take ?access_token= when the config allows it.
json::array stream_security(const CatalogAuth& auth) {
    json::array alternatives = header_security(auth);
    if (auth.enabled && auth.query_token)
        alternatives.push_back(json::object{{"accessToken", json::array{}}});
    return alternatives;
}


// --- Error answers -------------------------------------------------------------------------------

struct ErrorAnswer {
    int status;
    const char* component;
    const char* description;
    const char* kind;    // the example's problem kind
    const char* title;   // the example's title
    const char* detail;  // the example's detail
};

constexpr ErrorAnswer error_answers[] = {
    {400, "BadRequest",
     "The request broke a rule: invalid-event, invalid-topic, invalid-parameter, "
     "invalid-subscription or bad-request; attribute names what.",
     "invalid-parameter", "Invalid parameter", "from is not a cursor"},
    {401, "Unauthorized",
     "No valid credential (RFC 6750 WWW-Authenticate says why; attribute too).", "unauthorized",
     "Unauthorized", "the token has expired"},
    {403, "Forbidden", "The credential lacks the scope (publish:<topic>, subscribe:<topic>).",
     "forbidden", "Forbidden", "this principal has no publish scope for topic 'orders'"},
    {404, "NotFound", "No such topic, subscription or entry.", "not-found", "Not found",
     "topic 'orders' does not exist"},
    {409, "Conflict", "The same Idempotency-Key is in flight, or the state forbids the operation.",
     "conflict", "Conflict", "a request with this Idempotency-Key is in progress"},
    {413, "PayloadTooLarge", "The body is over http.body_limit.", "payload-too-large",
     "Payload too large", "the body is larger than 1048576 bytes"},
    {415, "UnsupportedMediaType", "The Content-Type is not one the endpoint reads.",
     "unsupported-media-type", "Unsupported media type",
     "Content-Type text/plain is not supported"},
    {422, "UnprocessableContent",
     "The event breaks its contract: its data does not match its type's registered schema "
     "(violations lists each, with its JSON pointer and keyword), its type or topic breaks the "
     "naming rule, or the topic does not accept the type. Nothing was appended.",
     "contract-violation", "Event breaks its contract",
     "data does not match urn:herald:schema:shop.orderPlaced.v1:v2"},
    {426, "UpgradeRequired", "The endpoint speaks WebSocket only.", "upgrade-required",
     "Upgrade required", "/v1/ws is a WebSocket endpoint (subprotocol herald.v1)"},
    {429, "TooManyRequests", "A rate limit refused the request; retry after Retry-After seconds.",
     "rate-limited", "Too many requests", "rate limit exceeded"},
    {502, "BadGateway",
     "A REST route's upstream could not be reached or broke the exchange (upstream-unreachable, "
     "bad-upstream-response).",
     "upstream-unreachable", "Upstream unreachable", "upstream users: cannot connect to a target"},
    {503, "Unavailable",
     "Shutting down, a topic refusing writes, the connection limit, or the log could not be read "
     "or written.",
     "unavailable", "Service unavailable", "the server is shutting down"},
    {504, "GatewayTimeout", "A REST route's upstream did not answer in time (upstream-timeout).",
     "upstream-timeout", "Upstream timeout", "upstream users: no answer within the read timeout"},
    {507, "StorageFull", "The disk is full; nothing acknowledged is affected.", "storage-full",
     "Insufficient storage", "no space left on device"},
};

const ErrorAnswer& error_answer(int status) {
    for (const auto& e : error_answers)
        if (e.status == status) return e;
    return error_answers[0];
}

json::object header(std::string description, json::value schema) {
    return json::object{{"description", std::move(description)}, {"schema", std::move(schema)}};
}

json::object error_response_component(const ErrorAnswer& e) {
    json::object example{{"type", "urn:herald:problem:" + std::string(e.kind)},
                         {"title", e.title},
                         {"status", e.status},
                         {"detail", e.detail}};
    json::object response;
    response["description"] = e.description;
    json::object headers;
    if (e.status == 401) {
        headers["WWW-Authenticate"] = header(
            "Bearer realm=\"herald\", error=\"invalid_token\", error_description=\"…\" (RFC 6750).",
            json::object{{"type", "string"}});
    } else if (e.status == 403) {
        headers["WWW-Authenticate"] = header("Bearer error=\"insufficient_scope\", scope=\"…\".",
                                             json::object{{"type", "string"}});
    } else if (e.status == 429) {
        headers["Retry-After"] = ref_to("/components/headers/Retry-After");
        headers["RateLimit"] =
            header("limit=…, remaining=…, reset=… (draft-ietf-httpapi-ratelimit-headers-07).",
                   json::object{{"type", "string"}});
        headers["RateLimit-Policy"] =
            header("<burst>;w=<window seconds>.", json::object{{"type", "string"}});
    } else if (e.status == 503) {
        headers["Retry-After"] = ref_to("/components/headers/Retry-After");
    }
    if (!headers.empty()) response["headers"] = std::move(headers);
    response["content"] = {
        {"application/problem+json", {{"schema", schema_ref("Problem")}, {"example", example}}}};
    return response;
}

// Operation responses: the given ones, plus the error answers by status, plus 401/403 when auth is
// on — sorted by status code.
class Responses {
public:
    // `auth_errors` false: the operation serves anonymous callers too, so 401/403 never answer it.
    explicit Responses(const CatalogAuth& auth, bool auth_errors = true)
        : auth_errors_(auth.enabled && auth_errors) {}

    Responses& add(std::string status, json::object response) {
        entries_[std::move(status)] = std::move(response);
        return *this;
    }
    Responses& errors(std::initializer_list<int> statuses) {
        for (int s : statuses) add_error(s);
        return *this;
    }
    json::object build() {
        if (auth_errors_) {
            add_error(401);
            add_error(403);
        }
        json::object out;
        for (auto& [status, response] : entries_) out[status] = std::move(response);
        return out;
    }

private:
    void add_error(int status) {
        entries_[std::to_string(status)] =
            ref_to("/components/responses/" + std::string(error_answer(status).component));
    }

    bool auth_errors_;
    std::map<std::string, json::object> entries_;
};

// --- Schemas -------------------------------------------------------------------------------------

json::object string_schema(std::string description) {
    return json::object{{"type", "string"}, {"description", std::move(description)}};
}

json::object duration_schema(std::string description) {
    return json::object{
        {"description", description +
                            " A duration such as \"250ms\", \"5s\", \"2h\", \"5d\", or a number of "
                            "milliseconds."},
        {"oneOf",
         {{{"type", "string"}, {"pattern", "^[0-9]+(ms|s|m|h|d)$"}},
          {{"type", "integer"}, {"minimum", 0}}}}};
}

json::object schemas() {
    json::object s;

    s["Problem"] = {
        {"type", "object"},
        {"description",
         "RFC 9457 problem details. type is urn:herald:problem:<kind> (docs/api.md lists the "
         "kinds)."},
        {"required", {"type", "title", "status"}},
        {"properties",
         {{"type",
           {{"type", "string"},
            {"format", "uri-reference"},
            {"examples", {"urn:herald:problem:not-found"}}}},
          {"title", {{"type", "string"}}},
          {"status", {{"type", "integer"}, {"minimum", 100}, {"maximum", 599}}},
          {"detail", {{"type", "string"}}},
          {"instance", {{"type", "string"}, {"format", "uri-reference"}}},
          {"attribute", string_schema("The attribute, parameter, header or field at fault.")},
          {"violations",
           {{"type", "array"},
            {"description", "Schema violations of the event's data (422)."},
            {"items", schema_ref("Violation")}}}}}};
    s["Violation"] = {
        {"type", "object"},
        {"required", {"pointer", "keyword", "message"}},
        {"properties",
         {{"pointer",
           string_schema("RFC 6901 pointer into the event's data (\"\" = the data itself).")},
          {"keyword", string_schema("The JSON Schema keyword that failed.")},
          {"message", {{"type", "string"}}}}}};

    s["CloudEvent"] = detail::cloud_event_schema(nullptr, json::object{}, /*describe=*/true);
    s["CloudEvent"].as_object()["description"] =
        "A CloudEvents 1.0 event in the JSON format. The data of a type with a registered schema "
        "must match it "
        "(the AsyncAPI document, /asyncapi.json, has one message per type with its schema).";
    s["CloudEventBatch"] = {{"type", "array"}, {"items", schema_ref("CloudEvent")}};

    s["PublishResult"] = {
        {"type", "object"},
        {"required", {"offset", "id", "cursor"}},
        {"properties",
         {{"offset", {{"type", "integer"}, {"minimum", 0}}},
          {"id", {{"type", "string"}}},
          {"cursor", string_schema("Resume after this event with ?from=<cursor>.")},
          {"duplicate",
           {{"type", "boolean"},
            {"description",
             "The (source, id) was appended before: offset is the original one."}}}}}};
    s["BatchPublishResult"] = {
        {"type", "object"},
        {"required", {"results"}},
        {"properties", {{"results", {{"type", "array"}, {"items", schema_ref("PublishResult")}}}}}};

    s["TopicSummary"] = {
        {"type", "object"},
        {"required", {"name", "start_offset", "end_offset"}},
        {"properties",
         {{"name", {{"type", "string"}, {"pattern", topic_pattern}}},
          {"start_offset",
           {{"type", "integer"}, {"minimum", 0}, {"description", "First retained offset."}}},
          {"end_offset",
           {{"type", "integer"}, {"minimum", 0}, {"description", "The next event's offset."}}},
          {"size_bytes", {{"type", "integer"}, {"minimum", 0}}}}}};
    s["TopicList"] = {
        {"type", "object"},
        {"required", {"topics"}},
        {"properties", {{"topics", {{"type", "array"}, {"items", schema_ref("TopicSummary")}}}}}};
    s["Topic"] = {{"type", "object"},
                  {"required", {"name", "start_offset", "end_offset"}},
                  {"properties",
                   {{"name", {{"type", "string"}, {"pattern", topic_pattern}}},
                    {"start_offset", {{"type", "integer"}, {"minimum", 0}}},
                    {"end_offset", {{"type", "integer"}, {"minimum", 0}}},
                    {"earliest", string_schema("Cursor of the first retained event.")},
                    {"latest", string_schema("Cursor of the end of the log.")},
                    {"size_bytes", {{"type", "integer"}, {"minimum", 0}}},
                    {"fsync", {{"type", "string"}, {"enum", {"always", "interval", "never"}}}},
                    {"retention",
                     {{"type", "object"},
                      {"properties",
                       {{"max_age_ms", {{"type", "integer"}, {"minimum", 0}}},
                        {"max_bytes", {{"type", "integer"}, {"minimum", 0}}}}}}}}}};

    s["EventPage"] = {
        {"type", "object"},
        {"required", {"events", "next"}},
        {"properties",
         {{"events", {{"type", "array"}, {"items", schema_ref("CloudEvent")}}},
          {"next", string_schema("Pass as ?from= to read on.")},
          {"gap",
           {{"type", "object"},
            {"description", "The requested position was not available; missed events are gone."},
            {"properties",
             {{"reason", {{"type", "string"}, {"enum", {"retention", "epoch"}}}},
              {"missed", {{"type", "integer"}, {"minimum", 0}}}}}}}}}};

    json::object retry{
        {"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"schedule",
           {{"type", "array"},
            {"maxItems", 50},
            {"description", "Delay before each retry; its length is the number of retries."},
            {"items", duration_schema("One delay.")}}},
          {"disable_after",
           duration_schema("Disable the subscription after failing this long.")}}}};
    s["SubscriptionCreate"] = {
        {"type", "object"},
        {"required", {"topic", "url"}},
        {"additionalProperties", false},
        {"properties",
         {{"topic", {{"type", "string"}, {"pattern", topic_pattern}}},
          {"url",
           {{"type", "string"},
            {"format", "uri"},
            {"description", "http or https; no user-info."}}},
          {"types",
           {{"type", "array"},
            {"description",
             "Event-type globs (* any run, ? one character); all types when absent."},
            {"items", {{"type", "string"}, {"minLength", 1}}}}},
          {"secret",
           {{"type", "string"},
            {"pattern", "^whsec_"},
            {"description", "whsec_ + base64 of 16–64 bytes; generated when absent."}}},
          {"mode",
           {{"type", "string"}, {"enum", {"ordered", "concurrent"}}, {"default", "ordered"}}},
          {"max_in_flight", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
          {"from", string_schema("latest (the default), earliest or a cursor.")},
          {"retry", retry},
          {"rate_limit",
           {{"type", "number"},
            {"minimum", 0},
            {"description", "Deliveries per second; 0 = unlimited."}}},
          {"timeout", duration_schema("Per attempt.")},
          {"content_mode",
           {{"type", "string"}, {"enum", {"structured", "binary"}}, {"default", "structured"}}},
          {"validation_handshake", {{"type", "boolean"}, {"default", false}}}}}};
    s["Subscription"] = {
        {"type", "object"},
        {"required", {"id", "topic", "url", "state", "cursor"}},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"topic", {{"type", "string"}}},
          {"url", {{"type", "string"}}},
          {"types", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"mode", {{"type", "string"}, {"enum", {"ordered", "concurrent"}}}},
          {"max_in_flight", {{"type", "integer"}}},
          {"retry",
           {{"type", "object"},
            {"properties",
             {{"schedule", {{"type", "array"}, {"items", {{"type", "string"}}}}},
              {"disable_after", {{"type", "string"}}}}}}},
          {"rate_limit", {{"type", "number"}}},
          {"timeout", {{"type", "string"}}},
          {"content_mode", {{"type", "string"}, {"enum", {"structured", "binary"}}}},
          {"state", {{"type", "string"}, {"enum", {"active", "paused", "disabled"}}}},
          {"disabled_reason", {{"type", "string"}}},
          {"cursor", string_schema("The position delivery resumes from.")},
          {"lag",
           {{"type", "integer"},
            {"description", "Events between the cursor and the end of the topic."}}},
          {"delivered", {{"type", "integer"}}},
          {"dead_lettered", {{"type", "integer"}}},
          {"last_attempt_at", {{"type", "string"}, {"format", "date-time"}}},
          {"last_status", {{"type", "integer"}}},
          {"last_error", {{"type", "string"}}},
          {"failing_since", {{"type", "string"}, {"format", "date-time"}}},
          {"created_at", {{"type", "string"}, {"format", "date-time"}}},
          {"secrets",
           {{"type", "array"},
            {"description", "Live signing secrets: a prefix and expiry each, never the secret."},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"prefix", {{"type", "string"}}},
                {"expires_at", {{"type", "string"}, {"format", "date-time"}}}}}}}}}}}};
    s["SubscriptionWithSecret"] = {
        {"allOf",
         {schema_ref("Subscription"),
          {{"type", "object"},
           {"required", {"secret"}},
           {"properties",
            {{"secret", string_schema("The signing secret; shown only in this answer.")}}}}}}};
    s["SubscriptionList"] = {
        {"type", "object"},
        {"required", {"subscriptions"}},
        {"properties",
         {{"subscriptions", {{"type", "array"}, {"items", schema_ref("Subscription")}}}}}};
    s["RotateSecret"] = {
        {"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"overlap",
           duration_schema(
               "How long the old secret keeps signing too (default webhooks.rotation_overlap).")},
          {"secret", {{"type", "string"}, {"pattern", "^whsec_"}}}}}};
    s["Attempt"] = {{"type", "object"},
                    {"properties",
                     {{"at", {{"type", "string"}, {"format", "date-time"}}},
                      {"offset", {{"type", "integer"}}},
                      {"event_id", {{"type", "string"}}},
                      {"attempt", {{"type", "integer"}}},
                      {"status",
                       {{"type", "integer"},
                        {"description", "The receiver's HTTP status; 0 when there was none."}}},
                      {"duration_ms", {{"type", "number"}}},
                      {"outcome",
                       {{"type", "string"},
                        {"enum", {"delivered", "retry", "dead_letter", "gone", "blocked"}}}},
                      {"error", {{"type", "string"}}},
                      {"replay", {{"type", "boolean"}}}}}};
    s["AttemptList"] = {
        {"type", "object"},
        {"required", {"attempts"}},
        {"properties", {{"attempts", {{"type", "array"}, {"items", schema_ref("Attempt")}}}}}};
    s["DeadLetter"] = {
        {"type", "object"},
        {"properties",
         {{"id", {{"type", "integer"}}},
          {"offset", {{"type", "integer"}}},
          {"event_id", {{"type", "string"}}},
          {"attempts", {{"type", "integer"}}},
          {"last_status", {{"type", "integer"}}},
          {"last_error", {{"type", "string"}}},
          {"created_at", {{"type", "string"}, {"format", "date-time"}}},
          {"event", {{"description", "The CloudEvent, or a herald.gap / herald.reset note."}}}}}};
    s["DeadLetterPage"] = {
        {"type", "object"},
        {"required", {"entries", "total"}},
        {"properties",
         {{"entries", {{"type", "array"}, {"items", schema_ref("DeadLetter")}}},
          {"total", {{"type", "integer"}}},
          {"next_after",
           {{"type", "integer"}, {"description", "Pass as ?after= for the next page."}}}}}};
    s["ReplayRequest"] = {
        {"description", "Which dead-letter entries to deliver again."},
        {"oneOf",
         {{{"type", "object"},
           {"required", {"ids"}},
           {"properties",
            {{"ids", {{"type", "array"}, {"minItems", 1}, {"items", {{"type", "integer"}}}}}}}},
          {{"type", "object"},
           {"anyOf", {{{"required", {"from"}}}, {{"required", {"to"}}}}},
           {"properties", {{"from", {{"type", "integer"}}}, {"to", {{"type", "integer"}}}}}},
          {{"type", "object"},
           {"required", {"all"}},
           {"properties", {{"all", {{"const", true}}}}}}}}};
    s["ReplayResult"] = {{"type", "object"},
                         {"required", {"queued"}},
                         {"properties", {{"queued", {{"type", "integer"}, {"minimum", 0}}}}}};
    return s;
}

// --- Parameters ----------------------------------------------------------------------------------

json::object topic_parameter(const Model& model) {
    json::object schema{{"type", "string"}, {"pattern", topic_pattern}};
    std::string description = "Topic name.";
    if (!model.topics.empty() && model.topics.size() <= max_enumerated_topics) {
        json::array names;
        for (const auto& t : model.topics) names.emplace_back(t.topic->name);
        schema["enum"] = std::move(names);
        description += " The enum lists the topics that existed when this document was generated.";
    }
    return json::object{{"name", "topic"},
                        {"in", "path"},
                        {"required", true},
                        {"description", description},
                        {"schema", std::move(schema)}};
}

json::object parameters(const Model& model) {
    json::object p;
    p["topic"] = topic_parameter(model);
    p["subscriptionId"] = {{"name", "id"},
                           {"in", "path"},
                           {"required", true},
                           {"description", "The subscription's id (wh_…)."},
                           {"schema", {{"type", "string"}}}};
    p["from"] = {{"name", "from"},
                 {"in", "query"},
                 {"description",
                  "earliest, latest or a cursor. Default: earliest for pages, latest for streams."},
                 {"schema", {{"type", "string"}}}};
    p["types"] = {
        {"name", "types"},
        {"in", "query"},
        {"description",
         "Comma-separated event types to deliver (the cursor still advances past others)."},
        {"schema", {{"type", "string"}}},
        {"example", "shop.orderPlaced.v1,shop.orderShipped.v1"}};
    p["limit"] = {{"name", "limit"},
                  {"in", "query"},
                  {"description", "Events per page, 1 to page_max_events."},
                  {"schema", {{"type", "integer"}, {"minimum", 1}, {"default", 100}}}};
    p["wait"] = {{"name", "wait"},
                 {"in", "query"},
                 {"description",
                  "Long-poll: when nothing follows from, wait up to this many seconds (at most "
                  "long_poll_max_wait) for the next event."},
                 {"schema", {{"type", "number"}, {"minimum", 0}}}};
    p["lastEventId"] = {{"name", "Last-Event-ID"},
                        {"in", "header"},
                        {"description", "SSE resume cursor; wins over ?from=."},
                        {"schema", {{"type", "string"}}}};
    p["idempotencyKey"] = {{"name", "Idempotency-Key"},
                           {"in", "header"},
                           {"description",
                            "A retry with the same key within the dedup window gets the original "
                            "answer (200, Idempotent-Replayed: true)."},
                           {"schema", {{"type", "string"}, {"minLength", 1}, {"maxLength", 256}}}};
    p["eventType"] = {{"name", "type"},
                      {"in", "query"},
                      {"description",
                       "For application/json bodies: the type of the event wrapped around the body "
                       "(default: the topic's default_type)."},
                      {"schema", {{"type", "string"}}}};
    for (const char* attr : {"specversion", "id", "source", "type"}) {
        const std::string name = std::string("ce-") + attr;
        p[name] = {{"name", name},
                   {"in", "header"},
                   {"description",
                    std::string("Binary mode: the event's ") + attr +
                        " (other ce-* headers carry the other attributes; the body is data)."},
                   {"schema", {{"type", "string"}}}};
    }
    return p;
}

// --- Paths ---------------------------------------------------------------------------------------

json::object operation(const char* id, const char* tag, std::string summary,
                       std::string description) {
    json::object op{{"operationId", id}, {"tags", {tag}}, {"summary", std::move(summary)}};
    if (!description.empty()) op["description"] = std::move(description);
    return op;
}

json::object publish_examples(const Model& model) {
    json::object examples;
    for (const auto& m : model.messages) {
        if (examples.size() >= max_openapi_examples) break;
        if (m.source == nullptr || !m.source->example) continue;
        examples[m.key] = {{"summary", m.type},
                           {"value", detail::example_event(m.type, "", *m.source->example)}};
    }
    if (examples.empty()) {
        examples["event"] = {{"summary", "A CloudEvent"},
                             {"value", detail::example_event("example.thingHappened.v1", "",
                                                             {{"message", "hello"}})}};
    }
    return examples;
}

json::object topic_paths(const Model& model, const CatalogAuth& auth) {
    json::object paths;
    const json::array header_sec = header_security(auth);
    const json::array stream_sec = stream_security(auth);

    {
        auto get = operation("listTopics", "topics", "List topics",
                             "The topics the caller may subscribe to, with their offsets.");
        get["responses"] = Responses(auth)
                               .add("200", json_response("The topics.", schema_ref("TopicList")))
                               .errors({429, 503})
                               .build();
        paths["/v1/topics"] = {{"get", std::move(get)}};
    }
    {
        auto get = operation("getTopic", "topics", "Describe a topic",
                             "Offsets, earliest/latest cursors, size, fsync policy and retention.");
        get["responses"] = Responses(auth)
                               .add("200", json_response("The topic.", schema_ref("Topic")))
                               .errors({400, 404, 429, 503})
                               .build();
        paths["/v1/topics/{topic}"] = {{"parameters", {parameter_ref("topic")}},
                                       {"get", std::move(get)}};
    }
    {
        auto post = operation(
            "publishEvents", "events", "Publish one event or a batch",
            "Structured (application/cloudevents+json), batch (application/cloudevents-batch+json, "
            "all or "
            "nothing), binary (ce-* headers; the body is data, Content-Type its datacontenttype) "
            "or plain JSON "
            "(application/json: the body becomes data of a new event with ?type=, a generated id "
            "and the current "
            "time). Events with a registered schema are validated (422 lists violations). A "
            "(source, id) seen "
            "within the dedup window is answered with its original offset and duplicate: true.");
        post["parameters"] = {parameter_ref("eventType"),      parameter_ref("idempotencyKey"),
                              parameter_ref("ce-specversion"), parameter_ref("ce-id"),
                              parameter_ref("ce-source"),      parameter_ref("ce-type")};
        post["requestBody"] = {
            {"required", true},
            {"content",
             {{"application/cloudevents+json",
               {{"schema", schema_ref("CloudEvent")}, {"examples", publish_examples(model)}}},
              {"application/cloudevents-batch+json", {{"schema", schema_ref("CloudEventBatch")}}},
              {"application/json",
               {{"schema", {{"description", "Any JSON value: the data of the new event."}}},
                {"example", {{"orderId", "ORD-1001"}, {"total", 42.5}}}}}}}};
        json::object result_schema{
            {"oneOf", {schema_ref("PublishResult"), schema_ref("BatchPublishResult")}}};
        json::object created =
            json_response("Appended (a batch: results in request order).", result_schema);
        json::object replayed = json_response(
            "Nothing new: every event was a duplicate, or the Idempotency-Key was seen "
            "(Idempotent-Replayed).",
            result_schema);
        replayed["headers"] = {
            {"Idempotent-Replayed",
             header("true when this is the stored answer to an earlier request with the "
                    "same Idempotency-Key.",
                    json::object{{"type", "string"}, {"enum", {"true"}}})}};
        post["responses"] = Responses(auth)
                                .add("200", std::move(replayed))
                                .add("201", std::move(created))
                                .errors({400, 404, 409, 413, 415, 422, 429, 503, 507})
                                .build();
        if (!header_sec.empty()) post["security"] = header_sec;

        auto get = operation("readEvents", "events",
                             "Read events: pages, Server-Sent Events or a WebSocket",
                             "JSON (default): a page of events from ?from= (default earliest), "
                             "?limit=, long-poll with ?wait=. "
                             "Accept: text/event-stream: a Server-Sent Events stream from "
                             "Last-Event-ID, else ?from=, else latest; "
                             "id: is the cursor, event: the type, data: the CloudEvent on one "
                             "line; ':' heartbeats; control events "
                             "herald.reset, herald.shutdown, herald.auth-expired. Upgrade: "
                             "websocket: a receive-only WebSocket, one "
                             "{\"topic\",\"cursor\",\"event\"} object per text frame.");
        get["parameters"] = {parameter_ref("from"), parameter_ref("limit"), parameter_ref("wait"),
                             parameter_ref("types"), parameter_ref("lastEventId")};
        json::object ok;
        ok["description"] = "A page of events (JSON) or an event stream (SSE).";
        ok["content"] = {
            {"application/json", {{"schema", schema_ref("EventPage")}}},
            {"text/event-stream",
             {{"schema",
               {{"type", "string"},
                {"description",
                 "Server-Sent Events: id: <cursor>, event: <type>, data: <CloudEvent>."}}},
              {"example",
               "retry: 3000\n\nid: 1.9f86d081884c7d65.1\nevent: shop.orderPlaced.v1\ndata: "
               "{\"specversion\":\"1.0\",\"id\":\"…\",\"source\":\"/orders\",\"type\":"
               "\"shop.orderPlaced.v1\",\"data\":{}}\n\n"}}}};
        get["responses"] =
            Responses(auth)
                .add("101", no_content("Switching Protocols: the one-topic WebSocket stream."))
                .add("200", std::move(ok))
                .errors({400, 404, 429, 503})
                .build();
        if (!stream_sec.empty()) get["security"] = stream_sec;

        paths["/v1/topics/{topic}/events"] = {{"parameters", {parameter_ref("topic")}},
                                              {"post", std::move(post)},
                                              {"get", std::move(get)}};
    }
    {
        auto get = operation(
            "openWebSocket", "websocket", "Multiplexed WebSocket (subprotocol herald.v1)",
            "Offer Sec-WebSocket-Protocol: herald.v1. Messages are JSON objects with an op: "
            "subscribe, "
            "unsubscribe, publish, ack, ping (client); event, published, subscribed, unsubscribed, "
            "reset, error, "
            "pong (server). The AsyncAPI document (/asyncapi.json) describes the events.");
        get["parameters"] = {
            {{"name", "Sec-WebSocket-Protocol"},
             {"in", "header"},
             {"description",
              "Must include herald.v1 when present; other subprotocols alone are refused (400)."},
             {"schema", {{"type", "string"}}}}};
        get["responses"] =
            Responses(auth)
                .add("101", no_content("Switching Protocols: the WebSocket is open."))
                .errors({400, 426, 429, 503})
                .build();
        if (!stream_sec.empty()) get["security"] = stream_sec;
        paths["/v1/ws"] = {{"get", std::move(get)}};
    }
    return paths;
}

json::object subscription_paths(const CatalogAuth& auth) {
    json::object paths;
    const json::array id_param = {parameter_ref("subscriptionId")};
    {
        auto post = operation(
            "createSubscription", "webhooks", "Create a webhook subscription",
            "Deliveries are signed POSTs (Standard Webhooks) from the cursor on. Unknown fields "
            "are refused (400 invalid-subscription naming the field).");
        post["requestBody"] = {{"required", true},
                               {"content",
                                {{"application/json",
                                  {{"schema", schema_ref("SubscriptionCreate")},
                                   {"example",
                                    {{"topic", "orders"},
                                     {"url", "https://receiver.example.com/hooks/orders"},
                                     {"types", {"shop.order*.v1"}},
                                     {"mode", "ordered"}}}}}}}};
        json::object created = json_response("Created; secret is shown only here.",
                                             schema_ref("SubscriptionWithSecret"));
        created["headers"] = {
            {"Location", header("/v1/subscriptions/{id}", json::object{{"type", "string"}})}};
        post["responses"] =
            Responses(auth).add("201", std::move(created)).errors({400, 409, 429, 503}).build();

        auto get = operation("listSubscriptions", "webhooks", "List webhook subscriptions",
                             "Only subscriptions of topics the caller may subscribe to.");
        get["parameters"] = {{{"name", "topic"},
                              {"in", "query"},
                              {"description", "Only this topic's subscriptions."},
                              {"schema", {{"type", "string"}}}}};
        get["responses"] =
            Responses(auth)
                .add("200", json_response("The subscriptions.", schema_ref("SubscriptionList")))
                .errors({429})
                .build();
        paths["/v1/subscriptions"] = {{"post", std::move(post)}, {"get", std::move(get)}};
    }
    {
        auto get =
            operation("getSubscription", "webhooks", "Get a webhook subscription and its status",
                      "The settings, state (active, paused, disabled), cursor, lag, counters, last "
                      "attempt and "
                      "live secrets (prefixes only).");
        get["responses"] =
            Responses(auth)
                .add("200", json_response("The subscription.", schema_ref("Subscription")))
                .errors({404, 429})
                .build();
        auto del = operation("deleteSubscription", "webhooks", "Delete a webhook subscription",
                             "Its dead-letter queue and delivery log go with it.");
        del["responses"] =
            Responses(auth).add("204", no_content("Deleted.")).errors({404, 429, 503}).build();
        paths["/v1/subscriptions/{id}"] = {
            {"parameters", id_param}, {"get", std::move(get)}, {"delete", std::move(del)}};
    }
    for (const char* action : {"pause", "resume"}) {
        const bool pause = std::string_view(action) == "pause";
        auto post =
            operation(pause ? "pauseSubscription" : "resumeSubscription", "webhooks",
                      pause ? "Stop delivering; the cursor stays" : "Deliver again from the cursor",
                      pause ? "An attempt waiting for its retry stops at once."
                            : "Also re-enables a disabled subscription.");
        post["responses"] =
            Responses(auth)
                .add("200", json_response("The subscription.", schema_ref("Subscription")))
                .errors({404, 429, 503})
                .build();
        paths["/v1/subscriptions/{id}/" + std::string(action)] = {{"parameters", id_param},
                                                                  {"post", std::move(post)}};
    }
    {
        auto post =
            operation("rotateSubscriptionSecret", "webhooks", "Rotate the signing secret",
                      "The old secret keeps signing (a second signature) during the overlap.");
        post["requestBody"] = {{"required", false},
                               {"content", json_content(schema_ref("RotateSecret"))}};
        post["responses"] = Responses(auth)
                                .add("200", json_response("The subscription with the new secret.",
                                                          schema_ref("SubscriptionWithSecret")))
                                .errors({400, 404, 429, 503})
                                .build();
        paths["/v1/subscriptions/{id}/rotate-secret"] = {{"parameters", id_param},
                                                         {"post", std::move(post)}};
    }
    {
        auto get =
            operation("listDeliveryAttempts", "webhooks", "The delivery log, most recent first",
                      "The last 100 attempts are kept.");
        get["parameters"] = {
            {{"name", "limit"},
             {"in", "query"},
             {"description", "At most this many attempts."},
             {"schema",
              {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 50}}}}};
        get["responses"] = Responses(auth)
                               .add("200", json_response("Attempts.", schema_ref("AttemptList")))
                               .errors({400, 404, 429})
                               .build();
        paths["/v1/subscriptions/{id}/attempts"] = {{"parameters", id_param},
                                                    {"get", std::move(get)}};
    }
    {
        auto get = operation("listDeadLetters", "webhooks", "Dead-letter entries, oldest first",
                             "Events that could not be delivered, and notes (herald.gap, "
                             "herald.reset); total counts "
                             "them all, next_after is set when there are more.");
        get["parameters"] = {
            {{"name", "after"},
             {"in", "query"},
             {"description", "Entries after this id (next_after of the previous page)."},
             {"schema", {{"type", "integer"}, {"minimum", 0}, {"default", 0}}}},
            {{"name", "limit"},
             {"in", "query"},
             {"description", "At most this many entries."},
             {"schema",
              {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 100}}}}};
        get["responses"] =
            Responses(auth)
                .add("200", json_response("A page of entries.", schema_ref("DeadLetterPage")))
                .errors({400, 404, 429})
                .build();
        paths["/v1/subscriptions/{id}/dead-letters"] = {{"parameters", id_param},
                                                        {"get", std::move(get)}};
    }
    {
        auto post = operation(
            "replayDeadLetters", "webhooks", "Deliver dead-letter entries again",
            "One attempt each, signed afresh; a success removes the entry. Replaying a note "
            "acknowledges it.");
        post["requestBody"] = {{"required", true},
                               {"content", json_content(schema_ref("ReplayRequest"))}};
        post["responses"] = Responses(auth)
                                .add("202", json_response("Queued.", schema_ref("ReplayResult")))
                                .errors({400, 404, 429, 503})
                                .build();
        paths["/v1/subscriptions/{id}/dead-letters/replay"] = {{"parameters", id_param},
                                                               {"post", std::move(post)}};
    }
    {
        auto del = operation("deleteDeadLetter", "webhooks", "Drop one dead-letter entry",
                             "The entry is removed without being delivered.");
        del["responses"] =
            Responses(auth).add("204", no_content("Dropped.")).errors({404, 429, 503}).build();
        paths["/v1/subscriptions/{id}/dead-letters/{entry}"] = {
            {"parameters",
             {parameter_ref("subscriptionId"),
              {{"name", "entry"},
               {"in", "path"},
               {"required", true},
               {"description", "The dead-letter entry's id."},
               {"schema", {{"type", "integer"}}}}}},
            {"delete", std::move(del)}};
    }
    return paths;
}

json::object catalog_paths(const CatalogAuth& auth) {
    // The catalog documents are served to anonymous callers too (showing what anonymous scopes may
    // see), so their security is optional: the empty requirement {} is one of the alternatives.
    json::array security = header_security(auth);
    if (!security.empty()) security.push_back(json::object{});
    auto document = [&](const char* id, std::string summary, const char* media_type,
                        json::object schema) {
        auto get = operation(
            id, "catalog", std::move(summary),
            "Generated from the configuration and the schema registry; with authentication on, "
            "it shows what the caller may see.");
        json::object ok{{"description", "The document."},
                        {"content", {{media_type, {{"schema", std::move(schema)}}}}}};
        get["responses"] = Responses(auth, /*auth_errors=*/false).add("200", std::move(ok)).build();
        if (!security.empty()) get["security"] = security;
        return get;
    };
    const json::object json_document{{"type", "object"}};
    // A YAML body is text as far as JSON Schema is concerned.
    const json::object yaml_document{{"type", "string"}};
    json::object paths;
    paths["/asyncapi.json"] = {
        {"get", document("getAsyncApi", "AsyncAPI 3.0 document of the event streams",
                         "application/json", json_document)}};
    paths["/asyncapi.yaml"] = {{"get", document("getAsyncApiYaml", "The AsyncAPI document in YAML",
                                                "application/yaml", yaml_document)}};
    paths["/openapi.json"] = {
        {"get", document("getOpenApi", "This document", "application/json", json_document)}};
    return paths;
}

json::object route_paths(const CatalogInput& input) {
    static constexpr const char* any_method[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    json::object paths;
    detail::KeyAllocator ids;
    for (const auto& r : input.routes) {
        const std::string key = r.prefix ? r.path + "/{path}" : r.path;
        auto& item = paths[key];
        if (!item.is_object()) item = json::object{};
        auto& obj = item.as_object();
        json::array params;
        for (std::size_t b = key.find('{'); b != std::string::npos; b = key.find('{', b + 1)) {
            auto e = key.find('}', b);
            if (e == std::string::npos) break;
            std::string name = key.substr(b + 1, e - b - 1);
            json::object p{{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
            if (r.prefix && name == "path") {
                p["description"] = "The rest of the path below the prefix; it may hold several segments.";
                p["x-herald-prefix"] = true;
            }
            params.push_back(std::move(p));
        }
        if (!params.empty()) obj["parameters"] = std::move(params);
        std::vector<std::string> methods = r.methods;
        if (methods.empty()) methods.assign(std::begin(any_method), std::end(any_method));
        for (auto m : methods) {
            for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (obj.contains(m)) continue;  // another route (another host) already describes it
            std::string summary = r.description.empty() ? "REST route " + r.name : r.description;
            auto op = operation("", "routes", std::move(summary),
                                "Proxied by the gateway to its upstream service (route " + r.name +
                                    "); the answer is the service's, relayed as is.");
            op["operationId"] = ids.assign("route." + r.name + "." + m);
            op["x-herald-route"] = r.name;
            Responses responses(input.auth, !r.public_route);
            responses.add("default", json::object{{"description", "The upstream service's answer."}});
            responses.errors({404, 413, 502, 503, 504});
            if (r.rate_limited) responses.errors({429});
            op["responses"] = responses.build();
            if (r.public_route && input.auth.enabled) op["security"] = json::array{};
            if (!r.scopes.empty()) {
                json::array sc;
                for (auto& x : r.scopes) sc.emplace_back(x);
                op["x-herald-scopes"] = std::move(sc);
            }
            obj[m] = std::move(op);
        }
    }
    return paths;
}

json::object info(const CatalogInput& input) {
    return json::object{{"title", input.title + " HTTP API"},
                        {"version", detail::version_or_default(input)},
                        {"description",
                         "Herald's data-plane HTTP API: publish CloudEvents to topics, read them "
                         "as pages, Server-Sent Events or "
                         "WebSocket streams, and manage webhook subscriptions. Errors are RFC 9457 "
                         "application/problem+json with "
                         "type urn:herald:problem:<kind>. The event types and their schemas are in "
                         "the AsyncAPI document "
                         "(/asyncapi.json)."}};
}

}  // namespace

json::object openapi_document(const CatalogInput& input) {
    const Model model = detail::build_model(input);
    const CatalogAuth& auth = input.auth;

    json::object paths = route_paths(input);
    for (auto& [k, v] : topic_paths(model, auth)) paths[k] = v;
    for (auto& [k, v] : subscription_paths(auth)) paths[k] = v;
    for (auto& [k, v] : catalog_paths(auth)) paths[k] = v;

    json::object responses;
    for (const auto& e : error_answers) {
        if (!auth.enabled && (e.status == 401 || e.status == 403)) continue;
        responses[e.component] = error_response_component(e);
    }
    json::object components;
    components["schemas"] = schemas();
    components["parameters"] = parameters(model);
    components["responses"] = std::move(responses);
    components["headers"] = {
        {"Retry-After", header("Seconds to wait before retrying.",
                               json::object{{"type", "integer"}, {"minimum", 0}})}};
    if (auto schemes = security_schemes(auth, "apiKey"); !schemes.empty())
        components["securitySchemes"] = std::move(schemes);

    json::object doc;
    doc["openapi"] = "3.1.0";
    doc["info"] = info(input);
    doc["servers"] = {
        {{"url", (input.tls ? "https://" : "http://") + detail::host_or_default(input)},
         {"description", "Data plane"}}};
    if (auto security = header_security(auth); !security.empty())
        doc["security"] = std::move(security);
    doc["tags"] = {{{"name", "catalog"}, {"description", "The catalog documents"}},
                   {{"name", "routes"}, {"description", "REST routes proxied by the gateway"}},
                   {{"name", "events"}, {"description", "Publish and read events"}},
                   {{"name", "topics"}, {"description", "Topic catalog"}},
                   {{"name", "webhooks"},
                    {"description", "Webhook subscriptions, delivery log, dead letters"}},
                   {{"name", "websocket"}, {"description", "Multiplexed WebSocket"}}};
    doc["paths"] = std::move(paths);
    doc["components"] = std::move(components);
    return doc;
}

}  // namespace herald::catalog
