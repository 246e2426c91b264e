// Both limits run after every other phase, when the store itself is closed,
// each in a copy of the store taken before the measured ingest: the same
// records, files and options the pipeline wrote into.
#include "bench/limits.hpp"

#include "bench/generation_clock.hpp"
#include "bench/prefill.hpp"
#include "bench/resource_use.hpp"
#include "storage/key_codec.hpp"
#include "storage/rocks_options.hpp"

#include <rapidjson/document.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kws::bench {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "limits: %s\n", what.c_str());
  std::exit(1);
}

/// Seconds and CPU of a limit with the generation of its events taken out.
struct limit_run {
  double net_s = 0;
  double cpu_s = 0;
};

/// A DOM parse of every line and one put of its record into the records
/// column family of its day, keyed as the store keys records; one synced
/// batch per `storage_batch` events, as STORAGE writes.
limit_run run_physical(const options& opt, workload w, const fs::path& dir,
                       uint64_t next_sequence) {
  auto rocks = storage::make_rocks_options(storage::store_options{});
  std::vector<std::string> names;
  if (auto st = rocksdb::DB::ListColumnFamilies(rocks.db, dir.string(), &names);
      !st.ok())
    fail("cannot list the copy's column families: " + st.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.reserve(names.size());
  for (const auto& name : names)
    descs.emplace_back(
      name, storage::partition_day(name) ? rocks.index_cf : rocks.record_cf);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto st
      = rocksdb::DB::Open(rocks.db, dir.string(), descs, &handles, &raw);
      !st.ok())
    fail("cannot open the copy: " + st.ToString());
  std::unique_ptr<rocksdb::DB> db{raw};
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (size_t i = 0; i < names.size(); ++i)
    by_name[names[i]] = handles[i];
  auto family_of = [&](int64_t ts) {
    auto name = storage::records_name(ts / day_ns);
    auto& h = by_name[name];
    if (h == nullptr)
      if (auto st = db->CreateColumnFamily(rocks.record_cf, name, &h); !st.ok())
        fail("cannot create " + name + ": " + st.ToString());
    return h;
  };
  rocksdb::WriteOptions wo;
  wo.sync = storage::store_options{}.sync;
  const auto prefix
    = storage::index_prefix(storage::index_kind::time, {}); // records' keys
  rocksdb::WriteBatch wb;
  rapidjson::Document doc;
  std::string line;
  auto seq = next_sequence;
  generation_clock gen;
  auto cpu_start = process_cpu_s();
  auto t_start = clk::now();
  for (uint64_t i = 0; i < opt.events; ++i) {
    line.clear();
    gen.next(w, line);
    std::string_view text{line};
    if (!text.empty() && text.back() == '\n')
      text.remove_suffix(1);
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject())
      fail("parse error in a generated line");
    auto key = prefix + storage::encode_position({w.now_ns(), seq++});
    if (auto st = wb.Put(family_of(w.now_ns()), key, text); !st.ok())
      fail(st.ToString());
    if ((i + 1) % opt.storage_batch == 0 || i + 1 == opt.events) {
      if (auto st = db->Write(wo, &wb); !st.ok())
        fail("write failed: " + st.ToString());
      wb.Clear();
    }
  }
  limit_run res;
  res.net_s = seconds(clk::now() - t_start - gen.wall);
  res.cpu_s = process_cpu_s() - cpu_start - gen.cpu_s;
  for (auto& [name, h] : by_name)
    db->DestroyColumnFamilyHandle(h);
  return res;
}

/// The service's pure steps into a store opened on the copy.
limit_run run_same_keys(const options& opt, workload w, const fs::path& dir) {
  std::atomic<int64_t> fake_now{w.now_ns()};
  storage::store_options sopts;
  sopts.path = dir.string();
  sopts.clock = [&fake_now] { return fake_now.load(); };
  auto opened = storage::rocks_store::open(sopts);
  if (!opened)
    fail("cannot open the copy: " + to_string(opened.error()));
  auto done = write_directly(opt, w, *opened, fake_now, opt.events);
  return {done.wall_s - done.gen_wall_s, done.cpu_s - done.gen_cpu_s};
}

void report(const char* name, const limit_run& r, uint64_t events,
            double ingest_ev_s, json_out& js) {
  auto ev_s = static_cast<double>(events) / r.net_s;
  auto key = [name](const char* what) { return std::string{name} + what; };
  js.num(key("_limit_events_per_s").c_str(), ev_s);
  js.num(key("_limit_seconds").c_str(), r.net_s);
  js.num(key("_limit_cpu_us_per_event").c_str(),
         r.cpu_s * 1e6 / static_cast<double>(events));
  js.num((std::string{"ingest_fraction_of_"} + name).c_str(),
         ingest_ev_s / ev_s);
  std::fprintf(stderr, "%s limit: %.0f events/s (pipeline is %.0f%%)\n", name,
               ev_s, 100.0 * ingest_ev_s / ev_s);
}

} // namespace

limit_stores copy_for_limits(storage::rocks_store& store,
                             const fs::path& root) {
  limit_stores at;
  at.physical = root / "limit-physical";
  at.same_keys = root / "limit-same-keys";
  at.next_sequence = store.next_sequence();
  for (const auto& dir : {at.physical, at.same_keys})
    if (auto err = store.backup(dir.string(), root.string()))
      fail("cannot copy the store to " + dir.string() + ": " + to_string(err));
  return at;
}

void measure_limits(const options& opt, const workload& events,
                    const limit_stores& at, double ingest_ev_s, json_out& js) {
  std::fprintf(stderr, "physical limit...\n");
  report("physical", run_physical(opt, events, at.physical, at.next_sequence),
         opt.events, ingest_ev_s, js);
  fs::remove_all(at.physical);
  std::fprintf(stderr, "same-keys limit...\n");
  report("same_keys", run_same_keys(opt, events, at.same_keys), opt.events,
         ingest_ev_s, js);
  fs::remove_all(at.same_keys);
}

} // namespace kws::bench
