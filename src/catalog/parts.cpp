#include "catalog/parts.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "base/glob.hpp"

namespace herald::catalog::detail {

namespace json = boost::json;
using std::string_view;

namespace {

bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool is_glob(string_view s) { return s.find_first_of("*?") != string_view::npos; }

// --- Embedding a registered schema ---------------------------------------------------------------

// Registered schemas are operator input of bounded size, but a depth limit costs nothing: deeper
// parts are copied unchanged.
constexpr int max_schema_depth = 256;

bool is_data_keyword(string_view k) {
    return k == "enum" || k == "const" || k == "default" || k == "examples";
}

// Keywords whose value maps names to schemas: their members are names, never keywords.
bool is_schema_map_keyword(string_view k) {
    return k == "properties" || k == "patternProperties" || k == "definitions" || k == "$defs" ||
           k == "dependencies";
}

// Draft 4 spells an exclusive bound as a boolean beside minimum/maximum; draft 7 as the bound
// itself.
void upgrade_exclusive_bound(json::object& obj, string_view exclusive, string_view bound) {
    json::value* flag = obj.if_contains(exclusive);
    if (flag == nullptr || !flag->is_bool()) return;
    const bool on = flag->get_bool();
    json::value* limit = obj.if_contains(bound);
    if (on && limit != nullptr && limit->is_number()) {
        json::value number = *limit;
        obj.stable_erase(bound);
        obj[exclusive] = std::move(number);
    } else {
        obj.stable_erase(exclusive);
    }
}

void rewrite(json::value& v, string_view location, int depth);

void rewrite_members(json::value& v, string_view location, int depth) {
    if (v.is_array()) {
        for (auto& item : v.get_array()) rewrite(item, location, depth + 1);
    } else if (v.is_object()) {
        rewrite(v, location, depth + 1);
    }
}

// Visits every object at a schema position. Objects below unknown keywords are visited too, as the
// schema module's bundler does (a "$ref" may point into them, and the bundler rewrote theirs).
void rewrite(json::value& v, string_view location, int depth) {
    if (depth > max_schema_depth || !v.is_object()) return;
    json::object& obj = v.get_object();
    for (string_view id : {string_view("$schema"), string_view("$id"), string_view("id")}) {
        if (const json::value* x = obj.if_contains(id); x != nullptr && x->is_string())
            obj.stable_erase(id);
    }
    if (json::value* ref = obj.if_contains("$ref"); ref != nullptr && ref->is_string()) {
        const string_view target = ref->get_string();
        if (!target.empty() && target.front() == '#') {
            std::string moved = "#";
            moved += location;
            moved += target.substr(1);
            *ref = moved;
        }
    }
    upgrade_exclusive_bound(obj, "exclusiveMinimum", "minimum");
    upgrade_exclusive_bound(obj, "exclusiveMaximum", "maximum");
    for (auto& [key, child] : obj) {
        const string_view k = key;
        if (is_data_keyword(k)) continue;
        if (is_schema_map_keyword(k) && child.is_object()) {
            for (auto& [name, sub] : child.get_object()) rewrite_members(sub, location, depth + 1);
        } else {
            rewrite_members(child, location, depth);
        }
    }
}

}  // namespace

std::string sanitize_key(string_view name) {
    if (name.empty()) return "_";
    std::string key(name);
    for (char& c : key)
        if (!is_key_char(c)) c = '_';
    return key;
}

std::string KeyAllocator::assign(string_view name) {
    const std::string base = sanitize_key(name);
    std::string key = base;
    for (int n = 2; used_.count(key) != 0; ++n) key = base + "_" + std::to_string(n);
    used_.insert(key);
    return key;
}

Model build_model(const CatalogInput& input) {
    Model model;

    // Messages: registered ones and the exact types topics name, each once, sorted by type.
    std::map<std::string, const CatalogMessage*, std::less<>> types;
    for (const auto& m : input.messages)
        types.emplace(m.type, &m);  // emplace keeps the first duplicate
    for (const auto& t : input.topics)
        for (const auto& name : t.types)
            if (!is_glob(name)) types.emplace(name, nullptr);
    KeyAllocator message_keys;
    message_keys.reserve(std::string(generic_message_key));
    std::map<string_view, std::size_t, std::less<>> index_of_type;
    for (const auto& [type, source] : types) {
        index_of_type.emplace(type, model.messages.size());
        model.messages.push_back(MessageEntry{type, message_keys.assign(type), source});
    }
    const std::size_t known_types = model.messages.size();
    const std::size_t generic_index = known_types;  // appended below when some topic needs it

    // Topics, sorted by name; the first of two with one name wins.
    std::vector<const CatalogTopic*> topics;
    for (const auto& t : input.topics) topics.push_back(&t);
    std::stable_sort(
        topics.begin(), topics.end(),
        [](const CatalogTopic* a, const CatalogTopic* b) { return a->name < b->name; });
    topics.erase(std::unique(topics.begin(), topics.end(),
                             [](const CatalogTopic* a, const CatalogTopic* b) {
                                 return a->name == b->name;
                             }),
                 topics.end());

    KeyAllocator channel_keys;
    for (const CatalogTopic* t : topics) {
        TopicEntry entry{t, channel_keys.assign(t->name), {}};
        bool generic = t->types.empty();
        auto admit = [&](std::size_t i) {
            if (t->allow_unknown_types || model.messages[i].has_schema())
                entry.messages.push_back(i);
        };
        for (const auto& name : t->types) {
            if (is_glob(name)) {
                for (std::size_t i = 0; i < known_types; ++i)
                    if (glob_match(name, model.messages[i].type)) admit(i);
                // Types nobody registered may match the glob too, and are accepted here.
                if (t->allow_unknown_types) generic = true;
            } else {
                admit(index_of_type.at(name));
            }
        }
        std::sort(entry.messages.begin(), entry.messages.end());
        entry.messages.erase(std::unique(entry.messages.begin(), entry.messages.end()),
                             entry.messages.end());
        if (generic) {
            entry.messages.push_back(generic_index);
            model.uses_generic = true;
        }
        model.topics.push_back(std::move(entry));
    }
    if (model.uses_generic)
        model.messages.push_back(MessageEntry{"", std::string(generic_message_key), nullptr});
    return model;
}

json::value embed_schema(const json::value& schema, string_view location) {
    if (schema.is_bool()) {
        if (schema.get_bool()) return json::object{};
        return json::object{{"not", json::object{}}};
    }
    json::value copy = schema;
    rewrite(copy, location, 0);
    return copy;
}

json::object cloud_event_schema(const std::string* type, json::value data_schema, bool describe) {
    json::object properties;
    auto attribute = [&](const char* name, json::object schema, const char* description) {
        if (describe) schema["description"] = description;
        properties[name] = std::move(schema);
    };
    attribute("specversion", {{"type", "string"}, {"const", "1.0"}},
              "The CloudEvents specification version.");
    attribute("id", {{"type", "string"}, {"minLength", 1}},
              "Identifies the event; unique per source (Herald deduplicates on source + id).");
    attribute("source", {{"type", "string"}, {"format", "uri-reference"}, {"minLength", 1}},
              "The context in which the event happened.");
    if (type != nullptr) {
        attribute("type", {{"type", "string"}, {"const", *type}}, "The event type.");
    } else {
        attribute("type", {{"type", "string"}, {"minLength", 1}},
                  "The event type, e.g. shop.orderPlaced.v1.");
    }
    attribute("time", {{"type", "string"}, {"format", "date-time"}},
              "When the event happened (RFC 3339).");
    attribute("subject", {{"type", "string"}, {"minLength", 1}},
              "The subject of the event within its source.");
    attribute("datacontenttype", {{"type", "string"}},
              "Media type of data (RFC 2046), e.g. application/json.");
    attribute("dataschema", {{"type", "string"}, {"format", "uri"}},
              "URI of the schema data adheres to; Herald sets the registered version's URN.");
    properties["data"] = std::move(data_schema);
    if (type == nullptr) {
        attribute("data_base64", {{"type", "string"}, {"contentEncoding", "base64"}},
                  "Binary data, base64-encoded (instead of data).");
    }
    json::object extensions{{"type", {"string", "integer", "boolean"}}};
    if (describe) extensions["description"] = "CloudEvents extension attributes, e.g. traceparent.";
    json::object schema;
    schema["type"] = "object";
    schema["required"] = {"id", "source", "specversion", "type"};
    schema["properties"] = std::move(properties);
    schema["additionalProperties"] = std::move(extensions);
    return schema;
}

json::object example_event(string_view type, string_view schema_uri, const json::value& data) {
    json::object event;
    event["specversion"] = "1.0";
    event["id"] = "01912f4e-7b3a-7c2d-8e4f-5a6b7c8d9e0f";
    event["source"] = "/example";
    event["type"] = type;
    event["time"] = "2024-05-01T12:00:00Z";
    event["datacontenttype"] = "application/json";
    if (!schema_uri.empty()) event["dataschema"] = schema_uri;
    event["data"] = data;
    return event;
}

std::string version_or_default(const CatalogInput& input) {
    return input.version.empty() ? std::string("0.0.0") : input.version;
}

std::string host_or_default(const CatalogInput& input) {
    return input.http_host.empty() ? std::string("127.0.0.1:8080") : input.http_host;
}

boost::json::object security_schemes(const CatalogAuth& auth, std::string_view api_key_type) {
    boost::json::object schemes;
    if (!auth.enabled) return schemes;
    if (auth.jwt || auth.api_keys) {
        boost::json::object bearer{{"type", "http"}, {"scheme", "bearer"}};
        if (auth.jwt) bearer["bearerFormat"] = "JWT";
        bearer["description"] = auth.jwt && auth.api_keys ? "Authorization: Bearer <JWT>, or Bearer <API key> (hk_…)."
                                : auth.jwt                ? "Authorization: Bearer <JWT>."
                                                          : "Authorization: Bearer <API key> (hk_…).";
        schemes["bearer"] = std::move(bearer);
    }
    if (auth.api_keys) {
        schemes["apiKey"] = {{"type", api_key_type},
                             {"name", "X-API-Key"},
                             {"in", "header"},
                             {"description", "An API key in the X-API-Key header."}};
    }
    if (auth.query_token) {
        schemes["accessToken"] = {
            {"type", api_key_type},
            {"name", "access_token"},
            {"in", "query"},
            {"description",
             "A JWT or API key in ?access_token=, accepted on SSE and WebSocket endpoints only "
             "(browsers' EventSource and WebSocket cannot set headers)."}};
    }
    return schemes;
}

}  // namespace herald::catalog::detail
