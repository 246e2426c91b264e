#include "kube/discovery.hpp"

#include "kube/client.hpp"
#include "util/json_fields.hpp"
#include "util/logging.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <map>
#include <set>

namespace kws::kube {

namespace {

using json::string_member;

std::vector<std::string> string_array(const rapidjson::Value& obj,
                                      const char* name) {
  std::vector<std::string> result;
  if (!obj.IsObject())
    return result;
  auto i = obj.FindMember(name);
  if (i == obj.MemberEnd() || !i->value.IsArray())
    return result;
  for (const auto& x : i->value.GetArray())
    if (x.IsString())
      result.emplace_back(x.GetString(), x.GetStringLength());
  return result;
}

caf::expected<rapidjson::Document> parse_json(std::string_view body,
                                              std::string_view what) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError())
    return caf::make_error(
      ec::parse_error,
      fmt::format("cannot parse {}: {} at offset {}", what,
                  rapidjson::GetParseError_En(doc.GetParseError()),
                  doc.GetErrorOffset()));
  if (!doc.IsObject())
    return caf::make_error(ec::parse_error,
                           fmt::format("{} is not a JSON object", what));
  return doc;
}

std::pair<std::string, std::string> split_group_version(std::string_view gv) {
  auto slash = gv.find('/');
  if (slash == std::string_view::npos)
    return {"", std::string{gv}};
  return {std::string{gv.substr(0, slash)}, std::string{gv.substr(slash + 1)}};
}

} // namespace

bool is_aggregated_discovery(std::string_view content_type) {
  return content_type.find("as=APIGroupDiscoveryList")
    != std::string_view::npos;
}

caf::expected<std::vector<api_resource_info>>
parse_aggregated_discovery(std::string_view body) {
  auto doc = parse_json(body, "aggregated discovery document");
  if (!doc)
    return doc.error();
  if (string_member(*doc, "kind") != "APIGroupDiscoveryList")
    return caf::make_error(ec::parse_error,
                           fmt::format("expected an APIGroupDiscoveryList, got "
                                       "kind '{}'",
                                       string_member(*doc, "kind")));
  std::vector<api_resource_info> result;
  auto items = doc->FindMember("items");
  if (items == doc->MemberEnd() || !items->value.IsArray())
    return result;
  for (const auto& group : items->value.GetArray()) {
    std::string group_name;
    if (auto m = group.FindMember("metadata");
        m != group.MemberEnd() && m->value.IsObject())
      group_name = string_member(m->value, "name");
    auto versions = group.FindMember("versions");
    if (versions == group.MemberEnd() || !versions->value.IsArray())
      continue;
    bool first = true;
    for (const auto& version : versions->value.GetArray()) {
      std::string version_name{string_member(version, "version")};
      if (version_name.empty())
        continue;
      bool stale = string_member(version, "freshness") == "Stale";
      auto resources = version.FindMember("resources");
      if (resources != version.MemberEnd() && resources->value.IsArray()) {
        for (const auto& res : resources->value.GetArray()) {
          api_resource_info info;
          info.type.group = group_name;
          info.type.version = version_name;
          info.type.plural = string_member(res, "resource");
          if (auto rk = res.FindMember("responseKind");
              rk != res.MemberEnd() && rk->value.IsObject())
            info.type.kind = string_member(rk->value, "kind");
          info.type.namespaced = string_member(res, "scope") != "Cluster";
          info.singular = string_member(res, "singularResource");
          info.verbs = string_array(res, "verbs");
          info.short_names = string_array(res, "shortNames");
          info.categories = string_array(res, "categories");
          info.preferred = first;
          info.stale = stale;
          if (info.type.plural.empty())
            continue;
          result.push_back(std::move(info));
        }
      }
      first = false;
    }
  }
  return result;
}

caf::expected<std::vector<std::string>>
parse_api_versions(std::string_view body) {
  auto doc = parse_json(body, "APIVersions document");
  if (!doc)
    return doc.error();
  auto result = string_array(*doc, "versions");
  if (result.empty())
    return caf::make_error(ec::parse_error,
                           "APIVersions document lists no versions");
  return result;
}

caf::expected<std::vector<api_group>>
parse_api_group_list(std::string_view body) {
  auto doc = parse_json(body, "APIGroupList document");
  if (!doc)
    return doc.error();
  if (string_member(*doc, "kind") != "APIGroupList")
    return caf::make_error(ec::parse_error,
                           fmt::format("expected an APIGroupList, got kind "
                                       "'{}'",
                                       string_member(*doc, "kind")));
  std::vector<api_group> result;
  auto groups = doc->FindMember("groups");
  if (groups == doc->MemberEnd() || !groups->value.IsArray())
    return result;
  for (const auto& g : groups->value.GetArray()) {
    api_group group;
    group.name = string_member(g, "name");
    if (auto vs = g.FindMember("versions");
        vs != g.MemberEnd() && vs->value.IsArray())
      for (const auto& v : vs->value.GetArray())
        if (auto gv = string_member(v, "groupVersion"); !gv.empty())
          group.group_versions.emplace_back(gv);
    if (auto p = g.FindMember("preferredVersion");
        p != g.MemberEnd() && p->value.IsObject())
      group.preferred = string_member(p->value, "groupVersion");
    if (group.preferred.empty() && !group.group_versions.empty())
      group.preferred = group.group_versions.front();
    if (!group.name.empty())
      result.push_back(std::move(group));
  }
  return result;
}

caf::expected<std::vector<api_resource_info>>
parse_api_resource_list(std::string_view body, bool preferred) {
  auto doc = parse_json(body, "APIResourceList document");
  if (!doc)
    return doc.error();
  auto gv = string_member(*doc, "groupVersion");
  if (gv.empty())
    return caf::make_error(ec::parse_error,
                           "APIResourceList has no groupVersion");
  auto [group, version] = split_group_version(gv);
  std::vector<api_resource_info> result;
  auto resources = doc->FindMember("resources");
  if (resources == doc->MemberEnd() || !resources->value.IsArray())
    return result;
  for (const auto& res : resources->value.GetArray()) {
    std::string name{string_member(res, "name")};
    if (name.empty() || name.find('/') != std::string::npos)
      continue; // subresource
    api_resource_info info;
    info.type.group = string_member(res, "group");
    info.type.version = string_member(res, "version");
    // Resources may override group/version; normally they are empty.
    if (info.type.group.empty())
      info.type.group = group;
    if (info.type.version.empty())
      info.type.version = version;
    info.type.plural = std::move(name);
    info.type.kind = string_member(res, "kind");
    if (auto ns = res.FindMember("namespaced");
        ns != res.MemberEnd() && ns->value.IsBool())
      info.type.namespaced = ns->value.GetBool();
    info.singular = string_member(res, "singularName");
    info.verbs = string_array(res, "verbs");
    info.short_names = string_array(res, "shortNames");
    info.categories = string_array(res, "categories");
    info.preferred = preferred;
    result.push_back(std::move(info));
  }
  return result;
}

std::vector<resource_type>
select_watchable(const std::vector<api_resource_info>& infos) {
  // Per group_resource: the preferred version, else the first listed.
  std::map<std::string, const api_resource_info*> chosen;
  std::vector<std::string> order;
  for (const auto& info : infos) {
    if (!info.watchable())
      continue;
    auto key = info.type.group_resource();
    auto [i, added] = chosen.emplace(key, &info);
    if (added)
      order.push_back(key);
    else if (info.preferred && !i->second->preferred)
      i->second = &info;
  }
  // events.k8s.io/events and core events share one storage: keep core.
  bool core_events = chosen.count("events") > 0;
  std::vector<resource_type> result;
  for (const auto& key : order) {
    if (core_events && key == "events.events.k8s.io")
      continue;
    result.push_back(chosen[key]->type);
  }
  return result;
}

namespace {

using infos_callback
  = std::function<void(caf::expected<std::vector<api_resource_info>>)>;

/// Fetches legacy APIResourceLists in parallel; failures are skipped.
struct legacy_walk : std::enable_shared_from_this<legacy_walk> {
  std::shared_ptr<client> c;
  std::vector<std::pair<std::string, bool>> paths; // path, preferred
  std::vector<std::vector<api_resource_info>> results;
  size_t pending = 0;
  infos_callback done;

  void run() {
    results.resize(paths.size());
    pending = paths.size();
    if (pending == 0) {
      finish();
      return;
    }
    auto self = shared_from_this();
    for (size_t i = 0; i < paths.size(); ++i) {
      c->get(paths[i].first, [self, i](caf::expected<std::string> body) {
        if (!body) {
          // A down aggregated API (503) must not fail all of discovery.
          KWS_WARN("discovery skips {}: {}", self->paths[i].first,
                   body.error());
        } else if (auto infos
                   = parse_api_resource_list(*body, self->paths[i].second)) {
          self->results[i] = std::move(*infos);
        } else {
          KWS_WARN("discovery skips {}: {}", self->paths[i].first,
                   infos.error());
        }
        if (--self->pending == 0)
          self->finish();
      });
    }
  }

  void finish() {
    std::vector<api_resource_info> all;
    for (auto& xs : results)
      std::move(xs.begin(), xs.end(), std::back_inserter(all));
    done(std::move(all));
  }
};

/// GETs `path` with the aggregated Accept header; `done` gets the response.
void fetch_discovery(const std::shared_ptr<client>& c, std::string path,
                     std::function<void(caf::expected<response>)> done) {
  request_options req;
  req.target = std::move(path);
  req.accept = std::string{aggregated_discovery_accept};
  c->send(std::move(req), std::move(done));
}

/// Discovers the core group (`/api`).
void discover_core(const std::shared_ptr<client>& c,
                   const infos_callback& done) {
  fetch_discovery(c, "/api", [c, done](caf::expected<response> res) {
    if (!res) {
      done(res.error());
      return;
    }
    if (res->status != 200) {
      done(status_error(*res, "GET", c->authority(), "/api"));
      return;
    }
    if (is_aggregated_discovery(res->content_type)) {
      done(parse_aggregated_discovery(res->body));
      return;
    }
    auto versions = parse_api_versions(res->body);
    if (!versions) {
      done(versions.error());
      return;
    }
    auto walk = std::make_shared<legacy_walk>();
    walk->c = c;
    walk->done = done;
    bool first = true;
    for (const auto& v : *versions) {
      walk->paths.emplace_back("/api/" + v, first);
      first = false;
    }
    walk->run();
  });
}

/// Discovers the named groups (`/apis`).
void discover_groups(const std::shared_ptr<client>& c,
                     const infos_callback& done) {
  fetch_discovery(c, "/apis", [c, done](caf::expected<response> res) {
    if (!res) {
      done(res.error());
      return;
    }
    if (res->status != 200) {
      done(status_error(*res, "GET", c->authority(), "/apis"));
      return;
    }
    if (is_aggregated_discovery(res->content_type)) {
      done(parse_aggregated_discovery(res->body));
      return;
    }
    auto groups = parse_api_group_list(res->body);
    if (!groups) {
      done(groups.error());
      return;
    }
    auto walk = std::make_shared<legacy_walk>();
    walk->c = c;
    walk->done = done;
    for (const auto& g : *groups)
      for (const auto& gv : g.group_versions)
        walk->paths.emplace_back("/apis/" + gv, gv == g.preferred);
    walk->run();
  });
}

} // namespace

void discover_api_resources(const std::shared_ptr<client>& c,
                            const infos_callback& done) {
  discover_core(
    c, [c, done](caf::expected<std::vector<api_resource_info>> core) {
      if (!core) {
        done(core.error());
        return;
      }
      discover_groups(
        c,
        [core = std::move(*core),
         done](caf::expected<std::vector<api_resource_info>> groups) mutable {
          if (!groups) {
            done(groups.error());
            return;
          }
          std::move(groups->begin(), groups->end(), std::back_inserter(core));
          done(std::move(core));
        });
    });
}

void discover(
  const std::shared_ptr<client>& c,
  std::function<void(caf::expected<std::vector<resource_type>>)> done) {
  discover_api_resources(
    c,
    [done
     = std::move(done)](caf::expected<std::vector<api_resource_info>> infos) {
      if (!infos) {
        done(infos.error());
        return;
      }
      done(select_watchable(*infos));
    });
}

} // namespace kws::kube
