// Digests that stand in for Secret values in stored records. Keyed with the
// install's own key, so that whoever reads the history cannot confirm a
// guessed password by hashing it; a changed value still changes its digest.
#pragma once

#include <string>
#include <string_view>

namespace kws::storage {

/// Bytes of a freshly made install key.
inline constexpr size_t secret_digest_key_bytes = 32;

/// `sha256:` followed by the 64 lowercase hex digits of the digest.
std::string sha256_digest(std::string_view data);

/// `hmac-sha256:` followed by the 64 lowercase hex digits of HMAC-SHA-256
/// of `data` under `key` (RFC 2104).
std::string hmac_sha256_digest(std::string_view key, std::string_view data);

/// What replaces a Secret value: its HMAC under `key`, or, without a key
/// (records built outside a store), its plain `sha256:` digest, as stores
/// written before keys hold it.
std::string secret_digest(std::string_view key, std::string_view value);

/// A new random install key; empty when the system has no randomness.
std::string make_secret_digest_key();

} // namespace kws::storage
