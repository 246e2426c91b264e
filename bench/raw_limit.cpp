// The most a single writer on this machine can do with the bench's bytes:
// a DOM parse of every line and one synced WriteBatch per storage batch,
// nothing of the service's own code.
#include "bench/raw_limit.hpp"

#include "bench/generation_clock.hpp"
#include "bench/process_stats.hpp"
#include "bench/resource_use.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_options.hpp"
#include "storage/rocks_store.hpp"

#include <rapidjson/document.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace kws::bench {

namespace fs = std::filesystem;

namespace {

struct raw_result {
  /// CPU seconds of all threads, generation excluded.
  double cpu_s = 0;
  double wall_s = 0;
  double gen_s = 0;
  double net_s = 0;
  uint64_t bytes = 0;
  dir_size disk;
};

/// RapidJSON DOM parse of every line plus one synced RocksDB WriteBatch per
/// storage batch, with the options rocks_store uses: the most a single
/// writer on this machine can do with the same bytes.
raw_result run_raw(const options& opt, const fs::path& dir) {
  raw_result res;
  // One default column family with the options of the store's records.
  auto rocks = storage::make_rocks_options(storage::store_options{});
  rocksdb::Options o{rocks.db, rocks.record_cf};
  rocksdb::DB* raw = nullptr;
  if (auto st = rocksdb::DB::Open(o, dir.string(), &raw); !st.ok()) {
    std::fprintf(stderr, "raw open failed: %s\n", st.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db{raw};
  rocksdb::WriteOptions wo;
  wo.sync = true;
  bench::workload w(opt.seed, start_ns,
                    static_cast<int64_t>(opt.days) * day_ns
                      / static_cast<int64_t>(opt.events),
                    opt.templates, opt.live_objects);
  std::string buf;
  generation_clock gen;
  uint64_t seq = 0;
  auto cpu_start = process_cpu_s();
  auto t_start = clk::now();
  auto write_batch = [&] {
    rocksdb::WriteBatch wb;
    std::string_view all{buf};
    size_t pos = 0;
    rapidjson::Document doc;
    while (pos < all.size()) {
      auto nl = all.find('\n', pos);
      auto line = all.substr(pos, nl - pos);
      pos = nl + 1;
      doc.Parse(line.data(), line.size());
      if (doc.HasParseError() || !doc.IsObject()) {
        std::fprintf(stderr, "raw: parse error\n");
        std::exit(1);
      }
      char key[8];
      auto s = ++seq;
      for (int i = 7; i >= 0; --i, s >>= 8)
        key[i] = static_cast<char>(s & 0xff);
      wb.Put(rocksdb::Slice{key, 8}, rocksdb::Slice{line.data(), line.size()});
    }
    if (auto st = db->Write(wo, &wb); !st.ok()) {
      std::fprintf(stderr, "raw write failed: %s\n", st.ToString().c_str());
      std::exit(1);
    }
    buf.clear();
  };
  size_t in_batch = 0;
  for (uint64_t i = 0; i < opt.events; ++i) {
    auto before = buf.size();
    gen.next(w, buf);
    res.bytes += buf.size() - before;
    if (++in_batch == opt.storage_batch) {
      write_batch();
      in_batch = 0;
    }
  }
  if (in_batch > 0)
    write_batch();
  res.wall_s = seconds(clk::now() - t_start);
  res.cpu_s = process_cpu_s() - cpu_start - gen.cpu_s;
  res.gen_s = seconds(gen.wall);
  res.net_s = res.wall_s - res.gen_s;
  db->Flush(rocksdb::FlushOptions{});
  db.reset();
  res.disk = measure(dir);
  return res;
}

} // namespace

void measure_raw(const options& opt, const fs::path& dir, double ev_s,
                 json_out& js) {
  auto raw = run_raw(opt, dir);
  double raw_ev_s = static_cast<double>(opt.events) / raw.net_s;
  js.num("raw_seconds", raw.net_s);
  js.num("raw_cpu_us_per_event",
         raw.cpu_s * 1e6 / static_cast<double>(opt.events));
  js.num("raw_events_per_s", raw_ev_s);
  js.num("raw_mb_per_s", static_cast<double>(raw.bytes) / 1e6 / raw.net_s);
  js.num("raw_disk_bytes_per_event",
         static_cast<double>(raw.disk.total) / static_cast<double>(opt.events));
  js.num("ingest_fraction_of_raw", ev_s / raw_ev_s);
  js.num("peak_rss_mb_with_raw", static_cast<double>(peak_rss_kib()) / 1024.0);
  std::fprintf(stderr, "raw: %.0f events/s (pipeline is %.0f%%)\n", raw_ev_s,
               100.0 * ev_s / raw_ev_s);
}

} // namespace kws::bench
