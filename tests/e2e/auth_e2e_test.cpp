// `auth.mode: token` on the real control plane: tokens of ServiceAccounts,
// checked by the apiserver's TokenReview, and answers narrowed to what each
// account may get, compared with what `kubectl auth can-i` says. The server
// serves HTTPS (`tls`); the checks that speak plain HTTP do so from
// loopback, which a TLS port still serves.
#include "tests/e2e/record_owners.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/https_client.hpp"
#include "tests/support/test_certs.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

struct auth_e2e : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  static inline std::unique_ptr<server_process> server;
  /// Namespaces A and B; the accounts live in A.
  static inline std::string a;
  static inline std::string b;
  /// Tokens by account: `reader` may get ConfigMaps and Pods in A only,
  /// `viewer` has the built-in `view` role everywhere (no Secrets),
  /// `admin` is cluster-admin.
  static inline std::map<std::string, std::string> tokens;
  /// The server's certificate (for localhost), its own trust anchor.
  static inline test_cert cert;

  static void run(const std::string& args, const std::string& in = {}) {
    std::string out;
    ASSERT_EQ(kubectl(cluster, args, &out, in), 0) << args << ": " << out;
  }

  static std::string token_of(const std::string& account) {
    std::string out;
    EXPECT_EQ(kubectl(cluster,
                      "create token " + account + " -n " + a + " --duration=1h",
                      &out),
              0)
      << out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
      out.pop_back();
    return out;
  }

  static void SetUpTestSuite() {
    cluster = load_cluster_state();
    dir = std::filesystem::temp_directory_path()
      / ("kws-auth-e2e-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    a = "auth-a-" + std::to_string(::getpid());
    b = "auth-b-" + std::to_string(::getpid());
    for (const auto& ns : {a, b}) {
      run("create namespace " + ns);
      run("create configmap settings -n " + ns + " --from-literal=k=v");
      run("create secret generic password -n " + ns + " --from-literal=p=q");
    }
    for (const char* sa : {"reader", "viewer", "admin"})
      run("create serviceaccount " + std::string{sa} + " -n " + a);
    run("create role reader -n " + a
        + " --verb=get,list --resource=configmaps,pods");
    run("create rolebinding reader -n " + a
        + " --role=reader --serviceaccount=" + a + ":reader");
    run("create clusterrolebinding " + a + "-viewer --clusterrole=view "
        + "--serviceaccount=" + a + ":viewer");
    run("create clusterrolebinding " + a + "-admin --clusterrole=cluster-admin "
        + "--serviceaccount=" + a + ":admin");
    for (const char* sa : {"reader", "viewer", "admin"})
      tokens[sa] = token_of(sa);
    // Short caches, so that a removed RoleBinding shows within the test.
    cert = make_test_cert("kws-auth-e2e");
    write_text((dir / "tls.crt").string(), cert.cert_pem);
    write_text((dir / "tls.key").string(), cert.key_pem);
    std::ofstream{dir / "config.yaml"}
      << "auth:\n"
         "  mode: token\n"
         "  cacheSeconds: 2\n"
         "  failureCacheSeconds: 2\n"
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
        auto res = get("admin",
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
    for (const char* who : {"-viewer", "-admin"})
      kubectl(cluster, "delete clusterrolebinding " + a + who);
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  static http_result get(const std::string& account,
                         const std::string& target) {
    return http_call(port, "GET", target,
                     {{"Authorization", "Bearer " + tokens.at(account)}});
  }

  /// What `kubectl auth can-i get <resource> -n <ns>` says for an account.
  static bool can_i(const std::string& account, const std::string& resource,
                    const std::string& ns) {
    std::string out;
    int rc = kubectl(cluster,
                     "auth can-i get " + resource + " -n " + ns
                       + " --as=system:serviceaccount:" + a + ":" + account,
                     &out);
    return rc == 0 && out.starts_with("yes");
  }
};

TEST_F(auth_e2e, a_missing_or_invalid_token_is_401) {
  auto res = http_get(port, "/api/v1/events?limit=1");
  EXPECT_EQ(res.status, 401) << res.body;
  EXPECT_EQ(res.headers["WWW-Authenticate"], "Bearer");
  EXPECT_NE(res.body.find("Authorization: Bearer"), std::string::npos);
  res = http_call(port, "GET", "/api/v1/events?limit=1",
                  {{"Authorization", "Bearer not-a-token"}});
  EXPECT_EQ(res.status, 401) << res.body;
  res = http_call(port, "GET", "/api/v1/changes",
                  {{"Authorization", "Basic " + tokens.at("admin")}});
  EXPECT_EQ(res.status, 401) << res.body;
  // Probes and metrics stay open for the kubelet and Prometheus.
  EXPECT_EQ(http_get(port, "/readyz").status, 200);
  EXPECT_EQ(http_get(port, "/metrics").status, 200);
}

TEST_F(auth_e2e, each_account_reads_what_can_i_says) {
  for (const char* account : {"reader", "viewer", "admin"}) {
    for (const auto& ns : {a, b}) {
      for (const auto& [resource, name] : std::map<std::string, std::string>{
             {"configmaps", "settings"}, {"secrets", "password"}}) {
        auto allowed = can_i(account, resource, ns);
        auto res
          = get(account,
                "/api/v1/events?namespace=" + ns + "&resourceType=" + resource);
        SCOPED_TRACE(std::string{account} + " " + resource + " in " + ns);
        if (!allowed) {
          EXPECT_EQ(res.status, 403) << res.body;
          EXPECT_NE(res.body.find("may not get " + resource), std::string::npos)
            << res.body;
          auto history = get(
            account, "/api/v1/events/" + ns + "/" + resource + "/" + name);
          EXPECT_EQ(history.status, 403) << history.body;
          continue;
        }
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(
          record_owners(res.body),
          (std::set<std::pair<std::string, std::string>>{{ns, resource}}));
        auto history
          = get(account, "/api/v1/events/" + ns + "/" + resource + "/" + name);
        EXPECT_EQ(history.status, 200) << history.body;
      }
    }
  }
}

TEST_F(auth_e2e, answers_over_every_namespace_are_narrowed) {
  // The reader may get ConfigMaps in A only: B's is left out, and said so.
  auto res = get("reader", "/api/v1/events?resourceType=configmaps");
  ASSERT_EQ(res.status, 200) << res.body;
  auto seen = record_owners(res.body);
  EXPECT_TRUE(seen.contains({a, "configmaps"}));
  EXPECT_FALSE(seen.contains({b, "configmaps"}));
  EXPECT_NE(res.headers["X-Filtered-Namespaces"].find(b), std::string::npos);
  // Everything the reader gets: ConfigMaps and Pods of A, nothing else.
  res = get("reader", "/api/v1/events?limit=1000");
  ASSERT_EQ(res.status, 200) << res.body;
  for (const auto& [ns, type] : record_owners(res.body)) {
    EXPECT_EQ(ns, a) << type;
    EXPECT_TRUE(type == "configmaps" || type == "pods") << type;
  }
  EXPECT_NE(res.headers["X-Filtered-Resources"].find("secrets"),
            std::string::npos);
  // The viewer reads every namespace but no Secret, in every answer.
  res = get("viewer", "/api/v1/events?limit=1000&namespace=" + b);
  ASSERT_EQ(res.status, 200) << res.body;
  seen = record_owners(res.body);
  EXPECT_TRUE(seen.contains({b, "configmaps"}));
  EXPECT_FALSE(seen.contains({b, "secrets"}));
  res = get("viewer", "/api/v1/changes?namespace=" + b);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body.find("\"secrets\""), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("\"configmaps\""), std::string::npos) << res.body;
  // The administrator's answers are whole.
  res = get("admin", "/api/v1/events?limit=1000&namespace=" + b);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(record_owners(res.body).contains({b, "secrets"}));
  EXPECT_EQ(res.headers.count("X-Filtered-Resources"), 0u);
}

TEST_F(auth_e2e, a_record_by_id_needs_its_own_permission) {
  auto res
    = get("admin", "/api/v1/events?resourceType=configmaps&namespace=" + b);
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  ASSERT_TRUE(doc.IsArray() && !doc.Empty()) << res.body;
  std::string id = doc[0]["id"].GetString();
  EXPECT_EQ(get("viewer", "/api/v1/records/" + id).status, 200);
  auto denied = get("reader", "/api/v1/records/" + id);
  EXPECT_EQ(denied.status, 403) << denied.body;
}

TEST_F(auth_e2e, mcp_tools_answer_with_the_callers_permissions) {
  const std::string call
    = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":)"
      R"("list_changes","arguments":{"resourceType":"configmaps"}}})";
  std::map<std::string, std::string> headers{
    {"Content-Type", "application/json"},
    {"Accept", "application/json, text/event-stream"},
    {"MCP-Protocol-Version", "2025-06-18"}};
  auto res = http_call(port, "POST", "/mcp", headers, call);
  EXPECT_EQ(res.status, 401) << res.body;
  headers["Authorization"] = "Bearer " + tokens.at("reader");
  res = http_call(port, "POST", "/mcp", headers, call);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body.find("\\\"namespace\\\":\\\"" + a + "\\\""),
            std::string::npos)
    << res.body;
  EXPECT_EQ(res.body.find(b), std::string::npos) << res.body;
}

TEST_F(auth_e2e, https_carries_the_token_and_its_narrowed_answer) {
  auto target = "/api/v1/events?resourceType=configmaps&namespace=" + a;
  auto res = https_call(port, cert.cert_pem, "GET", target,
                        {{"Authorization", "Bearer " + tokens.at("reader")}});
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.peer_name, "kws-auth-e2e");
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(record_owners(res.body),
            (std::set<std::pair<std::string, std::string>>{{a, "configmaps"}}));
  res = https_call(port, cert.cert_pem, "GET",
                   "/api/v1/events?resourceType=secrets&namespace=" + a,
                   {{"Authorization", "Bearer " + tokens.at("reader")}});
  EXPECT_EQ(res.status, 403) << res.body;
  res = https_call(port, cert.cert_pem, "GET", target);
  EXPECT_EQ(res.status, 401) << res.body;
}

TEST_F(auth_e2e, the_stdio_relay_sends_the_token_of_its_file) {
  auto token_file = dir / "reader.token";
  std::ofstream{token_file} << tokens.at("reader") << "\n";
  const std::string lines
    = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":)"
      R"("list_changes","arguments":{"resourceType":"configmaps"}}})"
      "\n";
  auto relay = [&](const std::string& url, const std::string& flags) {
    std::string out;
    int rc = run_command(
      "printf '%s' '" + lines + "' | " + std::getenv("KWS_SERVER_BINARY")
        + " mcp --url " + url + " " + flags,
      {{"KWS_TOKEN", ""}, {"KUBECONFIG", "/nonexistent"}}, &out);
    EXPECT_EQ(rc, 0) << out;
    return out;
  };
  const auto plain = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
  const auto secure = "https://localhost:" + std::to_string(port) + "/mcp";
  auto out = relay(plain, "--token-file " + token_file.string());
  EXPECT_NE(out.find("\\\"namespace\\\":\\\"" + a), std::string::npos) << out;
  EXPECT_EQ(out.find(b), std::string::npos) << out;
  out = relay(plain, "");
  EXPECT_NE(out.find("the server answered 401"), std::string::npos) << out;
  // Over HTTPS, trusting the server's certificate.
  out = relay(secure,
              "--token-file " + token_file.string() + " --ca-file "
                + (dir / "tls.crt").string());
  EXPECT_NE(out.find("\\\"namespace\\\":\\\"" + a), std::string::npos) << out;
  EXPECT_EQ(out.find(b), std::string::npos) << out;
  // The system's certificates do not vouch for it: nothing is sent.
  out = relay(secure, "--token-file " + token_file.string());
  EXPECT_NE(out.find("cannot reach " + secure), std::string::npos) << out;
  EXPECT_NE(out.find("certificate verify failed"), std::string::npos) << out;
}

// Last: it takes the reader's RoleBinding away.
TEST_F(auth_e2e, z_a_removed_role_binding_takes_effect_within_the_cache_ttl) {
  auto target = "/api/v1/events?resourceType=configmaps&namespace=" + a;
  ASSERT_EQ(get("reader", target).status, 200);
  run("delete rolebinding reader -n " + a);
  // The cache keeps answers for 2 s; the apiserver's RBAC needs a moment.
  EXPECT_TRUE(
    eventually([&] { return get("reader", target).status == 403; }, 15s));
}

} // namespace
} // namespace kws::test
