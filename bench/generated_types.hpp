// The resource_type the service would watch for each kind the workload
// generates, so the pipeline and the prefill build the same records.
#pragma once

#include "bench/workload.hpp"
#include "messages/resource_type.hpp"

#include <vector>

namespace kws::bench {

resource_type type_of(kind k);

/// Every generated type, indexed by `kind`.
std::vector<resource_type> all_types();

} // namespace kws::bench
