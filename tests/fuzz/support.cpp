#include "tests/fuzz/support.hpp"

#include "kube/discovery.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/resolver.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace kws::fuzz {

namespace {

std::vector<kube::api_resource_info> recorded_infos() {
  std::vector<kube::api_resource_info> result;
  for (auto name : {"aggregated_api_v2.json", "aggregated_apis_v2.json"}) {
    auto path = std::string{KWS_FUZZ_DISCOVERY_DIR} + "/" + name;
    auto text = kube::read_file(path, "discovery");
    check(static_cast<bool>(text), "cannot read the recorded discovery");
    auto infos = kube::parse_aggregated_discovery(*text);
    check(static_cast<bool>(infos), "cannot parse the recorded discovery");
    result.insert(result.end(), infos->begin(), infos->end());
  }
  return result;
}

} // namespace

const rest::resolver_fn& recorded_resolver() {
  // Built on first use and kept: every input sees the same resolver, and the
  // fuzzer's memory does not grow with the number of inputs.
  static const auto resolver
    = std::make_shared<kube::resource_resolver>(recorded_infos());
  static const rest::resolver_fn fn
    = [](std::string_view name) { return resolver->resolve(name); };
  return fn;
}

void check(bool ok, const char* what) {
  if (ok)
    return;
  std::fprintf(stderr, "broken invariant: %s\n", what);
  std::abort();
}

} // namespace kws::fuzz
