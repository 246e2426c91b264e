// Hubs beside the suite's own. Two hubs in one consumer group split the
// topic's partitions: the first reads the whole topic alone; once the
// second joins, each reads its share from the offsets committed before.
// Every record the topic holds is then at exactly one of the two (a
// rebalance stores nothing twice), each holds some of the records made
// after the second joined, and between them they hold what the suite's hub
// holds. The second is configured by its command line alone. And the
// suite's hub backs up the store of the cluster it is told, through the
// operator's command, into a copy that restores and opens.
#include "storage/rocks_store.hpp"
#include "tests/e2e/export_fixture.hpp"
#include "util/errors.hpp"

#include <cstdlib>

namespace kws::test::export_e2e {
namespace {

/// Both clusters' records at the hub on `port`, by cluster and id.
bool held_by(uint16_t port,
             std::map<std::string, std::map<std::string, std::string>>& out) {
  out.clear();
  for (const char* c : {"a", "b"})
    if (!record_lines(port, std::string{"cluster="} + c, out[c]))
      return false;
  return true;
}

TEST_F(kafka_export,
       hubs_of_one_group_split_the_partitions_and_hold_each_once) {
  auto first = make_hub("pair-1", "kws-e2e-pair");
  // The second as `hub --kafka-brokers ... --clusters a,b`.
  auto second = make_hub("pair-2", "kws-e2e-pair", true);
  auto partitions
    = [](const hub_process& h) { return metric(h.port, "kws_hub_partitions"); };
  start_hub(first);
  ASSERT_TRUE(eventually([&] { return partitions(first) == 3; }, patience))
    << "the first hub never read all three partitions; log in "
    << (first.dir / "server.log");
  // Alone, the first catches up with the suite's hub (the same topic read
  // by a group of its own).
  std::map<std::string, std::map<std::string, std::string>> reference;
  std::map<std::string, std::map<std::string, std::string>> early;
  ASSERT_TRUE(eventually(
    [&] {
      return held_by(hub.port, reference) && held_by(first.port, early)
        && early == reference;
    },
    patience))
    << "the first hub never caught up; log in " << (first.dir / "server.log");

  start_hub(second);
  ASSERT_TRUE(eventually(
    [&] {
      auto one = partitions(first);
      auto two = partitions(second);
      return one > 0 && two > 0 && one + two == 3;
    },
    patience))
    << "the two hubs never split the partitions: " << partitions(first)
    << " and " << partitions(second) << "; logs in " << first.dir << " and "
    << second.dir;
  const size_t first_before = early["a"].size() + early["b"].size();
  auto prefix = "kg" + std::to_string(::getpid());
  auto changes = churn(prefix, "20s", 9, "group-churn.log");
  EXPECT_EQ(changes->wait(120s), 0) << "see " << (dir / "group-churn.log");

  // Records still arrive (controllers finish their work): read until one
  // reading of the three hubs agrees.
  std::map<std::string, std::map<std::string, std::string>> one;
  std::map<std::string, std::map<std::string, std::string>> two;
  std::vector<std::string> problems;
  auto agree = eventually(
    [&] {
      problems.clear();
      if (!held_by(hub.port, reference) || !held_by(first.port, one)
          || !held_by(second.port, two))
        return false;
      for (auto& [c, ids] : reference)
        for (auto& [id, line] : ids) {
          bool at_one = one[c].contains(id);
          bool at_two = two[c].contains(id);
          if (at_one && at_two)
            problems.push_back(c + " record " + id + " is at both hubs");
          else if (!at_one && !at_two)
            problems.push_back(c + " record " + id + " is at neither hub");
          else if ((at_one ? one : two)[c][id] != line)
            problems.push_back(c + " record " + id + " differs");
        }
      for (auto* held : {&one, &two})
        for (auto& [c, ids] : *held)
          for (auto& [id, line] : ids)
            if (!reference[c].contains(id))
              problems.push_back(c + " record " + id
                                 + " is only at a hub of the group");
      return problems.empty();
    },
    patience);
  if (problems.size() > 20)
    problems.resize(20);
  EXPECT_TRUE(agree) << ::testing::PrintToString(problems);
  const size_t at_one = one["a"].size() + one["b"].size();
  const size_t at_two = two["a"].size() + two["b"].size();
  EXPECT_GT(at_one, first_before) << "the first hub took no new record";
  EXPECT_GT(at_two, 0u) << "the second hub took no record";
  std::cout << "[ group ] the first hub holds " << at_one << " records ("
            << first_before << " before the second joined), the second "
            << at_two << "\n";
  for (auto* h : {&first, &second})
    EXPECT_EQ(h->process->terminate(30s), 0)
      << "the hub's exit; log in " << (h->dir / "server.log");
}

TEST_F(kafka_export, a_hub_backs_up_the_store_of_the_cluster_it_is_told) {
  auto binary = std::string{std::getenv("KWS_SERVER_BINARY")};
  auto run = [](const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str());
  };
  const auto backup_cmd
    = binary + " backup --port " + std::to_string(hub.admin_port);
  const auto backups = hub.dir / "backups";
  // Two clusters: a backup names one.
  EXPECT_NE(run(backup_cmd + " --dest none"), 0);
  EXPECT_FALSE(std::filesystem::exists(backups / "none"));
  EXPECT_NE(run(backup_cmd + " --cluster c --dest none"), 0)
    << "a cluster the hub does not serve";
  // The hub keeps consuming while the backup is written.
  ASSERT_EQ(run(backup_cmd + " --cluster b --dest hub-b"), 0)
    << "log in " << (hub.dir / "server.log");
  ASSERT_TRUE(std::filesystem::exists(backups / "hub-b" / "CURRENT"));
  auto restored = dir / "restored-b";
  ASSERT_EQ(run(binary + " restore --from " + (backups / "hub-b").string()
                + " --dest " + restored.string()),
            0);
  storage::store_options opts;
  opts.path = restored.string();
  auto copy = storage::rocks_store::open(opts);
  ASSERT_TRUE(copy) << render(copy.error());
  std::vector<std::string> records;
  event_query q;
  do {
    auto page = copy->query(q);
    ASSERT_TRUE(page) << render(page.error());
    records.insert(records.end(), page->records.begin(), page->records.end());
    q.continue_token = page->has_more ? page->continue_token : "";
  } while (!q.continue_token.empty());
  // b's records as the hub holds them: the copy holds those of its time.
  std::map<std::string, std::string> held;
  ASSERT_TRUE(record_lines(hub.port, "cluster=b", held));
  size_t foreign = 0;
  for (const auto& json : records) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("id")) << json;
    foreign += held.contains(doc["id"].GetString()) ? 0 : 1;
  }
  EXPECT_EQ(foreign, 0u) << "records in the copy that b does not hold";
  EXPECT_GT(records.size(), 200u);
  EXPECT_LE(records.size(), held.size());
}

} // namespace
} // namespace kws::test::export_e2e
