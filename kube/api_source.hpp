// What DISCOVERY asks of the apiserver, as an interface: the resource types
// it serves, and a transport for each type to watch. Over the kube client
// in the service; scripted in actor tests, so the watched set, CRDs that
// come and go, and watcher restarts are tested without a server.
#pragma once

#include "kube/lister_watcher.hpp"
#include "kube/selector.hpp"
#include "messages/resource_type.hpp"

#include <caf/expected.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace kws::kube {

class client;

class api_source {
public:
  virtual ~api_source();

  /// Every resource of every group version the apiserver serves.
  virtual void
  discover(std::function<void(caf::expected<std::vector<api_resource>>)> done)
    = 0;

  /// The transport of a reflector over `type` under `filter`.
  virtual std::shared_ptr<lister_watcher>
  lister_watcher_for(const resource_type& type, const selection& filter) = 0;
};

/// Discovery and watches through `c`.
std::shared_ptr<api_source> make_client_api_source(std::shared_ptr<client> c);

} // namespace kws::kube
