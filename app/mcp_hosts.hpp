// Which Host and Origin values the MCP endpoint serves besides loopback
// and IP literals: the Service's DNS names, and those the operator adds.
#pragma once

#include <string>
#include <vector>

namespace kws::app {

/// `k8s-watch-server`, `.<ns>`, `.<ns>.svc` and `.<ns>.svc.cluster.local`
/// (the namespace from POD_NAMESPACE or the ServiceAccount's namespace
/// file), plus the comma list in MCP_ALLOWED_HOSTS.
std::vector<std::string> service_host_names();

/// The comma list in MCP_ALLOWED_ORIGINS, e.g. `https://ops.example.com`.
std::vector<std::string> allowed_origins();

} // namespace kws::app
