// `GET /api/v1/changes` at a hub without `cluster`: every cluster's answer
// as one. Pure.
#pragma once

#include "messages/http.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kws::rest {

/// One cluster's answer to the same request.
struct cluster_answer {
  std::string cluster;
  http_response response;
};

/// The entries of every answer in one ranking, each with `"cluster"` as its
/// first member: spec changes and deletes first, then by Warning Events
/// about the object, then the most recently changed (`lastChanged`), as
/// each cluster ranks its own; at most `limit`. `X-Has-More` says whether a
/// cluster had more or entries were cut; there is no `X-Continue` (a
/// cluster's own pages go on with `cluster=`). The first answer that is not
/// a 200 is the answer, its message naming its cluster.
http_response merge_changes(const std::vector<cluster_answer>& answers,
                            uint32_t limit);

} // namespace kws::rest
