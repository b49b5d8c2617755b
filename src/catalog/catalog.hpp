#pragma once
// The catalog documents (issue 6 part 5): what a developer needs to use Herald's topics,
// generated from the topics' configuration and the schema registry.
//
//   asyncapi_document()  AsyncAPI 3.0.0 for the event streams: the transports (HTTP publish, SSE,
//                        WebSocket, webhooks), a channel per topic, a send and a receive operation
//                        per topic, one message per event type with the CloudEvent envelope as
//                        payload and the registered schema of its `data`.
//   openapi_document()   OpenAPI 3.1.0 for Herald's own data-plane HTTP API (docs/api.md,
//                        docs/webhooks.md, docs/security.md).
//
// Both are pure functions of a CatalogInput: no I/O, no clock, no randomness. The same input gives
// the same document byte for byte once serialised, and so does the same input in another order —
// topics and messages are sorted by name first — so a catalog can be cached, compared and served
// with a strong ETag. The caller builds the input from config and registry snapshots (filtered to
// what the caller may see when auth is on) and renders the result with boost::json::serialize or
// to_yaml() (catalog/yaml.hpp).
//
// Guarantees, checked by the unit tests (tests/unit/catalog) and by the official validators:
//   * every "$ref" points at a member that exists in the same document;
//   * component, channel, operation and message keys match ^[a-zA-Z0-9._-]+$ as both
//     specifications require: a name is used as is when it fits, otherwise its other characters
//     become '_'; a collision gets a "_2", "_3" ... suffix (in sorted order, so keys are stable);
//   * the size is linear in topics + types + the size of the registered schemas; the OpenAPI
//     document enumerates topic names (an enum on {topic}) only when there are at most
//     max_enumerated_topics, and carries at most max_openapi_examples publish examples.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::catalog {

// One event type: its latest registered schema, or none.
struct CatalogMessage {
    std::string type;  // CloudEvents `type`, e.g. "shop.orderPlaced.v1"
    // Self-contained JSON Schema (draft-04 or draft-07) of the event's `data`, as
    // schema::make_bundle() leaves it: every "$ref" is local ("#" or "#/<pointer>", possibly into
    // "x-herald-bundle"). The documents move it under components.schemas and rewrite those
    // references to the new location; a "$ref" that is not local is left as is (and would then not
    // resolve: bundle first). Draft-04 boolean exclusiveMinimum/exclusiveMaximum are rewritten to
    // their draft-07 numeric form, and "$schema"/"$id"/"id" are dropped, because AsyncAPI schemas
    // are draft-07 (the AsyncAPI Schema Object is a superset of it).
    std::optional<boost::json::value> schema;
    std::string schema_uri;  // "urn:herald:schema:<type>:v<N>"; empty when there is no schema
    // Example `data`; the AsyncAPI document wraps it in a complete CloudEvent. It should validate
    // against `schema`: nothing here checks that (AsyncAPI 3 parsers do not either), so the
    // registry should before accepting it.
    std::optional<boost::json::value> example;
};

struct CatalogTopic {
    std::string name;  // [a-z0-9][a-z0-9._-]{0,199}
    // Accepted event types. Exact names; an entry holding '*' or '?' is a glob (base/glob.hpp),
    // which stands for every message in CatalogInput::messages it matches. Empty: any type.
    std::vector<std::string> types;
    // Whether types without a registered schema are accepted (docs/schemas.md §5). When false, only
    // types that have a schema are listed for the topic.
    bool allow_unknown_types = true;
    std::uint64_t start_offset = 0;  // first retained offset
    std::uint64_t end_offset = 0;    // offset the next event will get
};

// Which credentials the data plane accepts (docs/security.md). Schemes are described only when
// `enabled`.
struct CatalogAuth {
    bool enabled = false;
    bool jwt = false;       // Authorization: Bearer <JWT>
    bool api_keys = false;  // X-API-Key: <key> (or Authorization: Bearer hk_…)
    // ?access_token= on SSE and WebSocket endpoints (auth.allow_query_token).
    bool query_token = false;
};

// A REST route of the gateway (docs/gateway.md), as the OpenAPI document lists it next to Herald's own API.
// Never the upstream's address: that is internal topology.
struct CatalogRoute {
    std::string name;
    // An exact path ("/health"), a template ("/users/{id}") or, with `prefix`, the prefix without its
    // trailing '/' ("/api/orders"; "" for "/").
    std::string path;
    bool prefix = false;               // the route covers every path below `path`
    std::vector<std::string> methods;  // upper case; empty: any
    std::string description;           // the route's own; empty: a generated summary
    bool public_route = false;         // auth: none — no credentials needed
    std::vector<std::string> scopes;   // required Herald scopes
    bool rate_limited = false;
};

struct CatalogInput {
    std::string title = "Herald";
    std::string version;    // Herald's version; "0.0.0" when empty
    std::string http_host;  // data-plane host[:port] as clients reach it, e.g. "127.0.0.1:8080"
    bool tls = false;       // the data plane serves TLS: the servers say https and wss
    std::vector<CatalogTopic> topics;
    std::vector<CatalogMessage> messages;  // at most one per type (later duplicates are ignored)
    std::vector<CatalogRoute> routes;      // REST routes, in declaration order
    CatalogAuth auth;
};

inline constexpr std::size_t max_enumerated_topics = 100;
inline constexpr std::size_t max_openapi_examples = 20;

// AsyncAPI 3.0.0. Layout:
//   servers     "http" (protocol http, pathname /v1: publish, pages, SSE — described by
//               "x-herald-sse", as AsyncAPI has no SSE binding) and "ws" (protocol ws, pathname
//               /v1/ws, subprotocol herald.v1 in "x-herald-subprotocol"); both carry `security`
//               when auth is enabled. With `tls` the protocols are https and wss.
//   channels    one per topic, key and address = the topic's key / name; `messages` reference
//               components.messages: one per accepted type, and the generic "cloudevent" message
//               when the topic names no types (or names globs while accepting types that have no
//               schema).
//   operations  "<topic>.send" (HTTP POST /v1/topics/<topic>/events or WebSocket op publish) and
//               "<topic>.receive" (SSE, pages, one-topic or multiplexed WebSocket, webhooks),
//               each listing the channel's messages through the channel.
//   components  messages (key: the type; payload: the CloudEvent envelope with `type` const and
//               `data` a $ref to the schema), schemas (the registered `data` schemas, key: the
//               type), securitySchemes ("bearer", "apiKey", "accessToken").
boost::json::object asyncapi_document(const CatalogInput& input);

// OpenAPI 3.1.0 of the data plane: the REST routes (tag "routes": one operation per method, the answer
// being the upstream's; a prefix route as "<prefix>/{path}" with "x-herald-prefix": true), /v1/topics, /v1/topics/{topic}, /v1/topics/{topic}/events (POST
// publish; GET pages, SSE and the one-topic WebSocket), /v1/ws, the webhook subscriptions API and
// the catalog documents. Errors are application/problem+json (components.schemas.Problem, RFC
// 9457). When auth is enabled the security schemes apply to every operation (the query token only
// to the streaming endpoints; the catalog documents are also served to anonymous callers) and
// 401/403 answers are listed; otherwise neither.
boost::json::object openapi_document(const CatalogInput& input);

}  // namespace herald::catalog
