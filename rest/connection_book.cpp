#include "rest/connection_book.hpp"

#include <utility>

namespace kws::rest {

connection_place connection_book::open(const std::string& client) {
  evict_fn victim;
  connection_place result;
  {
    std::lock_guard guard{mtx_};
    auto mine = [&](size_t client_entry::*member) -> size_t {
      auto it = clients_.find(client);
      return it == clients_.end() ? 0 : it->second.*member;
    };
    const bool own_share = mine(&client_entry::full) < limits_.per_client;
    const bool own_probes
      = mine(&client_entry::probes) < limits_.probe_reserve_per_client;
    // A client over its own share gets no room made for it: it would only
    // take the place of its own idle connections, or of someone else's.
    if (own_share
        && (full_ < limits_.total || evict_one(admission::full, victim)))
      result.how = admission::full;
    else if (own_probes
             && (probes_only_ < limits_.probe_reserve
                 || evict_one(admission::probes_only, victim)))
      result.how = admission::probes_only;
    else
      return result;
    result.id = ++next_id_;
    auto& c = clients_[client];
    if (result.how == admission::full) {
      ++full_;
      ++c.full;
    } else {
      ++probes_only_;
      ++c.probes;
    }
    entries_.emplace(result.id, entry{client, result.how, 0, nullptr});
  }
  if (victim)
    victim();
  return result;
}

bool connection_book::evict_one(admission how, evict_fn& out) {
  auto idle_of = [how](client_entry& c) -> std::map<uint64_t, uint64_t>& {
    return how == admission::full ? c.idle_full : c.idle_probes;
  };
  client_entry* from = nullptr;
  for (auto& [name, c] : clients_) {
    auto& idle = idle_of(c);
    if (idle.empty())
      continue;
    if (from == nullptr) {
      from = &c;
      continue;
    }
    const size_t held = c.full + c.probes;
    const size_t most = from->full + from->probes;
    // Of two clients holding as many, the connection idle longer goes.
    if (held > most
        || (held == most
            && idle.begin()->first < idle_of(*from).begin()->first))
      from = &c;
  }
  if (from == nullptr)
    return false;
  auto it = entries_.find(idle_of(*from).begin()->second);
  out = std::move(it->second.evict);
  if (!out)
    out = [] {};
  ++evicted_;
  forget(it);
  return true;
}

void connection_book::idle(uint64_t id, evict_fn evict) {
  std::lock_guard guard{mtx_};
  auto it = entries_.find(id);
  if (it == entries_.end())
    return; // evicted already: it is being closed
  auto& e = it->second;
  auto& c = clients_[e.client];
  auto& idle = e.how == admission::full ? c.idle_full : c.idle_probes;
  if (e.idle_since != 0)
    idle.erase(e.idle_since);
  else
    ++idle_;
  e.idle_since = ++next_idle_;
  e.evict = std::move(evict);
  idle.emplace(e.idle_since, id);
}

bool connection_book::busy(uint64_t id) {
  std::lock_guard guard{mtx_};
  auto it = entries_.find(id);
  if (it == entries_.end())
    return false;
  auto& e = it->second;
  if (e.idle_since != 0) {
    auto& c = clients_[e.client];
    (e.how == admission::full ? c.idle_full : c.idle_probes)
      .erase(e.idle_since);
    e.idle_since = 0;
    e.evict = nullptr;
    --idle_;
  }
  return true;
}

void connection_book::close(uint64_t id) {
  std::lock_guard guard{mtx_};
  auto it = entries_.find(id);
  if (it != entries_.end())
    forget(it);
}

void connection_book::forget(std::unordered_map<uint64_t, entry>::iterator it) {
  auto& e = it->second;
  auto c = clients_.find(e.client);
  if (c != clients_.end()) {
    auto& counts = c->second;
    if (e.how == admission::full) {
      --full_;
      --counts.full;
      if (e.idle_since != 0)
        counts.idle_full.erase(e.idle_since);
    } else {
      --probes_only_;
      --counts.probes;
      if (e.idle_since != 0)
        counts.idle_probes.erase(e.idle_since);
    }
    if (e.idle_since != 0)
      --idle_;
    if (counts.full == 0 && counts.probes == 0)
      clients_.erase(c);
  }
  entries_.erase(it);
}

size_t connection_book::full() const {
  std::lock_guard guard{mtx_};
  return full_;
}

size_t connection_book::full_from(std::string_view client) const {
  std::lock_guard guard{mtx_};
  auto it = clients_.find(std::string{client});
  return it == clients_.end() ? 0 : it->second.full;
}

connection_counts connection_book::counts() const {
  std::lock_guard guard{mtx_};
  return {full_, probes_only_, idle_, evicted_};
}

} // namespace kws::rest
