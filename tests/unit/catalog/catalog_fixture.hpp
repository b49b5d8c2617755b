#pragma once
// Shared by the catalog tests: sample inputs and a "$ref" checker that resolves references the way
// document validators do (every object member named "$ref" whose value is a string, wherever it
// is).

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace herald::catalog::testing {

namespace json = boost::json;

// Decodes a URI fragment (percent-encoding) and resolves it as an RFC 6901 pointer; nullptr when it
// names nothing.
inline const json::value* resolve_fragment(const json::value& root, const std::string& fragment) {
    std::string decoded;
    for (std::size_t i = 0; i < fragment.size(); ++i) {
        if (fragment[i] == '%' && i + 2 < fragment.size()) {
            decoded.push_back(static_cast<char>(std::stoi(fragment.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            decoded.push_back(fragment[i]);
        }
    }
    if (decoded.empty()) return &root;
    if (decoded.front() != '/') return nullptr;
    const json::value* at = &root;
    std::size_t pos = 1;
    while (true) {
        const std::size_t end = decoded.find('/', pos);
        std::string token =
            decoded.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        std::string unescaped;
        for (std::size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size()) {
                unescaped.push_back(token[i + 1] == '1' ? '/' : '~');
                ++i;
            } else {
                unescaped.push_back(token[i]);
            }
        }
        if (at->is_object()) {
            at = at->get_object().if_contains(unescaped);
        } else if (at->is_array()) {
            if (unescaped.empty() || unescaped.find_first_not_of("0123456789") != std::string::npos)
                return nullptr;
            const std::size_t index = std::stoul(unescaped);
            if (index >= at->get_array().size()) return nullptr;
            at = &at->get_array()[index];
        } else {
            return nullptr;
        }
        if (at == nullptr) return nullptr;
        if (end == std::string::npos) return at;
        pos = end + 1;
    }
}

struct RefReport {
    std::size_t checked = 0;
    std::vector<std::string> unresolved;  // "<where>: <ref>"
};

inline void collect_refs(const json::value& root, const json::value& v, const std::string& where,
                         RefReport& r) {
    if (v.is_object()) {
        for (const auto& [k, child] : v.get_object()) {
            if (k == "$ref" && child.is_string()) {
                ++r.checked;
                const std::string ref(child.get_string());
                if (ref.empty() || ref.front() != '#' ||
                    resolve_fragment(root, ref.substr(1)) == nullptr)
                    r.unresolved.push_back(where + ": " + ref);
            } else {
                collect_refs(root, child, where + "/" + std::string(k), r);
            }
        }
    } else if (v.is_array()) {
        for (std::size_t i = 0; i < v.get_array().size(); ++i)
            collect_refs(root, v.get_array()[i], where + "/" + std::to_string(i), r);
    }
}

inline RefReport check_refs(const json::value& doc) {
    RefReport r;
    collect_refs(doc, doc, "", r);
    return r;
}

// RFC 6901 escaping of one reference token ("~" → "~0", "/" → "~1").
inline std::string escape_token(std::string_view token) {
    std::string out;
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out.push_back(c);
    }
    return out;
}

inline const json::value& at(const json::value& doc, const std::string& pointer) {
    static const json::value missing = "<missing>";
    const json::value* v = resolve_fragment(doc, pointer);
    return v != nullptr ? *v : missing;
}

inline bool has(const json::value& doc, const std::string& pointer) {
    return resolve_fragment(doc, pointer) != nullptr;
}

inline bool is_component_key(const std::string& key) {
    static const std::regex pattern("^[a-zA-Z0-9._-]+$");
    return std::regex_match(key, pattern);
}

// Two topics with types (one with a glob), one accepting any type, three registered types (one with
// a bundled schema referring into itself and into an embedded document), one type named by a topic
// only.
inline CatalogInput sample_input() {
    CatalogInput in;
    in.version = "1.2.3";
    in.http_host = "127.0.0.1:8080";

    CatalogMessage placed;
    placed.type = "shop.orderPlaced.v1";
    placed.schema = json::parse(R"({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["orderId", "total"],
        "properties": {
            "orderId": {"type": "string", "pattern": "^ORD-[0-9]+$"},
            "total": {"type": "number", "minimum": 0},
            "shipTo": {"$ref": "#/x-herald-bundle/1"},
            "billTo": {"$ref": "#/definitions/address"},
            "status": {"enum": ["new", "paid"]}
        },
        "definitions": {"address": {"$ref": "#/x-herald-bundle/1"}},
        "x-herald-bundle": {"1": {
            "type": "object",
            "properties": {"line": {"$ref": "#/x-herald-bundle/1/definitions/line"}},
            "definitions": {"line": {"type": "string", "maxLength": 100}}
        }}
    })");
    placed.schema_uri = "urn:herald:schema:shop.orderPlaced.v1:v2";
    placed.example =
        json::parse(R"({"orderId": "ORD-1", "total": 12.5, "shipTo": {"line": "1 Main St"},
                                     "status": "new"})");

    CatalogMessage shipped;
    shipped.type = "shop.orderShipped.v1";
    shipped.schema =
        json::parse(R"({"type": "object", "properties": {"carrier": {"type": "string"}}})");
    shipped.schema_uri = "urn:herald:schema:shop.orderShipped.v1:v1";

    CatalogMessage legacy;  // draft-04, boolean exclusive bound
    legacy.type = "billing.invoicePaid.v1";
    legacy.schema =
        json::parse(R"({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
        "properties": {"amount": {"type": "number", "minimum": 0, "exclusiveMinimum": true}}})");
    legacy.schema_uri = "urn:herald:schema:billing.invoicePaid.v1:v1";
    legacy.example = json::parse(R"({"amount": 3})");

    in.messages = {placed, shipped, legacy};

    CatalogTopic orders;
    orders.name = "orders";
    orders.types = {"shop.orderPlaced.v1", "shop.orderShipped.v1", "shop.orderCancelled.v1"};
    orders.start_offset = 3;
    orders.end_offset = 10;

    CatalogTopic billing;
    billing.name = "billing.eu";
    billing.types = {"billing.*"};
    billing.allow_unknown_types = false;

    CatalogTopic audit;
    audit.name = "audit";

    in.topics = {orders, billing, audit};
    return in;
}

inline CatalogInput with_auth(CatalogInput in, bool jwt, bool api_keys, bool query_token) {
    in.auth.enabled = true;
    in.auth.jwt = jwt;
    in.auth.api_keys = api_keys;
    in.auth.query_token = query_token;
    return in;
}

}  // namespace herald::catalog::testing
