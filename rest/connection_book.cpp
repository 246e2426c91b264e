#include "rest/connection_book.hpp"

namespace kws::rest {

admission connection_book::open(const std::string& client) {
  std::lock_guard guard{mtx_};
  auto full = full_by_client_.find(client);
  const size_t mine = full == full_by_client_.end() ? 0 : full->second;
  if (full_ < limits_.total && mine < limits_.per_client) {
    ++full_;
    ++full_by_client_[client];
    return admission::full;
  }
  auto probes = probes_by_client_.find(client);
  const size_t my_probes
    = probes == probes_by_client_.end() ? 0 : probes->second;
  if (probes_only_ < limits_.probe_reserve
      && my_probes < limits_.probe_reserve_per_client) {
    ++probes_only_;
    ++probes_by_client_[client];
    return admission::probes_only;
  }
  return admission::refused;
}

void connection_book::close(const std::string& client, admission how) {
  std::lock_guard guard{mtx_};
  auto forget = [&](std::unordered_map<std::string, size_t>& by_client) {
    auto it = by_client.find(client);
    if (it != by_client.end() && --it->second == 0)
      by_client.erase(it);
  };
  if (how == admission::full) {
    --full_;
    forget(full_by_client_);
  } else if (how == admission::probes_only) {
    --probes_only_;
    forget(probes_by_client_);
  }
}

size_t connection_book::full() const {
  std::lock_guard guard{mtx_};
  return full_;
}

size_t connection_book::full_from(std::string_view client) const {
  std::lock_guard guard{mtx_};
  auto it = full_by_client_.find(std::string{client});
  return it == full_by_client_.end() ? 0 : it->second;
}

bool is_probe_path(std::string_view path) {
  return path == "/health" || path == "/livez" || path == "/readyz";
}

} // namespace kws::rest
