#pragma once
// Private to the catalog module (and its tests): the normalised view of a CatalogInput that both
// documents are built from, and the JSON Schema pieces they share.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"

namespace herald::catalog::detail {

// The key of the generic message, for topics that accept any type.
inline constexpr std::string_view generic_message_key = "cloudevent";

// A name as a key of the form both specifications require (^[a-zA-Z0-9._-]+$): other characters
// become '_'; an empty name becomes "_".
std::string sanitize_key(std::string_view name);

// Hands out unique keys in one namespace: sanitize_key(name), then "<key>_2", "<key>_3" ... on
// collision.
class KeyAllocator {
public:
    void reserve(std::string key) { used_.insert(std::move(key)); }
    std::string assign(std::string_view name);

private:
    std::set<std::string> used_;
};

struct MessageEntry {
    std::string type;  // empty for the generic message
    std::string key;   // components.messages / components.schemas key
    // Null for the generic message and for types named only by topics.
    const CatalogMessage* source = nullptr;
    bool has_schema() const { return source != nullptr && source->schema.has_value(); }
};

struct TopicEntry {
    const CatalogTopic* topic = nullptr;
    std::string key;  // channel key (the topic name when it fits, see sanitize_key)
    // Indexes into Model::messages, sorted by type, the generic message last.
    std::vector<std::size_t> messages;
};

// Topics sorted by name and messages by type (first occurrence wins on duplicates), keys assigned,
// and each topic's message list resolved (exact types, globs expanded over the known messages,
// allow_unknown_types applied). `messages` holds every known type — registered or named by a topic
// — and, when some topic needs it, the generic message (last).
struct Model {
    std::vector<MessageEntry> messages;
    std::vector<TopicEntry> topics;
    bool uses_generic = false;
};

Model build_model(const CatalogInput& input);

// A copy of a registered `data` schema fit to live at `location` (a JSON pointer such as
// "/components/schemas/shop.orderPlaced.v1") inside a catalog document: local "$ref"s are prefixed
// with the location, draft-04 boolean exclusiveMinimum/exclusiveMaximum become draft-07 numbers,
// "$schema", "$id" and "id" (draft-04) are dropped, and a boolean schema becomes its object form
// ({} or {"not": {}}). Values of enum, const, default and examples are data and are left alone.
boost::json::value embed_schema(const boost::json::value& schema, std::string_view location);

// JSON Schema of a CloudEvents 1.0 event in the structured JSON format. With a `type`, the type is
// that constant and `data` is `data_schema`; without one (the generic event) any type, `data` is
// anything and `data_base64` is described too. Extension attributes are allowed (string, integer or
// boolean values). `describe` adds a sentence to each attribute.
boost::json::object cloud_event_schema(const std::string* type, boost::json::value data_schema,
                                       bool describe);

// A complete example CloudEvent carrying `data` (fixed id, source and time: documents must be
// deterministic).
boost::json::object example_event(std::string_view type, std::string_view schema_uri,
                                  const boost::json::value& data);

// "0.0.0" when the version is unset; "127.0.0.1:8080" (the default listener) when the host is.
// The security schemes matching the auth settings (empty when auth is off). AsyncAPI and OpenAPI spell the
// API-key scheme type differently: "httpApiKey" and "apiKey".
boost::json::object security_schemes(const CatalogAuth& auth, std::string_view api_key_type);

std::string version_or_default(const CatalogInput& input);
std::string host_or_default(const CatalogInput& input);

}  // namespace herald::catalog::detail
