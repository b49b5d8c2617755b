#include "base/uuid.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace herald {
namespace {

void fill_random(unsigned char* p, std::size_t n) {
    if (RAND_bytes(p, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

}  // namespace

std::string make_uuid_v7(std::int64_t unix_ms) {
    std::array<unsigned char, 16> b{};
    fill_random(b.data(), b.size());
    auto ms = static_cast<std::uint64_t>(unix_ms);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return std::string(out, 36);
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
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(n_bytes * 2);
    for (unsigned char c : raw) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

}  // namespace herald
