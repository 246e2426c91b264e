#include "config/yaml_values.hpp"

#include "util/errors.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>

namespace kws::config::detail {

caf::error config_error(const std::string& key, const std::string& what) {
  return caf::make_error(ec::config_error, key + ": " + what);
}

caf::expected<int64_t> parse_int(const std::string& key,
                                 const std::string& text, int64_t lo,
                                 int64_t hi) {
  int64_t value = 0;
  auto first = text.data();
  auto last = text.data() + text.size();
  auto [ptr, err] = std::from_chars(first, last, value);
  if (text.empty() || err != std::errc{} || ptr != last)
    return config_error(key, "expected an integer, got '" + text + "'");
  if (value < lo || value > hi)
    return config_error(key,
                        "must be between " + std::to_string(lo) + " and "
                          + std::to_string(hi) + ", got " + text);
  return value;
}

caf::expected<int64_t> int_value(const std::string& key, const YAML::Node& n,
                                 int64_t lo, int64_t hi) {
  if (!n.IsScalar())
    return config_error(key, "expected an integer");
  return parse_int(key, n.Scalar(), lo, hi);
}

caf::expected<bool> bool_value(const std::string& key, const YAML::Node& n) {
  bool result = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, result))
    return config_error(key, "expected true or false");
  return result;
}

caf::expected<std::string> string_value(const std::string& key,
                                        const YAML::Node& n, bool allow_empty) {
  if (n.IsNull() && allow_empty)
    return std::string{};
  if (!n.IsScalar())
    return config_error(key, "expected a string");
  if (!allow_empty && n.Scalar().empty())
    return config_error(key, "must not be empty");
  return n.Scalar();
}

caf::expected<std::vector<std::string>>
string_list(const std::string& key, const YAML::Node& n, const char* what) {
  std::vector<std::string> result;
  if (n.IsNull())
    return result;
  if (!n.IsSequence())
    return config_error(key, std::string{"expected a list of "} + what);
  for (size_t i = 0; i < n.size(); ++i) {
    auto x = string_value(key + "[" + std::to_string(i) + "]", n[i], false);
    if (!x)
      return x.error();
    result.push_back(std::move(*x));
  }
  return result;
}

} // namespace kws::config::detail
