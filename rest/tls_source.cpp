#include "rest/tls_source.hpp"

#include "util/errors.hpp"
#include "util/file_text.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace kws::rest {

namespace ssl = boost::asio::ssl;

namespace {

caf::error tls_error(const std::string& key, const std::string& what) {
  return caf::make_error(ec::config_error, key + ": " + what);
}

} // namespace

caf::expected<std::shared_ptr<ssl::context>>
make_server_context(const std::string& cert_pem, const std::string& key_pem,
                    const std::string& client_ca_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                   | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                   | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec)
    return tls_error("tls.certFile",
                     "holds no usable PEM certificate (" + ec.message() + ")");
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  // OpenSSL compares the key with the certificate as it loads it.
  const bool mismatch = ec
    && ec.category() == boost::asio::error::get_ssl_category()
    && ERR_GET_REASON(static_cast<unsigned long>(ec.value()))
      == X509_R_KEY_VALUES_MISMATCH;
  if (mismatch || (!ec && SSL_CTX_check_private_key(ctx->native_handle()) != 1))
    return tls_error("tls.keyFile",
                     "is not the key of the certificate in tls.certFile");
  if (ec)
    return tls_error("tls.keyFile",
                     "holds no usable PEM private key (" + ec.message() + ")");
  if (!client_ca_pem.empty()) {
    ctx->add_certificate_authority(boost::asio::buffer(client_ca_pem), ec);
    if (ec)
      return tls_error("auth.proxy.clientCAFile",
                       "holds no usable PEM certificate (" + ec.message()
                         + ")");
    // Asked for, not required: probes and loopback commands have none. A
    // certificate that is sent must verify, else the handshake fails.
    ctx->set_verify_mode(ssl::verify_peer);
  }
  return ctx;
}

tls_source::tls_source(tls_files files,
                       std::chrono::milliseconds check_interval)
    : files_{std::move(files)}, check_interval_{check_interval},
      checked_{std::chrono::steady_clock::now()} {
  // nop
}

namespace {

/// Process-wide, so an operator alerts on a rotation that did not take.
metrics::counter& reload_counter(std::string_view outcome) {
  return metrics::get_counter(
    "kws_http_tls_reloads_total",
    "Changed TLS certificate files, by whether they loaded.",
    std::string{"outcome=\""} + std::string{outcome} + "\"");
}

} // namespace

bool tls_source::read(std::string& cert, std::string& key,
                      std::string& ca) const {
  return read_file_text(files_.cert_file, cert)
    && read_file_text(files_.key_file, key)
    && (files_.client_ca_file.empty()
        || read_file_text(files_.client_ca_file, ca));
}

caf::expected<std::shared_ptr<tls_source>>
tls_source::load(tls_files files, std::chrono::milliseconds check_interval) {
  auto src = std::make_shared<tls_source>(std::move(files), check_interval);
  if (!read_file_text(src->files_.cert_file, src->cert_pem_))
    return tls_error("tls.certFile", "cannot read " + src->files_.cert_file);
  if (!read_file_text(src->files_.key_file, src->key_pem_))
    return tls_error("tls.keyFile", "cannot read " + src->files_.key_file);
  const auto& ca_file = src->files_.client_ca_file;
  if (!ca_file.empty() && !read_file_text(ca_file, src->client_ca_pem_))
    return tls_error("auth.proxy.clientCAFile", "cannot read " + ca_file);
  auto ctx
    = make_server_context(src->cert_pem_, src->key_pem_, src->client_ca_pem_);
  if (!ctx)
    return ctx.error();
  src->context_ = std::move(*ctx);
  return src;
}

std::shared_ptr<ssl::context> tls_source::current() {
  std::lock_guard guard{mtx_};
  auto now = std::chrono::steady_clock::now();
  if (now - checked_ < check_interval_)
    return context_;
  checked_ = now;
  std::string cert;
  std::string key;
  std::string ca;
  // A file missing for a moment (a Secret's symlinks being swapped) is no
  // change: the next check reads the new files.
  if (!read(cert, key, ca)
      || (cert == cert_pem_ && key == key_pem_ && ca == client_ca_pem_))
    return context_;
  cert_pem_ = std::move(cert);
  key_pem_ = std::move(key);
  client_ca_pem_ = std::move(ca);
  auto ctx = make_server_context(cert_pem_, key_pem_, client_ca_pem_);
  if (!ctx) {
    ++failures_;
    reload_counter("failed").inc();
    KWS_WARN("http server keeps its TLS certificate: the changed files do "
             "not load: {}",
             error_detail(ctx.error()));
    return context_;
  }
  ++reloads_;
  reload_counter("loaded").inc();
  KWS_INFO("http server loaded its changed TLS certificate from {}",
           files_.cert_file);
  context_ = std::move(*ctx);
  return context_;
}

} // namespace kws::rest
