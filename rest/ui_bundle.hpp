// The timeline page's files, compiled into the binary from the bundle that
// ui/build.sh makes (ui/CMakeLists.txt, cmake/embed_files.cmake).
#pragma once

#include "rest/static_site.hpp"

namespace kws {

/// Every file of the page; never empty (a build without the page,
/// KWS_UI=OFF, serves a page that says so).
rest::static_site ui_bundle();

} // namespace kws
