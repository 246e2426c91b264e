// Logging macros over spdlog's default logger. Messages are lowercase, name
// the component first, and put arguments in braces.
#pragma once

#include "util/errors.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#define KWS_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define KWS_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define KWS_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define KWS_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define KWS_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)

/// Formats a `caf::error` through `kws::render`.
template <>
struct fmt::formatter<caf::error> : fmt::formatter<std::string> {
  template <class FormatContext>
  auto format(const caf::error& x, FormatContext& ctx) const {
    return fmt::formatter<std::string>::format(kws::render(x), ctx);
  }
};
