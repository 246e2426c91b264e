// Maps the workload's kinds onto the service's resource types.
#include "bench/generated_types.hpp"

namespace kws::bench {

resource_type type_of(kind k) {
  auto& i = bench::info(k);
  return resource_type{i.group, i.version, i.kind, i.plural, true};
}

std::vector<resource_type> all_types() {
  std::vector<resource_type> types;
  for (size_t i = 0; i < num_kinds; ++i)
    types.push_back(type_of(static_cast<kind>(i)));
  return types;
}

} // namespace kws::bench
