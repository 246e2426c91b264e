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

type_catalog_ptr stored_catalog(const std::vector<resource_type>& types) {
  std::vector<api_resource_info> infos;
  infos.reserve(types.size());
  for (const auto& rt : types) {
    api_resource_info info;
    info.type = rt;
    info.singular = ascii_lower(rt.kind);
    info.preferred = true;
    info.verbs = {"list", "watch"};
    infos.push_back(std::move(info));
  }
  auto out = std::make_shared<type_catalog>();
  out->resolver = std::make_shared<const resource_resolver>(std::move(infos));
  return out;
}

} // namespace kws::kube
