// Label and field selectors as the apiserver reads them, and what a watcher
// asks the apiserver for and checks itself for a filtered resource type.
#pragma once

#include "messages/resource_type.hpp"
#include "messages/watch_filter.hpp"

#include <caf/expected.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

/// One requirement of a label selector.
struct label_requirement {
  enum class op : uint8_t {
    equals,
    not_equals,
    in,
    not_in,
    exists,
    not_exists,
    greater,
    less
  };
  std::string key;
  op operation = op::equals;
  std::vector<std::string> values;
};

/// Parses a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h,i>3`).
/// Errors say what is wrong and where.
caf::expected<std::vector<label_requirement>>
parse_label_selector(std::string_view text);

/// True when `labels` satisfy every requirement.
bool matches(const std::vector<label_requirement>& selector,
             const std::map<std::string, std::string>& labels);

/// One requirement of a field selector: `path=value` or `path!=value`.
struct field_requirement {
  /// Dotted path, e.g. `spec.nodeName`.
  std::string path;
  bool equals = true;
  std::string value;
};

/// Parses a field selector (`metadata.name=a,spec.nodeName!=b`).
caf::expected<std::vector<field_requirement>>
parse_field_selector(std::string_view text);

/// How a watcher lists and watches a filtered type, and what it checks
/// itself where the apiserver cannot filter.
struct selection {
  /// The namespace of a namespaced list/watch path ("" for all namespaces):
  /// set when exactly one namespace is recorded.
  std::string single_namespace;
  /// Sent as `labelSelector` and `fieldSelector`; the field selector also
  /// excludes namespaces (`metadata.namespace!=x`).
  std::string label_selector;
  std::string field_selector;
  /// Checked here: several included namespaces (one request cannot ask for
  /// a list of them) and the exclusions.
  std::vector<std::string> namespaces;
  std::vector<std::string> exclude_namespaces;
  /// Parsed selectors: a DELETED event of an object that no longer matches
  /// them is the object leaving the selection, not its deletion.
  std::vector<label_requirement> labels;
  std::vector<field_requirement> fields;

  /// The list/watch path of `type` under this selection.
  std::string collection_path(const resource_type& type) const;

  /// `&labelSelector=...&fieldSelector=...` (URL-encoded), or "".
  std::string query() const;

  /// True when objects in namespace `ns` are recorded (all namespace
  /// lists, `single_namespace` included).
  bool selects_namespace(std::string_view ns) const;

  /// True when a namespace, label or field check applies to objects at all.
  bool checks_objects() const {
    return !namespaces.empty() || !exclude_namespaces.empty() || !labels.empty()
      || !fields.empty();
  }
};

/// The selection of `type` under `filter`. Fails when a selector does not
/// parse or the filter leaves no namespace.
caf::expected<selection> make_selection(const resource_type& type,
                                        const watch_filter& filter);

/// True when the object (JSON text) is in a selected namespace and matches
/// the label and field selectors. Malformed JSON is not selected.
bool selects_object(const selection& sel, std::string_view json);

} // namespace kws::kube
