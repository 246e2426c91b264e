#include "actors/store_backup.hpp"

#include "storage/rocks_store.hpp"
#include "util/logging.hpp"
#include "util/thread_name.hpp"

namespace kws {

backup_actor::behavior_type
store_backup(backup_actor::pointer self,
             const std::shared_ptr<storage::rocks_store>& store) {
  if (self->getf(caf::abstract_actor::is_detached_flag))
    name_this_thread("kws.backup");
  return {
    [store](atom::backup, const std::string& dir,
            const std::string& root) -> caf::result<std::string> {
      // RocksDB's checkpoints may run beside the writes of the HUB INGEST.
      if (auto err = store->backup(dir, root))
        return err;
      KWS_INFO("hub wrote a backup to {}", dir);
      return dir;
    },
  };
}

} // namespace kws
