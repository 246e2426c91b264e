// The STORE BACKUP of a hub's cluster over a real RocksDB store: a backup
// opens as a store holding the records, and a second one into the same
// directory is refused, naming `dest`.
#include "actors/store_backup.hpp"

#include "storage/rocks_store.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/test_store.hpp"

#include <filesystem>

namespace kws {
namespace {

struct store_backup_test : test::deterministic_fixture {
  std::filesystem::path store_dir;
  std::filesystem::path root;
  std::shared_ptr<storage::rocks_store> store;
  backup_actor aut;

  void SetUp() override {
    store = test::open_test_store("kws-backup-store", store_dir);
    ASSERT_TRUE(store);
    root = test::fresh_test_dir("kws-backup-root");
    aut = sys.spawn(store_backup, store);
  }

  void TearDown() override {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
    store.reset();
    std::filesystem::remove_all(store_dir);
    std::filesystem::remove_all(root);
  }

  /// Asks for a backup into `dir`; the reply once it arrived.
  caf::expected<std::string> backup(const std::string& dir) {
    auto handle
      = self->request(aut, caf::infinite, atom::backup_v, dir, root.string());
    run();
    auto reply = try_collect<std::string>(handle);
    if (!reply)
      return caf::make_error(caf::sec::request_timeout, "no reply");
    return std::move(*reply);
  }
};

TEST_F(store_backup_test, a_backup_opens_as_a_store_holding_the_records) {
  ASSERT_TRUE(store->write(
    {test::configmap_record("a", 1), test::configmap_record("b", 2)}));
  auto dir = (root / "first").string();
  auto written = backup(dir);
  ASSERT_TRUE(written) << render(written.error());
  EXPECT_EQ(*written, dir);
  // Written after the backup: not in it.
  ASSERT_TRUE(store->write({test::configmap_record("c", 3)}));
  storage::store_options opts;
  opts.path = dir;
  auto copy = storage::rocks_store::open(opts);
  ASSERT_TRUE(copy) << render(copy.error());
  auto page = copy->query(event_query{});
  ASSERT_TRUE(page) << render(page.error());
  ASSERT_EQ(page->records.size(), 2u);
  EXPECT_NE(page->records[0].find(R"("name":"a")"), std::string::npos)
    << page->records[0];
  EXPECT_NE(page->records[1].find(R"("name":"b")"), std::string::npos)
    << page->records[1];
}

TEST_F(store_backup_test, a_directory_that_is_there_already_is_refused) {
  auto dir = (root / "taken").string();
  ASSERT_TRUE(backup(dir));
  auto again = backup(dir);
  ASSERT_FALSE(again);
  EXPECT_NE(render(again.error()).find("dest"), std::string::npos)
    << render(again.error());
}

} // namespace
} // namespace kws
