// `auth.mode: proxy` on the real control plane: a front proxy with a client
// certificate of its CA names users and groups in X-Remote-User and
// X-Remote-Group; the apiserver's SubjectAccessReviews of those names decide
// what each answer holds, as `kubectl auth can-i --as` says. Without the
// proxy's certificate the same headers count for nothing.
#include "tests/e2e/record_owners.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/https_client.hpp"
#include "tests/support/test_certs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

struct proxy_auth_e2e : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  static inline std::unique_ptr<server_process> server;
  /// Namespaces A and B.
  static inline std::string a;
  static inline std::string b;
  /// `alice` may get ConfigMaps in A (a RoleBinding of the user); members
  /// of `viewers` have the built-in `view` role everywhere (no Secrets);
  /// `bob` may get nothing.
  static inline std::string viewers;
  static inline test_cert server_cert;
  static inline test_cert proxy_ca;
  /// The front proxy's client certificate.
  static inline test_cert proxy;

  static void run(const std::string& args) {
    std::string out;
    ASSERT_EQ(kubectl(cluster, args, &out), 0) << args << ": " << out;
  }

  static void SetUpTestSuite() {
    cluster = load_cluster_state();
    auto pid = std::to_string(::getpid());
    dir = std::filesystem::temp_directory_path() / ("kws-proxy-e2e-" + pid);
    std::filesystem::create_directories(dir);
    a = "proxy-a-" + pid;
    b = "proxy-b-" + pid;
    viewers = "kws-viewers-" + pid;
    for (const auto& ns : {a, b}) {
      run("create namespace " + ns);
      run("create configmap settings -n " + ns + " --from-literal=k=v");
      run("create secret generic password -n " + ns + " --from-literal=p=q");
    }
    run("create role reader -n " + a
        + " --verb=get,list --resource=configmaps");
    run("create rolebinding alice -n " + a + " --role=reader --user=alice");
    run("create clusterrolebinding " + viewers
        + " --clusterrole=view --group=" + viewers);
    server_cert = make_test_cert("kws-proxy-e2e");
    proxy_ca = make_test_cert("kws-front-proxy-ca");
    proxy = make_client_cert(proxy_ca, "front-proxy-client");
    write_text((dir / "tls.crt").string(), server_cert.cert_pem);
    write_text((dir / "tls.key").string(), server_cert.key_pem);
    write_text((dir / "proxy-ca.crt").string(), proxy_ca.cert_pem);
    std::ofstream{dir / "config.yaml"}
      << "auth:\n"
         "  mode: proxy\n"
         "  proxy:\n"
         "    clientCAFile: "
      << (dir / "proxy-ca.crt").string()
      << "\n"
         "    allowedNames: [front-proxy-client]\n"
         "tls:\n"
         "  certFile: "
      << (dir / "tls.crt").string()
      << "\n  keyFile: " << (dir / "tls.key").string() << "\n";
    port = free_port();
    server = start_ready_server(cluster, dir.string(), port,
                                (dir / "config.yaml").string());
    // Everything above is recorded before the checks start.
    auto recorded = eventually(
      [] {
        auto res = as("admin", {"system:masters"},
                      "/api/v1/events?resourceType=secrets&namespace=" + b
                        + "&resourceName=password");
        return res.status == 200
          && res.body.find("password") != std::string::npos;
      },
      60s);
    ASSERT_TRUE(recorded) << "log in " << (dir / "server.log");
  }

  static void TearDownTestSuite() {
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(30s), 0);
    }
    server.reset();
    for (const auto& ns : {a, b})
      kubectl(cluster, "delete namespace " + ns + " --wait=false");
    kubectl(cluster, "delete clusterrolebinding " + viewers);
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  /// GET `target` through the front proxy, which names `user` and `groups`.
  static https_result as(const std::string& user,
                         const std::vector<std::string>& groups,
                         const std::string& target) {
    header_list headers{{"X-Remote-User", user}};
    for (const auto& g : groups)
      headers.emplace_back("X-Remote-Group", g);
    return https_call(port, server_cert.cert_pem, "GET", target, headers,
                      &proxy);
  }

  /// What `kubectl auth can-i get <resource> -n <ns> --as <user>` says.
  static bool can_i(const std::string& user,
                    const std::vector<std::string>& groups,
                    const std::string& resource, const std::string& ns) {
    std::string args
      = "auth can-i get " + resource + " -n " + ns + " --as=" + user;
    for (const auto& g : groups)
      args += " --as-group=" + g;
    std::string out;
    int rc = kubectl(cluster, args, &out);
    return rc == 0 && out.starts_with("yes");
  }
};

TEST_F(proxy_auth_e2e, each_named_caller_reads_what_can_i_says) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> callers
    = {{"alice", {}}, {"bob", {viewers}}, {"bob", {}}};
  for (const auto& [user, groups] : callers) {
    for (const auto& ns : {a, b}) {
      for (const std::string resource : {"configmaps", "secrets"}) {
        SCOPED_TRACE(user + (groups.empty() ? "" : " in " + groups[0]) + " "
                     + resource + " in " + ns);
        auto res
          = as(user, groups,
               "/api/v1/events?namespace=" + ns + "&resourceType=" + resource);
        ASSERT_EQ(res.error, "");
        if (!can_i(user, groups, resource, ns)) {
          EXPECT_EQ(res.status, 403) << res.body;
          EXPECT_NE(res.body.find("may not get " + resource), std::string::npos)
            << res.body;
          continue;
        }
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(
          record_owners(res.body),
          (std::set<std::pair<std::string, std::string>>{{ns, resource}}));
      }
    }
  }
}

TEST_F(proxy_auth_e2e, the_headers_count_only_from_the_proxy) {
  const std::string target
    = "/api/v1/events?resourceType=configmaps&namespace=" + a;
  ASSERT_EQ(as("alice", {}, target).status, 200);
  // The same headers from a client without the proxy's certificate.
  auto res = https_call(
    port, server_cert.cert_pem, "GET", target,
    {{"X-Remote-User", "admin"}, {"X-Remote-Group", "system:masters"}});
  EXPECT_EQ(res.status, 401) << res.body;
  EXPECT_NE(res.body.find("must come through the front proxy"),
            std::string::npos)
    << res.body;
  // A certificate of the proxy's CA, for a name that is not the proxy's.
  auto other = make_client_cert(proxy_ca, "some-workload");
  res = https_call(port, server_cert.cert_pem, "GET", target,
                   {{"X-Remote-User", "admin"}}, &other);
  EXPECT_EQ(res.status, 401) << res.body;
  // The proxy naming nobody.
  res = https_call(port, server_cert.cert_pem, "GET", target, {}, &proxy);
  EXPECT_EQ(res.status, 401) << res.body;
  // Probes need no one.
  EXPECT_EQ(https_call(port, server_cert.cert_pem, "GET", "/readyz").status,
            200);
}

TEST_F(proxy_auth_e2e, mcp_tools_answer_with_the_named_callers_permissions) {
  const std::string call
    = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":)"
      R"("list_changes","arguments":{"resourceType":"configmaps"}}})";
  header_list headers{{"Content-Type", "application/json"},
                      {"Accept", "application/json, text/event-stream"},
                      {"MCP-Protocol-Version", "2025-06-18"},
                      {"X-Remote-User", "alice"}};
  auto res = https_call(port, server_cert.cert_pem, "POST", "/mcp", headers,
                        &proxy, call);
  ASSERT_EQ(res.status, 200) << res.error << res.body;
  EXPECT_NE(res.body.find("\\\"namespace\\\":\\\"" + a + "\\\""),
            std::string::npos)
    << res.body;
  EXPECT_EQ(res.body.find(b), std::string::npos) << res.body;
}

} // namespace
} // namespace kws::test
