#include "app/reload.hpp"

#include "util/errors.hpp"
#include "util/file_text.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

namespace kws::app {

namespace {

// An unreadable file reads as empty, which no running configuration is.
std::string read_file(const std::string& path) {
  std::string text;
  if (!read_file_text(path, text))
    return {};
  return text;
}

metrics::counter& reloads(std::string_view result) {
  return metrics::get_counter("kws_config_reloads_total",
                              "Configuration reloads, by result.",
                              "result=\"" + std::string{result} + "\"");
}

void publish_hash(const std::string& text) {
  // The low 52 bits: Prometheus samples are doubles, which hold them exactly.
  static auto& hash = metrics::get_gauge(
    "kws_config_hash", "Hash of the loaded configuration file's bytes.");
  hash.set(static_cast<int64_t>(config_hash(text) & ((uint64_t{1} << 52) - 1)));
}

} // namespace

uint64_t config_hash(const std::string& text) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::vector<std::string> restart_only_changes(const config::settings& running,
                                              const config::settings& next) {
  std::vector<std::string> result;
  auto check = [&](const char* key, bool same) {
    if (!same)
      result.emplace_back(key);
  };
  check("storagePath", running.storage_path == next.storage_path);
  check("serverPort", running.server_port == next.server_port);
  check("adminPort", running.admin_port == next.admin_port);
  check("probePort", running.probe_port == next.probe_port);
  check("listenAddress", running.listen_address == next.listen_address);
  check("backupRoot", running.backup_root == next.backup_root);
  check("retentionDays", running.retention_days == next.retention_days);
  check("maxQueryLimit", running.max_query_limit == next.max_query_limit);
  check("answerBufferMiB", running.answer_buffer_mib == next.answer_buffer_mib);
  check("queryWorkers", running.query_workers == next.query_workers);
  check("readThreads", running.read_threads == next.read_threads);
  check("batchSize", running.batch_size == next.batch_size);
  check("flushIntervalMs", running.flush_interval_ms == next.flush_interval_ms);
  check("accessLog", running.access_log == next.access_log);
  check("logFormat", running.log_format == next.log_format);
  const auto& ra = running.auth;
  const auto& na = next.auth;
  check("auth",
        ra.mode == na.mode && ra.audiences == na.audiences
          && ra.cache_seconds == na.cache_seconds
          && ra.failure_cache_seconds == na.failure_cache_seconds
          && ra.proxy.client_ca_file == na.proxy.client_ca_file
          && ra.proxy.allowed_names == na.proxy.allowed_names
          && ra.proxy.username_headers == na.proxy.username_headers
          && ra.proxy.group_headers == na.proxy.group_headers
          && ra.proxy.extra_headers_prefixes
            == na.proxy.extra_headers_prefixes);
  // The files' contents reload by themselves; which files, only on restart.
  check("tls",
        running.tls.cert_file == next.tls.cert_file
          && running.tls.key_file == next.tls.key_file);
  check("export", running.kafka_export == next.kafka_export);
  check("hub", running.hub == next.hub);
  return result;
}

config_reloader::config_reloader(std::string path, config::env_lookup env,
                                 config::settings running)
    : path_(std::move(path)), env_(std::move(env)),
      running_(std::move(running)), last_text_(read_file(path_)) {
  publish_hash(last_text_);
}

bool config_reloader::changed() {
  return read_file(path_) != last_text_;
}

std::optional<watch_settings> config_reloader::reload() {
  last_text_ = read_file(path_);
  auto next = config::load(path_, env_);
  if (!next) {
    reloads("failure").inc();
    KWS_ERROR("configuration reload rejected, the running configuration "
              "stays: {}",
              error_detail(next.error()));
    return std::nullopt;
  }
  reloads("success").inc();
  publish_hash(last_text_);
  auto fixed = restart_only_changes(running_, *next);
  std::string keys;
  for (const auto& key : fixed)
    keys += (keys.empty() ? "" : ", ") + key;
  if (!keys.empty())
    KWS_WARN("configuration reloaded; {} change only after a restart and keep "
             "their running values",
             keys);
  else
    KWS_INFO("configuration reloaded from {}", path_);
  // Keep what cannot change now, so the next comparison is against what
  // runs.
  auto updated = std::move(*next);
  updated.storage_path = running_.storage_path;
  updated.server_port = running_.server_port;
  updated.admin_port = running_.admin_port;
  updated.probe_port = running_.probe_port;
  updated.listen_address = running_.listen_address;
  updated.backup_root = running_.backup_root;
  updated.retention_days = running_.retention_days;
  updated.max_query_limit = running_.max_query_limit;
  updated.answer_buffer_mib = running_.answer_buffer_mib;
  updated.query_workers = running_.query_workers;
  updated.read_threads = running_.read_threads;
  updated.batch_size = running_.batch_size;
  updated.flush_interval_ms = running_.flush_interval_ms;
  updated.access_log = running_.access_log;
  updated.log_format = running_.log_format;
  updated.auth = running_.auth;
  updated.tls = running_.tls;
  updated.kafka_export = running_.kafka_export;
  updated.hub = running_.hub;
  running_ = std::move(updated);
  return config::watch_part(running_);
}

} // namespace kws::app
