// Measures a retention drop the way the service runs it: whole day
// partitions, with the freed bytes counted once RocksDB has purged them.
#include "bench/retention.hpp"

#include "bench/resource_use.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

namespace kws::bench {

void measure_retention(const options& opt, storage::rocks_store& store,
                       const std::filesystem::path& store_dir, json_out& js) {
  auto parts_before = store.partitions().size();
  auto before = measure(store_dir);
  auto seq_before = store.next_sequence();
  auto t0 = clk::now();
  auto dropped = store.drop_expired(start_ns + 2 * day_ns + 1'000'000'000, 1);
  auto dt = seconds(clk::now() - t0);
  // The dropped files are deleted when RocksDB purges obsolete files,
  // which may lag the drop and go file by file: wait (bounded) until the
  // directory has shrunk and then stayed the same for 100 ms.
  auto after = measure(store_dir);
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    auto now = measure(store_dir);
    if (now.total == after.total && now.total < before.total)
      break;
    after = now;
  }
  js.num("partitions", static_cast<double>(parts_before));
  js.num("retention_partitions_dropped",
         dropped ? static_cast<double>(*dropped) : -1);
  js.num("retention_drop_ms", dt * 1e3);
  js.num("retention_bytes_freed",
         static_cast<double>(before.total) - static_cast<double>(after.total));
  js.num("retention_events_per_day",
         static_cast<double>(seq_before) / opt.days);
  std::fprintf(stderr, "retention: dropped %zu of %zu partitions in %.1f ms\n",
               dropped ? *dropped : 0, parts_before, dt * 1e3);
}

} // namespace kws::bench
