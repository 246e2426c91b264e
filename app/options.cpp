#include "app/options.hpp"

#include "util/errors.hpp"

#include <charconv>
#include <string_view>
#include <vector>

namespace kws::app {

namespace {

/// The items of `a,b,c`; an empty one is an error naming `flag`.
caf::expected<std::vector<std::string>> comma_list(std::string_view flag,
                                                   std::string_view text) {
  std::vector<std::string> items;
  for (size_t from = 0;;) {
    auto comma = text.find(',', from);
    auto item = text.substr(
      from,
      comma == std::string_view::npos ? std::string_view::npos : comma - from);
    if (item.empty())
      return caf::make_error(ec::invalid_argument,
                             std::string{flag}
                               + " needs a comma-separated list without "
                                 "empty items");
    items.emplace_back(item);
    if (comma == std::string_view::npos)
      return items;
    from = comma + 1;
  }
}

} // namespace

caf::expected<options> parse_options(int argc, char** argv) {
  options result;
  int first = 1;
  if (argc > 1) {
    std::string_view sub{argv[1]};
    if (sub == "probe") {
      result.command = mode::probe;
      return result; // the probe parses its own flags
    }
    if (sub == "backup" || sub == "restore") {
      result.command = sub == "backup" ? mode::backup : mode::restore;
      first = 2;
    }
    if (sub == "mcp") {
      result.command = mode::mcp;
      first = 2;
    }
    if (sub == "hub") {
      result.command = mode::hub;
      first = 2;
    }
  }
  for (int i = first; i < argc; ++i) {
    std::string_view arg{argv[i]};
    auto value = [&](std::string& out) -> caf::error {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        out = std::string{arg.substr(eq + 1)};
        return {};
      }
      if (i + 1 >= argc)
        return caf::make_error(ec::invalid_argument,
                               std::string{arg} + " needs a value");
      out = argv[++i];
      return {};
    };
    auto flag = arg.substr(0, arg.find('='));
    if (flag == "--help" || flag == "-h") {
      result.command = mode::help;
    } else if (flag == "--version") {
      result.command = mode::version;
    } else if (flag == "--verbose" || flag == "-v") {
      result.verbose = true;
    } else if (flag == "--config") {
      if (auto err = value(result.config_path))
        return err;
    } else if (flag == "--kubeconfig") {
      if (auto err = value(result.kubeconfig))
        return err;
    } else if (flag == "--dest") {
      if (auto err = value(result.dest))
        return err;
    } else if (flag == "--url") {
      if (auto err = value(result.url))
        return err;
    } else if (flag == "--token-file") {
      if (auto err = value(result.token_file))
        return err;
    } else if (flag == "--ca-file") {
      if (auto err = value(result.ca_file))
        return err;
    } else if (flag == "--kafka-brokers" || flag == "--clusters") {
      std::string text;
      if (auto err = value(text))
        return err;
      auto items = comma_list(flag, text);
      if (!items)
        return items.error();
      (flag == "--clusters" ? result.hub.clusters : result.hub.brokers)
        = std::move(*items);
    } else if (flag == "--topic") {
      if (auto err = value(result.hub.topic))
        return err;
    } else if (flag == "--group") {
      if (auto err = value(result.hub.group))
        return err;
    } else if (flag == "--cluster") {
      if (auto err = value(result.cluster))
        return err;
    } else if (flag == "--from") {
      if (auto err = value(result.from))
        return err;
    } else if (flag == "--port") {
      std::string text;
      if (auto err = value(text))
        return err;
      int port = 0;
      auto [ptr, ec]
        = std::from_chars(text.data(), text.data() + text.size(), port);
      if (ec != std::errc{} || ptr != text.data() + text.size() || port < 1
          || port > 65535)
        return caf::make_error(ec::invalid_argument,
                               "--port must be between 1 and 65535");
      result.port = static_cast<uint16_t>(port);
    } else {
      return caf::make_error(ec::invalid_argument,
                             "unknown option " + std::string{arg});
    }
  }
  const auto& h = result.hub;
  if (result.command != mode::hub
      && (!h.brokers.empty() || !h.topic.empty() || !h.group.empty()
          || !h.clusters.empty()))
    return caf::make_error(ec::invalid_argument,
                           "--kafka-brokers, --topic, --group and --clusters "
                           "are options of hub");
  if (result.command == mode::backup && result.dest.empty())
    return caf::make_error(ec::invalid_argument, "backup needs --dest DIR");
  if (result.command == mode::restore
      && (result.dest.empty() || result.from.empty()))
    return caf::make_error(ec::invalid_argument,
                           "restore needs --from DIR and --dest DIR");
  return result;
}

} // namespace kws::app
