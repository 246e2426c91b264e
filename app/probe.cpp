#include "kube/probe.hpp"

#include "app/options.hpp"

namespace kws::app {

int run_probe(int argc, char** argv) {
  // argv[1] is "probe"; the probe parses the rest.
  return kube::run_probe(argc - 1, argv + 1);
}

} // namespace kws::app
