#pragma once
// Small cryptographic building blocks shared by the module: SHA-256, hex, a constant-time
// comparison and random bytes from OpenSSL's CSPRNG. All are pure functions apart from
// random_bytes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::security {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data) noexcept;

// Lowercase hex of SHA-256(data): 64 characters.
std::string sha256_hex(std::string_view data);

std::string to_hex(std::string_view bytes);
// The bytes of lower-case hex text; nullopt for an odd length or any other character.
std::optional<std::string> from_hex(std::string_view hex);

// True when a and b are equal. The time taken depends on the lengths only, never on where the first
// difference lies (CRYPTO_memcmp), which is what comparing MACs needs.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// n bytes from the CSPRNG (RAND_bytes). Throws std::runtime_error if the generator fails, which
// only happens when the process cannot get entropy at all; continuing would hand out guessable
// keys.
std::string random_bytes(std::size_t n);

}  // namespace herald::security
