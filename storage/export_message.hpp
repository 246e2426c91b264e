// What a stored record becomes on its way to Kafka. Pure.
#pragma once

#include "storage/kafka_producer.hpp"
#include "storage/rocks_store.hpp"

#include <caf/expected.hpp>

#include <string_view>

namespace kws::storage {

/// The message of `r` from cluster `cluster`: keyed `cluster/uid`, so that
/// one object's records keep their order (one partition), valued the
/// contract record with `"cluster"` right after its `id`, so that a
/// consumer tells clusters apart and spots a record sent twice by
/// `cluster` and `id`. Fails when the record does not start with its id.
caf::expected<kafka_message> export_message(const stored_record& r,
                                            std::string_view cluster);

} // namespace kws::storage
