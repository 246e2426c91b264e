#include "kube/credentials.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>

using namespace kws::kube;
using namespace std::chrono;
using kws::ec;

TEST(rfc3339, utc_fractions_and_offsets) {
  auto t = parse_rfc3339("2025-05-01T10:14:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 1746094440);
  auto frac = parse_rfc3339("2025-05-01T10:14:00.5Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(duration_cast<milliseconds>(*frac - *t).count(), 500);
  auto offset = parse_rfc3339("2025-05-01T12:14:00+02:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(*offset, *t);
  auto negative = parse_rfc3339("2025-05-01T05:14:00-05:00");
  ASSERT_TRUE(negative);
  EXPECT_EQ(*negative, *t);
  for (const char* bad : {"", "2025-05-01", "2025-05-01T10:14:00",
                          "2025-13-01T10:14:00Z", "2025-02-30T10:14:00Z",
                          "2025-05-01T10:14:00Zjunk", "2025-05-01T10:14:00.Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(exec_credential, token_with_expiry) {
  auto cred = parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"k8s-aws-v1.abc","expirationTimestamp":"2025-05-01T10:14:00Z"}})",
    "client.authentication.k8s.io/v1");
  ASSERT_TRUE(cred) << kws::render(cred.error());
  EXPECT_EQ(cred->token, "k8s-aws-v1.abc");
  ASSERT_TRUE(cred->expiry);
  EXPECT_EQ(*cred->expiry, *parse_rfc3339("2025-05-01T10:14:00Z"));
}

TEST(exec_credential, client_certificate_without_expiry) {
  auto cred = parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}})",
    "client.authentication.k8s.io/v1beta1");
  ASSERT_TRUE(cred);
  EXPECT_EQ(cred->client_cert_pem, "CERT");
  EXPECT_EQ(cred->client_key_pem, "KEY");
  EXPECT_FALSE(cred->expiry);
}

TEST(exec_credential, invalid_outputs) {
  auto v1 = "client.authentication.k8s.io/v1";
  EXPECT_FALSE(parse_exec_credential("not json", v1));
  EXPECT_FALSE(parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}})",
    v1));
  EXPECT_FALSE(parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})",
    v1));
  EXPECT_FALSE(parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
    v1));
  EXPECT_FALSE(parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"C"}})",
    v1));
  EXPECT_FALSE(parse_exec_credential(
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}})",
    v1));
}

TEST(exec_credential, exec_info_document) {
  exec_config exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  cluster_config cfg;
  cfg.server = "https://api.example.com";
  cfg.ca_pem = "PEM!";
  auto without = exec_info_json(exec, cfg);
  rapidjson::Document doc;
  doc.Parse(without.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["kind"].GetString(), "ExecCredential");
  EXPECT_FALSE(doc["spec"]["interactive"].GetBool());
  EXPECT_FALSE(doc["spec"].HasMember("cluster"));
  exec.provide_cluster_info = true;
  auto with = exec_info_json(exec, cfg);
  doc.Parse(with.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["spec"]["cluster"]["server"].GetString(),
               "https://api.example.com");
  EXPECT_STREQ(doc["spec"]["cluster"]["certificate-authority-data"].GetString(),
               "UEVNIQ==");
}

namespace {

struct exec_plugin_test : ::testing::Test {
  std::string dir = test::temp_dir("kws-exec");

  ~exec_plugin_test() override { std::filesystem::remove_all(dir); }

  exec_config script(const std::string& body) {
    auto path = test::write_file(dir + "/plugin.sh", "#!/bin/sh\n" + body);
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    exec_config exec;
    exec.api_version = "client.authentication.k8s.io/v1";
    exec.command = path;
    exec.interactive_mode = "Never";
    return exec;
  }
};

} // namespace

TEST_F(exec_plugin_test, runs_the_plugin_with_env_args_and_exec_info) {
  // The plugin echoes its argument, an env variable and whether it got
  // KUBERNETES_EXEC_INFO in the token.
  auto exec = script(R"(
case "$KUBERNETES_EXEC_INFO" in
  *'"kind":"ExecCredential"'*) info=yes ;;
  *) info=no ;;
esac
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s-%s"}}' "$1" "$KWS_PROFILE" "$info"
)");
  exec.args = {"arg1"};
  exec.env = {{"KWS_PROFILE", "prod"}};
  cluster_config cfg;
  cfg.server = "https://h";
  auto cred = run_exec_plugin(exec, cfg);
  ASSERT_TRUE(cred) << kws::render(cred.error());
  EXPECT_EQ(cred->token, "arg1-prod-yes");
}

TEST_F(exec_plugin_test, failures_name_the_plugin) {
  cluster_config cfg;
  auto failing = script("echo oops >&2\nexit 3\n");
  auto res = run_exec_plugin(failing, cfg);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::unauthorized);
  EXPECT_NE(kws::render(res.error()).find("exited with code 3"),
            std::string::npos);
  EXPECT_NE(kws::render(res.error()).find(failing.command), std::string::npos);
  auto garbage = script("echo not-json\n");
  EXPECT_FALSE(run_exec_plugin(garbage, cfg));
  auto slow = script("sleep 30\n");
  auto start = steady_clock::now();
  auto timed_out = run_exec_plugin(slow, cfg, seconds{1});
  ASSERT_FALSE(timed_out);
  EXPECT_NE(kws::render(timed_out.error()).find("no answer within 1s"),
            std::string::npos);
  EXPECT_LT(steady_clock::now() - start, seconds{10});
  exec_config missing = failing;
  missing.command = dir + "/no-such-plugin";
  EXPECT_FALSE(run_exec_plugin(missing, cfg));
  exec_config interactive = failing;
  interactive.interactive_mode = "Always";
  EXPECT_NE(kws::render(run_exec_plugin(interactive, cfg).error())
              .find("interactiveMode Always"),
            std::string::npos);
}

TEST_F(exec_plugin_test, token_files_are_trimmed) {
  auto path = test::write_file(dir + "/token", "\n  abc.def \n");
  EXPECT_EQ(*read_token_file(path), "abc.def");
  test::write_file(path, " \n");
  EXPECT_FALSE(read_token_file(path));
  EXPECT_FALSE(read_token_file(dir + "/missing"));
}
