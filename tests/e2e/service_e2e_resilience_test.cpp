// What k8s-watch-server must survive against the real control plane: a
// service account that may read little, an apiserver that holds its
// answers, bad queries, and a restart that resumes without duplicates or
// gaps. Linked after service_e2e_test.cpp: the restart must run last.
#include "tests/e2e/service_fixture.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

namespace kws::test {
namespace {

TEST_F(service, types_the_service_account_may_not_read_are_reported_not_fatal) {
  // A ServiceAccount that may read only ConfigMaps and Namespaces.
  auto name = "kws-e2e-limited-" + std::to_string(::getpid());
  std::string out;
  ASSERT_EQ(kubectl(cluster, "create serviceaccount limited -n " + ns, &out), 0)
    << out;
  ASSERT_EQ(kubectl(cluster,
                    "create clusterrole " + name
                      + " --verb=get,list,watch"
                        " --resource=configmaps,namespaces",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster,
                    "create clusterrolebinding " + name + " --clusterrole="
                      + name + " --serviceaccount=" + ns + ":limited",
                    &out),
            0)
    << out;
  std::string token;
  ASSERT_EQ(kubectl(cluster, "create token limited -n " + ns, &token), 0)
    << token;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
    token.pop_back();
  auto kubeconfig = dir / "limited.kubeconfig";
  std::ofstream{kubeconfig}
    << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
    << "    server: " << cluster.api_url << "\n"
    << "    certificate-authority: " << cluster.ca_file << "\n"
    << "users:\n- name: u\n  user:\n    token: " << token << "\n"
    << "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
    << "current-context: x\n";
  auto limited_port = free_port();
  server_process limited{{{"KUBECONFIG", kubeconfig.string()},
                          {"STORAGE_PATH", (dir / "limited-store").string()},
                          {"SERVER_PORT", std::to_string(limited_port)},
                          {"CONFIG_PATH", (dir / "resources.yaml").string()}},
                         (dir / "limited.log").string()};
  // Ready although most types are refused: they are reported, not waited for.
  test::http_result ready;
  EXPECT_TRUE(eventually(
    [&] {
      ready = http_get(limited_port, "/readyz");
      return ready.status == 200;
    },
    patience))
    << ready.body;
  EXPECT_NE(ready.body.find(R"("pods")"), std::string::npos) << ready.body;
  EXPECT_EQ(ready.body.find(R"("configmaps")"), std::string::npos)
    << ready.body;
  ASSERT_EQ(kubectl(cluster, "create configmap seen-by-limited -n " + ns, &out),
            0)
    << out;
  EXPECT_TRUE(eventually(
    [&] {
      auto res = http_get(limited_port,
                          "/api/v1/events?namespace=" + ns
                            + "&resourceName=seen-by-limited");
      return res.status == 200
        && res.body.find(R"("verb":"create")") != std::string::npos;
    },
    patience));
  EXPECT_EQ(limited.terminate(30s), 0);
  kubectl(cluster, "delete clusterrolebinding " + name);
  kubectl(cluster, "delete clusterrole " + name);
}

TEST_F(service, readiness_is_503_until_the_apiserver_answers) {
  // A second server talks to the apiserver through a proxy that holds every
  // answer: it serves, but cannot have listed anything, so it must not be
  // ready; once the answers pass, it must become ready.
  auto api_port = static_cast<uint16_t>(
    std::stoi(cluster.api_url.substr(cluster.api_url.rfind(':') + 1)));
  tcp_proxy proxy{api_port, true};
  ASSERT_NE(proxy.port(), 0);
  std::stringstream kubeconfig;
  kubeconfig << std::ifstream{cluster.kubeconfig}.rdbuf();
  auto text = kubeconfig.str();
  auto at = text.find(cluster.api_url);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, cluster.api_url.size(),
               "https://127.0.0.1:" + std::to_string(proxy.port()));
  auto proxied = dir / "proxied.kubeconfig";
  std::ofstream{proxied} << text;
  auto held_port = free_port();
  server_process held{{{"KUBECONFIG", proxied.string()},
                       {"STORAGE_PATH", (dir / "held-store").string()},
                       {"SERVER_PORT", std::to_string(held_port)},
                       {"CONFIG_PATH", (dir / "resources.yaml").string()}},
                      (dir / "held.log").string()};
  ASSERT_TRUE(eventually(
    [&] { return http_get(held_port, "/health").status == 200; }, patience));
  ASSERT_TRUE(eventually([&] { return proxy.connections() > 0; }, patience))
    << "the server never connected to the apiserver";
  auto before = http_get(held_port, "/readyz");
  EXPECT_EQ(before.status, 503) << before.body;
  EXPECT_NE(before.body.find(R"("status":"not ready")"), std::string::npos)
    << before.body;
  proxy.release();
  test::http_result after;
  EXPECT_TRUE(eventually(
    [&] {
      after = http_get(held_port, "/readyz");
      return after.status == 200;
    },
    patience))
    << after.status << " " << after.body;
  EXPECT_NE(after.body.find(R"("status":"ready")"), std::string::npos)
    << after.body;
  EXPECT_EQ(held.terminate(30s), 0);
}

TEST_F(service, bad_queries_are_400_naming_the_parameter) {
  auto res = http_get(port, "/api/v1/events?start=yesterday");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find(R"("parameter":"start")"), std::string::npos)
    << res.body;
  res = http_get(port, "/api/v1/events?resourceType=nosuchthings");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find(R"("parameter":"resourceType")"), std::string::npos)
    << res.body;
  EXPECT_EQ(
    http_get(port, "/api/v1/events/" + ns + "/pods/never-existed").status, 404);
}

// Runs last (gtest keeps declaration order): it restarts the shared server.
TEST_F(service, a_restart_resumes_without_duplicates_or_gaps) {
  std::string out;
  ASSERT_EQ(kubectl(cluster,
                    "create configmap keep -n " + ns + " --from-literal=v=1",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster, "create configmap doomed -n " + ns, &out), 0)
    << out;
  ASSERT_TRUE(eventually(
    [] {
      return has_verbs("configmaps", "keep", {"create"})
        && has_verbs("configmaps", "doomed", {"create"});
    },
    patience));
  // SIGTERM: a clean exit within 5 s.
  EXPECT_EQ(server->terminate(30s), 0);
  ASSERT_EQ(kubectl(cluster,
                    "patch configmap keep -n " + ns
                      + " --type merge -p '{\"data\":{\"v\":\"2\"}}'",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster, "delete configmap doomed -n " + ns, &out), 0)
    << out;
  start_server();
  EXPECT_TRUE(eventually(
    [] {
      return has_verbs("configmaps", "keep", {"create", "update"})
        && has_verbs("configmaps", "doomed", {"create", "delete"});
    },
    patience))
    << ::testing::PrintToString(verbs_of("configmaps", "keep")) << " "
    << ::testing::PrintToString(verbs_of("configmaps", "doomed"));
  // Nothing that existed before the restart is recorded again.
  auto doc = get_json("/api/v1/events?namespace=" + ns
                      + "&resourceType=configmaps&verb=create");
  std::map<std::string, int> creates;
  for (auto& rec : doc.GetArray())
    ++creates[rec["resourceName"].GetString()];
  for (auto& [name, n] : creates)
    EXPECT_EQ(n, 1) << name;
}

} // namespace
} // namespace kws::test
