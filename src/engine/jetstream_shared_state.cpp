#include "engine/jetstream_shared_state.hpp"

#include <nats/nats.h>

namespace herald::engine {

namespace {

Error kv_error(const std::string& what, natsStatus s) {
    std::string message = what + ": " + natsStatus_GetText(s);
    if (const char* last = nats_GetLastError(nullptr); last && *last) message += " (" + std::string(last) + ")";
    return make_error(s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ? Errc::unavailable : Errc::io_error,
                      std::move(message));
}

Result<kvStore*> bucket(jsCtx* js, const std::string& name, int replicas, std::int64_t ttl_ms, std::uint8_t history) {
    kvStore* kv = nullptr;
    if (js_KeyValue(&kv, js, name.c_str()) == NATS_OK) return kv;
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = name.c_str();
    cfg.History = history;
    cfg.Replicas = replicas;
    cfg.TTL = ttl_ms * 1'000'000;  // nanoseconds: libnats passes it on as the stream's MaxAge
    cfg.StorageType = js_FileStorage;
    natsStatus s = js_CreateKeyValue(&kv, js, &cfg);
    if (s == NATS_OK) return kv;
    auto failure = kv_error("key-value bucket " + name, s);  // before another call replaces the last error
    // Another node created it in between: open what it made.
    if (js_KeyValue(&kv, js, name.c_str()) == NATS_OK) return kv;
    return failure;
}

// Takes the entry (destroys it).
JetStreamSharedState::Change change_of(kvEntry* e) {
    JetStreamSharedState::Change c;
    c.key = kvEntry_Key(e);
    c.revision = kvEntry_Revision(e);
    if (kvEntry_Operation(e) == kvOp_Put)
        c.value.emplace(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e)));
    kvEntry_Destroy(e);
    return c;
}

}  // namespace

Result<std::unique_ptr<JetStreamSharedState>> JetStreamSharedState::open(jsCtx* js, SharedStateOptions options) {
    auto records = bucket(js, options.bucket_prefix + "META", options.replicas, 0, 1);
    if (!records) return std::move(records).error();
    auto leases = bucket(js, options.bucket_prefix + "LEASES", options.replicas, options.lease_ttl_ms, 1);
    if (!leases) {
        kvStore_Destroy(*records);
        return std::move(leases).error();
    }
    return std::make_unique<JetStreamSharedState>(*records, *leases);
}

JetStreamSharedState::~JetStreamSharedState() {
    if (watcher_) {
        kvWatcher_Stop(watcher_);
        kvWatcher_Destroy(watcher_);
    }
    kvStore_Destroy(records_);
    kvStore_Destroy(leases_);
}

Result<std::vector<SharedEntry>> JetStreamSharedState::list(std::string_view prefix) {
    std::vector<SharedEntry> out;
    kvKeysList keys{};
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.Timeout = 5'000;
    natsStatus s = kvStore_Keys(&keys, records_, &wo);
    if (s == NATS_NOT_FOUND) return out;
    if (s != NATS_OK) return kv_error("listing shared records", s);
    for (int i = 0; i < keys.Count; ++i) {
        std::string_view key(keys.Keys[i]);
        if (!key.starts_with(prefix)) continue;
        kvEntry* e = nullptr;
        s = kvStore_Get(&e, records_, keys.Keys[i]);
        if (s == NATS_NOT_FOUND) continue;  // deleted since the listing
        if (s != NATS_OK) {
            kvKeysList_Destroy(&keys);
            return kv_error("reading shared record " + std::string(key), s);
        }
        out.push_back(SharedEntry{std::string(key),
                                  std::string(static_cast<const char*>(kvEntry_Value(e)),
                                              static_cast<std::size_t>(kvEntry_ValueLen(e))),
                                  kvEntry_Revision(e)});
        kvEntry_Destroy(e);
    }
    kvKeysList_Destroy(&keys);
    return out;
}

Result<void> JetStreamSharedState::put(std::string_view key, std::string_view value) {
    std::uint64_t rev = 0;
    const std::string k(key);
    natsStatus s = kvStore_Put(&rev, records_, k.c_str(), value.data(), static_cast<int>(value.size()));
    if (s != NATS_OK) return kv_error("writing shared record " + k, s);
    return ok();
}

Result<void> JetStreamSharedState::remove(std::string_view key) {
    const std::string k(key);
    natsStatus s = kvStore_Delete(records_, k.c_str());
    if (s != NATS_OK && s != NATS_NOT_FOUND) return kv_error("deleting shared record " + k, s);
    return ok();
}

Result<std::optional<SharedEntry>> JetStreamSharedState::get(std::string_view key) {
    const std::string k(key);
    kvEntry* e = nullptr;
    natsStatus s = kvStore_Get(&e, records_, k.c_str());
    if (s == NATS_NOT_FOUND) return std::optional<SharedEntry>();
    if (s != NATS_OK) return kv_error("reading shared record " + k, s);
    // Braces, not std::in_place: clang 14 has no parenthesised aggregate initialisation.
    std::optional<SharedEntry> out(SharedEntry{k,
                                               std::string(static_cast<const char*>(kvEntry_Value(e)),
                                                           static_cast<std::size_t>(kvEntry_ValueLen(e))),
                                               kvEntry_Revision(e)});
    kvEntry_Destroy(e);
    return out;
}

Result<JetStreamSharedState::Created> JetStreamSharedState::create(std::string_view key, std::string_view value) {
    const std::string k(key);
    // Two rounds at most: a create that loses to another node's reads that node's record; a record deleted
    // between the two calls lets the second create win.
    std::optional<Error> failure;
    for (int round = 0; round < 2; ++round) {
        std::uint64_t rev = 0;
        natsStatus s = kvStore_Create(&rev, records_, k.c_str(), value.data(), static_cast<int>(value.size()));
        if (s == NATS_OK) return Created{std::string(value), true, rev};
        failure = kv_error("creating shared record " + k, s);
        if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) return *failure;
        auto there = get(key);
        if (!there) return std::move(there).error();
        if (*there) return Created{std::move((*there)->value), false, (*there)->revision};
    }
    // Refused twice with nothing there to read: the refusal was not "it exists".
    return *failure;
}

Result<void> JetStreamSharedState::start_watch(std::string_view pattern) {
    if (watcher_) return ok();
    kvWatchOptions o;
    kvWatchOptions_Init(&o);
    const std::string keys(pattern);
    natsStatus s = kvStore_Watch(&watcher_, records_, keys.c_str(), &o);
    if (s != NATS_OK) {
        watcher_ = nullptr;
        return kv_error("watching shared records " + keys, s);
    }
    // The current records come first, then a null entry: take them now, so the caller starts with the whole
    // picture (changes() hands them over first).
    for (;;) {
        kvEntry* e = nullptr;
        s = kvWatcher_Next(&e, watcher_, 5'000);
        if (s != NATS_OK) {
            kvWatcher_Stop(watcher_);
            kvWatcher_Destroy(watcher_);
            watcher_ = nullptr;
            initial_.clear();
            return kv_error("reading shared records " + keys, s);
        }
        if (!e) break;
        initial_.push_back(change_of(e));
    }
    return ok();
}

std::vector<JetStreamSharedState::Change> JetStreamSharedState::changes() {
    std::vector<Change> out;
    out.swap(initial_);
    if (!watcher_) return out;
    for (;;) {
        kvEntry* e = nullptr;
        // The shortest wait libnats takes: what already arrived, without blocking the caller.
        if (kvWatcher_Next(&e, watcher_, 1) != NATS_OK) break;
        if (e) out.push_back(change_of(e));
    }
    return out;
}

Result<bool> JetStreamSharedState::hold_lease(std::string_view name, std::string_view holder) {
    const std::string key(name);
    const std::string who(holder);
    std::lock_guard lock(mutex_);
    std::uint64_t rev = 0;
    if (auto it = held_.find(key); it != held_.end()) {
        // Renew against the revision we wrote: it fails when the lease lapsed and someone else took it.
        natsStatus s = kvStore_Update(&rev, leases_, key.c_str(), who.data(), static_cast<int>(who.size()), it->second);
        if (s == NATS_OK) {
            it->second = rev;
            return true;
        }
        held_.erase(it);
        if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) return kv_error("renewing lease " + key, s);
        // Fall through: it may have lapsed with nobody taking it, then creating it again works.
    }
    natsStatus s = kvStore_Create(&rev, leases_, key.c_str(), who.data(), static_cast<int>(who.size()));
    if (s == NATS_OK) {
        held_[key] = rev;
        return true;
    }
    if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) return kv_error("taking lease " + key, s);
    return false;  // someone else holds it
}

void JetStreamSharedState::release_lease(std::string_view name, std::string_view holder) {
    const std::string key(name);
    std::lock_guard lock(mutex_);
    auto it = held_.find(key);
    if (it == held_.end()) return;
    held_.erase(it);
    // Only ours to delete when nobody renewed it since: check the holder first.
    kvEntry* e = nullptr;
    if (kvStore_Get(&e, leases_, key.c_str()) != NATS_OK) return;
    const bool mine = std::string_view(static_cast<const char*>(kvEntry_Value(e)),
                                       static_cast<std::size_t>(kvEntry_ValueLen(e))) == holder;
    kvEntry_Destroy(e);
    if (mine) kvStore_Delete(leases_, key.c_str());
}

}  // namespace herald::engine
