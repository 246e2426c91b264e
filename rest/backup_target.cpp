#include "rest/backup_target.hpp"

#include "util/errors.hpp"

#include <filesystem>

namespace kws::rest {

namespace {

caf::error bad_dest(const std::string& why) {
  return caf::make_error(ec::invalid_argument, "dest", why);
}

} // namespace

caf::expected<std::string> backup_target(std::string_view root,
                                         std::string_view dest) {
  namespace fs = std::filesystem;
  if (dest.empty())
    return bad_dest("dest is needed: a directory inside backupRoot "
                    + std::string{root});
  if (dest.find('\0') != std::string_view::npos)
    return bad_dest("dest must not contain a NUL byte");
  const fs::path asked{std::string{dest}};
  for (const auto& part : asked)
    if (part == "." || part == "..")
      return bad_dest("dest must not contain . or .. segments");
  // "a//b/" and "a/b" are the same place; lexically_normal says so.
  auto base = fs::path{std::string{root}}.lexically_normal();
  if (!base.has_filename())
    base = base.parent_path();
  auto target = (asked.is_absolute() ? asked : base / asked).lexically_normal();
  if (!target.has_filename())
    target = target.parent_path();
  auto rel = target.lexically_relative(base);
  if (rel.empty() || rel == "." || *rel.begin() == "..")
    return bad_dest("dest must lie inside backupRoot " + base.string()
                    + ", got " + std::string{dest});
  return target.string();
}

} // namespace kws::rest
