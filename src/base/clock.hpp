#pragma once
// Time as an injectable seam: production code asks a Clock, tests hand in a ManualClock. Wall time (system_clock)
// is what events and retention talk about; steady time is what timeouts and rates talk about.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace herald {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point wall_now() const = 0;
    virtual std::chrono::steady_clock::time_point steady_now() const = 0;

    std::int64_t wall_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(wall_now().time_since_epoch()).count();
    }
};

// The real clocks. Stateless, so one shared instance is not mutable global state.
class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point wall_now() const override { return std::chrono::system_clock::now(); }
    std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
    static const SystemClock& instance() {
        static const SystemClock clock;
        return clock;
    }
};

// A clock that moves only when told to. Thread-safe so a test can advance it while a worker reads it.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t wall_ms = 1'700'000'000'000) : ms_(wall_ms) {}
    std::chrono::system_clock::time_point wall_now() const override {
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
    }
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms_.load()));
    }
    void advance(std::chrono::milliseconds d) { ms_ += d.count(); }

private:
    std::atomic<std::int64_t> ms_;
};

}  // namespace herald
