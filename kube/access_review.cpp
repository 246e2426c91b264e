#include "kube/access_review.hpp"

#include "util/errors.hpp"
#include "util/json_parse.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <set>

namespace kws::kube {

namespace {

using writer_t = rapidjson::Writer<rapidjson::StringBuffer>;

void key_string(writer_t& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

caf::expected<rapidjson::Document> parse_body(std::string_view body,
                                              const char* what) {
  rapidjson::Document doc;
  if (json::parse(doc, body).IsError() || !doc.IsObject())
    return caf::make_error(ec::parse_error,
                           std::string{"the apiserver's "} + what
                             + " is not a JSON object");
  return doc;
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject())
    return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string string_member(const rapidjson::Value& v, const char* name) {
  const auto* m = member(v, name);
  return m && m->IsString() ? std::string{m->GetString(), m->GetStringLength()}
                            : std::string{};
}

bool true_member(const rapidjson::Value& v, const char* name) {
  const auto* m = member(v, name);
  return m && m->IsBool() && m->GetBool();
}

} // namespace

std::string token_review_body(std::string_view token,
                              const std::vector<std::string>& audiences) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  key_string(w, "apiVersion", "authentication.k8s.io/v1");
  key_string(w, "kind", "TokenReview");
  w.Key("spec");
  w.StartObject();
  key_string(w, "token", token);
  if (!audiences.empty()) {
    w.Key("audiences");
    w.StartArray();
    for (const auto& a : audiences)
      w.String(a.data(), static_cast<rapidjson::SizeType>(a.size()));
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

caf::expected<caller> parse_token_review(std::string_view body) {
  auto doc = parse_body(body, "TokenReview");
  if (!doc)
    return doc.error();
  const auto* status = member(*doc, "status");
  if (!status || !status->IsObject())
    return caf::make_error(ec::parse_error,
                           "the apiserver's TokenReview has no status");
  if (!true_member(*status, "authenticated")) {
    auto why = string_member(*status, "error");
    return caf::make_error(ec::unauthenticated,
                           why.empty() ? "the token is not valid"
                                       : "the token is not valid: " + why);
  }
  caller out;
  const auto* user = member(*status, "user");
  if (!user || !user->IsObject())
    return caf::make_error(ec::parse_error,
                           "the apiserver's TokenReview names no user");
  out.user = string_member(*user, "username");
  out.uid = string_member(*user, "uid");
  if (const auto* groups = member(*user, "groups"); groups && groups->IsArray())
    for (const auto& g : groups->GetArray())
      if (g.IsString())
        out.groups.emplace_back(g.GetString(), g.GetStringLength());
  if (const auto* extra = member(*user, "extra"); extra && extra->IsObject()) {
    rapidjson::StringBuffer buf;
    writer_t w{buf};
    extra->Accept(w);
    out.extra_json.assign(buf.GetString(), buf.GetSize());
  }
  if (out.user.empty())
    return caf::make_error(ec::parse_error,
                           "the apiserver's TokenReview names no user");
  return out;
}

std::string access_review_body(const caller& who, const review_key& what) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  key_string(w, "apiVersion", "authorization.k8s.io/v1");
  key_string(w, "kind", "SubjectAccessReview");
  w.Key("spec");
  w.StartObject();
  key_string(w, "user", who.user);
  if (!who.uid.empty())
    key_string(w, "uid", who.uid);
  w.Key("groups");
  w.StartArray();
  for (const auto& g : who.groups)
    w.String(g.data(), static_cast<rapidjson::SizeType>(g.size()));
  w.EndArray();
  if (!who.extra_json.empty()) {
    w.Key("extra");
    w.RawValue(who.extra_json.data(), who.extra_json.size(),
               rapidjson::kObjectType);
  }
  w.Key("resourceAttributes");
  w.StartObject();
  if (!what.ns.empty())
    key_string(w, "namespace", what.ns);
  key_string(w, "verb", "get");
  key_string(w, "group", what.group);
  key_string(w, "resource", what.resource);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

caf::expected<bool> parse_access_review(std::string_view body) {
  auto doc = parse_body(body, "SubjectAccessReview");
  if (!doc)
    return doc.error();
  const auto* status = member(*doc, "status");
  if (!status || !status->IsObject())
    return caf::make_error(ec::parse_error,
                           "the apiserver's SubjectAccessReview has no status");
  return true_member(*status, "allowed") && !true_member(*status, "denied");
}

caf::expected<std::vector<std::string>>
parse_namespace_names(std::string_view body) {
  auto doc = parse_body(body, "NamespaceList");
  if (!doc)
    return doc.error();
  const auto* items = member(*doc, "items");
  if (!items || !items->IsArray())
    return caf::make_error(ec::parse_error,
                           "the apiserver's NamespaceList has no items");
  std::vector<std::string> out;
  for (const auto& item : items->GetArray())
    if (const auto* meta = member(item, "metadata"))
      if (auto name = string_member(*meta, "name"); !name.empty())
        out.push_back(std::move(name));
  std::sort(out.begin(), out.end());
  return out;
}

access_plan plan_access(const access_request& req, const review_lookup& known,
                        const std::vector<std::string>* namespaces) {
  // One entry per group_resource; in one namespace only namespaced types.
  std::map<std::string, const resource_type*> types;
  for (const auto& t : req.types)
    if (req.ns.empty() || t.namespaced)
      types.emplace(t.group_resource(), &t);
  access_plan plan;
  access_grant grant;
  auto& filter = grant.filter;
  filter.everything = true;
  // The types the caller may not get in every namespace of the request.
  std::vector<std::pair<std::string, const resource_type*>> narrowed;
  for (const auto& [gr, t] : types) {
    review_key key{req.ns, t->group, t->plural};
    auto allowed = known(key);
    if (!allowed) {
      plan.missing.push_back(std::move(key));
      continue;
    }
    if (*allowed) {
      if (req.ns.empty())
        filter.cluster_types.push_back(gr);
      else
        filter.namespace_types.push_back(req.ns + "/" + gr);
      continue;
    }
    filter.everything = false;
    if (req.ns.empty() && t->namespaced && req.per_namespace)
      narrowed.emplace_back(gr, t);
    else
      grant.denied_types.push_back(gr);
  }
  if (!plan.missing.empty())
    return plan;
  if (!narrowed.empty() && !namespaces) {
    plan.needs_namespaces = true;
    return plan;
  }
  std::set<std::string> partial;
  for (const auto& [gr, t] : narrowed) {
    std::vector<std::string> denied_in;
    bool any = false;
    for (const auto& ns : *namespaces) {
      review_key key{ns, t->group, t->plural};
      auto allowed = known(key);
      if (!allowed)
        plan.missing.push_back(std::move(key));
      else if (*allowed) {
        filter.namespace_types.push_back(ns);
        filter.namespace_types.back().append("/").append(gr);
        any = true;
      } else
        denied_in.push_back(ns);
    }
    if (!any)
      grant.denied_types.push_back(gr);
    else
      partial.insert(denied_in.begin(), denied_in.end());
  }
  if (!plan.missing.empty())
    return plan;
  std::sort(filter.cluster_types.begin(), filter.cluster_types.end());
  std::sort(filter.namespace_types.begin(), filter.namespace_types.end());
  std::sort(grant.denied_types.begin(), grant.denied_types.end());
  grant.partial_namespaces.assign(partial.begin(), partial.end());
  if (filter.everything) {
    filter.cluster_types.clear();
    filter.namespace_types.clear();
  }
  plan.grant = std::move(grant);
  return plan;
}

} // namespace kws::kube
