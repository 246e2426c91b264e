// The timeline page: files compiled into the binary, answered by the server
// itself (no actor is asked). `/` and `/ui/` are the page, `/ui/<file>` its
// assets; the page's state lives in the query, so `/?namespace=shop` is the
// page too.
#pragma once

#include "messages/http.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace kws::rest {

/// One file of the page.
struct static_asset {
  /// The file name under `/ui/`, e.g. "app.js"; the page is "index.html".
  std::string_view name;
  std::string_view content_type;
  std::string_view body;
  /// A strong validator of `body` (quoted, as sent in `ETag`).
  std::string_view etag;
};

using static_site = std::span<const static_asset>;

/// True for the paths the page owns: `/`, `/ui`, and everything under `/ui/`.
bool is_site_path(std::string_view path);

/// The answer to a GET or HEAD of a site path: the file with its type, its
/// `ETag`, `Cache-Control: no-cache` (a new binary serves a new page at
/// once), and the headers that keep the page to its own origin; 304 when
/// `if_none_match` names the current ETag; 404 for an unknown file.
http_response answer_site(static_site site, std::string_view path,
                          std::string_view if_none_match);

} // namespace kws::rest
