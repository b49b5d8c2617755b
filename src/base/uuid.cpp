#include "base/uuid.hpp"

#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace herald {
namespace {

void fill_random(unsigned char* p, std::size_t n) {
    if (RAND_bytes(p, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// Two lower-case hex digits of `c` at `out`.
void put_hex(char* out, unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    out[0] = kHex[c >> 4];
    out[1] = kHex[c & 15];
}

// Event ids take their random bits from a per-thread pool filled by RAND_bytes 1 KiB at a time: one call per
// 64 ids instead of one per id (each call takes the DRBG's lock and checks for a fork with getpid(), which
// together cost several percent of a single-event publish). The bytes are the same CSPRNG's output.
class RandomPool {
public:
    void take(unsigned char* out, std::size_t n) {
        if (used_ + n > sizeof pool_) {
            fill_random(pool_, sizeof pool_);
            used_ = 0;
        }
        std::memcpy(out, pool_ + used_, n);
        // Bytes handed out are not kept around.
        std::memset(pool_ + used_, 0, n);
        used_ += n;
    }
    // What is left must not be used again (a forked child would repeat its parent's next ids).
    void discard() noexcept {
        std::memset(pool_, 0, sizeof pool_);
        used_ = sizeof pool_;
    }

private:
    unsigned char pool_[1024];
    std::size_t used_ = sizeof pool_;
};

RandomPool& thread_pool() {
    thread_local RandomPool pool;
    return pool;
}

// After fork() the child has one thread, the one that forked, with a copy of that thread's pool: the child's
// fork handler runs on it and empties the copy, so parent and child never hand out the same bytes. Registered
// once, before the first id is made.
void discard_pool_in_child() { thread_pool().discard(); }
[[maybe_unused]] const bool fork_handler_registered = [] { return ::pthread_atfork(nullptr, nullptr, discard_pool_in_child) == 0; }();

}  // namespace

std::string make_uuid_v7(std::int64_t unix_ms) {
    std::array<unsigned char, 16> b{};
    thread_pool().take(b.data(), b.size());
    auto ms = static_cast<std::uint64_t>(unix_ms);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
    std::string out(36, '-');
    std::size_t pos = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // keep the '-'
        put_hex(&out[pos], b[i]);
        pos += 2;
    }
    return out;
}

std::string make_uuid_v7() {
    return make_uuid_v7(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

std::uint64_t random_u64() {
    std::uint64_t v = 0;
    while (v == 0) fill_random(reinterpret_cast<unsigned char*>(&v), sizeof v);
    return v;
}

std::string random_hex(std::size_t n_bytes) {
    std::string raw(n_bytes, '\0');
    fill_random(reinterpret_cast<unsigned char*>(raw.data()), n_bytes);
    std::string out(n_bytes * 2, '0');
    for (std::size_t i = 0; i < n_bytes; ++i) put_hex(&out[2 * i], static_cast<unsigned char>(raw[i]));
    return out;
}

}  // namespace herald
