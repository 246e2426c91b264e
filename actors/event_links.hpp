// Linking Kubernetes Events to the objects they are about (pure logic of the
// CORRELATOR).
#pragma once

#include "messages/resource_event.hpp"
#include "messages/resource_type.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kws {

/// Maps (API group, kind) to the plural resource name, from discovery.
class kind_index {
public:
  /// Replaces the known types.
  void reset(const std::vector<resource_type>& types);

  /// The plural for `kind` in the group of `api_version` ("v1", "apps/v1");
  /// "" when unknown.
  std::string plural(const std::string& api_version,
                     const std::string& kind) const;

private:
  std::map<std::pair<std::string, std::string>, std::string> by_group_kind_;
  /// Fallback when an Event names a kind without a usable apiVersion.
  std::map<std::string, std::string> by_kind_;
};

/// Sets `link_ns`, `link_resource` and `link_name` of every Event record in
/// `events` from its involvedObject. Records whose involvedObject kind is
/// unknown stay unlinked. Returns the number linked.
size_t link_events(std::vector<resource_event>& events,
                   const kind_index& kinds);

} // namespace kws
