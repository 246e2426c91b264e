#include "storage/secret_digest.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace kws::storage {

namespace {

std::string hex(std::string prefix, const unsigned char* md, unsigned len) {
  static constexpr char digits[] = "0123456789abcdef";
  prefix.reserve(prefix.size() + 2 * size_t{len});
  for (unsigned i = 0; i < len; ++i) {
    prefix.push_back(digits[md[i] >> 4]);
    prefix.push_back(digits[md[i] & 0xf]);
  }
  return prefix;
}

} // namespace

std::string sha256_digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr)
      != 1)
    // Only an OpenSSL without SHA-256 gets here; a fixed marker still never
    // leaks the value.
    return "sha256:unavailable";
  return hex("sha256:", md, len);
}

std::string hmac_sha256_digest(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
           &len)
      == nullptr)
    return "hmac-sha256:unavailable";
  return hex("hmac-sha256:", md, len);
}

std::string secret_digest(std::string_view key, std::string_view value) {
  return key.empty() ? sha256_digest(value) : hmac_sha256_digest(key, value);
}

std::string make_secret_digest_key() {
  std::string key(secret_digest_key_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                 static_cast<int>(key.size()))
      != 1)
    return {};
  return key;
}

} // namespace kws::storage
