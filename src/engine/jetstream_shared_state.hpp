#pragma once
// SharedState over JetStream key-value buckets (docs/deployment.md): records in <prefix>META (one revision kept,
// replicated like the streams) and leases in <prefix>LEASES, whose TTL is the lease time: a lease is a key
// holding its holder's name, taken with a create (only when absent), renewed with an update against the revision
// the holder last wrote, and gone when its holder stops renewing for a TTL.
//
// Threading: every method may be called from any thread; each call is one or two round trips.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"

struct __jsCtx;
struct __kvStore;
struct __kvWatcher;

namespace herald::engine {

struct SharedStateOptions {
    std::string bucket_prefix = "HERALD_";
    int replicas = 1;
    std::int64_t lease_ttl_ms = 5'000;
};

class JetStreamSharedState final : public SharedState {
public:
    // Opens (creating when missing) the two buckets on `js`, which must outlive this object.
    static Result<std::unique_ptr<JetStreamSharedState>> open(__jsCtx* js, SharedStateOptions options);
    ~JetStreamSharedState() override;

    Result<std::vector<SharedEntry>> list(std::string_view prefix) override;
    Result<void> put(std::string_view key, std::string_view value) override;
    Result<void> remove(std::string_view key) override;
    Result<bool> hold_lease(std::string_view name, std::string_view holder) override;

    // One record with its revision; nullopt when there is none.
    Result<std::optional<SharedEntry>> get(std::string_view key);
    // Writes `value` under `key` only when no record is there. Returns the record there after the call — this
    // call's, or the one another node wrote first — and whether it is this call's.
    struct Created {
        std::string value;
        bool mine = false;
        std::uint64_t revision = 0;
    };
    Result<Created> create(std::string_view key, std::string_view value);

    // Changes to the records whose keys match `pattern` (NATS wildcards), as they happen: start_watch once, then
    // changes() takes what arrived since the last call without waiting. A deleted record has no value.
    struct Change {
        std::string key;
        std::optional<std::string> value;
        std::uint64_t revision = 0;  // revisions grow with every change of the bucket: older changes are smaller
    };
    Result<void> start_watch(std::string_view pattern);
    std::vector<Change> changes();
    void release_lease(std::string_view name, std::string_view holder) override;

    JetStreamSharedState(__kvStore* records, __kvStore* leases) : records_(records), leases_(leases) {}

private:
    __kvStore* records_;
    __kvStore* leases_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::uint64_t> held_;  // lease → the revision this node last wrote
    __kvWatcher* watcher_ = nullptr;  // used by one thread at a time: start_watch, then changes()
    std::vector<Change> initial_;     // the records current when the watch started, until changes() takes them
};

}  // namespace herald::engine
