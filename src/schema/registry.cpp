#include "schema/registry.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

namespace herald::schema {

namespace json = boost::json;

namespace {

constexpr std::string_view uri_prefix = "urn:herald:schema:";

// The root identifier a schema declares ("$id" in draft 7, "id" in draft 4), without fragment; ""
// when none.
std::string root_id(const json::value& schema, Draft draft) {
    if (!schema.is_object()) return {};
    const json::value* id = schema.get_object().if_contains(draft == Draft::draft4 ? "id" : "$id");
    if (id == nullptr || !id->is_string()) return {};
    std::string_view s = id->get_string();
    if (const std::size_t hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
    return std::string(s);
}

// "shipping.orderShipped.v1" → "shipping.orderShipped.v2": where a breaking change belongs.
std::string next_major_type(std::string_view type) {
    const auto major = event_type_version(type);
    if (!major) return {};
    const std::size_t dot = type.rfind('.');
    return std::string(type.substr(0, dot + 1)) + "v" + std::to_string(*major + 1);
}

}  // namespace

std::string schema_uri(std::string_view type, std::uint32_t version) {
    return std::string(uri_prefix) + std::string(type) + ":v" + std::to_string(version);
}

std::optional<SchemaRef> parse_schema_uri(std::string_view uri) {
    if (!uri.starts_with(uri_prefix)) return std::nullopt;
    const std::string_view rest = uri.substr(uri_prefix.size());
    const std::size_t sep = rest.rfind(":v");
    if (sep == std::string_view::npos || sep == 0) return std::nullopt;
    const std::string_view digits = rest.substr(sep + 2);
    if (digits.empty() || digits.size() > 10 || digits.front() == '0') return std::nullopt;
    std::uint64_t n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > 0xFFFFFFFFu) return std::nullopt;
    return SchemaRef{std::string(rest.substr(0, sep)), static_cast<std::uint32_t>(n)};
}

// --- Snapshot ------------------------------------------------------------------------------------

SchemaVersionPtr Snapshot::get(std::string_view type, std::optional<std::uint32_t> version) const {
    const auto it = types_.find(type);
    if (it == types_.end() || it->second.versions.empty()) return nullptr;
    const auto& versions = it->second.versions;
    if (!version) return versions.rbegin()->second;
    const auto v = versions.find(*version);
    return v == versions.end() ? nullptr : v->second;
}

SchemaVersionPtr Snapshot::find(std::string_view uri) const {
    if (const auto ref = parse_schema_uri(uri)) {
        if (auto v = get(ref->type, ref->version)) return v;
    }
    const auto it = by_id_.find(std::string(uri));
    return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::string> Snapshot::types() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : types_) {
        if (!entry.versions.empty()) out.push_back(name);
    }
    return out;
}

std::vector<std::uint32_t> Snapshot::versions(std::string_view type) const {
    std::vector<std::uint32_t> out;
    const auto it = types_.find(type);
    if (it == types_.end()) return out;
    for (const auto& [number, _] : it->second.versions) out.push_back(number);
    return out;
}

Result<SchemaVersionPtr> Snapshot::for_event(std::string_view type,
                                             const std::optional<std::string>& dataschema) const {
    if (dataschema) {
        if (const auto ref = parse_schema_uri(*dataschema)) {
            if (ref->type != type) {
                return make_error(Errc::invalid_argument,
                                  "dataschema names a schema of type '" + ref->type +
                                      "', but the event's type is '" + std::string(type) + "'",
                                  "dataschema");
            }
            auto v = get(type, ref->version);
            if (!v) {
                return make_error(Errc::not_found,
                                  "dataschema names version " + std::to_string(ref->version) +
                                      " of '" + std::string(type) + "', which is not registered",
                                  "dataschema");
            }
            return v;
        }
    }
    return get(type);
}

Result<std::vector<Violation>> Snapshot::validate(std::string_view type, const json::value& data,
                                                  std::optional<std::uint32_t> version) const {
    const SchemaVersionPtr v = get(type, version);
    if (!v) {
        if (version && get(type)) {
            return make_error(Errc::not_found,
                              "version " + std::to_string(*version) + " of '" + std::string(type) +
                                  "' is not registered",
                              "version");
        }
        return make_error(Errc::not_found,
                          "no schema is registered for '" + std::string(type) + "'", "type");
    }
    return v->validate(data);
}

// --- Registry ------------------------------------------------------------------------------------

struct Registry::Candidate {
    std::shared_ptr<SchemaVersion> version;
};

Registry::Registry(RegistryOptions options)
    : current_(new Published{std::make_shared<const Snapshot>()}), options_(std::move(options)) {}

Registry::~Registry() { delete current_.load(); }

SnapshotPtr Registry::snapshot() const noexcept {
    readers_.fetch_add(1, std::memory_order_seq_cst);
    SnapshotPtr copy = current_.load(std::memory_order_seq_cst)->snapshot;
    readers_.fetch_sub(1, std::memory_order_seq_cst);
    return copy;
}

void Registry::set_options(RegistryOptions options) {
    std::lock_guard lock(write_mutex_);
    options_ = std::move(options);
}

void Registry::reindex(Snapshot& snap) {
    snap.by_id_.clear();
    for (const auto& [name, entry] : snap.types_) {
        for (const auto& [number, version] : entry.versions) {
            if (!version->id.empty())
                snap.by_id_[version->id] = version;  // ascending: the newest wins
        }
    }
}

void Registry::publish(std::shared_ptr<Snapshot> next) {
    const Published* old =
        current_.exchange(new Published{std::move(next)}, std::memory_order_seq_cst);
    retired_.emplace_back(old);
    // A reader that loaded an old holder is still counted; one that starts now loads the new
    // holder.
    if (readers_.load(std::memory_order_seq_cst) == 0) retired_.clear();
}

Result<Registry::Candidate> Registry::prepare(const Snapshot& snap, std::string_view type,
                                              std::uint32_t version, json::value schema) const {
    if (auto named = options_.taxonomy.check_event_type(type); !named)
        return std::move(named).error();
    auto draft = detect_draft(schema);
    if (!draft) return std::move(draft).error();

    auto v = std::make_shared<SchemaVersion>();
    v->type = std::string(type);
    v->version = version;
    v->uri = schema_uri(type, version);
    v->draft = *draft;
    v->id = root_id(schema, *draft);
    if (!v->id.empty()) {
        if (parse_schema_uri(v->id)) {
            return make_error(Errc::invalid_argument,
                              "a schema's \"$id\" may not be a Herald schema URN", "schema");
        }
        const auto owner = snap.by_id_.find(v->id);
        if (owner != snap.by_id_.end() && owner->second->type != v->type) {
            return make_error(Errc::conflict,
                              "\"$id\" '" + v->id + "' already identifies a schema of type '" +
                                  owner->second->type + "'",
                              "schema");
        }
    }

    const DocumentLookup lookup = [&snap](std::string_view uri) -> std::optional<ExternalDocument> {
        const SchemaVersionPtr found = snap.find(uri);
        if (!found) return std::nullopt;
        return ExternalDocument{found->uri, &found->document, found->draft};
    };
    auto bundle = make_bundle(schema, v->uri, *draft, lookup);
    if (!bundle) return std::move(bundle).error();
    auto compiled = CompiledSchema::compile(bundle->document, *draft);
    if (!compiled) return std::move(compiled).error();

    v->document = std::move(schema);
    v->bundled = std::move(bundle->document);
    v->references = std::move(bundle->references);
    v->compiled = std::move(*compiled);
    return Candidate{std::move(v)};
}

RegisterResult Registry::register_version(std::string_view type, json::value schema,
                                          RegisterOptions options) {
    RegisterResult result;
    std::lock_guard lock(write_mutex_);
    const SnapshotPtr snap = snapshot();
    result.compatibility.mode = options.compat_mode.value_or(options_.compat_mode);

    std::uint32_t number = 1;
    SchemaVersionPtr previous;
    if (const auto it = snap->types_.find(type); it != snap->types_.end()) {
        number = it->second.next_version;
        for (const auto& [_, existing] : it->second.versions) {
            if (existing->document == schema) {
                result.version = existing;
                return result;  // created == false: nothing changes
            }
        }
        if (!it->second.versions.empty()) previous = it->second.versions.rbegin()->second;
    }

    auto candidate = prepare(*snap, type, number, std::move(schema));
    if (!candidate) {
        result.error = std::move(candidate).error();
        return result;
    }
    if (previous) {
        result.compatibility = check_compatibility(previous->bundled, candidate->version->bundled,
                                                   result.compatibility.mode);
        if (!result.compatibility.compatible() && !options.force) {
            std::string msg = "version " + std::to_string(number) + " of '" + std::string(type) +
                              "' is not compatible with version " +
                              std::to_string(previous->version) + " (mode " +
                              std::string(to_string(result.compatibility.mode)) +
                              "): " + result.compatibility.summary() + ". ";
            const std::string major = next_major_type(type);
            msg += major.empty() ? "Publish it under a new event type, or force the registration."
                                 : "Publish it as a new event type such as '" + major +
                                       "', or force the registration.";
            result.error = make_error(Errc::conflict, std::move(msg), "schema");
            return result;
        }
    }

    auto next = std::make_shared<Snapshot>(*snap);
    auto& entry = next->types_[std::string(type)];
    entry.versions[number] = candidate->version;
    entry.next_version = number + 1;
    reindex(*next);
    next->generation_ = snap->generation_ + 1;
    publish(std::move(next));

    result.version = std::move(candidate->version);
    result.created = true;
    return result;
}

Result<SchemaVersionPtr> Registry::restore(std::string_view type, std::uint32_t version,
                                           json::value schema) {
    if (version == 0) {
        return make_error(Errc::invalid_argument, "schema versions start at 1", "version");
    }
    std::lock_guard lock(write_mutex_);
    const SnapshotPtr snap = snapshot();
    if (snap->get(type, version)) {
        return make_error(
            Errc::conflict,
            "version " + std::to_string(version) + " of '" + std::string(type) + "' already exists",
            "version");
    }
    auto candidate = prepare(*snap, type, version, std::move(schema));
    if (!candidate) return std::move(candidate).error();

    auto next = std::make_shared<Snapshot>(*snap);
    auto& entry = next->types_[std::string(type)];
    entry.versions[version] = candidate->version;
    entry.next_version = std::max(entry.next_version, version + 1);
    reindex(*next);
    next->generation_ = snap->generation_ + 1;
    publish(std::move(next));
    return SchemaVersionPtr(std::move(candidate->version));
}

Result<SchemaVersionPtr> Registry::get(std::string_view type,
                                       std::optional<std::uint32_t> version) const {
    const SnapshotPtr snap = snapshot();
    if (auto v = snap->get(type, version)) return v;
    if (version && snap->get(type)) {
        return make_error(Errc::not_found,
                          "version " + std::to_string(*version) + " of '" + std::string(type) +
                              "' is not registered",
                          "version");
    }
    return make_error(Errc::not_found, "no schema is registered for '" + std::string(type) + "'",
                      "type");
}

std::vector<std::string> Registry::list_types() const { return snapshot()->types(); }

Result<std::vector<std::uint32_t>> Registry::list_versions(std::string_view type) const {
    auto versions = snapshot()->versions(type);
    if (versions.empty()) {
        return make_error(Errc::not_found,
                          "no schema is registered for '" + std::string(type) + "'", "type");
    }
    return versions;
}

Result<void> Registry::remove_version(std::string_view type, std::uint32_t version,
                                      const InUse& in_use) {
    std::lock_guard lock(write_mutex_);
    const SnapshotPtr snap = snapshot();
    const SchemaVersionPtr target = snap->get(type, version);
    if (!target) {
        return make_error(Errc::not_found,
                          "version " + std::to_string(version) + " of '" + std::string(type) +
                              "' is not registered",
                          "version");
    }
    for (const auto& [name, entry] : snap->types_) {
        for (const auto& [number, other] : entry.versions) {
            if (other == target) continue;
            if (std::find(other->references.begin(), other->references.end(), target->uri) !=
                other->references.end()) {
                return make_error(Errc::conflict,
                                  target->uri + " is in use: " + other->uri + " refers to it",
                                  "version");
            }
        }
    }
    if (in_use && in_use(*target)) {
        return make_error(Errc::conflict, target->uri + " is in use", "version");
    }
    auto next = std::make_shared<Snapshot>(*snap);
    next->types_.find(type)->second.versions.erase(version);
    reindex(*next);
    next->generation_ = snap->generation_ + 1;
    publish(std::move(next));
    return ok();
}

}  // namespace herald::schema
