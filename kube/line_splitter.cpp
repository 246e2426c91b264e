#include "kube/line_splitter.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

namespace kws::kube {

namespace {

/// A lookup table of the bytes in `stops`.
constexpr std::array<bool, 256> table_of(std::string_view stops) {
  std::array<bool, 256> result{};
  for (auto c : stops)
    result[static_cast<unsigned char>(c)] = true;
  return result;
}

/// What can change the state inside a string literal, and between tokens.
constexpr auto string_stops = table_of("\"\\\n");
constexpr auto structure_stops = table_of("\"{}[]\n");

/// The first position from `i` on that holds a quote, a backslash or a
/// newline: what ends a run of a string literal's bytes. Sixteen bytes at a
/// time where SSE2 is there: string literals (annotations, images,
/// messages) are most of a watch line's bytes.
size_t string_stop(std::string_view data, size_t i) {
#if defined(__SSE2__)
  const auto quote = _mm_set1_epi8('"');
  const auto backslash = _mm_set1_epi8('\\');
  const auto newline = _mm_set1_epi8('\n');
  for (; i + 16 <= data.size(); i += 16) {
    auto bytes = _mm_loadu_si128(
      reinterpret_cast<const __m128i*>(data.data() + i)); // NOLINT
    auto stops = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote),
                                           _mm_cmpeq_epi8(bytes, backslash)),
                              _mm_cmpeq_epi8(bytes, newline));
    if (auto mask = static_cast<unsigned>(_mm_movemask_epi8(stops)); mask != 0)
      return i + static_cast<size_t>(std::countr_zero(mask));
  }
#endif
  while (i < data.size() && !string_stops[static_cast<unsigned char>(data[i])])
    ++i;
  return i;
}

} // namespace

std::vector<std::string> line_splitter::feed(std::string_view data) {
  std::vector<std::string> result;
  feed(data, [&](std::string_view doc) { result.emplace_back(doc); });
  return result;
}

std::string line_splitter::finish() {
  auto result = std::string{trim(partial_)};
  partial_.clear();
  reset_state();
  return result;
}

line_splitter::step line_splitter::scan(char c) {
  if (c == '\n')
    return in_document() ? step::end_before : step::skip;
  if (garbage_)
    return step::keep;
  if (depth_ == 0) {
    switch (c) {
      case ' ':
      case '\t':
      case '\r': return step::skip;
      case '{': depth_ = 1; return step::keep;
      default: garbage_ = true; return step::keep;
    }
  }
  if (in_string_) {
    if (escape_)
      escape_ = false;
    else if (c == '\\')
      escape_ = true;
    else if (c == '"')
      in_string_ = false;
    return step::keep;
  }
  switch (c) {
    case '"': in_string_ = true; break;
    case '{':
    case '[': ++depth_; break;
    case '}':
    case ']':
      if (--depth_ == 0)
        return step::end_after;
      break;
    default: break;
  }
  return step::keep;
}

size_t line_splitter::next_significant(std::string_view data, size_t i) const {
  if (i >= data.size() || escape_ || !in_document())
    return i;
  if (garbage_) {
    const auto* nl = static_cast<const char*>(
      std::memchr(data.data() + i, '\n', data.size() - i));
    return nl == nullptr ? data.size() : static_cast<size_t>(nl - data.data());
  }
  if (in_string_)
    return string_stop(data, i);
  while (i < data.size()
         && !structure_stops[static_cast<unsigned char>(data[i])])
    ++i;
  return i;
}

std::string_view line_splitter::trim(std::string_view x) {
  while (!x.empty()
         && (x.front() == ' ' || x.front() == '\r' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty()
         && (x.back() == ' ' || x.back() == '\r' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

} // namespace kws::kube
