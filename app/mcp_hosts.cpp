#include "app/mcp_hosts.hpp"

#include <cstdlib>
#include <fstream>

namespace kws::app {

namespace {

void add_list(std::vector<std::string>& out, const char* env) {
  const char* raw = std::getenv(env);
  if (!raw)
    return;
  std::string item;
  for (const char* p = raw;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!item.empty())
        out.push_back(item);
      item.clear();
      if (*p == '\0')
        break;
    } else if (*p != ' ') {
      item += *p;
    }
  }
}

std::string pod_namespace() {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns)
    return ns;
  std::ifstream in{"/var/run/secrets/kubernetes.io/serviceaccount/namespace"};
  std::string ns;
  std::getline(in, ns);
  return ns;
}

} // namespace

std::vector<std::string> service_host_names() {
  const std::string service = "k8s-watch-server";
  std::vector<std::string> out{service};
  if (auto ns = pod_namespace(); !ns.empty())
    for (const char* suffix : {"", ".svc", ".svc.cluster.local"}) {
      std::string name = service;
      name.append(".").append(ns).append(suffix);
      out.push_back(std::move(name));
    }
  add_list(out, "MCP_ALLOWED_HOSTS");
  return out;
}

std::vector<std::string> allowed_origins() {
  std::vector<std::string> out;
  add_list(out, "MCP_ALLOWED_ORIGINS");
  return out;
}

} // namespace kws::app
