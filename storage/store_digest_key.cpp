// The install's key of Secret digests: made the first time it is asked for
// and kept in `meta`, so that digests stay comparable across restarts and a
// restored backup carries it.
#include "storage/rocks_store.hpp"
#include "storage/secret_digest.hpp"
#include "storage/store_impl.hpp"
#include "util/errors.hpp"

namespace kws::storage {

std::string meta_digest_key_key() {
  return "k";
}

caf::expected<std::string> rocks_store::secret_digest_key() {
  auto& s = *impl_;
  std::lock_guard writer{s.write_mtx};
  std::string key;
  auto st = s.db->Get(rocksdb::ReadOptions{}, s.meta_cf.get(),
                      meta_digest_key_key(), &key);
  if (st.ok() && !key.empty())
    return key;
  if (!st.ok() && !st.IsNotFound())
    return to_error(st, "cannot read the key of Secret digests");
  key = make_secret_digest_key();
  if (key.empty())
    return caf::make_error(ec::storage_failure,
                           "cannot make a key for Secret digests: the system "
                           "has no randomness to give");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  st = s.db->Put(wo, s.meta_cf.get(), meta_digest_key_key(), key);
  if (!st.ok())
    return to_error(st, "cannot keep the key of Secret digests");
  return key;
}

} // namespace kws::storage
