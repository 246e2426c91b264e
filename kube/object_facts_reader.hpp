// Reads `object_facts` from the SAX events of one object, inside the watch
// line's single validating pass, so the record builder does not parse the
// object a second time.
#pragma once

#include "messages/object_facts.hpp"

#include <rapidjson/reader.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace kws::kube {

/// Fed every SAX event of one JSON value, from its first event to its last;
/// `facts()` then tells what it found (`complete` only when the value was an
/// object of the plain shape `object_facts` describes).
class object_facts_reader {
public:
  void start_object();
  void end_object();
  void start_array();
  /// `at`: the offset just after the array, as the parser's stream tells.
  void end_array(size_t at = 0);
  /// `at`: the offset just after the key's closing quote.
  void key(std::string_view name, size_t at = 0);
  void string(std::string_view value);
  /// Any other scalar: null, a boolean or a number.
  void scalar();

  /// True once the value's last event was fed.
  bool done() const { return started_ && frames_.empty(); }

  /// The facts; `complete` only when `done()` and nothing was unusual.
  object_facts take();

private:
  enum class frame : uint8_t { root, metadata, managed_fields, entry, other };
  enum class field : uint8_t {
    none,
    api_version,
    kind,
    metadata,
    name,
    ns,
    uid,
    resource_version,
    creation_timestamp,
    managed_fields,
    manager,
    time,
  };

  /// Marks `f` seen in the innermost frame; a second sighting spoils.
  void expect(field f);
  void push(frame f);
  void pop();

  object_facts facts_;
  std::vector<frame> frames_;
  /// Fields seen in each open frame (a bit per `field`).
  std::vector<uint32_t> seen_;
  field pending_ = field::none;
  bool started_ = false;
  bool spoiled_ = false;
  bool seen_metadata_object_ = false;
};

} // namespace kws::kube
