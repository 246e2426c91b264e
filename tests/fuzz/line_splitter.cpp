// Fuzzes the watch-stream splitter: the documents of a stream must not
// depend on how the bytes are cut into feeds (HTTP chunks), and every
// document is trimmed and free of newlines.
//
// Input: one byte seeding the cut points, then the stream.

#include "kube/line_splitter.hpp"

#include "tests/fuzz/support.hpp"

#include <string>
#include <vector>

using kws::fuzz::check;

namespace {

struct split_result {
  std::vector<std::string> docs;
  std::string rest;
};

/// Feeds `stream` in pieces of 1..`max_piece` bytes (all at once for 0).
split_result split(kws::kube::line_splitter& s, std::string_view stream,
                   unsigned max_piece) {
  split_result result;
  auto collect = [&](std::string_view doc) { result.docs.emplace_back(doc); };
  if (max_piece == 0) {
    s.feed(stream, collect);
  } else {
    size_t piece = 1;
    while (!stream.empty()) {
      auto n = std::min(stream.size(), piece);
      s.feed(stream.substr(0, n), collect);
      stream.remove_prefix(n);
      piece = piece % max_piece + 1;
    }
  }
  result.rest = s.finish();
  return result;
}

bool is_trimmed(std::string_view x) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  return !x.empty() && !blank(x.front()) && !blank(x.back());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto max_piece = static_cast<unsigned>(data[0]) % 64;
  auto stream = kws::fuzz::as_text(data + 1, size - 1);
  kws::kube::line_splitter splitter;
  auto whole = split(splitter, stream, 0);
  for (const auto& doc : whole.docs) {
    check(is_trimmed(doc), "a document is empty or untrimmed");
    check(doc.find('\n') == std::string::npos, "a document holds a newline");
  }
  check(whole.rest.empty() || is_trimmed(whole.rest),
        "the unfinished rest is untrimmed");
  check(splitter.pending() == 0, "finish() left bytes behind");
  // The same splitter, reused after finish(), cut into small pieces.
  auto pieces = split(splitter, stream, max_piece == 0 ? 1 : max_piece);
  check(pieces.docs == whole.docs, "documents depend on the feed boundaries");
  check(pieces.rest == whole.rest, "the rest depends on the feed boundaries");
  return 0;
}
