// The validated configuration of k8s-watch-server.
#pragma once

#include "messages/resource_type.hpp"
#include "messages/watch_filter.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kws::config {

/// How log lines are written: `text` for people, `json` (one object per
/// line) for log pipelines.
enum class log_format : uint8_t { text, json };

/// Who may read the history (`auth.mode`).
enum class auth_mode : uint8_t {
  /// Anyone who reaches the port reads everything (a local demo).
  none,
  /// Every query needs `Authorization: Bearer <token>`, checked with a
  /// TokenReview; answers hold only what the caller may `get`.
  token,
  /// A front proxy authenticates the caller and names them in request
  /// headers (`X-Remote-User`, `X-Remote-Group`); they are believed only
  /// from a connection whose client certificate the proxy's CA signed.
  /// Answers hold only what that caller may `get`.
  proxy,
};

/// The name `auth.mode` takes in the configuration.
constexpr const char* auth_mode_name(auth_mode m) {
  switch (m) {
    case auth_mode::none: return "none";
    case auth_mode::token: return "token";
    case auth_mode::proxy: return "proxy";
  }
  return "?";
}

/// The `auth.proxy` section: the kube-aggregator's request-header
/// convention (`--requestheader-*` flags of the apiserver).
struct proxy_settings {
  /// PEM CA bundle that signs the proxy's client certificate.
  std::string client_ca_file;
  /// Common names a proxy's certificate may have; empty: any the CA signed.
  std::vector<std::string> allowed_names;
  /// Headers naming the user; the first present wins.
  std::vector<std::string> username_headers{"X-Remote-User"};
  /// Headers each naming one group; every value of each counts.
  std::vector<std::string> group_headers{"X-Remote-Group"};
  /// `<prefix><key>: value` headers are the user's extra attributes.
  std::vector<std::string> extra_headers_prefixes{"X-Remote-Extra-"};
};

/// The `auth` section.
struct auth_settings {
  auth_mode mode = auth_mode::none;
  /// Audiences a token must be issued for; empty means the apiserver's.
  std::vector<std::string> audiences;
  /// Seconds a valid token and a permission are trusted before asked again.
  uint32_t cache_seconds = 60;
  /// Seconds an invalid token is remembered as invalid.
  uint32_t failure_cache_seconds = 30;
  /// With `mode: proxy`: whom to believe.
  proxy_settings proxy = {};
};

/// The `tls` section: the REST listener serves HTTPS with these PEM files,
/// read again when they change. Both empty: plain HTTP.
struct tls_settings {
  /// The certificate, followed by its intermediates.
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !cert_file.empty(); }
};

/// The `export.kafka` section: every stored record also goes to a Kafka
/// topic, for a hub that answers for many clusters. No brokers: no export.
struct kafka_export_settings {
  /// `host:port` of the brokers to bootstrap from.
  std::vector<std::string> brokers;
  std::string topic = "k8s-watch-server";
  /// This cluster's name in every message (key `cluster/uid`, field
  /// `cluster`); needed with `brokers`.
  std::string cluster;
  /// How long one record may take to be acknowledged before its batch is
  /// sent again.
  uint32_t delivery_timeout_seconds = 10;
  /// TLS to the brokers: on with `tls` present; a CA bundle to check them
  /// (empty: the system's), and a client certificate and key for mutual
  /// TLS (both or neither).
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  /// SASL: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`; empty: none.
  std::string sasl_mechanism;
  std::string sasl_username;
  /// The password is read from this file at start (a mounted Secret).
  std::string sasl_password_file;

  bool enabled() const { return !brokers.empty(); }

  friend bool operator==(const kafka_export_settings&,
                         const kafka_export_settings&)
    = default;
};

/// The `hub` section, read by `k8s-watch-server hub`: the records that
/// servers export (`export.kafka`) of the clusters named here, consumed
/// from Kafka and answered for with `cluster=`.
struct hub_settings {
  /// Brokers, topic, TLS and SASL as in `export.kafka` (`cluster` and
  /// `deliveryTimeoutSeconds` do not apply).
  kafka_export_settings kafka;
  /// The consumer group: hubs of one group split the topic's partitions.
  std::string group = "k8s-watch-server-hub";
  /// The clusters this hub stores and answers for; records of others are
  /// passed over.
  std::vector<std::string> clusters;

  friend bool operator==(const hub_settings&, const hub_settings&) = default;
};

/// Everything the service is configured with, after defaults, the YAML file
/// and environment overrides were applied and validated.
struct settings {
  /// Watch every CRD, including ones created after start.
  bool discover_crds = true;
  /// Watch every listable and watchable type discovery finds.
  bool watch_all = false;
  /// RocksDB directory.
  std::string storage_path = "/data/watch-events";
  /// Days a record is kept; whole expired days are dropped.
  uint32_t retention_days = 14;
  /// Online backups (`POST /admin/backup`) go only into new directories
  /// inside this one.
  std::string backup_root = "/data/backups";
  /// HTTP port of the REST API.
  uint16_t server_port = 8080;
  /// Port of the admin endpoints (`POST /admin/backup`), plain HTTP on
  /// 127.0.0.1 only, so that neither the Service nor a proxy in front of
  /// the API reaches them. 0: no admin endpoints.
  uint16_t admin_port = 0;
  /// A port serving only `/health`, `/healthz`, `/livez` and `/readyz`, on
  /// `listen_address` with its own thread, so that the kubelet's probes are
  /// answered at once even while the API's port is busy writing large
  /// pages. 0: probes only on the API's port (where they work too).
  uint16_t probe_port = 0;
  /// The address the REST API listens on: an IPv4 or IPv6 address
  /// (`0.0.0.0` every IPv4 interface, `::` every interface).
  std::string listen_address = "0.0.0.0";
  /// MiB of answers written out and not yet read by their clients that the
  /// server holds before further requests wait (slow readers of large pages
  /// cannot make it grow without bound).
  uint32_t answer_buffer_mib = 64;
  /// Default and maximum `limit` of a query.
  uint32_t max_query_limit = 1000;
  /// Threads answering queries side by side.
  uint32_t query_workers = 2;
  /// Threads one query's reads are split over (the days it seeks, the
  /// records it reads), so that reads of blocks outside the page cache wait
  /// for the disk side by side.
  uint32_t read_threads = 4;
  /// Replace Secret values by digests before storing.
  bool digest_secret_values = true;
  /// A storage batch is written when it holds this many records, or as soon
  /// as the previous write finished.
  uint32_t batch_size = 1000;
  /// No longer used (storage writes as soon as the previous write finished);
  /// still validated so existing files stay valid.
  uint32_t flush_interval_ms = 200;
  /// A watcher further behind its watch stream than this turns /readyz
  /// `degraded`.
  uint32_t max_watch_lag_seconds = 30;
  /// One log line per HTTP request (probes only when they fail).
  bool access_log = true;
  /// How every log line is written, the access log's included.
  config::log_format log_format = config::log_format::text;
  /// Authentication and authorization of queries.
  auth_settings auth;
  /// HTTPS on the REST listener.
  tls_settings tls;
  /// Streaming every stored record to Kafka.
  kafka_export_settings kafka_export;
  /// Consuming other servers' records (`k8s-watch-server hub`).
  hub_settings hub;
  /// Resource types to watch (the 17 defaults when the file names none).
  std::vector<resource_type> resources;
  /// What is recorded: the global `namespaces` / `excludeNamespaces` and
  /// each resource entry's own filter.
  watch_filters filters;
  /// Where the settings came from, for the startup log.
  std::string source;
};

/// The 17 resource types watched when the configuration names none.
std::vector<resource_type> default_resources();

} // namespace kws::config
