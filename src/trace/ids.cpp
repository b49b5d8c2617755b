#include "trace/ids.hpp"

#include "base/uuid.hpp"

namespace herald::trace {

namespace {

// xoshiro256** (Blackman and Vigna): small state, fast, good statistical quality; seeded per thread.
class Xoshiro256 {
public:
    Xoshiro256() noexcept {
        // splitmix64 spreads one OS-random seed over the four state words (never all zero).
        std::uint64_t seed = herald::random_u64();
        for (auto& w : s_) {
            seed += 0x9e3779b97f4a7c15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            w = z ^ (z >> 31);
        }
    }
    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

Xoshiro256& generator() noexcept {
    thread_local Xoshiro256 g;
    return g;
}

void store_u64(std::uint8_t* out, std::uint64_t v) noexcept {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

}  // namespace

std::uint64_t random_bits() noexcept { return generator().next(); }

TraceId new_trace_id() noexcept {
    TraceId id;
    do {
        store_u64(id.data(), random_bits());
        store_u64(id.data() + 8, random_bits());
    } while (is_zero(id));
    return id;
}

SpanId new_span_id() noexcept {
    SpanId id;
    do store_u64(id.data(), random_bits());
    while (is_zero(id));
    return id;
}

}  // namespace herald::trace
