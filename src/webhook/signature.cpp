#include "webhook/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <memory>
#include <stdexcept>

namespace herald::webhook {

namespace {

// The HMAC implementation is fetched once: EVP_MAC_fetch walks the provider tables, which costs
// more than the MAC itself for a small body. EVP_MAC objects are reference-counted and safe to
// share between threads.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

struct MacCtxDeleter {
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

// HMAC-SHA256 over the three parts and the separators without concatenating them: the body may be
// large and a rotation signs it once per live secret.
std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::string_view msg_id,
                                         std::string_view timestamp, std::string_view body) {
    std::array<std::uint8_t, 32> out{};
    EVP_MAC* mac = hmac_algorithm();
    if (mac == nullptr) throw std::runtime_error("OpenSSL has no HMAC implementation");
    std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(mac));
    if (!ctx) throw std::runtime_error("EVP_MAC_CTX_new failed");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
    static const std::uint8_t empty_key = 0;
    const std::uint8_t* key_ptr = key.empty() ? &empty_key : key.data();
    if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1)
        throw std::runtime_error("EVP_MAC_init failed");
    auto update = [&](std::string_view part) {
        if (!part.empty() &&
            EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                           part.size()) != 1)
            throw std::runtime_error("EVP_MAC_update failed");
    };
    update(msg_id);
    update(".");
    update(timestamp);
    update(".");
    update(body);
    std::size_t len = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size())
        throw std::runtime_error("EVP_MAC_final failed");
    return out;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string generate_secret() {
    std::array<std::uint8_t, generated_secret_bytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("RAND_bytes failed: cannot generate a webhook secret");
    std::string out(secret_prefix);
    out += base64_encode(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return out;
}

Result<SecretBytes> decode_secret(std::string_view secret) {
    if (secret.starts_with(secret_prefix)) secret.remove_prefix(secret_prefix.size());
    if (secret.empty()) return make_error(Errc::invalid_argument, "the secret is empty", "secret");
    auto bytes = base64_decode(secret);
    if (!bytes)
        return make_error(Errc::invalid_argument, "secret: " + bytes.error().message, "secret");
    if (bytes->empty())
        return make_error(Errc::invalid_argument, "the secret decodes to no bytes", "secret");
    return bytes;
}

std::string sign(std::span<const std::uint8_t> key, std::string_view msg_id,
                 std::int64_t timestamp_seconds, std::string_view body) {
    const auto ts = std::to_string(timestamp_seconds);
    const auto mac = hmac_sha256(key, msg_id, ts, body);
    return "v1," + base64_encode(mac);
}

Result<std::string> signature_header(std::span<const std::string> secrets, std::string_view msg_id,
                                     std::int64_t timestamp_seconds, std::string_view body) {
    if (secrets.empty())
        return make_error(Errc::invalid_argument, "no live signing secret", "secret");
    std::string out;
    out.reserve(secrets.size() * 48);
    for (std::size_t i = 0; i < secrets.size(); ++i) {
        auto key = decode_secret(secrets[i]);
        if (!key)
            return make_error(
                Errc::invalid_argument,
                "signing secret " + std::to_string(i + 1) + ": " + key.error().message, "secret");
        if (!out.empty()) out.push_back(' ');
        out += sign(*key, msg_id, timestamp_seconds, body);
        OPENSSL_cleanse(key->data(), key->size());
    }
    return out;
}

Result<void> verify(std::span<const std::string> secrets, std::string_view msg_id,
                    std::string_view timestamp_header, std::string_view signature_header_value,
                    std::string_view body, std::chrono::system_clock::time_point now,
                    std::chrono::seconds tolerance) {
    auto fail = [](std::string why) {
        return make_error(Errc::invalid_argument, std::move(why), "webhook-signature");
    };
    timestamp_header = trim(timestamp_header);
    std::int64_t ts = 0;
    auto [end, ec] = std::from_chars(timestamp_header.data(),
                                     timestamp_header.data() + timestamp_header.size(), ts);
    if (ec != std::errc{} || end != timestamp_header.data() + timestamp_header.size() ||
        timestamp_header.empty())
        return make_error(Errc::invalid_argument, "webhook-timestamp is not an integer",
                          "webhook-timestamp");
    const auto now_s =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (ts < now_s - tolerance.count())
        return make_error(Errc::invalid_argument, "webhook-timestamp is too old",
                          "webhook-timestamp");
    if (ts > now_s + tolerance.count())
        return make_error(Errc::invalid_argument, "webhook-timestamp is in the future",
                          "webhook-timestamp");

    std::vector<std::array<std::uint8_t, 32>> expected;
    expected.reserve(secrets.size());
    for (auto& s : secrets) {
        auto key = decode_secret(s);
        if (!key) return fail("a verification secret does not decode: " + key.error().message);
        expected.push_back(hmac_sha256(*key, msg_id, timestamp_header, body));
    }
    if (expected.empty()) return fail("no verification secret");

    std::string_view rest = signature_header_value;
    while (!rest.empty()) {
        auto sp = rest.find(' ');
        std::string_view entry = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
        if (!entry.starts_with("v1,")) continue;
        auto sig = base64_decode(entry.substr(3));
        if (!sig || sig->size() != 32) continue;
        for (auto& e : expected)
            if (CRYPTO_memcmp(e.data(), sig->data(), e.size()) == 0) return ok();
    }
    return fail("no v1 signature matches");
}

}  // namespace herald::webhook
