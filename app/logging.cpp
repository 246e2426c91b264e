#include "app/logging.hpp"

#include "util/log_text.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace kws::app {

namespace {

/// The text form of every line but the access log's (as main() sets it
/// for the lines before the configuration is loaded).
constexpr auto text_pattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";

/// Formats the lines of all loggers. Formatters belong to sinks, which the
/// loggers share (so that lines from different threads never interleave);
/// hence one formatter that tells the access logger's lines apart.
class line_formatter final : public spdlog::formatter {
public:
  explicit line_formatter(config::log_format format)
      : format_{format}, text_{std::make_unique<spdlog::pattern_formatter>(
                           text_pattern, spdlog::pattern_time_type::utc)} {}

  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    if (std::string_view{msg.logger_name.data(), msg.logger_name.size()}
        == rest::access_logger_name) {
      dest.append(msg.payload.begin(), msg.payload.end());
      dest.push_back('\n');
    } else if (format_ == config::log_format::json) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  msg.time.time_since_epoch())
                  .count();
      auto level = spdlog::level::to_string_view(msg.level);
      auto line = R"({"time":")" + format_log_time(ns) + R"(","level":")"
        + std::string{level.data(), level.size()} + R"(","logger":)"
        + quote_json_bytes({msg.logger_name.data(), msg.logger_name.size()})
        + R"(,"message":)"
        + quote_json_bytes({msg.payload.data(), msg.payload.size()}) + "}\n";
      dest.append(line.data(), line.data() + line.size());
    } else {
      text_->format(msg, dest);
    }
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<line_formatter>(format_);
  }

private:
  config::log_format format_;
  std::unique_ptr<spdlog::formatter> text_;
};

} // namespace

void use_log_format(config::log_format format) {
  auto old = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("server", old->sinks().begin(),
                                                 old->sinks().end());
  logger->set_level(old->level());
  logger->set_formatter(std::make_unique<line_formatter>(format));
  spdlog::set_default_logger(std::move(logger));
}

std::function<void(const rest::access_entry&)>
access_log(config::log_format format) {
  // The default logger's sinks carry the line formatter already; setting a
  // formatter here would replace it for every logger.
  const auto& sinks = spdlog::default_logger()->sinks();
  auto logger = std::make_shared<spdlog::logger>(
    std::string{rest::access_logger_name}, sinks.begin(), sinks.end());
  bool json = format == config::log_format::json;
  return [logger, json](const rest::access_entry& entry) {
    auto line = json ? rest::format_json(entry) : rest::format_text(entry);
    logger->log(spdlog::level::info, spdlog::string_view_t{line});
  };
}

} // namespace kws::app
