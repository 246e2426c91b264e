// The light form of a record (`GET /api/v1/events?view=summary`): what a
// timeline needs to place it, without the snapshot that makes up most of
// its bytes. Pure.
#pragma once

#include <string>
#include <string_view>

namespace kws::rest {

/// `record` without its `objectChanges`, plus the snapshot's
/// `metadata.ownerReferences` (`kind`, `name`, `uid`, `controller` of each)
/// as `ownerReferences` and its `metadata.labels` as `labels`, when it has
/// them. A record without a snapshot, or whose snapshot does not parse,
/// comes back without `objectChanges` and without the two members.
std::string summarize_record(std::string_view record);

} // namespace kws::rest
