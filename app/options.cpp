#include "app/options.hpp"

#include "messages/errors.hpp"

#include <string_view>

namespace kws::app {

caf::expected<options> parse_options(int argc, char** argv) {
  options result;
  if (argc > 1 && std::string_view{argv[1]} == "probe") {
    result.command = mode::probe;
    return result;
  }
  for (int i = 1; i < argc; ++i) {
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
    } else {
      return caf::make_error(ec::invalid_argument,
                             "unknown option " + std::string{arg});
    }
  }
  return result;
}

} // namespace kws::app
