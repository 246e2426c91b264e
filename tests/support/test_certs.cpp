#include "tests/support/test_certs.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <utility>

namespace kws::test {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO, BIO_free_all>>;

void check(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string{"cannot make a test certificate: "}
                             + what);
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  return {data, static_cast<size_t>(n)};
}

/// A fresh key and a certificate for it named `common_name`, valid from an
/// hour ago for a day, not yet signed.
std::pair<pkey_ptr, x509_ptr> new_cert(const std::string& common_name) {
  pkey_ptr key{EVP_EC_gen("P-256")};
  check(key != nullptr, "key");
  x509_ptr cert{X509_new()};
  check(cert != nullptr, "certificate");
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  return {std::move(key), std::move(cert)};
}

test_cert to_pem(X509* cert, EVP_PKEY* key) {
  bio_ptr cert_bio{BIO_new(BIO_s_mem())};
  bio_ptr key_bio{BIO_new(BIO_s_mem())};
  check(PEM_write_bio_X509(cert_bio.get(), cert) == 1, "PEM");
  check(PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0,
                                 nullptr, nullptr)
          == 1,
        "PEM key");
  return {drain(cert_bio.get()), drain(key_bio.get())};
}

} // namespace

test_cert make_client_cert(const test_cert& ca,
                           const std::string& common_name) {
  bio_ptr ca_cert_bio{
    BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size()))};
  bio_ptr ca_key_bio{
    BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size()))};
  x509_ptr ca_cert{
    PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr)};
  pkey_ptr ca_key{
    PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr)};
  check(ca_cert != nullptr && ca_key != nullptr, "the CA's PEM");
  auto [key, cert] = new_cert(common_name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_ext_key_usage, "clientAuth");
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "signature");
  return to_pem(cert.get(), key.get());
}

test_cert make_test_cert(const std::string& common_name) {
  auto [key, cert] = new_cert(common_name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signature");
  return to_pem(cert.get(), key.get());
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  out.close();
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

} // namespace kws::test
