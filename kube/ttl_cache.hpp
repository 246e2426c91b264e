// A bounded map whose entries expire: the answers of token and access
// reviews are reused for a short time, never forever. The clock is the
// caller's, so expiry is testable without waiting.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace kws::kube {

template <class Value>
class ttl_cache {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit ttl_cache(size_t max_entries) : max_entries_{max_entries} {}

  /// The value of `key` if it has not expired at `now`.
  const Value* find(const std::string& key, time_point now) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now)
      return nullptr;
    return &it->second.value;
  }

  /// Stores `value` until `expires`. When full, expired entries go first,
  /// then everything: a burst of distinct keys costs re-asking, not memory.
  void put(const std::string& key, Value value, time_point expires,
           time_point now) {
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
      std::erase_if(entries_,
                    [now](const auto& kv) { return kv.second.expires <= now; });
      if (entries_.size() >= max_entries_)
        entries_.clear();
    }
    entries_.insert_or_assign(key, entry{std::move(value), expires});
  }

  size_t size() const { return entries_.size(); }

private:
  struct entry {
    Value value;
    time_point expires;
  };
  size_t max_entries_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace kws::kube
