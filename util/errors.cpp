#include "util/errors.hpp"

#include <caf/message.hpp>

namespace kws {

std::string to_string(ec x) {
  switch (x) {
    case ec::no_error: return "no_error";
    case ec::invalid_argument: return "invalid_argument";
    case ec::not_found: return "not_found";
    case ec::storage_failure: return "storage_failure";
    case ec::parse_error: return "parse_error";
    case ec::config_error: return "config_error";
    case ec::unavailable: return "unavailable";
    case ec::transport_error: return "transport_error";
    case ec::unauthorized: return "unauthorized";
    case ec::gone: return "gone";
    case ec::unexpected_status: return "unexpected_status";
    case ec::too_many_requests: return "too_many_requests";
    case ec::already_exists: return "already_exists";
    case ec::unauthenticated: return "unauthenticated";
    case ec::forbidden: return "forbidden";
  }
  return "unknown";
}

std::string error_detail(const caf::error& err) {
  const auto& ctx = err.context();
  std::string result;
  for (size_t i = 0; i < ctx.size(); ++i) {
    if (!ctx.match_element<std::string>(i))
      continue;
    if (!result.empty())
      result += ": ";
    result += ctx.get_as<std::string>(i);
  }
  return result;
}

std::string render(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() != caf::atom("kws"))
    return caf::to_string(err);
  auto result = to_string(static_cast<ec>(err.code()));
  if (auto detail = error_detail(err); !detail.empty()) {
    result += ": ";
    result += detail;
  }
  return result;
}

} // namespace kws
