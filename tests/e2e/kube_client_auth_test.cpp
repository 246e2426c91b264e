// The kube client's TLS and every credential kind against the real control
// plane: client certificates, server name verification, bearer tokens, a
// service account directory, a kubeconfig, and token files and exec plugins
// refreshed after a 401.
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "tests/e2e/kube_client_fixture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace kws::kube;
using namespace kws::kube::e2e;
using namespace std::chrono_literals;
using kws::ec;

// -- authentication and TLS ---------------------------------------------------

TEST_F(kube_e2e, tls_with_client_certificate) {
  auto version = call(*admin, "GET", "/version");
  ASSERT_TRUE(version) << kws::render(version.error());
  EXPECT_FALSE(json_string(*version, "gitVersion").empty());
  auto nss = call(*admin, "GET", "/api/v1/namespaces");
  ASSERT_TRUE(nss) << kws::render(nss.error());
  EXPECT_NE(nss->find(ns), std::string::npos);
}

TEST_F(kube_e2e, tls_server_name_and_hostname_verification) {
  auto cfg = admin_cert_config();
  cfg.tls_server_name = "kubernetes.default.svc";
  auto c = make_client(cfg);
  ASSERT_TRUE(c);
  EXPECT_TRUE(call(*c, "GET", "/version"));
  cfg.tls_server_name = "not-the-apiserver.example.com";
  auto wrong = make_client(cfg);
  ASSERT_TRUE(wrong);
  auto res = call(*wrong, "GET", "/version");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::transport_error);
  EXPECT_NE(kws::render(res.error()).find("certificate verification failed"),
            std::string::npos)
    << kws::render(res.error());
  // Without the cluster CA (system roots only) the server is not trusted.
  auto no_ca = admin_cert_config();
  no_ca.ca_pem.clear();
  auto untrusted = make_client(no_ca);
  ASSERT_TRUE(untrusted);
  EXPECT_EQ(call(*untrusted, "GET", "/version").error(), ec::transport_error);
}

TEST_F(kube_e2e, bearer_token) {
  auto c = make_client(token_config(state.admin_token));
  ASSERT_TRUE(c);
  auto nss = call(*c, "GET", "/api/v1/namespaces?limit=1");
  ASSERT_TRUE(nss) << kws::render(nss.error());
  auto bad = make_client(token_config("not-a-valid-token"));
  ASSERT_TRUE(bad);
  auto res = call(*bad, "GET", "/api/v1/namespaces?limit=1");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::unauthorized);
  EXPECT_NE(kws::render(res.error()).find("HTTP 401"), std::string::npos);
}

TEST_F(kube_e2e, service_account_directory) {
  ASSERT_FALSE(state.sa_token_dir.empty());
  auto [host, port] = api_host_port();
  setenv("KUBERNETES_SERVICE_HOST", host.c_str(), 1);
  setenv("KUBERNETES_SERVICE_PORT", port.c_str(), 1);
  auto cfg = load_in_cluster(state.sa_token_dir);
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(cfg) << kws::render(cfg.error());
  EXPECT_EQ(cfg->namespace_, state.sa_namespace);
  auto c = make_client(*cfg);
  ASSERT_TRUE(c);
  // The reader may list and watch everything but write nothing.
  auto pods = call(*c, "GET", "/api/v1/pods?limit=1");
  ASSERT_TRUE(pods) << kws::render(pods.error());
  auto write = call(*c, "POST", cm_path(), configmap("forbidden", "x"));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error(), ec::unauthorized);
  EXPECT_NE(kws::render(write.error()).find("HTTP 403"), std::string::npos);
  // The service account can run a whole reflector.
  auto rec = watch(c, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
}

TEST_F(kube_e2e, harness_kubeconfig) {
  auto cfg = load_kubeconfig(state.kubeconfig);
  ASSERT_TRUE(cfg) << kws::render(cfg.error());
  auto c = make_client(*cfg);
  ASSERT_TRUE(c);
  EXPECT_TRUE(call(*c, "GET", "/api/v1/namespaces?limit=1"));
}

TEST_F(kube_e2e, token_file_is_reread_after_401) {
  auto dir = std::filesystem::temp_directory_path() / ("kws-e2e-" + ns);
  std::filesystem::create_directories(dir);
  auto token_path = (dir / "token").string();
  std::ofstream{token_path} << "stale-token\n";
  auto cfg = token_config("");
  cfg.token_file = token_path;
  auto c = make_client(cfg);
  ASSERT_TRUE(c);
  auto first = call(*c, "GET", "/api/v1/namespaces?limit=1");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), ec::unauthorized);
  // The kubelet rotates the token; the next 401 re-reads the file at once
  // (not only after the one-minute period).
  std::ofstream{token_path} << state.admin_token << "\n";
  auto second = call(*c, "GET", "/api/v1/namespaces?limit=1");
  EXPECT_TRUE(second) << kws::render(second.error());
  std::filesystem::remove_all(dir);
}

TEST_F(kube_e2e, exec_plugin_token_refreshed_on_401) {
  auto dir = std::filesystem::temp_directory_path() / ("kws-e2e-" + ns);
  std::filesystem::create_directories(dir);
  auto counter = (dir / "count").string();
  auto plugin = (dir / "plugin.sh").string();
  // First run hands out a bad token, later runs the admin token.
  std::ofstream{plugin} << fmt::format(R"(#!/bin/sh
n=$(cat {0} 2>/dev/null || echo 0)
n=$((n+1)); echo $n > {0}
tok=bad-token
[ "$n" -gt 1 ] && tok={1}
case "$KUBERNETES_EXEC_INFO" in *'"server":"{2}"'*) ;; *) tok=no-cluster-info ;; esac
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s"}}}}' "$tok"
)",
                                       counter, state.admin_token,
                                       state.api_url);
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  auto kubeconfig = (dir / "config").string();
  std::ofstream{kubeconfig} << fmt::format(R"(apiVersion: v1
kind: Config
current-context: exec
clusters:
- name: c
  cluster: {{server: "{}", certificate-authority: "{}"}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      interactiveMode: Never
      provideClusterInfo: true
contexts:
- name: exec
  context: {{cluster: c, user: u}}
)",
                                           state.api_url, state.ca_file);
  auto cfg = load_kubeconfig(kubeconfig);
  ASSERT_TRUE(cfg) << kws::render(cfg.error());
  auto c = make_client(*cfg);
  ASSERT_TRUE(c);
  auto res = call(*c, "GET", "/api/v1/namespaces?limit=1");
  EXPECT_TRUE(res) << kws::render(res.error());
  EXPECT_EQ(slurp(counter), "2\n");
  // Cached: no expiry was given, so no new run until a 401.
  EXPECT_TRUE(call(*c, "GET", "/api/v1/namespaces?limit=1"));
  EXPECT_EQ(slurp(counter), "2\n");
  std::filesystem::remove_all(dir);
}
