// What the watch stream's one validating pass over an object read from it:
// the fields the record builder needs, so the object is not parsed again.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace kws {

/// One entry of `metadata.managedFields`: its `manager` and `time` ("" when
/// absent).
struct manager_entry {
  std::string manager;
  std::string time;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, manager_entry& x) {
  return f(caf::meta::type_name("kws.manager_entry"), x.manager, x.time);
}

/// Set only for an object of the plain shape: an object whose `metadata`
/// is an object, every field below is a string where present, no field
/// below appears twice and every managedFields entry is an object. Then the
/// fields are exactly what a parse of the object would read; anything else
/// leaves `complete` false and the object is parsed.
struct object_facts {
  bool complete = false;
  std::string api_version;
  std::string kind;
  std::string name;
  std::string ns;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;
  bool has_managed_fields = false;
  std::vector<manager_entry> managers;
  /// Byte offsets in the object's text just after the key
  /// `"managedFields"` and just after its value (0: not known), so the
  /// builder can cut the member out without scanning for it.
  size_t managed_fields_key_end = 0;
  size_t managed_fields_end = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, object_facts& x) {
  return f(caf::meta::type_name("kws.object_facts"), x.complete, x.api_version,
           x.kind, x.name, x.ns, x.uid, x.resource_version,
           x.creation_timestamp, x.has_managed_fields, x.managers,
           x.managed_fields_key_end, x.managed_fields_end);
}

} // namespace kws
