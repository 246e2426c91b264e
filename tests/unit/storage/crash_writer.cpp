// Helper process of crash_recovery_test: writes numbered batches to a store
// forever and reports each acknowledged batch number on a pipe, until the
// test kills it with SIGKILL.
#include "storage/rocks_store.hpp"
#include "util/errors.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace kws;
using namespace kws::storage;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <db> <ack-fd> <first-batch>\n", argv[0]);
    return 2;
  }
  store_options opts;
  opts.path = argv[1];
  opts.sync = false; // A killed process keeps what reached the page cache.
  // The smallest memtables: the records' family flushes every few batches
  // while the index family's small entries stay in its memtable, so a kill
  // finds batches whose families were flushed at different times.
  opts.write_buffer_bytes = size_t{4} << 20;
  const int fd = std::atoi(argv[2]);
  auto store = rocks_store::open(opts);
  if (!store) {
    std::fprintf(stderr, "%s\n", render(store.error()).c_str());
    return 1;
  }
  for (uint32_t b = static_cast<uint32_t>(std::atoi(argv[3]));; ++b) {
    std::vector<resource_event> batch;
    for (int i = 0; i < 25; ++i) {
      resource_event ev;
      ev.timestamp_ns = 1'795'651'200'000'000'000 + int64_t{b} * 1000 + i;
      ev.action = verb::update;
      ev.ns = "ns" + std::to_string(i % 5);
      ev.resource = "pods";
      ev.name = "p" + std::to_string(i);
      ev.uid = "batch-" + std::to_string(b);
      ev.resource_version = std::to_string(b * 100 + i);
      ev.user = "writer";
      // 0.5 MB per batch: batches span memtable flushes.
      ev.record = "{\"batch\":" + std::to_string(b) + ",\"pad\":\""
        + std::string(20000, 'x') + "\"}";
      batch.push_back(std::move(ev));
    }
    auto res = store->write(batch, {{"pods", std::to_string(b)}});
    if (!res) {
      std::fprintf(stderr, "%s\n", render(res.error()).c_str());
      return 1;
    }
    if (::write(fd, &b, sizeof(b)) != static_cast<ssize_t>(sizeof(b)))
      return 1;
  }
}
