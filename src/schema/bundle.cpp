#include "schema/bundle.hpp"

#include <boost/json.hpp>
#include <map>
#include <utility>

#include "schema/json_pointer.hpp"
#include "schema/walk.hpp"

namespace herald::schema {

namespace json = boost::json;

std::string_view to_string(Draft draft) noexcept {
    return draft == Draft::draft4 ? "draft-04" : "draft-07";
}

Result<Draft> detect_draft(const json::value& schema) {
    if (schema.is_bool()) return Draft::draft7;
    if (!schema.is_object()) {
        return make_error(Errc::invalid_argument, "a schema is a JSON object or a boolean",
                          "schema");
    }
    const json::value* declared = schema.get_object().if_contains("$schema");
    if (declared == nullptr) return Draft::draft7;
    if (!declared->is_string()) {
        return make_error(Errc::invalid_argument, "\"$schema\" must be a string", "$schema");
    }
    std::string_view uri = declared->get_string();
    if (uri.ends_with("#")) uri.remove_suffix(1);
    for (std::string_view prefix : {"http://", "https://"}) {
        if (uri.starts_with(prefix)) {
            uri.remove_prefix(prefix.size());
            break;
        }
    }
    if (uri == "json-schema.org/draft-07/schema") return Draft::draft7;
    if (uri == "json-schema.org/draft-04/schema") return Draft::draft4;
    return make_error(Errc::invalid_argument,
                      "unsupported \"$schema\" '" + std::string(declared->get_string()) +
                          "': Herald validates JSON Schema draft-04 and draft-07 "
                          "(http://json-schema.org/draft-07/schema#)",
                      "$schema");
}

namespace {

bool has_scheme(std::string_view s) {
    if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == ':') return true;
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        if (!ok) return false;
    }
    return false;
}

// RFC 3986 §5.2.4, "Remove Dot Segments".
std::string remove_dot_segments(std::string_view path) {
    std::string input(path);
    std::string output;
    auto pop_segment = [&] {
        const std::size_t slash = output.rfind('/');
        output.erase(slash == std::string::npos ? 0 : slash);
    };
    while (!input.empty()) {
        if (input.starts_with("../")) {
            input.erase(0, 3);
        } else if (input.starts_with("./")) {
            input.erase(0, 2);
        } else if (input.starts_with("/./")) {
            input.replace(0, 3, "/");
        } else if (input == "/.") {
            input = "/";
        } else if (input.starts_with("/../")) {
            input.replace(0, 4, "/");
            pop_segment();
        } else if (input == "/..") {
            input = "/";
            pop_segment();
        } else if (input == "." || input == "..") {
            input.clear();
        } else {
            const std::size_t next = input.find('/', input.front() == '/' ? 1 : 0);
            const std::size_t len = next == std::string::npos ? input.size() : next;
            output += input.substr(0, len);
            input.erase(0, len);
        }
    }
    return output;
}

struct SplitRef {
    std::string_view uri;
    std::optional<std::string_view> fragment;
};

SplitRef split_fragment(std::string_view ref) {
    const std::size_t hash = ref.find('#');
    if (hash == std::string_view::npos) return {ref, std::nullopt};
    return {ref.substr(0, hash), ref.substr(hash + 1)};
}

// The pointer form valijson expects in a local reference: JSON-pointer escapes as they are, '%'
// escaped because valijson percent-decodes each token.
std::string encode_for_reference(std::string_view pointer) {
    std::string out = "#";
    for (char c : pointer) {
        if (c == '%') {
            out += "%25";
        } else {
            out += c;
        }
    }
    return out;
}

struct Location {
    std::size_t doc;
    std::string pointer;
};

class Bundler {
public:
    Bundler(Draft draft, const DocumentLookup& lookup) : draft_(draft), lookup_(lookup) {}

    Result<Bundle> run(const json::value& root, std::string_view root_uri) {
        if (root.is_object() && root.get_object().contains(bundle_member)) {
            return fail("the member \"" + std::string(bundle_member) + "\" is reserved", "");
        }
        add_document(std::string(root_uri), root);
        if (!index(0)) return std::move(*error_);
        // rewrite() may append documents (each indexed as it is loaded); the loop picks them up.
        for (std::size_t i = 0; i < docs_.size(); ++i) {
            if (!rewrite(i)) return std::move(*error_);
        }
        Bundle out;
        out.document = std::move(docs_[0].copy);
        if (docs_.size() > 1) {
            json::object embedded;
            for (std::size_t i = 1; i < docs_.size(); ++i) {
                embedded[std::to_string(i)] = std::move(docs_[i].copy);
                out.references.push_back(docs_[i].uri);
            }
            out.document.get_object()[bundle_member] = std::move(embedded);
        }
        return out;
    }

private:
    struct Doc {
        std::string uri;
        json::value copy;      // being rewritten
        json::value original;  // as given, for checking that reference targets exist
    };

    Error fail(std::string message, const std::string& where) {
        if (!error_) {
            std::string m = std::move(message);
            m += " (at " + (where.empty() ? std::string("/") : where) + ")";
            error_ = make_error(Errc::invalid_argument, std::move(m), "schema");
        }
        return *error_;
    }

    // Where a location is, for messages: a pointer in the root, or "<uri>#<pointer>" in an embedded
    // document.
    std::string describe(std::size_t doc, const std::string& pointer) const {
        if (doc == 0) return pointer.empty() ? "/" : pointer;
        return docs_[doc].uri + "#" + pointer;
    }

    std::size_t add_document(std::string uri, const json::value& document) {
        docs_.push_back({uri, document, document});
        const std::size_t i = docs_.size() - 1;
        resources_.emplace(std::move(uri), Location{i, ""});
        return i;
    }

    std::string_view id_keyword() const { return draft_ == Draft::draft4 ? "id" : "$id"; }

    // Pass 1: record the base URI of every subschema that declares an id, and plain-name fragments
    // (which belong to the resource — the nearest enclosing subschema with an id — whatever URI
    // that resource is reached by).
    struct Scope {
        std::string base;
        std::string resource;  // pointer of the resource's root in the document
    };
    bool index(std::size_t d) {
        auto fn = [&](json::object& obj, const std::string& pointer, Scope& scope, bool) {
            const json::value* id = obj.if_contains(id_keyword());
            if (id == nullptr || !id->is_string()) return true;
            const SplitRef parts = split_fragment(id->get_string());
            if (!parts.uri.empty()) {
                scope.base = resolve_uri(scope.base, parts.uri);
                scope.resource = pointer;
                auto [it, inserted] = resources_.emplace(scope.base, Location{d, pointer});
                if (!inserted && (it->second.doc != d || it->second.pointer != pointer)) {
                    fail("\"" + std::string(id_keyword()) + "\" '" + scope.base +
                             "' is declared twice",
                         describe(d, pointer));
                    return false;
                }
            }
            if (parts.fragment && !parts.fragment->empty()) {
                if (parts.fragment->front() == '/')
                    return true;  // an id with a pointer fragment names nothing
                anchors_.emplace(anchor_key(d, scope.resource, *parts.fragment),
                                 Location{d, pointer});
            }
            return true;
        };
        Scope scope{docs_[d].uri, ""};
        return walk(d, scope, fn);
    }

    static std::string anchor_key(std::size_t doc, std::string_view resource,
                                  std::string_view name) {
        return std::to_string(doc) + "#" + std::string(resource) + "#" + std::string(name);
    }

    // Pass 2: rewrite references and drop ids.
    bool rewrite(std::size_t d) {
        auto fn = [&](json::object& obj, const std::string& pointer, std::string& base,
                      bool known) {
            for (std::string_view key : {std::string_view("$id"), std::string_view("id")}) {
                const json::value* id = obj.if_contains(key);
                if (id == nullptr || !id->is_string()) continue;
                if (key == id_keyword()) {
                    const SplitRef parts = split_fragment(id->get_string());
                    if (!parts.uri.empty()) base = resolve_uri(base, parts.uri);
                }
                obj.erase(key);
            }
            json::value* ref = obj.if_contains("$ref");
            if (ref == nullptr || !ref->is_string()) return true;
            const std::string original(ref->get_string());
            auto target = locate(original, base, describe(d, pointer));
            if (!target) {
                if (!known) {
                    error_
                        .reset();  // an unresolvable "$ref" inside an unknown keyword is only data
                    return true;
                }
                return false;
            }
            *ref = encode_for_reference(prefix(target->doc) + target->pointer);
            return true;
        };
        std::string base = docs_[d].uri;
        return walk(d, base, fn);
    }

    template <class Ctx, class Fn>
    bool walk(std::size_t d, const Ctx& ctx, Fn& fn) {
        // The walk may append documents (rewrite → locate → lookup); work on a local value, not
        // docs_[d].
        json::value copy = std::move(docs_[d].copy);
        const bool ok = detail::walk_schema(copy, "", ctx, true, fn);
        docs_[d].copy = std::move(copy);
        if (!ok && !error_) fail("schema nested too deeply", describe(d, ""));
        return ok;
    }

    std::string prefix(std::size_t doc) const {
        return doc == 0 ? std::string()
                        : "/" + std::string(bundle_member) + "/" + std::to_string(doc);
    }

    // The bundle location a reference designates, loading registered documents on the way.
    std::optional<Location> locate(const std::string& ref, const std::string& base,
                                   const std::string& where) {
        const SplitRef parts = split_fragment(ref);
        const std::string target_uri = parts.uri.empty() ? base : resolve_uri(base, parts.uri);
        auto it = resources_.find(target_uri);
        if (it == resources_.end() && !parts.uri.empty())
            it = resources_.find(std::string(parts.uri));
        if (it == resources_.end()) {
            if (!load(target_uri, std::string(parts.uri), ref, where)) return std::nullopt;
            it = resources_.find(target_uri);
            if (it == resources_.end()) it = resources_.find(std::string(parts.uri));
            if (it == resources_.end()) {
                fail("$ref '" + ref + "': no registered schema has this URI", where);
                return std::nullopt;
            }
        }
        Location loc = it->second;
        if (parts.fragment && !parts.fragment->empty()) {
            if (parts.fragment->front() == '/') {
                std::string pointer;
                if (!detail::percent_decode(*parts.fragment, pointer)) {
                    fail("$ref '" + ref + "' has a malformed %-escape", where);
                    return std::nullopt;
                }
                while (!pointer.empty() && pointer.back() == '/') pointer.pop_back();
                if (pointer.find("//") != std::string::npos) {
                    fail("$ref '" + ref + "' has an empty reference token, which is not supported",
                         where);
                    return std::nullopt;
                }
                loc.pointer += pointer;
            } else {
                auto a = anchors_.find(anchor_key(loc.doc, loc.pointer, *parts.fragment));
                if (a == anchors_.end()) {
                    fail("$ref '" + ref + "': no subschema declares the fragment '#" +
                             std::string(*parts.fragment) + "'",
                         where);
                    return std::nullopt;
                }
                loc = a->second;
            }
        }
        // The target must exist now: valijson would otherwise fail later with a less helpful
        // message.
        if (!exists(loc)) {
            fail("$ref '" + ref + "' points to nothing", where);
            return std::nullopt;
        }
        return loc;
    }

    bool exists(const Location& loc) const {
        const json::value& doc = docs_[loc.doc].original;
        if (loc.pointer.empty()) return true;
        boost::system::error_code ec;
        return doc.find_pointer(loc.pointer, ec) != nullptr && !ec;
    }

    bool load(const std::string& target_uri, const std::string& literal, const std::string& ref,
              const std::string& where) {
        std::optional<ExternalDocument> found;
        if (lookup_) {
            found = lookup_(target_uri);
            if (!found && !literal.empty() && literal != target_uri) found = lookup_(literal);
        }
        if (!found) {
            fail("$ref '" + ref + "': no registered schema has the URI '" + target_uri + "'",
                 where);
            return false;
        }
        if (found->draft != draft_) {
            fail("$ref '" + ref + "' names a " + std::string(to_string(found->draft)) +
                     " schema from a " + std::string(to_string(draft_)) +
                     " one; mixing drafts is not supported",
                 where);
            return false;
        }
        // Registered under its URN; the URI it was asked by (e.g. its "$id") resolves to it too.
        auto existing = resources_.find(found->uri);
        if (existing != resources_.end()) {
            resources_.emplace(target_uri, existing->second);
            return true;
        }
        const std::size_t d = add_document(found->uri, *found->document);
        resources_.emplace(target_uri, Location{d, ""});
        return index(d);
    }

    Draft draft_;
    const DocumentLookup& lookup_;
    std::vector<Doc> docs_;
    std::map<std::string, Location> resources_;
    std::map<std::string, Location> anchors_;
    std::optional<Error> error_;
};

}  // namespace

std::string resolve_uri(std::string_view base, std::string_view reference) {
    if (has_scheme(reference) || base.empty()) return std::string(reference);
    const std::size_t scheme_end = base.find("://");
    if (scheme_end == std::string_view::npos)
        return std::string(reference);  // a URN: no hierarchy to merge
    if (const std::size_t hash = base.find('#'); hash != std::string_view::npos)
        base = base.substr(0, hash);
    if (reference.empty()) return std::string(base);
    const std::string_view scheme = base.substr(0, scheme_end + 1);  // "https:"
    if (reference.starts_with("//")) return std::string(scheme) + std::string(reference);
    std::size_t authority_end = base.find('/', scheme_end + 3);
    if (authority_end == std::string_view::npos) authority_end = base.size();
    const std::string_view authority = base.substr(0, authority_end);  // "https://host"
    std::string_view base_path = base.substr(authority_end);
    if (const std::size_t q = base_path.find('?'); q != std::string_view::npos)
        base_path = base_path.substr(0, q);
    if (reference.front() == '/') return std::string(authority) + remove_dot_segments(reference);
    if (reference.front() == '?')
        return std::string(authority) + std::string(base_path) + std::string(reference);
    std::string merged;
    const std::size_t last_slash = base_path.rfind('/');
    merged = last_slash == std::string_view::npos
                 ? "/"
                 : std::string(base_path.substr(0, last_slash + 1));
    merged += reference;
    return std::string(authority) + remove_dot_segments(merged);
}

Result<Bundle> make_bundle(const json::value& root, std::string_view root_uri, Draft draft,
                           const DocumentLookup& lookup) {
    Bundler bundler(draft, lookup);
    return bundler.run(root, root_uri);
}

}  // namespace herald::schema
