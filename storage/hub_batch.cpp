#include "storage/hub_batch.hpp"

#include "storage/coverage_message.hpp"
#include "storage/hub_record.hpp"
#include "util/errors.hpp"

namespace kws::storage {

std::string hub_cursor_name(std::string_view topic, int32_t partition) {
  std::string out = "hub/";
  out.append(topic).append("/").append(std::to_string(partition));
  return out;
}

hub_batch plan_hub_batch(const std::vector<kafka_received>& polled,
                         const std::map<std::string, hub_marks>& held) {
  hub_batch out;
  auto unreadable = [&](const kafka_received& msg, const caf::error& err) {
    out.unreadable.push_back("partition " + std::to_string(msg.partition)
                             + " offset " + std::to_string(msg.offset) + ": "
                             + error_detail(err));
  };
  for (const auto& msg : polled) {
    if (is_coverage_message(msg.value)) {
      // A whole list: the newest replaces what this poll had before.
      auto coverage = parse_coverage_message(msg.value);
      if (!coverage)
        unreadable(msg, coverage.error());
      else if (!held.contains(coverage->cluster))
        ++out.other_clusters;
      else {
        auto& batch = out.clusters[coverage->cluster];
        batch.gaps = std::move(coverage->gaps);
        batch.first_watched = std::move(coverage->first_watched);
      }
      continue;
    }
    auto rec = parse_hub_record(msg.value, msg.link);
    if (!rec) {
      unreadable(msg, rec.error());
      continue;
    }
    auto served = held.find(rec->cluster);
    if (served == held.end()) {
      ++out.other_clusters;
      continue;
    }
    auto& batch = out.clusters[rec->cluster];
    // The mark as of this message: this poll's records count too.
    uint64_t mark = 0;
    if (auto m = batch.marks.find(msg.partition); m != batch.marks.end())
      mark = m->second;
    else if (auto s = served->second.find(msg.partition);
             s != served->second.end())
      mark = s->second;
    if (rec->event.seq <= mark) {
      ++out.repeated;
      continue;
    }
    batch.marks[msg.partition] = rec->event.seq;
    auto gr = rec->type.group_resource();
    if (!rec->event.resource_version.empty())
      batch.checkpoints[gr] = rec->event.resource_version;
    batch.types.try_emplace(gr, std::move(rec->type));
    batch.events.push_back(std::move(rec->event));
  }
  // A cluster whose records were all repeats still leaves no entry.
  std::erase_if(out.clusters, [](const auto& kv) {
    return kv.second.events.empty() && kv.second.gaps.empty()
      && kv.second.first_watched.empty();
  });
  return out;
}

} // namespace kws::storage
