// The INDEX actor: answers queries over the store that STORAGE writes.
#pragma once

#include "actors/interfaces.hpp"

#include <memory>

namespace kws::storage {
class rocks_store;
}

namespace kws {

/// State of INDEX.
struct index_state {
  explicit index_state(index_actor::pointer self) : self{self} {}

  index_actor::pointer self;
  std::shared_ptr<storage::rocks_store> store;

  static inline const char* name = "index";
};

/// Implements the INDEX interface over the same store (RocksDB reads are
/// thread-safe). Blocks on reads: the supervisor spawns it detached.
index_actor::behavior_type
index(index_actor::stateful_pointer<index_state> self,
      std::shared_ptr<storage::rocks_store> store);

} // namespace kws
