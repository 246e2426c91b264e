// What a hub makes of one message of the export topic: the record another
// server stored, ready to be stored again under the same id. Pure.
#pragma once

#include "messages/resource_event.hpp"
#include "messages/resource_type.hpp"

#include <caf/expected.hpp>

#include <string>
#include <string_view>

namespace kws::storage {

/// One exported record as a hub stores it.
struct hub_record {
  /// The `cluster` the exporting server named itself.
  std::string cluster;
  /// The record with the id it had (`seq`), enriched as it was stored
  /// there; `record` is the message's value without `id`, so `cluster`
  /// leads the stored record.
  resource_event event;
  /// The record's type as far as the record tells it (`namespaced` from
  /// whether it has a namespace): what a hub resolves `resourceType` by.
  resource_type type;
};

/// Reads the value of an `export_message` and its `link` header ("" when
/// none). An error names what is wrong; the message is then skipped, since
/// sending it again cannot mend it.
caf::expected<hub_record> parse_hub_record(std::string_view value,
                                           std::string_view link);

/// The `link` header of an Event record's message: `ns/resource/name`, as
/// the exporting server's correlator linked it ("" when unlinked).
std::string format_link(std::string_view ns, std::string_view resource,
                        std::string_view name);

} // namespace kws::storage
