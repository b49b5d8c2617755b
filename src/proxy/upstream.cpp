#include "proxy/upstream.hpp"

#include <set>

namespace herald::proxy {

using std::chrono::milliseconds;

namespace {

Error upstream_error(const std::string& name, const std::string& key, const std::string& what) {
    const auto path = "upstreams." + name + (key.empty() ? "" : "." + key);
    return make_error(Errc::invalid_argument, path + ": " + what, path);
}

std::int64_t ms_of(TimePoint t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

CallSettings call_settings(const UpstreamSpec& u, const config::RouteSettings& r) {
    CallSettings c;
    c.connect_timeout_ms = r.timeouts.connect_ms.value_or(u.connect_timeout_ms);
    c.read_timeout_ms = r.timeouts.read_ms.value_or(u.read_timeout_ms);
    c.total_timeout_ms = r.timeouts.total_ms.value_or(u.total_timeout_ms);
    const auto& retries = r.retries ? *r.retries : u.retries;
    c.retries = retries.attempts;
    c.per_try_timeout_ms = retries.per_try_timeout_ms;
    return c;
}

const char* to_string(PickFailure f) noexcept {
    switch (f) {
        case PickFailure::no_available_target:
            return "no_available_target";
        case PickFailure::all_tried:
            return "all_tried";
    }
    return "?";
}

Result<std::unique_ptr<Upstream>> Upstream::create(UpstreamSpec spec, const Clock& clock,
                                                   std::uint64_t seed) {
    if (spec.targets.empty())
        return upstream_error(spec.name, "targets", "an upstream needs at least one target");
    std::set<std::pair<std::string, std::uint16_t>> seen;
    for (std::size_t i = 0; i < spec.targets.size(); ++i) {
        const auto& t = spec.targets[i];
        const auto key = "targets[" + std::to_string(i) + "]";
        if (t.host.empty() || t.port == 0)
            return upstream_error(spec.name, key, "expected host:port");
        if (t.weight < 1 || t.weight > 1000)
            return upstream_error(spec.name, key, "weight must be 1 to 1000");
        if (!seen.emplace(t.host, t.port).second)
            return upstream_error(spec.name, key, "target listed twice");
    }
    const bool hashing = spec.balancer == config::BalancerKind::consistent_hash;
    if (hashing != (spec.hash_on.source != config::HashSource::none))
        return upstream_error(spec.name, "hash_on",
                              "hash_on goes with, and only with, the consistent_hash balancer");
    if (spec.passive_health.max_ejection_ms < spec.passive_health.base_ejection_ms)
        return upstream_error(spec.name, "passive_health.max_ejection",
                              "must be at least base_ejection");
    return std::unique_ptr<Upstream>(new Upstream(std::move(spec), clock, seed));
}

Upstream::Upstream(UpstreamSpec spec, const Clock& clock, std::uint64_t seed)
    : spec_(std::move(spec)),
      clock_(clock),
      targets_(spec_.targets.size()),
      balancer_(make_balancer(spec_, seed)),
      budget_(spec_.retry_budget, clock),
      passive_(spec_.passive_health, spec_.targets.size()),
      active_(spec_.targets.size(), ActiveHealth(spec_.health_check)) {
    for (std::size_t i = 0; i < targets_.size(); ++i) {
        const auto& t = spec_.targets[i];
        auto& target = targets_[i].target;
        target.host = t.host;
        target.port = t.port;
        target.weight = t.weight;
        const bool v6 = t.host.find(':') != std::string::npos;
        target.authority = (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.port);
    }
}

std::int64_t Upstream::now_ms() const noexcept { return ms_of(clock_.steady_now()); }

bool Upstream::available(std::size_t i) const noexcept {
    const auto& s = targets_[i];
    return s.healthy.load(std::memory_order_relaxed) &&
           s.ejected_until_ms.load(std::memory_order_relaxed) <= now_ms();
}

Expected<Upstream::Lease, PickFailure> Upstream::pick(std::string_view key, Exclude exclude) {
    auto i = balancer_->pick(*this, key, exclude);
    if (!i) {
        stats_.pick_failures.fetch_add(1, std::memory_order_relaxed);
        // Distinguish "everything is down" from "this request already tried everything that is up".
        for (std::size_t k = 0; k < targets_.size(); ++k)
            if (available(k)) return PickFailure::all_tried;
        return PickFailure::no_available_target;
    }
    stats_.picks.fetch_add(1, std::memory_order_relaxed);
    targets_[*i].in_flight.fetch_add(1, std::memory_order_relaxed);
    return Lease(this, *i);
}

Upstream::Lease& Upstream::Lease::operator=(Lease&& o) noexcept {
    if (this != &o) {
        release();
        u_ = o.u_;
        i_ = o.i_;
        o.u_ = nullptr;
    }
    return *this;
}

void Upstream::Lease::release() noexcept {
    if (u_) u_->targets_[i_].in_flight.fetch_sub(1, std::memory_order_relaxed);
    u_ = nullptr;
}

HealthEvent Upstream::Lease::report(std::optional<unsigned> status) {
    return u_ ? u_->record_result(i_, status) : HealthEvent::none;
}

HealthEvent Upstream::record_result(std::size_t i, std::optional<unsigned> status) {
    auto& slot = targets_[i];
    if (!counts_as_failure(status)) {
        // The common case: nothing is failing, so nothing to reset and no lock to take.
        if (!slot.failing.load(std::memory_order_relaxed)) return HealthEvent::none;
        std::lock_guard lock(health_mutex_);
        passive_.record_success(i, clock_.steady_now());
        slot.failing.store(passive_.target(i).consecutive_failures() > 0,
                           std::memory_order_relaxed);
        return HealthEvent::none;
    }
    stats_.attempt_failures.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(health_mutex_);
    auto event = passive_.record_failure(i, clock_.steady_now());
    const auto& state = passive_.target(i);
    slot.failing.store(state.consecutive_failures() > 0, std::memory_order_relaxed);
    if (event == HealthEvent::ejected) {
        slot.ejected_until_ms.store(ms_of(state.ejected_until()), std::memory_order_relaxed);
        stats_.ejections.fetch_add(1, std::memory_order_relaxed);
    } else if (event == HealthEvent::ejection_prevented) {
        stats_.ejections_prevented.fetch_add(1, std::memory_order_relaxed);
    }
    return event;
}

HealthEvent Upstream::record_probe(std::size_t i, std::optional<unsigned> status) {
    std::lock_guard lock(health_mutex_);
    auto event = active_[i].record_probe(status);
    targets_[i].healthy.store(active_[i].healthy(), std::memory_order_relaxed);
    if (event == HealthEvent::became_unhealthy)
        stats_.became_unhealthy.fetch_add(1, std::memory_order_relaxed);
    if (event == HealthEvent::became_healthy)
        stats_.became_healthy.fetch_add(1, std::memory_order_relaxed);
    return event;
}

bool Upstream::probe_due(std::size_t i) const {
    if (!spec_.health_check.enabled) return false;
    std::lock_guard lock(health_mutex_);
    return active_[i].due(clock_.steady_now());
}

void Upstream::probe_started(std::size_t i) {
    std::lock_guard lock(health_mutex_);
    active_[i].probe_started(clock_.steady_now());
}

ProbeRequest Upstream::probe_request(std::size_t i) const {
    ProbeRequest p;
    p.target = spec_.health_check.path;
    p.host = spec_.health_check.host.empty() ? host_header(i) : spec_.health_check.host;
    p.timeout_ms = spec_.health_check.timeout_ms;
    return p;
}

TargetSnapshot Upstream::snapshot(std::size_t i) const {
    TargetSnapshot s;
    const auto& slot = targets_[i];
    s.in_flight = slot.in_flight.load(std::memory_order_relaxed);
    s.healthy = slot.healthy.load(std::memory_order_relaxed);
    s.ejected = slot.ejected_until_ms.load(std::memory_order_relaxed) > now_ms();
    std::lock_guard lock(health_mutex_);
    s.consecutive_failures = passive_.target(i).consecutive_failures();
    s.ejections = passive_.target(i).ejections();
    return s;
}

std::string Upstream::host_header(std::size_t i) const {
    const auto& t = targets_[i].target;
    const bool default_port = (spec_.tls && t.port == 443) || (!spec_.tls && t.port == 80);
    if (!default_port) return t.authority;
    return t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
}

}  // namespace herald::proxy
