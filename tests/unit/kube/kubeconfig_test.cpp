#include "kube/kubeconfig.hpp"

#include "kube/client.hpp"
#include "test_data.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>

using namespace kws::kube;
using kws::ec;

namespace {

/// Sets an environment variable for the scope of a test.
class scoped_env {
public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    setenv(name, value.c_str(), 1);
  }

  ~scoped_env() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

private:
  const char* name_;
  std::optional<std::string> old_;
};

/// base64 of "CA-PEM", "CERT-PEM", "KEY-PEM".
constexpr auto ca_b64 = "Q0EtUEVN";
constexpr auto cert_b64 = "Q0VSVC1QRU0=";
constexpr auto key_b64 = "S0VZLVBFTQ==";

std::string render_error(const caf::expected<cluster_config>& x) {
  return x ? std::string{"(no error)"} : kws::render(x.error());
}

struct kubeconfig_test : ::testing::Test {
  std::string dir = test::temp_dir("kws-kubeconfig");

  ~kubeconfig_test() override { std::filesystem::remove_all(dir); }

  std::string file(const std::string& name, const std::string& text) {
    return test::write_file(dir + "/" + name, text);
  }
};

} // namespace

TEST_F(kubeconfig_test, every_cluster_and_user_field_inline) {
  auto text = fmt::format(R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster:
    server: https://api.prod.example.com:6443
    certificate-authority-data: {}
    tls-server-name: kubernetes.default
users:
- name: alice
  user:
    client-certificate-data: {}
    client-key-data: {}
    token: tok-123
contexts:
- name: prod
  context: {{cluster: prod, user: alice, namespace: shop}}
)",
                          ca_b64, cert_b64, key_b64);
  auto cfg = load_kubeconfig(file("config", text));
  ASSERT_TRUE(cfg) << render_error(cfg);
  EXPECT_EQ(cfg->server, "https://api.prod.example.com:6443");
  EXPECT_EQ(cfg->ca_pem, "CA-PEM");
  EXPECT_EQ(cfg->client_cert_pem, "CERT-PEM");
  EXPECT_EQ(cfg->client_key_pem, "KEY-PEM");
  EXPECT_EQ(cfg->token, "tok-123");
  EXPECT_EQ(cfg->tls_server_name, "kubernetes.default");
  EXPECT_FALSE(cfg->insecure_skip_tls_verify);
  EXPECT_EQ(cfg->namespace_, "shop");
  EXPECT_NE(cfg->source.find("context prod"), std::string::npos);
  EXPECT_FALSE(cfg->exec);
}

TEST_F(kubeconfig_test, file_paths_resolve_against_the_kubeconfig_dir) {
  std::filesystem::create_directories(dir + "/pki");
  file("pki/ca.crt", "CA FROM FILE");
  file("pki/admin.crt", "CERT FROM FILE");
  file("pki/admin.key", "KEY FROM FILE");
  file("token", "  file-token\n");
  auto cfg = load_kubeconfig(file("config", R"(
clusters:
- name: c
  cluster: {server: "https://10.0.0.1", certificate-authority: pki/ca.crt}
users:
- name: u
  user: {client-certificate: pki/admin.crt, client-key: pki/admin.key, tokenFile: token}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)"));
  ASSERT_TRUE(cfg) << render_error(cfg);
  EXPECT_EQ(cfg->ca_pem, "CA FROM FILE");
  EXPECT_EQ(cfg->ca_file, dir + "/pki/ca.crt");
  EXPECT_EQ(cfg->client_cert_pem, "CERT FROM FILE");
  EXPECT_EQ(cfg->client_key_pem, "KEY FROM FILE");
  EXPECT_EQ(cfg->token, "");
  EXPECT_EQ(cfg->token_file, dir + "/token");
  EXPECT_EQ(cfg->namespace_, "default");
}

TEST_F(kubeconfig_test, inline_data_wins_over_files) {
  auto cfg = load_kubeconfig(file("config",
                                  fmt::format(R"(
clusters:
- name: c
  cluster: {{server: "https://h", certificate-authority: /nonexistent, certificate-authority-data: {}}}
contexts: [{{name: x, context: {{cluster: c}}}}]
current-context: x
)",
                                              ca_b64)));
  ASSERT_TRUE(cfg) << render_error(cfg);
  EXPECT_EQ(cfg->ca_pem, "CA-PEM");
}

TEST_F(kubeconfig_test, explicit_context_and_insecure) {
  auto path = file("config", R"(
clusters:
- {name: a, cluster: {server: "https://a:1"}}
- {name: b, cluster: {server: "https://b:2", insecure-skip-tls-verify: true}}
users:
- {name: ua, user: {token: ta}}
- {name: ub, user: {token: tb}}
contexts:
- {name: ca, context: {cluster: a, user: ua}}
- {name: cb, context: {cluster: b, user: ub}}
current-context: ca
)");
  auto a = load_kubeconfig(path);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->server, "https://a:1");
  auto b = load_kubeconfig(path, "cb");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->server, "https://b:2");
  EXPECT_EQ(b->token, "tb");
  EXPECT_TRUE(b->insecure_skip_tls_verify);
  auto missing = load_kubeconfig(path, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), ec::config_error);
  EXPECT_NE(render_error(missing).find("context 'nope' not found"),
            std::string::npos);
  EXPECT_NE(render_error(missing).find(path), std::string::npos);
}

TEST_F(kubeconfig_test, exec_plugin_fields) {
  std::filesystem::create_directories(dir + "/bin");
  auto cfg = load_kubeconfig(file("config", R"(
clusters: [{name: c, cluster: {server: "https://h"}}]
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: ["eks", "get-token", "--cluster-name", "prod"]
      env: [{name: AWS_PROFILE, value: prod}]
      interactiveMode: Never
      provideClusterInfo: true
contexts: [{name: x, context: {cluster: c, user: eks}}]
current-context: x
)"));
  ASSERT_TRUE(cfg) << render_error(cfg);
  ASSERT_TRUE(cfg->exec);
  EXPECT_EQ(cfg->exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(cfg->exec->command, dir + "/bin/get-token");
  EXPECT_EQ(
    cfg->exec->args,
    (std::vector<std::string>{"eks", "get-token", "--cluster-name", "prod"}));
  ASSERT_EQ(cfg->exec->env.size(), 1u);
  EXPECT_EQ(cfg->exec->env[0].first, "AWS_PROFILE");
  EXPECT_EQ(cfg->exec->env[0].second, "prod");
  EXPECT_EQ(cfg->exec->interactive_mode, "Never");
  EXPECT_TRUE(cfg->exec->provide_cluster_info);
}

TEST_F(kubeconfig_test, exec_command_without_slash_uses_path) {
  auto cfg = load_kubeconfig(file("config", R"(
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)"));
  ASSERT_TRUE(cfg) << render_error(cfg);
  EXPECT_EQ(cfg->exec->command, "aws");
  EXPECT_EQ(cfg->exec->interactive_mode, "IfAvailable");
}

TEST_F(kubeconfig_test, kubeconfig_env_merges_first_file_wins) {
  auto first = file("first", R"(
current-context: one
clusters:
- {name: shared, cluster: {server: "https://first"}}
users:
- {name: shared-user, user: {token: first-token}}
contexts:
- {name: one, context: {cluster: shared, user: shared-user}}
)");
  // The second file redefines the cluster and user (ignored as a whole,
  // even fields the first entry lacks), adds a context, and sets another
  // current-context (ignored).
  auto second = file("second",
                     fmt::format(R"(
current-context: two
clusters:
- {{name: shared, cluster: {{server: "https://second", certificate-authority-data: {}}}}}
- {{name: only-second, cluster: {{server: "https://only-second"}}}}
users:
- {{name: shared-user, user: {{token: second-token, client-certificate-data: {}, client-key-data: {}}}}}
contexts:
- {{name: two, context: {{cluster: only-second, user: shared-user}}}}
)",
                                 ca_b64, cert_b64, key_b64));
  scoped_env env{
    "KUBECONFIG",
    fmt::format("{}:{}/missing::{}:{}", first, dir, second, first)};
  auto cfg = load_kubeconfig("");
  ASSERT_TRUE(cfg) << render_error(cfg);
  EXPECT_EQ(cfg->server, "https://first");
  EXPECT_EQ(cfg->ca_pem, "");
  EXPECT_EQ(cfg->token, "first-token");
  EXPECT_EQ(cfg->client_cert_pem, "");
  auto two = load_kubeconfig("", "two");
  ASSERT_TRUE(two) << render_error(two);
  EXPECT_EQ(two->server, "https://only-second");
  EXPECT_EQ(two->token, "first-token");
  // An explicit path means that file alone.
  auto alone = load_kubeconfig(second);
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->server, "https://only-second");
  EXPECT_EQ(alone->token, "second-token");
}

TEST_F(kubeconfig_test, merged_documents_in_memory) {
  auto cfg = load_kubeconfig_documents(
    {{dir + "/a", "clusters: [{name: c, cluster: {server: 'https://a'}}]"},
     {dir + "/b",
      "contexts: [{name: x, context: {cluster: c}}]\n"
      "current-context: x"}});
  ASSERT_TRUE(cfg) << render_error(cfg);
  EXPECT_EQ(cfg->server, "https://a");
}

TEST_F(kubeconfig_test, broken_files_name_the_file_and_the_key) {
  struct bad_case {
    const char* text;
    const char* expected;
  };
  std::vector<bad_case> cases{
    {"clusters: [{name: c\n  bad", "invalid YAML at line"},
    {"- just\n- a list\n", "not a mapping"},
    {"clusters: {name: c}\n", "'clusters' must be a list"},
    {"clusters: [{cluster: {server: 'https://h'}}]\n",
     "clusters[0] has no 'name'"},
    {"clusters: [{name: c, cluster: {server: [1]}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
     "clusters[c].cluster.server must be a string"},
    {"clusters: [{name: c, cluster: {}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
     "clusters[c].cluster has no 'server'"},
    {"clusters: [{name: c, cluster: {server: 'https://h', "
     "certificate-authority-data: '!!notbase64!!'}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
     "clusters[c].cluster.certificate-authority-data is not valid base64"},
    {"clusters: [{name: c, cluster: {server: 'https://h', "
     "certificate-authority: missing-ca.crt}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
     "clusters[c].cluster.certificate-authority file"},
    {"clusters: [{name: c, cluster: {server: 'https://h', "
     "insecure-skip-tls-verify: maybe}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
     "insecure-skip-tls-verify must be true or false"},
    {"clusters: [{name: c, cluster: {server: 'https://h', "
     "insecure-skip-tls-verify: true, certificate-authority-data: Q0E=}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
     "mutually exclusive"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "contexts: [{name: x, context: {cluster: nope}}]\ncurrent-context: x",
     "contexts[x].context.cluster: cluster 'nope' not found"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: ghost}}]\n"
     "current-context: x",
     "contexts[x].context.user: user 'ghost' not found"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {client-certificate-data: Q0E=}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "client-certificate and client-key must be given together"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {tokenFile: no-such-token}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "users[u].user.tokenFile file"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {username: a, password: b}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "basic auth"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "auth-provider is not supported"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {exec: {apiVersion: "
     "client.authentication.k8s.io/v1, command: x}}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "users[u].user.exec.interactiveMode is required"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {exec: {apiVersion: "
     "client.authentication.k8s.io/v2, command: x}}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "users[u].user.exec.apiVersion 'client.authentication.k8s.io/v2'"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "users: [{name: u, user: {exec: {apiVersion: "
     "client.authentication.k8s.io/v1, interactiveMode: Never}}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: "
     "x",
     "users[u].user.exec has no 'command'"},
    {"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
     "contexts: [{name: x, context: {cluster: c}}]\n",
     "no current-context"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto path = file(fmt::format("bad{}", i), cases[i].text);
    auto cfg = load_kubeconfig(path);
    ASSERT_FALSE(cfg) << "case " << i;
    EXPECT_EQ(cfg.error(), ec::config_error) << "case " << i;
    auto text = render_error(cfg);
    EXPECT_NE(text.find(cases[i].expected), std::string::npos)
      << "case " << i << ": " << text;
    EXPECT_NE(text.find(path), std::string::npos)
      << "case " << i << " does not name the file: " << text;
  }
}

TEST_F(kubeconfig_test, missing_files) {
  auto cfg = load_kubeconfig(dir + "/does-not-exist");
  ASSERT_FALSE(cfg);
  EXPECT_NE(render_error(cfg).find(dir + "/does-not-exist"), std::string::npos);
  scoped_env env{"KUBECONFIG", dir + "/a:" + dir + "/b"};
  auto none = load_kubeconfig("");
  ASSERT_FALSE(none);
  EXPECT_NE(render_error(none).find("KUBECONFIG"), std::string::npos);
}

TEST_F(kubeconfig_test, in_cluster_service_account_dir) {
  file("token", "sa-token\n");
  file("ca.crt", "SA CA");
  file("namespace", "kws-system\n");
  {
    scoped_env host{"KUBERNETES_SERVICE_HOST", "10.96.0.1"};
    scoped_env port{"KUBERNETES_SERVICE_PORT", "443"};
    auto cfg = load_in_cluster(dir);
    ASSERT_TRUE(cfg) << render_error(cfg);
    EXPECT_EQ(cfg->server, "https://10.96.0.1:443");
    EXPECT_EQ(cfg->token_file, dir + "/token");
    EXPECT_EQ(cfg->token, "");
    EXPECT_EQ(cfg->ca_pem, "SA CA");
    EXPECT_EQ(cfg->namespace_, "kws-system");
    scoped_env pod_ns{"POD_NAMESPACE", "from-env"};
    EXPECT_EQ(load_in_cluster(dir)->namespace_, "from-env");
  }
  {
    scoped_env host{"KUBERNETES_SERVICE_HOST", "fd00::1"};
    scoped_env port{"KUBERNETES_SERVICE_PORT", "6443"};
    EXPECT_EQ(load_in_cluster(dir)->server, "https://[fd00::1]:6443");
    auto missing = load_in_cluster(dir + "/nope");
    ASSERT_FALSE(missing);
    EXPECT_NE(render_error(missing).find(dir + "/nope/token"),
              std::string::npos);
  }
  unsetenv("KUBERNETES_SERVICE_HOST");
  auto outside = load_in_cluster(dir);
  ASSERT_FALSE(outside);
  EXPECT_NE(render_error(outside).find("KUBERNETES_SERVICE_HOST"),
            std::string::npos);
}

TEST_F(kubeconfig_test, load_default_order) {
  auto explicit_path = file("explicit", R"(
clusters: [{name: c, cluster: {server: "https://explicit"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x)");
  auto env_path = file("env", R"(
clusters: [{name: c, cluster: {server: "https://env"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x)");
  std::filesystem::create_directories(dir + "/home/.kube");
  file("home/.kube/config", R"(
clusters: [{name: c, cluster: {server: "https://home"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x)");
  scoped_env home{"HOME", dir + "/home"};
  scoped_env kubeconfig{"KUBECONFIG", env_path};
  scoped_env host{"KUBERNETES_SERVICE_HOST", "10.96.0.1"};
  scoped_env port{"KUBERNETES_SERVICE_PORT", "443"};
  EXPECT_EQ(load_default(explicit_path)->server, "https://explicit");
  EXPECT_EQ(load_default("")->server, "https://env");
  unsetenv("KUBECONFIG");
  // In-cluster when the service variables are set (here: no SA dir, so
  // the error names the default directory).
  auto in_cluster = load_default("");
  ASSERT_FALSE(in_cluster);
  EXPECT_NE(render_error(in_cluster).find(default_service_account_dir),
            std::string::npos);
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(load_default("")->server, "https://home");
}

TEST(base64, decodes_with_whitespace_and_rejects_garbage) {
  EXPECT_EQ(*base64_decode("aGVs\nbG8="), "hello");
  EXPECT_EQ(*base64_decode("aGVsbG8h"), "hello!");
  EXPECT_EQ(*base64_decode(""), "");
  EXPECT_FALSE(base64_decode("a$b="));
  EXPECT_FALSE(base64_decode("aGVs=bG8"));
}

TEST(client_make, bad_urls_and_pem_name_the_source) {
  cluster_config cfg;
  cfg.source = "kubeconfig /x, context y";
  cfg.server = "http://plain:80";
  auto c = client::make(cfg);
  ASSERT_FALSE(c);
  EXPECT_NE(kws::render(c.error()).find("plain http is not supported"),
            std::string::npos);
  cfg.server = "https://h:6443";
  cfg.ca_pem = "not a pem";
  cfg.ca_file = "/etc/ca.crt";
  c = client::make(cfg);
  ASSERT_FALSE(c);
  auto text = kws::render(c.error());
  EXPECT_NE(text.find("/etc/ca.crt"), std::string::npos) << text;
  EXPECT_NE(text.find("kubeconfig /x, context y"), std::string::npos) << text;
  cfg.ca_pem.clear();
  cfg.client_cert_pem = "bad";
  cfg.client_key_pem = "bad";
  c = client::make(cfg);
  ASSERT_FALSE(c);
  EXPECT_NE(kws::render(c.error()).find("client certificate"),
            std::string::npos);
}

TEST(client_make, unreachable_server_names_the_host) {
  cluster_config cfg;
  cfg.server = "https://127.0.0.1:1"; // nothing listens on port 1
  cfg.source = "test config";
  cfg.insecure_skip_tls_verify = true;
  auto c = client::make(cfg);
  ASSERT_TRUE(c) << kws::render(c.error());
  std::promise<caf::expected<std::string>> done;
  (*c)->get("/version", [&](caf::expected<std::string> body) {
    done.set_value(std::move(body));
  });
  auto fut = done.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds{20}), std::future_status::ready);
  auto res = fut.get();
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::transport_error);
  auto text = kws::render(res.error());
  EXPECT_NE(text.find("127.0.0.1:1"), std::string::npos) << text;
  EXPECT_NE(text.find("test config"), std::string::npos) << text;
  (*c)->stop();
  // After stop, requests fail at once.
  bool called = false;
  (*c)->get("/version", [&](caf::expected<std::string> body) {
    called = true;
    EXPECT_EQ(body.error(), ec::unavailable);
  });
  EXPECT_TRUE(called);
}
