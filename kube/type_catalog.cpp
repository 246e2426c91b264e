#include "kube/type_catalog.hpp"

#include "util/ascii_case.hpp"
#include "util/errors.hpp"

namespace kws::kube {

caf::expected<resource_type>
type_catalog::resolve(std::string_view name) const {
  if (!resolver)
    return caf::make_error(ec::unavailable, "resourceType",
                           "resource types are not discovered yet");
  auto result = resolver->resolve(name);
  if (result)
    return result;
  // A type that is gone keeps its history: it resolves by the names it had
  // while watched.
  for (const auto& [key, rt] : retired)
    if (name == rt.plural || name == key || ascii_iequals(name, rt.kind))
      return rt;
  return caf::make_error(ec::invalid_argument, "resourceType",
                         "unknown resource type '" + std::string{name}
                           + "': use a plural (pods), kind (Pod), short name "
                             "(po) or plural.group (deployments.apps)");
}

} // namespace kws::kube
