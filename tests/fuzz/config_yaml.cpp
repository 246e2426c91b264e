// Fuzzes the YAML configuration loader (`resources.yaml`): any text either
// gives settings within the documented bounds or an error naming the key.
//
// Input: the text of a configuration file.

#include "config/load.hpp"
#include "tests/fuzz/support.hpp"

#include <set>
#include <string>

using kws::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto s = kws::config::parse_yaml(std::string{kws::fuzz::as_text(data, size)});
  if (!s)
    return 0;
  check(s->retention_days >= 1 && s->retention_days <= 3650,
        "retentionDays out of bounds");
  check(s->server_port >= 1, "serverPort 0");
  check(s->max_query_limit >= 1, "maxQueryLimit 0");
  check(s->batch_size >= 1, "batchSize 0");
  check(s->flush_interval_ms >= 1, "flushIntervalMs 0");
  check(!s->storage_path.empty(), "empty storagePath");
  check(!s->resources.empty(), "no resources");
  std::set<std::string> seen;
  for (const auto& rt : s->resources) {
    check(!rt.plural.empty() && !rt.version.empty() && !rt.kind.empty(),
          "a resource without plural, version or kind");
    check(seen.insert(rt.group_resource()).second, "a duplicate resource");
  }
  return 0;
}
