#include "kube/line_splitter.hpp"

#include "kube/wire.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <random>

using kws::kube::line_splitter;
using kws::kube::test::fixture;

namespace {

/// The lines of a recorded stream (split on '\n', empty ones dropped).
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      result.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

/// Feeds `text` cut at `cuts` (sorted offsets) and returns the documents.
std::vector<std::string> split_at(const std::string& text,
                                  const std::vector<size_t>& cuts) {
  line_splitter s;
  std::vector<std::string> result;
  size_t prev = 0;
  auto sink = [&](std::string_view doc) { result.emplace_back(doc); };
  for (auto cut : cuts) {
    s.feed(std::string_view{text}.substr(prev, cut - prev), sink);
    prev = cut;
  }
  s.feed(std::string_view{text}.substr(prev), sink);
  if (auto rest = s.finish(); !rest.empty())
    result.push_back(rest);
  return result;
}

std::vector<size_t> random_cuts(std::mt19937_64& rng, size_t size,
                                size_t max_cuts) {
  std::uniform_int_distribution<size_t> count{0, max_cuts};
  std::uniform_int_distribution<size_t> pos{0, size};
  std::vector<size_t> cuts(count(rng));
  for (auto& c : cuts)
    c = pos(rng);
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

struct line_splitter_test : ::testing::TestWithParam<const char*> {};

} // namespace

TEST_P(line_splitter_test, recorded_stream_survives_thousands_of_random_cuts) {
  auto text = fixture(GetParam());
  auto expected = lines_of(text);
  ASSERT_FALSE(expected.empty());
  std::mt19937_64 rng{20261126};
  // Few cuts, many cuts, and byte-level cuts near UTF-8 sequences.
  for (int round = 0; round < 2000; ++round) {
    auto cuts = random_cuts(rng, text.size(), round % 2 == 0 ? 8 : 200);
    auto got = split_at(text, cuts);
    ASSERT_EQ(got.size(), expected.size()) << "round " << round;
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], expected[i]) << "round " << round << " line " << i;
  }
  // Every line must parse as a watch event after splitting.
  for (const auto& line : expected) {
    auto parsed = kws::kube::parse_watch_line(line);
    ASSERT_TRUE(parsed) << kws::render(parsed.error());
  }
}

INSTANTIATE_TEST_SUITE_P(recorded, line_splitter_test,
                         ::testing::Values("watch_configmaps.jsonl",
                                           "watch_events.jsonl"));

TEST(line_splitter, one_byte_at_a_time) {
  auto text = fixture("watch_events.jsonl");
  line_splitter s;
  std::vector<std::string> got;
  for (auto c : text)
    s.feed(std::string_view{&c, 1},
           [&](std::string_view doc) { got.emplace_back(doc); });
  EXPECT_EQ(got, lines_of(text));
  EXPECT_EQ(s.pending(), 0u);
}

TEST(line_splitter, documents_without_newlines_split_at_the_closing_brace) {
  // Proxies and aggregated servers may send concatenated documents.
  std::string text = R"({"type":"ADDED","object":{"a":"}{\"x"}})"
                     R"({"type":"DELETED","object":{"b":["]",{"c":1}]}})"
                     "  \r\n"
                     R"({"type":"BOOKMARK","object":{"s":"\\"}})";
  std::mt19937_64 rng{7};
  for (int round = 0; round < 3000; ++round) {
    auto got = split_at(text, random_cuts(rng, text.size(), 12));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], R"({"type":"ADDED","object":{"a":"}{\"x"}})");
    EXPECT_EQ(got[1], R"({"type":"DELETED","object":{"b":["]",{"c":1}]}})");
    EXPECT_EQ(got[2], R"({"type":"BOOKMARK","object":{"s":"\\"}})");
  }
}

TEST(line_splitter, garbage_and_truncated_documents_come_out_as_lines) {
  line_splitter s;
  auto got = s.feed("not json\n{\"unfinished\":\n{\"ok\":1}\n\n\n");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "not json");
  EXPECT_EQ(got[1], "{\"unfinished\":");
  EXPECT_EQ(got[2], "{\"ok\":1}");
  EXPECT_FALSE(kws::kube::parse_watch_line(got[0]));
  EXPECT_FALSE(kws::kube::parse_watch_line(got[1]));
}

TEST(line_splitter, finish_returns_an_unterminated_tail) {
  line_splitter s;
  EXPECT_TRUE(s.feed("{\"a\":1}\n{\"b\":").size() == 1);
  EXPECT_EQ(s.pending(), 5u);
  EXPECT_EQ(s.finish(), "{\"b\":");
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.finish(), "");
}

TEST(line_splitter, several_megabyte_documents) {
  std::string big
    = R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"7"},"data":")";
  big.append(size_t{6} * 1024 * 1024, 'x');
  big += "\"}}\n";
  line_splitter s;
  std::vector<std::string> got;
  for (size_t i = 0; i < big.size(); i += 65536)
    s.feed(std::string_view{big}.substr(i, 65536),
           [&](std::string_view doc) { got.emplace_back(doc); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), big.size() - 1);
  auto parsed = kws::kube::parse_watch_line(got[0]);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->event.resource_version, "7");
}
