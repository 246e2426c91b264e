#include "storage/export_message.hpp"

#include "storage/hub_record.hpp"
#include "util/errors.hpp"
#include "util/json_text.hpp"

namespace kws::storage {

caf::expected<kafka_message> export_message(const stored_record& r,
                                            std::string_view cluster) {
  // The store writes every record as `{"id":"<hex>",...` (encode_record_value).
  constexpr std::string_view head = R"({"id":")";
  auto end_of_id = r.json.starts_with(head) ? r.json.find('"', head.size())
                                            : std::string::npos;
  if (end_of_id == std::string::npos)
    return caf::make_error(ec::storage_failure,
                           "stored record " + std::to_string(r.seq)
                             + " does not start with its id");
  kafka_message m;
  m.key.reserve(cluster.size() + 1 + r.uid.size());
  m.key.append(cluster).append("/").append(r.uid);
  m.value.reserve(r.json.size() + cluster.size() + 16);
  m.value.append(r.json, 0, end_of_id + 1);
  m.value += R"(,"cluster":)";
  append_quoted_json(m.value, cluster);
  m.value.append(r.json, end_of_id + 1);
  m.link = format_link(r.link_ns, r.link_resource, r.link_name);
  return m;
}

} // namespace kws::storage
