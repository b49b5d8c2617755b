#pragma once
// Identifiers Herald makes: UUIDv7 event ids (RFC 9562; time-ordered, so ids sort by creation) and random
// 64-bit values for topic epochs.

#include <cstdint>
#include <string>

namespace herald {

// A new UUIDv7 in canonical 8-4-4-4-12 lower-case hex form. Thread-safe.
std::string make_uuid_v7(std::int64_t unix_ms);
std::string make_uuid_v7();

// A cryptographically random 64-bit value (non-zero).
std::uint64_t random_u64();

// `n` random bytes as lower-case hex (for ids and secrets).
std::string random_hex(std::size_t n_bytes);

}  // namespace herald
