// Parsing of what the apiserver sends: list pages, watch lines, Status
// objects and object metadata. Pure functions, no I/O.
#pragma once

#include "messages/watch.hpp"
#include "util/errors.hpp"

#include <caf/expected.hpp>
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

/// The identifying part of `metadata` of one object.
struct object_meta {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;
  /// True when `metadata.annotations` holds
  /// `"k8s.io/initial-events-end": "true"` (end of a streaming list).
  bool initial_events_end = false;

  /// "<namespace>/<name>", or "<name>" for cluster-scoped objects.
  std::string key() const {
    return namespace_.empty() ? name : namespace_ + "/" + name;
  }
};

/// Extracts `metadata` of one object without building a DOM of the whole
/// object; stops reading after the metadata object ends.
caf::expected<object_meta> parse_object_meta(std::string_view json);

/// A `metav1.Status` as the apiserver sends it for failures.
struct api_status {
  /// HTTP status code of the Status (`code`), 0 if absent.
  int code = 0;
  /// Machine-readable reason, e.g. "Expired", "Gone", "Timeout".
  std::string reason;
  std::string message;
  /// `details.retryAfterSeconds`, if present.
  std::optional<int> retry_after_seconds;
  /// `details.causes[].reason`, e.g. "ResourceVersionTooLarge".
  std::vector<std::string> cause_reasons;

  /// True for "resource version too old" (410 with reason Expired or Gone,
  /// as client-go's `isExpiredError`).
  bool is_expired() const;

  /// True for a 504 whose causes include `ResourceVersionTooLarge`.
  bool is_too_large_resource_version() const;
};

/// Parses a Status object. Bodies that are not a JSON Status (plain-text
/// 429s, proxies) give a status with `message` set to the (truncated) body.
api_status parse_status(std::string_view body, int http_status = 0);

/// One page of a list response.
struct list_page {
  /// Items as complete JSON objects (`apiVersion` and `kind` filled in).
  std::vector<std::string> items;
  /// The list's `metadata.resourceVersion`.
  std::string resource_version;
  /// `metadata.continue`; "" on the last page.
  std::string continue_token;
};

/// Parses one page of a list response and completes its items: items of
/// built-in lists lack `apiVersion` and `kind`, so they get the list's
/// `apiVersion` and `item_kind` (or the list's kind minus "List" when
/// `item_kind` is empty).
caf::expected<list_page> parse_list_page(std::string_view body,
                                         std::string_view item_kind = {});

/// One parsed line of a watch stream.
struct watch_line {
  /// True for `{"type":"ERROR"}`; then `status` is set and `event` is not.
  bool is_error = false;
  watch_event event;
  api_status status;
  /// True for a bookmark that ends the initial events of a streaming list.
  bool initial_events_end = false;
};

/// Parses one watch line. Unknown types, non-objects and missing fields
/// give `ec::parse_error`. The object text is taken verbatim from the line
/// when the line has the apiserver's shape, so it keeps its exact bytes.
caf::expected<watch_line> parse_watch_line(std::string_view line);

/// The same result as `parse_watch_line` without building a document:
/// one validating SAX pass reads the type and the metadata the reflector
/// needs, and the object's bytes are sliced from the line. Lines that are
/// not in the apiserver's shape, and ERROR lines, take `parse_watch_line`.
/// The record builder then parses each object once.
caf::expected<watch_line> scan_watch_line(std::string_view line);

/// One watch line parsed into a document that the caller keeps, so the
/// record builder can use the object without parsing it again.
struct parsed_watch_line {
  /// As from `parse_watch_line`, except that `line.event.object` is empty.
  watch_line line;
  /// The event's `object` inside the caller's document; null for ERROR.
  rapidjson::Value* object = nullptr;
  /// The object's exact bytes inside the line when the line has the
  /// apiserver's shape (`{"type":"X","object":{...}}`), otherwise empty.
  /// Valid as long as the line's bytes are.
  std::string_view object_text;
};

/// Parses one watch line into `doc` and leaves the document to the caller.
/// Errors as `parse_watch_line`.
caf::expected<parsed_watch_line> parse_watch_line(std::string_view line,
                                                  rapidjson::Document& doc);

/// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view x);

} // namespace kws::kube
