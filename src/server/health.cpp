#include "server/health.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/json_text.hpp"

namespace herald::server {

Readiness::Readiness(ReadinessOptions options, const engine::Engine& engine, const log::Logger* logger)
    : options_(std::move(options)), engine_(engine), logger_(logger) {}

ReadinessCheck Readiness::storage() {
    std::lock_guard lock(probe_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (probed_once_ && now - probed_at_ < options_.probe_cache) return probed_;
    ReadinessCheck c{"storage", true, {}};
    const std::string dir = options_.data_dir.string();
    // A real create-and-write rather than access(W_OK): it also fails on a read-only mount, an exhausted inode
    // table or a quota, and for root, whom permission bits do not stop.
    const auto probe = (options_.data_dir / ".herald-ready-probe").string();
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        c.ok = false;
        c.reason = "cannot create a file in the data directory " + dir + ": " + std::strerror(errno);
    } else {
        const char byte = 0;
        bool written = ::write(fd, &byte, 1) == 1;
        int saved = errno;
        ::close(fd);
        ::unlink(probe.c_str());
        if (!written) {
            c.ok = false;
            c.reason = "cannot write in the data directory " + dir + ": " + std::strerror(saved);
        }
    }
    if (c.ok) {
        struct statvfs st {};
        if (::statvfs(dir.c_str(), &st) == 0) {
            const std::uint64_t free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
            if (free_bytes < options_.min_free_bytes) {
                c.ok = false;
                c.reason = "the data directory " + dir + " has " + std::to_string(free_bytes >> 20) +
                           " MiB free, less than the " + std::to_string(options_.min_free_bytes >> 20) +
                           " MiB needed";
            }
        }
    }
    probed_ = c;
    probed_at_ = now;
    probed_once_ = true;
    return c;
}

std::vector<ReadinessCheck> Readiness::checks() {
    std::vector<ReadinessCheck> out;
    out.reserve(5);
    out.push_back({"config", true, options_.config_source});
    out.push_back(storage());
    ReadinessCheck engine{"engine", true, {}};
    if (auto h = engine_.health(); !h.empty()) {
        engine.ok = false;
        engine.reason = std::move(h);
    }
    out.push_back(std::move(engine));
    ReadinessCheck logging{"logging", true, {}};
    if (logger_) {
        if (auto p = logger_->problem(); !p.empty()) {
            logging.ok = false;
            logging.reason = std::move(p);
        }
    }
    out.push_back(std::move(logging));
    ReadinessCheck webhooks{"webhooks", webhooks_.load(std::memory_order_relaxed), {}};
    if (!webhooks.ok) webhooks.reason = "the webhook service is not running";
    out.push_back(std::move(webhooks));
    return out;
}

bool Readiness::ready(const std::vector<ReadinessCheck>& checks) noexcept {
    for (auto& c : checks)
        if (!c.ok) return false;
    return true;
}

std::string Readiness::to_json(const std::vector<ReadinessCheck>& checks, bool details) {
    const bool is_ready = ready(checks);
    std::string out = is_ready ? "{\"status\":\"ready\"" : "{\"status\":\"not-ready\"";
    if (!details) return out + "}";
    if (!is_ready) {
        std::string reason;
        for (auto& c : checks) {
            if (c.ok) continue;
            if (!reason.empty()) reason += "; ";
            reason += c.name + ": " + c.reason;
        }
        out += ",\"reason\":";
        append_json_string(out, reason);
    }
    out += ",\"checks\":{";
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, checks[i].name);
        out += checks[i].ok ? ":{\"ok\":true" : ":{\"ok\":false";
        if (!checks[i].reason.empty()) {
            out += checks[i].ok ? ",\"detail\":" : ",\"reason\":";
            append_json_string(out, checks[i].reason);
        }
        out.push_back('}');
    }
    out += "}}";
    return out;
}

}  // namespace herald::server
