#include "tests/support/service_queries.hpp"

#include "kube/wire.hpp"
#include "tests/support/http_client.hpp"

#include <rapidjson/document.h>

#include <sstream>

namespace kws::test {

const std::set<std::string> churn_watched_resources{"pods",
                                                    "nodes",
                                                    "namespaces",
                                                    "services",
                                                    "configmaps",
                                                    "secrets",
                                                    "persistentvolumes",
                                                    "persistentvolumeclaims",
                                                    "events",
                                                    "deployments",
                                                    "replicasets",
                                                    "statefulsets",
                                                    "daemonsets",
                                                    "jobs",
                                                    "cronjobs",
                                                    "ingresses",
                                                    "networkpolicies",
                                                    "widgets"};

const char* const churn_crd_manifest = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.churn.kws.test}
spec:
  group: churn.kws.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
)";

bool fetch_all(uint16_t port, const std::string& query,
               std::vector<record_digest>& out) {
  std::string token;
  for (;;) {
    auto target = "/api/v1/events?" + query + "&limit=1000";
    if (!token.empty())
      target += "&continue=" + kube::url_encode(token);
    auto res = http_get(port, target);
    rapidjson::Document doc;
    doc.Parse(res.body.c_str());
    if (res.status != 200 || !doc.IsArray())
      return false;
    for (auto& rec : doc.GetArray()) {
      record_digest d;
      d.id = rec["id"].GetString();
      d.key = {rec["resourceType"].GetString(), rec["namespace"].GetString(),
               rec["resourceName"].GetString()};
      d.verb = rec["verb"].GetString();
      d.uid = rec["uid"].GetString();
      d.resource_version = rec["resourceVersion"].GetString();
      d.final_state_unknown = rec.HasMember("finalStateUnknown")
        && rec["finalStateUnknown"].IsTrue();
      out.push_back(std::move(d));
    }
    if (res.headers["X-Has-More"] != "true")
      return true;
    token = res.headers["X-Continue"];
  }
}

bool fetch_namespaces(uint16_t port, const std::set<std::string>& names,
                      std::vector<record_digest>& out) {
  for (auto& name : names)
    if (!fetch_all(port, "namespace=" + name, out)
        || !fetch_all(port, "resourceType=namespaces&resourceName=" + name,
                      out))
      return false;
  return true;
}

std::vector<metric_sample> parse_metrics(const std::string& text) {
  std::vector<metric_sample> result;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    metric_sample s;
    auto end_of_name = line.find_first_of("{ ");
    if (end_of_name == std::string::npos)
      continue;
    s.name = line.substr(0, end_of_name);
    auto rest = end_of_name;
    if (line[end_of_name] == '{') {
      auto close = line.find('}', end_of_name);
      if (close == std::string::npos)
        continue;
      s.labels = line.substr(end_of_name + 1, close - end_of_name - 1);
      rest = close + 1;
    }
    std::istringstream value{line.substr(rest)};
    if (!(value >> s.value))
      continue;
    result.push_back(std::move(s));
  }
  return result;
}

std::string label_of(const metric_sample& sample, const std::string& key) {
  auto pattern = key + "=\"";
  auto at = sample.labels.find(pattern);
  // Only a whole label name: at the start or after a comma.
  while (at != std::string::npos && at != 0 && sample.labels[at - 1] != ',')
    at = sample.labels.find(pattern, at + 1);
  if (at == std::string::npos)
    return {};
  auto from = at + pattern.size();
  auto to = sample.labels.find('"', from);
  return sample.labels.substr(from, to == std::string::npos ? to : to - from);
}

double metric(uint16_t port, const std::string& name) {
  double sum = 0;
  for (auto& s : parse_metrics(http_get(port, "/metrics").body))
    if (s.name == name)
      sum += s.value;
  return sum;
}

} // namespace kws::test
