#include "storage/live_state.hpp"

namespace kws::storage {

namespace {

constexpr char located_version = 1;
constexpr size_t located_bytes = 1 + 8 + 16;

} // namespace

std::string encode_live(const live_state& x) {
  std::string out;
  out.reserve(x.uid.size() + x.resource_version.size() + 2 + located_bytes);
  out.append(x.uid);
  out.push_back('\0');
  out.append(x.resource_version);
  if (!x.located)
    return out;
  out.push_back('\0');
  out.push_back(located_version);
  append_ts(out, x.day);
  out += encode_position(x.pos);
  return out;
}

live_state decode_live(std::string_view value) {
  live_state result;
  auto sep = value.find('\0');
  if (sep == std::string_view::npos) {
    result.uid = value;
    return result;
  }
  result.uid = value.substr(0, sep);
  auto rest = value.substr(sep + 1);
  auto tail = rest.find('\0');
  result.resource_version = rest.substr(0, tail);
  if (tail == std::string_view::npos)
    return result;
  auto loc = rest.substr(tail + 1);
  if (loc.size() < located_bytes || loc[0] != located_version)
    return result;
  result.day = read_ts(loc.substr(1));
  if (auto pos = key_position(loc.substr(9, 16)))
    result.pos = *pos;
  result.located = true;
  return result;
}

} // namespace kws::storage
