// Fuzzes the decoding of one watch-stream document as the reflector does it:
// the event line, then the metadata of its object. Also the Status and list
// page decoders, which read the same apiserver JSON.
//
// Input: one document (a line of a watch response, without the newline).

#include "kube/wire.hpp"
#include "tests/fuzz/support.hpp"

using kws::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = kws::fuzz::as_text(data, size);
  if (auto line = kws::kube::parse_watch_line(text)) {
    if (line->is_error) {
      check(line->event.object.empty(), "an ERROR line carries an object");
    } else {
      check(!line->event.object.empty(), "an event without object text");
      auto meta = kws::kube::parse_object_meta(line->event.object);
      check(!meta || meta->resource_version == line->event.resource_version,
            "the event and its metadata disagree on the resourceVersion");
    }
  }
  static_cast<void>(kws::kube::parse_status(text, 500));
  static_cast<void>(kws::kube::parse_list_page(text));
  return 0;
}
