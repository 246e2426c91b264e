#include "storage/object_text.hpp"

namespace kws::storage {

namespace {

size_t skip_ws(std::string_view x, size_t i) {
  while (i < x.size()
         && (x[i] == ' ' || x[i] == '\n' || x[i] == '\r' || x[i] == '\t'))
    ++i;
  return i;
}

/// Returns the index after the string starting at `x[i] == '"'`, or npos.
size_t skip_string(std::string_view x, size_t i) {
  for (++i; i < x.size(); ++i) {
    if (x[i] == '\\')
      ++i;
    else if (x[i] == '"')
      return i + 1;
  }
  return std::string_view::npos;
}

/// Returns the index after the JSON value starting at `x[i]`, or npos.
size_t skip_value(std::string_view x, size_t i) {
  if (i >= x.size())
    return std::string_view::npos;
  if (x[i] == '"')
    return skip_string(x, i);
  if (x[i] != '{' && x[i] != '[') {
    while (i < x.size() && x[i] != ',' && x[i] != '}' && x[i] != ']'
           && x[i] != ' ' && x[i] != '\n' && x[i] != '\r' && x[i] != '\t')
      ++i;
    return i;
  }
  size_t depth = 0;
  while (i < x.size()) {
    auto c = x[i];
    if (c == '"') {
      i = skip_string(x, i);
      if (i == std::string_view::npos)
        return i;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

/// Calls `f(key, value_begin, value_end, key_begin)` for each member of the
/// object starting at `x[i] == '{'` until `f` returns true. Returns false
/// when the text is not shaped as expected.
template <class F>
bool for_each_member(std::string_view x, size_t i, F f) {
  constexpr auto npos = std::string_view::npos;
  if (i >= x.size() || x[i] != '{')
    return false;
  i = skip_ws(x, i + 1);
  if (i < x.size() && x[i] == '}')
    return true;
  while (i < x.size() && x[i] == '"') {
    auto key_begin = i;
    auto key_end = skip_string(x, i);
    if (key_end == npos)
      return false;
    auto key = x.substr(key_begin + 1, key_end - key_begin - 2);
    i = skip_ws(x, key_end);
    if (i >= x.size() || x[i] != ':')
      return false;
    auto value_begin = skip_ws(x, i + 1);
    auto value_end = skip_value(x, value_begin);
    if (value_end == npos)
      return false;
    if (f(key, value_begin, value_end, key_begin))
      return true;
    i = skip_ws(x, value_end);
    if (i < x.size() && x[i] == '}')
      return true;
    if (i >= x.size() || x[i] != ',')
      return false;
    i = skip_ws(x, i + 1);
  }
  return false;
}

} // namespace

bool nests_too_deep(std::string_view json) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_object_depth)
        return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::pair<size_t, size_t> managed_fields_span(std::string_view json) {
  std::pair<size_t, size_t> result{0, 0};
  for_each_member(
    json, skip_ws(json, 0),
    [&](std::string_view key, size_t begin, size_t, size_t) {
      if (key != "metadata")
        return false;
      // The previous member's end, to cut a preceding comma.
      size_t prev_end = std::string_view::npos;
      for_each_member(
        json, begin,
        [&](std::string_view k, size_t, size_t end, size_t key_begin) {
          if (k != "managedFields") {
            prev_end = end;
            return false;
          }
          auto next = skip_ws(json, end);
          if (next < json.size() && json[next] == ',')
            result = {key_begin, skip_ws(json, next + 1)};
          else if (prev_end != std::string_view::npos)
            result = {prev_end, end};
          else
            result = {key_begin, end};
          return true;
        });
      return true;
    });
  return result;
}

std::string managed_fields_value(std::string_view span) {
  auto key = span.find("\"managedFields\"");
  if (key == std::string_view::npos)
    return {};
  auto colon = span.find(':', key);
  if (colon == std::string_view::npos)
    return {};
  auto value = span.substr(colon + 1);
  auto is_space
    = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!value.empty() && (is_space(value.back()) || value.back() == ','))
    value.remove_suffix(1);
  while (!value.empty() && is_space(value.front()))
    value.remove_prefix(1);
  return std::string{value};
}

} // namespace kws::storage
