// The lister_watcher of one resource type over the kube client. Watch lines
// are split and scanned on the client's io thread, so a reader receives
// parsed events; what to do with them is the reflector machine's job.
#pragma once

#include "kube/lister_watcher.hpp"
#include "kube/selector.hpp"
#include "messages/resource_type.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace kws::kube {

class body_stream;
class client;

/// Lists, watches and gets objects of `type` under `filter` through `c`.
std::shared_ptr<lister_watcher>
make_client_lister_watcher(std::shared_ptr<client> c, resource_type type,
                           selection filter);

/// The watch stream over the body of a watch answer (status 200): lines are
/// split and scanned where the body's reads complete, ahead of the reader
/// by a bounded amount. `name` names the watch in logs and errors.
std::shared_ptr<watch_stream>
make_watch_stream(std::shared_ptr<body_stream> body, std::string name);

/// Query string of a list page (without '?'): `limit` when non-zero,
/// `continue` or else `resourceVersion` when non-empty.
std::string list_query(const list_request& req);

/// Query string of a watch request (without '?').
std::string watch_query(const watch_request& req);

} // namespace kws::kube
