// Kubernetes field managers (metadata.managedFields, server-side apply):
// who owns a given field, so each change of a patch can be blamed on a
// manager.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kws::storage {

/// Resolves field ownership against an object (without managedFields).
/// Keeps a pointer to `object`: it must outlive this resolver. The fieldsV1
/// trees are parsed once, at construction; a "k:"/"v:" key only when a
/// lookup meets it (an update asks for a few paths of large trees).
class field_owners {
public:
  /// From the managedFields array as compact JSON, parsed in one go;
  /// nobody owns anything when it is no JSON array.
  field_owners(std::string_view managed_fields_json,
               const rapidjson::Value& object);

  /// The manager owning the field at `pointer` (a JSON Pointer into
  /// `object`), "" when nobody owns it. Walks each entry's fieldsV1 tree:
  /// at an object member `t` the key "f:t"; at an array element (index i of
  /// the array in `object` at that point) a key "k:{...}" whose every field
  /// equals the element's field, "v:<json>" equal to the element, or
  /// "i:<i>". A manager owns the pointer when its tree contains the whole
  /// path, or a prefix of it ending in a leaf node (`{}` or only "."), i.e.
  /// an atomic value. Among several owners the one whose tree matched the
  /// most tokens wins, then the newest `time`, then the first entry.
  std::string owner_of(std::string_view pointer) const;

private:
  struct tree {
    std::string manager;
    std::string time;
    /// Into `all_`; an empty object when the entry has none.
    const rapidjson::Value* fields = nullptr;
  };

  /// The number of tokens matched when `t` owns `tokens`, else -1.
  /// `field_keys` holds each token as a fieldsV1 key ("f:" + token).
  int match(const tree& t, const std::vector<std::string>& tokens,
            const std::vector<std::string>& field_keys) const;

  /// The child of `node` under the "k:"/"v:"/"i:" key that designates
  /// `element` (at `index` of its array), or nullptr.
  const rapidjson::Value* element_child(const rapidjson::Value& node,
                                        const rapidjson::Value& element,
                                        size_t index) const;

  /// The parsed JSON of a "k:"/"v:" key name; nullptr when invalid.
  const rapidjson::Value* key_of(const rapidjson::Value& name) const;

  const rapidjson::Value* object_;
  std::vector<tree> trees_;
  /// The whole managedFields array, parsed in place in `text_`.
  std::string text_;
  rapidjson::Document all_;
  rapidjson::Value empty_{rapidjson::kObjectType};
  /// The parsed "k:"/"v:" keys met so far, by the address of their name.
  mutable std::unordered_map<const rapidjson::Value*,
                             std::unique_ptr<rapidjson::Document>>
    keys_;
};

} // namespace kws::storage
