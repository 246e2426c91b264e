// Where an online backup may be written: only inside the configured
// `backupRoot`, so that whoever may ask for a backup cannot make the server
// write a copy of the history anywhere else on its file system.
#pragma once

#include <caf/expected.hpp>

#include <string>
#include <string_view>

namespace kws::rest {

/// The directory a backup asked for with `dest` goes to: `dest` itself when
/// absolute, else `dest` under `root`. It must lie strictly inside `root`
/// and hold no "." or ".." segment. Decided on the text alone (the store
/// checks what is on disk: an existing path, a missing parent, a symbolic
/// link out of `root`). Errors are `invalid_argument` naming `dest`.
/// @param root an absolute directory without "." or ".." segments.
caf::expected<std::string> backup_target(std::string_view root,
                                         std::string_view dest);

} // namespace kws::rest
