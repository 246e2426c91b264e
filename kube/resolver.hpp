// Resolves user-facing names of resource types (kubectl style) and the
// (apiVersion, kind) of an Event's involvedObject to a resource type.
#pragma once

#include "kube/discovery.hpp"
#include "messages/resource_type.hpp"
#include "util/errors.hpp"

#include <caf/expected.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

/// Looks up resource types by the names discovery gives them.
class resource_resolver {
public:
  /// @param infos every resource of every version (from
  ///        `discover_api_resources`); subresources must not be included.
  explicit resource_resolver(std::vector<api_resource_info> infos);

  /// Resolves a name as kubectl does: a plural ("deployments"), singular
  /// ("deployment"), short name ("deploy") or kind ("Deployment",
  /// case-insensitive), optionally qualified as `<name>.<group>` or
  /// `<name>.<version>.<group>`. Names are case-insensitive. When several
  /// groups match an unqualified name, the core group wins, then the
  /// first group in discovery order. Returns the preferred version unless a
  /// version is given. Errors: `ec::not_found` naming the input.
  caf::expected<resource_type> resolve(std::string_view name) const;

  /// Resolves an Event's `involvedObject`: `group_or_api_version` is an
  /// apiVersion ("apps/v1", "v1") or a bare group ("apps", "" for core).
  /// The kind matches exactly first, then case-insensitively. The result is
  /// the group's preferred version of that kind.
  caf::expected<resource_type>
  resolve_kind(std::string_view group_or_api_version,
               std::string_view kind) const;

  /// Everything the resolver knows.
  const std::vector<api_resource_info>& infos() const { return infos_; }

private:
  /// The preferred entry of (group, plural): preferred version, else first.
  const api_resource_info* preferred_of(const api_resource_info& x) const;

  std::vector<api_resource_info> infos_;
};

/// client-go's `UnsafeGuessKindToResource`: lowercase, "endpoints" kept,
/// "s" → "ses", "y" → "ies", else + "s". Wrong for irregular CRD plurals;
/// use only when discovery has no entry.
std::string guess_plural(std::string_view kind);

} // namespace kws::kube
