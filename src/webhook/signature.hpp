#pragma once
// Webhook signing per Standard Webhooks (https://www.standardwebhooks.com, DESIGN.md §4).
//
// A delivery carries three headers:
//   webhook-id:        the message id (Herald uses the CloudEvent id, stable across retries)
//   webhook-timestamp: integer seconds since the Unix epoch, at the time of this attempt
//   webhook-signature: space-separated "v1,<base64 of HMAC-SHA256(key, signed content)>", where the
//                      signed content is id + "." + timestamp + "." + body
// The key is the secret's decoded bytes: a secret is written "whsec_" + base64(bytes). During a
// secret rotation both the old and the new secret are live, and the header carries one v1 signature
// per live secret, so a receiver that knows either one accepts the delivery.
//
// Everything here is a pure function (generate_secret draws from OpenSSL's CSPRNG) and safe from
// any thread.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/base64.hpp"
#include "base/result.hpp"

namespace herald::webhook {

inline constexpr std::string_view secret_prefix = "whsec_";
// Bytes of a generated secret. Standard Webhooks asks for 24 to 64; 24 keeps the secret short to
// paste.
inline constexpr std::size_t generated_secret_bytes = 24;

using SecretBytes = std::vector<std::uint8_t>;

// A fresh secret, "whsec_" + base64 of 24 bytes from RAND_bytes. Throws std::runtime_error only if
// the CSPRNG cannot produce bytes, which leaves nothing sensible to sign with.
std::string generate_secret();

// The key bytes of a secret. Accepts "whsec_<base64>" and, for secrets issued elsewhere, a bare
// base64 body. Padding is optional; whitespace and the URL-safe alphabet are rejected.
// Errc::invalid_argument when the text is not base64 or decodes to nothing. Callers enforce their
// own length policy (the API asks for 16 to 64 bytes).
Result<SecretBytes> decode_secret(std::string_view secret);

// One signature, "v1,<base64>", over `msg_id + "." + timestamp + "." + body`.
std::string sign(std::span<const std::uint8_t> key, std::string_view msg_id,
                 std::int64_t timestamp_seconds, std::string_view body);

// The webhook-signature header value for a set of live secrets ("whsec_..." strings), in the given
// order, separated by single spaces. Errc::invalid_argument if the list is empty or a secret does
// not decode — the caller must then not send the delivery unsigned.
Result<std::string> signature_header(std::span<const std::string> secrets, std::string_view msg_id,
                                     std::int64_t timestamp_seconds, std::string_view body);

// What a receiver does: checks that the timestamp is within `tolerance` of `now` (both directions,
// against replays and badly skewed senders) and that at least one v1 signature in
// `signature_header_value` matches one of `secrets` (constant-time comparison). Entries with other
// version tags are ignored. Used by tests and by receivers built on this library.
// Errc::invalid_argument with a reason on any failure.
Result<void> verify(std::span<const std::string> secrets, std::string_view msg_id,
                    std::string_view timestamp_header, std::string_view signature_header_value,
                    std::string_view body, std::chrono::system_clock::time_point now,
                    std::chrono::seconds tolerance = std::chrono::minutes(5));

// base64 as the secret format and signatures use it (base/base64.hpp).
using herald::base64_decode;
using herald::base64_encode;

}  // namespace herald::webhook
