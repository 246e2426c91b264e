// The command line of kws_bench, in one place with its usage text.
#include "bench/bench_options.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kws::bench {

namespace {

[[noreturn]] void usage() {
  std::fprintf(
    stderr,
    "usage: kws_bench --events N --seed S --out FILE.json [--dir DIR]"
    " [--days D] [--queries Q] [--templates DIR] [--live-objects N] "
    "[--prefill N] [--keep] [--rocksdb-stats FILE] [--queries-only] "
    "[--read-threads T] [--during-seconds S] [--during-rate R] [--wrk PATH] "
    "[--wrk-seconds S]\n");
  std::exit(2);
}

} // namespace

options parse_options(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc)
        usage();
      return argv[++i];
    };
    if (a == "--events")
      opt.events = std::stoull(val());
    else if (a == "--seed")
      opt.seed = std::stoull(val());
    else if (a == "--out")
      opt.out = val();
    else if (a == "--dir")
      opt.dir = val();
    else if (a == "--days")
      opt.days = static_cast<unsigned>(std::stoul(val()));
    else if (a == "--queries")
      opt.queries = static_cast<unsigned>(std::stoul(val()));
    else if (a == "--live-objects")
      opt.live_objects = std::stoull(val());
    else if (a == "--templates")
      opt.templates = val();
    else if (a == "--keep")
      opt.keep = true;
    else if (a == "--rocksdb-stats")
      opt.rocksdb_stats = val();
    else if (a == "--prefill")
      opt.prefill = std::stoull(val());
    else if (a == "--queries-only")
      opt.queries_only = true;
    else if (a == "--read-threads")
      opt.read_threads = static_cast<unsigned>(std::stoul(val()));
    else if (a == "--during-seconds")
      opt.during_seconds = static_cast<unsigned>(std::stoul(val()));
    else if (a == "--during-rate")
      opt.during_rate = std::stod(val());
    else if (a == "--wrk")
      opt.wrk = val();
    else if (a == "--wrk-seconds")
      opt.wrk_seconds = static_cast<unsigned>(std::stoul(val()));
    else
      usage();
  }
  if (opt.events == 0 || opt.days < 2 || opt.read_threads == 0
      || (opt.queries_only && opt.dir.empty()) || opt.during_rate <= 0
      || opt.wrk_seconds == 0)
    usage();
  return opt;
}

} // namespace kws::bench
