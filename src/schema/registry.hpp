#pragma once
// The schema registry (issue 6 part 1): per event type, immutable numbered versions (1, 2, ...) of
// JSON Schemas.
//
// Versions and URIs. Each version has the URI
//     urn:herald:schema:<type>:v<N>        e.g. urn:herald:schema:shipping.orderShipped.v1:v2
// which the publish path puts in an event's CloudEvents `dataschema`, and which other schemas may
// "$ref" (bundle.hpp). The type name's own ".v1" is the event's MAJOR version (a breaking change
// gets a new type name); the registry's v<N> are the compatible revisions of that contract
// (compat.hpp). Version numbers are never reused: after v3 is removed, the next registration is v4
// — events in the log still name v3.
//
// Registration (register_version):
//   1. the type must follow the naming rule (taxonomy.hpp);
//   2. the schema must be draft-04 or draft-07 ("$schema"; draft 7 when absent), every "$ref" must
//      resolve (to itself, or to a registered version by URN or by "$id"), and it must compile
//      (validator.hpp);
//   3. a document equal (as JSON) to an existing version of the type registers nothing and answers
//      that version with `created == false`, so re-applying a config file or retrying an admin PUT
//      is harmless;
//   4. it must be compatible with the type's latest version under the registry's CompatMode
//      (default full), unless forced; the report lists each break either way;
//   5. a "$id" may not name schemas of two different types; within one type the newest version
//      carrying an "$id" is the one references to it resolve to.
// A version's compiled form is frozen with it: registering or removing other versions never changes
// how an existing version validates.
//
// Removal (remove_version) is refused while the version is in use: when another registered version
// refers to it, or when the caller's predicate says so (events on a topic name it, a topic pins
// it...).
//
// Threading. Reads — every publish, on every worker — go through snapshot(), which returns an
// immutable Snapshot without taking a lock (two atomic increments and a shared_ptr copy);
// validation then runs on that snapshot without any lock either. Writes (register, restore,
// remove, set_options) are rare; they are serialised by a mutex, build a new Snapshot beside the
// old one and publish it with one atomic exchange. A reader keeps the snapshot it loaded alive for
// as long as it holds it.
// (Not std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its internal lock with a
// relaxed operation, so a reader's pointer read is not ordered before the next writer's store —
// ThreadSanitizer reports it, and on weakly ordered CPUs it is a real race.)

#include <atomic>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "schema/bundle.hpp"
#include "schema/compat.hpp"
#include "schema/taxonomy.hpp"
#include "schema/validator.hpp"

namespace herald::schema {

// "urn:herald:schema:<type>:v<N>".
std::string schema_uri(std::string_view type, std::uint32_t version);

struct SchemaRef {
    std::string type;
    std::uint32_t version;
};
// The type and version a schema URI names; nullopt for anything that is not exactly that form.
std::optional<SchemaRef> parse_schema_uri(std::string_view uri);

// Selects the latest version in get()/validate(): `registry.get(type, latest)`.
inline constexpr std::optional<std::uint32_t> latest = std::nullopt;

// One registered version. Immutable; shared by every snapshot that contains it.
struct SchemaVersion {
    std::string type;
    std::uint32_t version = 0;
    std::string uri;  // schema_uri(type, version)
    Draft draft = Draft::draft7;
    std::string id;  // its root "$id" ("id" in draft 4) as written, without fragment; or ""
    boost::json::value document;  // exactly as registered
    boost::json::value bundled;   // self-contained form (bundle.hpp); what compatibility compares
    std::vector<std::string> references;  // URIs of the other versions it refers to, transitively
    std::shared_ptr<const CompiledSchema> compiled;

    bool is_valid(const boost::json::value& data) const { return compiled->is_valid(data); }
    bool proves_valid_text(std::string_view json_text) const {
        return compiled->proves_valid_text(json_text);
    }
    std::vector<Violation> validate(const boost::json::value& data) const {
        return compiled->validate(data);
    }
};

using SchemaVersionPtr = std::shared_ptr<const SchemaVersion>;

// The registry's content at one moment. Immutable: every method is const and thread-safe.
class Snapshot {
public:
    // The given version, or the latest when `version` is nullopt; nullptr when there is none.
    SchemaVersionPtr get(std::string_view type,
                         std::optional<std::uint32_t> version = latest) const;
    // By URN ("urn:herald:schema:...") or by registered "$id"; nullptr when unknown.
    SchemaVersionPtr find(std::string_view uri) const;
    bool has_schema(std::string_view type) const { return get(type) != nullptr; }

    std::vector<std::string> types() const;  // types with at least one version, sorted
    // Ascending; empty for an unknown type.
    std::vector<std::uint32_t> versions(std::string_view type) const;

    // The version an event is checked against: its `dataschema` when that is a Herald schema URI
    // (it must name `type`, else Errc::invalid_argument with attribute "dataschema"; an unknown
    // version is Errc::not_found), the type's latest version otherwise. A result holding nullptr
    // means the type has no schema.
    Result<SchemaVersionPtr> for_event(std::string_view type,
                                       const std::optional<std::string>& dataschema) const;

    // Validates `data` against `type` (latest or the given version). Errors: Errc::not_found when
    // the type (or that version) has no schema. An empty list means valid.
    Result<std::vector<Violation>> validate(std::string_view type, const boost::json::value& data,
                                            std::optional<std::uint32_t> version = latest) const;

    // Increases with every change; lets a cache (the AsyncAPI catalog) tell that it is stale.
    std::uint64_t generation() const noexcept { return generation_; }

private:
    friend class Registry;
    struct TypeEntry {
        std::map<std::uint32_t, SchemaVersionPtr> versions;
        // Kept after every version is removed, so numbers are never reused.
        std::uint32_t next_version = 1;
    };
    std::map<std::string, TypeEntry, std::less<>> types_;
    std::unordered_map<std::string, SchemaVersionPtr> by_id_;  // "$id" → newest version carrying it
    std::uint64_t generation_ = 0;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

struct RegistryOptions {
    Taxonomy taxonomy;
    CompatMode compat_mode = CompatMode::full;
};

struct RegisterOptions {
    bool force = false;  // register even when the compatibility check finds breaks
    std::optional<CompatMode> compat_mode;  // overrides RegistryOptions::compat_mode for this call
};

// What register_version answers. Not a Result<T>: a refusal for incompatibility carries the report.
struct RegisterResult {
    // The version registered (or the equal existing one); null on failure.
    SchemaVersionPtr version;
    // False when an equal version already existed.
    bool created = false;
    // Against the previous latest version; with `force`, the breaks that were accepted.
    CompatReport compatibility;
    // Set on failure: invalid_argument (type name, schema) or conflict (compatibility breaks).
    std::optional<Error> error;

    explicit operator bool() const noexcept { return version != nullptr; }
};

class Registry {
public:
    explicit Registry(RegistryOptions options = {});

    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // The current content. Lock-free; never null.
    SnapshotPtr snapshot() const noexcept;

    RegisterResult register_version(std::string_view type, boost::json::value schema,
                                    RegisterOptions options = {});

    // Re-creates a version with its original number, for loading persisted registries (meta.db,
    // config) at start. Checks the schema like register_version but not compatibility (it was
    // accepted once). Versions that refer to others must be restored after them (e.g. in
    // registration order). Errors: as registration, plus Errc::conflict when the version exists.
    Result<SchemaVersionPtr> restore(std::string_view type, std::uint32_t version,
                                     boost::json::value schema);

    // Convenience reads through snapshot(). Errors: Errc::not_found (attribute "type" or
    // "version").
    Result<SchemaVersionPtr> get(std::string_view type,
                                 std::optional<std::uint32_t> version = latest) const;
    std::vector<std::string> list_types() const;
    Result<std::vector<std::uint32_t>> list_versions(std::string_view type) const;
    // Snapshot::validate on the current snapshot. A caller that also needs the version (to set
    // `dataschema`) takes one snapshot and uses it for both, so the two agree.
    Result<std::vector<Violation>> validate(std::string_view type, const boost::json::value& data,
                                            std::optional<std::uint32_t> version = latest) const {
        return snapshot()->validate(type, data, version);
    }

    // Says whether something outside the registry still uses a version (events or topic settings
    // name it).
    using InUse = std::function<bool(const SchemaVersion&)>;

    // Errors: Errc::not_found; Errc::conflict (attribute "version") when another version refers to
    // it or `in_use` returns true. `in_use` is called with the registry's write lock held: keep it
    // short and do not call back into the registry.
    Result<void> remove_version(std::string_view type, std::uint32_t version,
                                const InUse& in_use = {});

    // Replaces the naming rules and the default compatibility mode (config reload). Existing
    // versions stay.
    void set_options(RegistryOptions options);

private:
    struct Candidate;
    Result<Candidate> prepare(const Snapshot& snap, std::string_view type, std::uint32_t version,
                              boost::json::value schema) const;
    void publish(std::shared_ptr<Snapshot> next);
    static void reindex(Snapshot& snap);

    // Publication. `current_` owns the latest Published (a holder, so that readers copy a
    // shared_ptr that no writer ever modifies). A reader counts itself in `readers_` while it loads
    // `current_` and copies the snapshot out; a writer exchanges `current_`, retires the old
    // holder, and deletes retired holders only when it sees no reader in that window (all seq_cst:
    // a reader that could still hold an old holder is counted). A holder dropped this way only
    // releases the registry's own reference; readers hold theirs.
    struct Published {
        SnapshotPtr snapshot;
    };
    std::atomic<const Published*> current_;
    mutable std::atomic<std::uint64_t> readers_{0};
    std::vector<std::unique_ptr<const Published>> retired_;  // guarded by write_mutex_

    std::mutex write_mutex_;   // serialises writers; readers never take it
    RegistryOptions options_;  // guarded by write_mutex_
};

}  // namespace herald::schema
