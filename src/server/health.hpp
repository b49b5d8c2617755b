#pragma once
// Liveness and readiness (GET /healthz, GET /readyz on both listeners; docs/observability.md).
//
// /healthz says the process is serving HTTP: it is always 200 {"status":"ok"} when it answers at all.
// /readyz says whether this instance should get traffic, from these checks, each with a reason when it fails:
//   config    the configuration was loaded and validated (always true once serving; names its source);
//   storage   the data directory can take appends: a file can be created in it and the file system has at
//             least min_free_bytes free. The probe touches the disk, so its result is cached for a second;
//   engine    the log engine takes writes (no topic failed on a disk-full or fsync error);
//   logging   the log output accepts writes (the last write did not fail);
//   webhooks  the webhook service is running.
//
// Threading: checks() may be called from any worker at once; the storage probe is serialised by a mutex and
// cached.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "log/logger.hpp"

namespace herald::server {

struct ReadinessCheck {
    std::string name;
    bool ok = true;
    std::string reason;  // why not, when !ok; otherwise may hold a detail (the config's source)
};

struct ReadinessOptions {
    std::filesystem::path data_dir;
    std::string config_source;  // the file, or "built-in defaults"
    std::uint64_t min_free_bytes = 64ull << 20;
    std::chrono::milliseconds probe_cache{1'000};
};

class Readiness {
public:
    Readiness(ReadinessOptions options, const engine::Engine& engine, const log::Logger* logger);

    void set_webhooks_running(bool running) noexcept { webhooks_.store(running, std::memory_order_relaxed); }
    std::vector<ReadinessCheck> checks();

    // {"status":"ready"|"not-ready","reason":"…","checks":{"storage":{"ok":false,"reason":"…"},…}}.
    // Without details only {"status":…}: what an unauthenticated data-plane caller gets when auth is on.
    static std::string to_json(const std::vector<ReadinessCheck>& checks, bool details);
    static bool ready(const std::vector<ReadinessCheck>& checks) noexcept;

private:
    ReadinessCheck storage();

    ReadinessOptions options_;
    const engine::Engine& engine_;
    const log::Logger* logger_;
    std::atomic<bool> webhooks_{false};
    std::mutex probe_mutex_;
    std::chrono::steady_clock::time_point probed_at_{};
    ReadinessCheck probed_{"storage", true, {}};
    bool probed_once_ = false;
};

}  // namespace herald::server
