// The digests that stand in for Secret values, against published vectors.
#include "storage/secret_digest.hpp"

#include <gtest/gtest.h>

namespace kws::storage {
namespace {

TEST(secret_digest_test, sha256_matches_the_fips_vector) {
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
            "f20015ad");
}

// RFC 4231, test cases 1 and 2.
TEST(secret_digest_test, hmac_sha256_matches_rfc_4231) {
  EXPECT_EQ(hmac_sha256_digest(std::string(20, '\x0b'), "Hi There"),
            "hmac-sha256:b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9"
            "376c2e32cff7");
  EXPECT_EQ(hmac_sha256_digest("Jefe", "what do ya want for nothing?"),
            "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec"
            "58b964ec3843");
}

TEST(secret_digest_test, a_key_makes_the_digest_keyed) {
  EXPECT_EQ(secret_digest("", "hunter2"), sha256_digest("hunter2"));
  EXPECT_EQ(secret_digest("k", "hunter2"), hmac_sha256_digest("k", "hunter2"));
  // Another install, another digest of the same value; another value,
  // another digest under the same key.
  EXPECT_NE(secret_digest("k1", "hunter2"), secret_digest("k2", "hunter2"));
  EXPECT_NE(secret_digest("k1", "hunter2"), secret_digest("k1", "hunter3"));
}

TEST(secret_digest_test, install_keys_are_random_and_full_length) {
  auto a = make_secret_digest_key();
  auto b = make_secret_digest_key();
  EXPECT_EQ(a.size(), secret_digest_key_bytes);
  EXPECT_EQ(b.size(), secret_digest_key_bytes);
  EXPECT_NE(a, b);
}

} // namespace
} // namespace kws::storage
