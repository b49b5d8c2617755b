#pragma once
// Reference resolution. A registered schema may "$ref" its own parts ("#/definitions/address"),
// other registered schemas (by URN, "urn:herald:schema:shipping.address.v1:v2#/definitions/line",
// or by their "$id") and subschemas that declare an "$id" or a plain-name fragment ("#line").
// make_bundle() turns such a schema into ONE self-contained document in which every "$ref" is local
// ("#/..."):
//   * each referenced document is copied under the root's "x-herald-bundle" member (a name no
//     JSON Schema draft gives meaning to), keyed "1", "2", ... in the order they are first met,
//     transitively;
//   * every "$ref" is rewritten to the JSON pointer of its target inside the bundle;
//   * "$id"/"id" members are removed, so no consumer of the bundle re-scopes references.
//
// Why: valijson 1.0 resolves remote references against one resolution scope and caches subschemas
// by pointer, so two documents that both use "#/definitions/address" collide; and the compatibility
// check (compat.hpp) only needs to follow local references. The bundle is made once, at
// registration, and frozen with the version — so a schema keeps validating exactly as it did when
// registered, whatever is registered later.
//
// Base URIs follow the drafts: "$id" (draft 7) or "id" (draft 4) on a subschema sets the base for
// the references inside it; relative references are resolved against it (RFC 3986 merge for
// hierarchical URIs such as https://…; a URN base leaves a relative reference as written, and it
// must then name a registered "$id" exactly). A "$ref" that cannot be resolved is an error; so is a
// reference into a document of another draft.
//
// Pure functions apart from the lookup callback, which is called synchronously and not retained.

#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::schema {

enum class Draft { draft4, draft7 };
std::string_view to_string(Draft draft) noexcept;  // "draft-04" | "draft-07"

// The draft a schema declares with "$schema" (http or https, with or without the trailing '#');
// draft 7 when it declares none or is a boolean schema. Errors (Errc::invalid_argument, attribute
// "$schema"): any other
// "$schema" value (draft 3, 6, 2019-09, 2020-12 ...), or a schema that is neither an object nor a
// boolean.
Result<Draft> detect_draft(const boost::json::value& schema);

// A registered schema that a reference may name.
struct ExternalDocument {
    std::string uri;                     // its canonical URI (the version's URN)
    const boost::json::value* document;  // as registered; must outlive make_bundle()
    Draft draft;
};

// Finds a registered schema by absolute URI without fragment: a version URN or a registered "$id".
using DocumentLookup = std::function<std::optional<ExternalDocument>(std::string_view uri)>;

struct Bundle {
    boost::json::value document;  // self-contained; every "$ref" is "#" + JSON pointer
    // Canonical URIs of the embedded documents, in bundle order.
    std::vector<std::string> references;
};

inline constexpr std::string_view bundle_member = "x-herald-bundle";

// `root_uri` is the URI the root is registered under (its URN); references to it resolve to the
// root itself. Errors: Errc::invalid_argument with attribute "schema" and a message naming the
// reference and where it is, e.g. "$ref 'urn:herald:schema:a.b.v1:v9': no registered schema has the
// URI '…' (at /properties/x)".
Result<Bundle> make_bundle(const boost::json::value& root, std::string_view root_uri, Draft draft,
                           const DocumentLookup& lookup);

// RFC 3986 §5.2 reference resolution for the hierarchical case (scheme "://" authority path), with
// dot-segment removal; a reference with a scheme is returned as is; against a non-hierarchical base
// (a URN) or an empty base the reference is returned as is. Fragments are not handled here (callers
// split them off).
std::string resolve_uri(std::string_view base, std::string_view reference);

}  // namespace herald::schema
