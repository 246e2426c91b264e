#include "kube/line_splitter.hpp"

namespace kws::kube {

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
