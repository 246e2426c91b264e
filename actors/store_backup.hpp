// The STORE BACKUP (`k8s-watch-server hub`): writes consistent backups of
// one cluster's store at a hub, where no STORAGE actor owns the store (the
// HUB INGEST writes it). A server's backups are STORAGE's.
#pragma once

#include "actors/interfaces.hpp"

#include <memory>

namespace kws::storage {
class rocks_store;
}

namespace kws {

/// Implements the backup interface over `store`. Spawned detached: a
/// backup flushes the store's memtables and waits for the disk.
backup_actor::behavior_type
store_backup(backup_actor::pointer self,
             const std::shared_ptr<storage::rocks_store>& store);

} // namespace kws
